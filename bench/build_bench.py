"""Build benchmarks: cold build, rebuild with nothing changed, rebuild after one record changed.

    python -m bench.build_bench --figures 1000 10000 [--jobs 2] [--work bench/out]

For each size it writes a generated corpus (bench/corpus.py), builds it with `site-gen build` in a
child process and prints wall time, pages per second and the peak memory of the whole process tree
(the sum of the proportional set sizes, sampled from /proc), then the same for a rebuild with
nothing changed and one after one record changed. A cold build starts without the model store, the
last site set aside and deleted after it (`set_aside`).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from bench.corpus import write_corpus

REPO = Path(__file__).resolve().parent.parent


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def _tree_pss(pid: int) -> int:
    """Proportional memory (bytes) of a process and all its descendants: a page shared by forked
    workers is counted once in all, split between them, instead of once in each as RSS would."""
    total = 0
    for p in _descendants(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:")) * 1024
        except (OSError, StopIteration, ValueError):
            pass
    return total


def run_sampled(cmd: list[str], stage_peaks: dict | None = None, **popen) -> tuple[float, int, int, str]:
    """(wall seconds, peak memory of the process tree in bytes (PSS), exit status, output) of a command.

    With `stage_peaks`, it also gets the peak of each stage of a `site-gen build -v`: a stage's line
    ("render   12.345 s") is printed when it ends, so a sample belongs to the next stage line after it.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            samples.append((time.perf_counter(), _tree_pss(proc.pid)))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines: list[tuple[float, str]] = [(time.perf_counter(), line) for line in proc.stdout]
    proc.wait()
    done.set()
    sampler.join()
    if stage_peaks is not None:
        ends = [(at, line.split()[0]) for at, line in lines
                if len(line.split()) == 3 and line.split()[2] == "s"]
        for at, pss in samples:
            stage = next((name for end, name in ends if end >= at), "after")
            stage_peaks[stage] = max(stage_peaks.get(stage, 0), pss)
    peak = max((pss for _at, pss in samples), default=0)
    return time.perf_counter() - start, peak, proc.returncode, "".join(line for _at, line in lines)


def timed_build(source: Path, output: Path, jobs: int, search_index: str = "pagefind") -> tuple[float, int, str]:
    """(wall seconds, peak tree memory in bytes, stage timings and last log line) of one `site-gen build`."""
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    cmd = [sys.executable, "-m", "site_gen", "build", "--source", str(source), "--output", str(output),
           "--jobs", str(jobs), "--search-index", search_index, "-v"]
    stage_peaks: dict = {}
    wall, peak, status, out = run_sampled(cmd, stage_peaks, cwd=REPO, env=env)
    if status != 0:
        raise SystemExit(f"build failed:\n{out}")
    lines = [line for line in out.splitlines() if line.strip()]
    stages = " ".join(f"{line.split()[0]}={line.split()[1]}" for line in lines
                      if len(line.split()) == 3 and line.split()[2] == "s")
    peaks = " ".join(f"{stage}={pss / 2**20:.0f}" for stage, pss in stage_peaks.items())
    return wall, peak, f"{stages}\n    peak MB by stage: {peaks}\n    {lines[-1] if lines else ''}"


def _leftovers(output: Path) -> list[Path]:
    """A built site and what a rebuild would reuse (the model store, the state file)."""
    return [output, output.with_name(f".{output.name}.cache"), output.with_name(f".{output.name}.state")]


def clear_site(output: Path) -> None:
    """Remove a built site and what a rebuild would reuse, for a cold build."""
    subprocess.run(["rm", "-rf", *map(str, _leftovers(output))], check=True)


@contextmanager
def set_aside(output: Path):
    """For a cold build: a built site and what a rebuild would reuse moved out of the way (renamed),
    and deleted once the block is done. Deleted just before, the million files of a site of 100,000
    figures would slow the build being timed: ext4 without a journal passes over the inodes freed in
    the last minutes when it allocates new ones, so each file created costs several times more for
    a few minutes (200,000 files of 10 kB: 28 us each, 67 us each just after deleting as many)."""
    aside = output.with_name(f".{output.name}.aside-{os.getpid()}")
    aside.mkdir(parents=True)
    try:
        for path in _leftovers(output):
            if path.exists():
                path.rename(aside / path.name)
        yield
    finally:
        subprocess.run(["rm", "-rf", str(aside)], check=True)


def count_pages(output: Path) -> int:
    return sum(1 for _ in output.rglob("*.html"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out")
    parser.add_argument("--search-index", default="pagefind", choices=["pagefind", "none"],
                        help="build the full-text search index too (default), or not")
    parser.add_argument("--keep", action="store_true",
                        help="keep the output and its cache: the first build is then whatever rebuild they call "
                             "for (after a change of the generator, every page rendered again)")
    args = parser.parse_args(argv)
    for n in args.figures:
        source, output = args.work / f"corpus-{n}", args.work / f"site-{n}"
        if not (source / ".complete").exists():
            write_corpus(source, n)
            (source / ".complete").write_text("")
        print(f"== {n:,} figures, {args.jobs} jobs, search index: {args.search_index}")
        with contextlib.nullcontext() if args.keep else set_aside(output):
            wall, peak, detail = timed_build(source, output, args.jobs, args.search_index)
        pages = count_pages(output)
        print(f"{'first build' if args.keep else 'cold build':15} {wall:7.1f} s  {pages / wall:8.0f} pages/s  peak {peak / 2**20:6.0f} MB  ({pages:,} pages)")
        print(f"    {detail}")
        wall, peak, detail = timed_build(source, output, args.jobs, args.search_index)
        print(f"no change       {wall:7.1f} s  peak {peak / 2**20:6.0f} MB")
        print(f"    {detail}")
        record = sorted((source / "figures").iterdir())[n // 2]
        text = record.read_text(encoding="utf-8")
        record.write_text(text.replace("figtitle: ", "figtitle: Edited ", 1), encoding="utf-8")
        try:
            wall, peak, detail = timed_build(source, output, args.jobs, args.search_index)
        finally:
            record.write_text(text, encoding="utf-8")
        print(f"one record      {wall:7.1f} s  peak {peak / 2**20:6.0f} MB")
        print(f"    {detail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
