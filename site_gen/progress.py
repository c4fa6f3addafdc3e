"""A progress bar for the long stages of a build, drawn on a terminal only.

Work runs in forked workers, so each worker counts what it finished in its own slot of a small shared
array; a thread of the parent reads the sum and moves the bar (tqdm). Off the terminal, with
`--quiet` or in CI, nothing is drawn and the counting costs nothing.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from contextlib import contextmanager


def wanted(quiet: bool) -> bool:
    """Draw bars? Only for a person watching a terminal."""
    return not quiet and not os.environ.get("CI") and sys.stderr.isatty()


class Counts:
    """Items done, one slot per worker, in memory the forked workers share with the parent."""

    def __init__(self, slots: int):
        self.values = multiprocessing.RawArray("q", max(1, slots))

    def add(self, slot: int, n: int) -> None:
        self.values[slot] += n

    def total(self) -> int:
        return sum(self.values)


class _NoCounts:
    def add(self, slot: int, n: int) -> None:
        pass


NO_COUNTS = _NoCounts()


@contextmanager
def bar(enabled: bool, label: str, total: int, slots: int):
    """Counts for workers to add to; a bar shows their sum while the block runs, when `enabled`."""
    if not enabled or total <= 0:
        yield NO_COUNTS
        return
    from tqdm import tqdm

    counts = Counts(slots)
    done = threading.Event()
    shown = tqdm(total=total, desc=f"{label:<8}", unit=" items", leave=False, file=sys.stderr,
                 dynamic_ncols=True, mininterval=0.2)

    def follow() -> None:
        while not done.wait(0.2):
            shown.update(counts.total() - shown.n)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        yield counts
    finally:
        done.set()
        follower.join()
        shown.close()
