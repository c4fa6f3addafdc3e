"""Preview benchmark on a built site: `site-gen serve` started on an existing output, timed over HTTP.

    python -m bench.serve_live --work bench/out --figures 100000 [--jobs 2] [--search-index none]

Runs on the site `bench.build_bench --keep` left in the work folder (the same corpus, output and
SOURCE_DATE_EPOCH, from the same folder), so the preview finds it up to date. It starts `site-gen
serve` in a child process and prints: the time to the first page served; the time until the model is
read; a record edit (its title) until its figure page shows it, and until the catalogue-wide files are
written; a template edit until the page a browser showed is re-rendered, then a request for another
page of that template (rendered when asked for); and the peak memory of the server's process tree
(the sum of the proportional set sizes, sampled from /proc) over the whole run, background search
re-index included. The record and the template are restored at the end. With `--edit-at-start`,
another record is edited as soon as the first page is served, while the model is still being read,
and the time until its page shows it is printed too.
"""
from __future__ import annotations

import argparse
import http.client
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.build_bench import _tree_pss

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""
    finally:
        conn.close()


def until(predicate, seconds: float, step: float = 0.005) -> float:
    """Seconds until `predicate()` holds (polled every `step`); raises after `seconds`."""
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        if predicate():
            return time.perf_counter() - start
        time.sleep(step)
    raise SystemExit(f"timed out after {seconds} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, default=100000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out")
    parser.add_argument("--search-index", default="none", choices=["pagefind", "none"])
    parser.add_argument("--edit-at-start", action="store_true",
                        help="also edit a record while the preview is still reading its model")
    parser.add_argument("--log", type=Path, help="write the server's output there, each line with its time")
    args = parser.parse_args(argv)
    source, output = args.work / f"corpus-{args.figures}", args.work / f"site-{args.figures}"
    if not output.is_dir():
        raise SystemExit(f"no site at {output}: run bench.build_bench --keep first")
    port = free_port()
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    cmd = [sys.executable, "-m", "site_gen", "serve", "--source", str(source), "--output", str(output),
           "--jobs", str(args.jobs), "--search-index", args.search_index, "--port", str(port)]
    lines: queue.Queue = queue.Queue()
    log: list[str] = []
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, done = [0], threading.Event()
    phase, peaks = ["start"], {}  # the peak of each phase of the run

    def sample():
        while not done.is_set():
            pss = _tree_pss(proc.pid)
            peak[0] = max(peak[0], pss)
            peaks[phase[0]] = max(peaks.get(phase[0], 0), pss)
            time.sleep(0.25)  # (a walk of /proc: more often, and it takes a share of a core from the server)

    def read():
        for line in proc.stdout:
            log.append(f"{time.perf_counter() - start:9.3f} {line}")
            lines.put(line)

    threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=read, daemon=True)]
    for thread in threads:
        thread.start()

    def wait_line(text: str | tuple, seconds: float) -> float:
        begin = time.perf_counter()
        while time.perf_counter() - begin < seconds:
            try:
                line = lines.get(timeout=0.05)
            except queue.Empty:
                if proc.poll() is not None:
                    raise SystemExit("the server stopped:\n" + "".join(log[-30:]))
                continue
            if any(t in line for t in ((text,) if isinstance(text, str) else text)):
                return time.perf_counter() - begin
        raise SystemExit(f"no {text!r} after {seconds} s:\n" + "".join(log[-30:]))

    records = sorted((source / "figures").iterdir())
    record = records[len(records) // 2]
    other = records[len(records) // 3]
    early = records[len(records) // 4]
    figure_url = f"/figures/{record.stem}.html"
    other_url = f"/figures/{other.stem}.html"
    template = REPO / "templates" / "figure.html"
    original, template_text = record.read_text(encoding="utf-8"), template.read_text(encoding="utf-8")
    early_text = early.read_text(encoding="utf-8")
    print(f"== site-gen serve on the built site of {args.figures:,} figures, {args.jobs} jobs, "
          f"search index {args.search_index}")
    try:
        first = until(lambda: get(port, figure_url)[0] == 200, 600, 0.05)
        print(f"{'first page served':<40} {time.perf_counter() - start:8.3f} s after start")
        if args.edit_at_start:
            mark = f"Early {int(time.time())}"
            early.write_text(early_text.replace("figtitle: ", f"figtitle: {mark} ", 1), encoding="utf-8")
            took = until(lambda: mark in get(port, f"/figures/{early.stem}.html")[1], 600)
            print(f"{'record edited while the model is read':<40} {took:8.3f} s until its page shows it")
        wait_line(("model read in", "full build in"), 600)  # read, or kept from the build an edit made at start
        print(f"{'model read':<40} {time.perf_counter() - start:8.3f} s after start")
        if args.edit_at_start:  # the early edit's update finished before the next edit is timed
            wait_line("catalogue-wide file", 600)
            if args.search_index == "pagefind":
                wait_line("search index made again", 600)
            print(f"{'  its catalogue-wide files and index':<40} {time.perf_counter() - start:8.3f} s after start")
        del first
        get(port, figure_url)  # a browser shows it
        phase[0] = "record edit"
        marker = f"Edited {int(time.time())}"
        record.write_text(original.replace("figtitle: ", f"figtitle: {marker} ", 1), encoding="utf-8")
        took = until(lambda: marker in get(port, figure_url)[1], 120)
        print(f"{'record edit, its page shows it':<40} {took:8.3f} s (watcher debounce included)")
        catalogue = wait_line("catalogue-wide file", 600)
        print(f"{'  then the catalogue-wide files':<40} {took + catalogue:8.3f} s")
        phase[0] = "template edit"
        tag = f"<!-- template edit {int(time.time())} -->"
        template.write_text(template_text.replace("{% block main %}", "{% block main %}" + tag, 1),
                            encoding="utf-8")
        took = until(lambda: tag in get(port, figure_url)[1], 120)
        print(f"{'template edit, the page shown':<40} {took:8.3f} s")
        begin = time.perf_counter()
        status, body = get(port, other_url)
        print(f"{'  another page of it, when requested':<40} {time.perf_counter() - begin:8.3f} s "
              f"({'current' if tag in body else 'NOT current'})")
        rest = wait_line("re-rendered", 1800)  # the rest of the template's pages, in the background
        print(f"{'  every page of it re-rendered':<40} {took + rest:8.3f} s")
        template.write_text(template_text, encoding="utf-8")  # and back, all of them again
        wait_line("re-rendered", 1800)
        time.sleep(3)  # the output's shape saved (else the next start would build everything)
    finally:  # (only what was changed: a file written again would make the next run's start build it)
        if early.read_text(encoding="utf-8") != early_text:
            early.write_text(early_text, encoding="utf-8")
            wait_line("catalogue-wide file", 600)
        if record.read_text(encoding="utf-8") != original:
            record.write_text(original, encoding="utf-8")
            wait_line("catalogue-wide file", 600)  # its update complete, the output's shape saved
        if template.read_text(encoding="utf-8") != template_text:
            template.write_text(template_text, encoding="utf-8")
            wait_line("re-rendered", 1800)
        if args.search_index == "pagefind":  # (else the next start indexes the restored records first)
            wait_line("search index made again", 600)
        time.sleep(3)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        done.set()
    print(f"{'server peak memory (PSS of its tree)':<40} {peak[0] / 2**20:8.0f} MB  (by phase: "
          + ", ".join(f"{name} {pss / 2**20:.0f}" for name, pss in peaks.items()) + ")")
    if args.log:
        args.log.write_text("".join(log), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
