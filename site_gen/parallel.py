"""Work spread over processes.

Workers are forked after the parent has built what they need, so they inherit it instead of having
it pickled to them; each returns only small results. The parent does the first share itself: one
process fewer copies the pages of the inherited objects it touches (every reference count it
changes), and the parent's share is never pickled. With one job everything runs in this process.
"""
from __future__ import annotations

import gc
import multiprocessing
import os

_shared = None  # what the running `run_shares` hands to its workers


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _call(func, index: int, jobs: int):
    return func(_shared, index, jobs)


def run_shares(func, shared, jobs: int) -> list:
    """[func(shared, i, jobs) for i in range(jobs)]: share 0 in this process, each other share in
    its own forked process, forked before share 0 starts so every share sees the same state."""
    global _shared
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [func(shared, 0, 1)]
    _shared = shared
    gc.freeze()  # the inherited objects stay untouched by the workers' collector: their pages stay shared
    try:
        with multiprocessing.get_context("fork").Pool(jobs - 1) as pool:
            others = pool.starmap_async(_call, [(func, i, jobs) for i in range(1, jobs)])
            first = func(shared, 0, jobs)
            return [first, *others.get()]
    finally:
        gc.unfreeze()
        _shared = None
