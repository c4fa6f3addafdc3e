"""The C library functions site_gen calls where the platform has them (Linux, glibc)."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def libc_function(name: str):
    """The C library's function `name` (errno kept for ctypes.get_errno), or None where there is none."""
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True), name)
    except (OSError, AttributeError):
        return None


def return_free_memory() -> None:
    """Give the C library's free memory back to the system (glibc's malloc_trim): what a stage freed
    would otherwise stay counted, and be counted in every worker forked after it."""
    trim = libc_function("malloc_trim")
    if trim is not None:  # glibc only
        trim(0)
