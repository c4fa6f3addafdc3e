"""Preview server under load: 500 concurrent requests, then 30 s of sustained load while records change.

    python -m bench.serve_stress [--figures 1000] [--seconds 30]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.corpus import write_corpus
from tests.load import burst, run, sustained

REPO = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args(argv)
    corpus = args.work / f"corpus-{args.figures}"
    if not (corpus / ".complete").exists():
        write_corpus(corpus, args.figures)
        (corpus / ".complete").write_text("")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    proc = subprocess.Popen([sys.executable, "-m", "site_gen", "serve", "--source", str(corpus), "--output",
                             str(args.work / f"stress-site-{args.figures}"), "--port", str(port), "-q"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while run(burst(port, ["/"], timeout=2))[0] != 200:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the server did not come up")
            time.sleep(0.5)
        records = sorted((corpus / "figures").iterdir())[:20]
        originals = {r: r.read_text(encoding="utf-8") for r in records}
        stop = threading.Event()

        def edit_records():  # one record changed every second: rebuilds run during the load
            i = 0
            while not stop.is_set():
                record = records[i % len(records)]
                record.write_text(originals[record].replace("figtitle: ", f"figtitle: Edit {i} ", 1), encoding="utf-8")
                i += 1
                stop.wait(1.0)

        editor = threading.Thread(target=edit_records, daemon=True)
        editor.start()
        paths = ["/", "/figures/", "/genes/", "/search.json", "/sitemap.xml", "/no/such.html"]
        paths += [f"/figures/{r.stem}.html" for r in records]
        start = time.perf_counter()
        statuses = run(burst(port, [paths[i % len(paths)] for i in range(500)]))
        bad = [s for s in statuses if s not in (200, 404)]
        print(f"500 concurrent requests: {len(statuses) - len(bad)} answered in {time.perf_counter() - start:.1f} s, "
              f"{len(bad)} failed {bad[:3]}")
        done, failures = run(sustained(port, paths, args.seconds))
        print(f"sustained {args.seconds:.0f} s with rebuilds running: {done} requests ({done / args.seconds:.0f}/s), "
              f"{len(failures)} failed {failures[:3]}")
        stop.set()
        editor.join()
        for record, text in originals.items():
            record.write_text(text, encoding="utf-8")
        return 1 if bad or failures else 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
