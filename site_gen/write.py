"""Stage 5, write: the only module that touches the output folder.

A build writes a complete new site beside the old one, then swaps the two folders. Files whose bytes
did not change are hard-linked from the old site, so they keep their identity and modification time.
A build that fails or is killed leaves the previous site in place.
"""
from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import stat
from pathlib import Path

from site_gen.errors import SiteError
from site_gen.system import libc_function

log = logging.getLogger(__name__)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step where the system can (Linux renameat2)."""
    renameat2 = libc_function("renameat2")
    if renameat2 is None:
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def _sibling(output: Path, tag: str) -> Path:
    return output.parent / f".{output.name}.{tag}-{os.getpid()}"


def recover_output(output: Path) -> None:
    """Undo what an interrupted swap left: restore the old site if it is missing, drop stale folders."""
    leftovers = sorted(output.parent.glob(f".{output.name}.*-*"))
    if not output.exists():
        olds = [p for p in leftovers if p.name.startswith(f".{output.name}.old-")]
        if olds:
            log.warning("restoring the previous site from %s", olds[-1])
            os.rename(olds[-1], output)
            leftovers.remove(olds[-1])
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)


def replace_file(path: Path, data: bytes) -> None:
    """Write a file beside the output (state, caches) so that a reader never sees it half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class SiteWriter:
    def __init__(self, output: Path):
        self.output = output.resolve()
        if self.output == Path(self.output.anchor) or self.output == Path.home():
            raise SiteError(f"refusing to use {self.output} as the output folder")
        self.output.parent.mkdir(parents=True, exist_ok=True)
        recover_output(self.output)
        self.previous = self.output if self.output.is_dir() else None
        self.staging = _sibling(self.output, "staging")
        self.staging.mkdir()
        self.written = 0
        self.unchanged = 0
        self.paths: set[str] = set()
        self._made: set[str] = set()
        self._staging = str(self.staging)
        self._previous = str(self.previous) if self.previous is not None else None

    def claim(self, out_path: str) -> None:
        """Reserve an output path: refuse one outside the folder or one claimed twice."""
        parts = out_path.split("/")
        if (not out_path or out_path.startswith("/") or "\\" in out_path or "\0" in out_path
                or any(part in ("", ".", "..") for part in parts)):
            raise SiteError(f"refusing to write outside the output folder: {out_path!r}")
        if out_path in self.paths:
            raise SiteError(f"two outputs claim {out_path!r}")
        self.paths.add(out_path)

    def write(self, out_path: str, data: str | bytes) -> None:
        self.claim(out_path)
        self.put(out_path, data)

    def _target(self, out_path: str) -> str:
        """The staging path of an output path, its folder made (plain strings: this runs per file)."""
        target = os.path.join(self._staging, out_path)
        folder = os.path.dirname(target)
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        return target

    def put(self, out_path: str, data: str | bytes) -> None:
        """Write a claimed path (workers call this after the parent claimed every path)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        target = self._target(out_path)
        if self.previous is not None:
            old = os.path.join(self._previous, out_path)
            try:
                st = os.lstat(old)
                if st.st_size == len(data) and stat.S_ISREG(st.st_mode):
                    with open(old, "rb") as f:
                        same = f.read() == data
                    if same:
                        os.link(old, target)
                        self.unchanged += 1
                        return
            except OSError:
                pass  # not there, or not readable: write it afresh
        with open(target, "wb") as f:
            f.write(data)
        self.written += 1

    def put_stream(self, out_path: str, chunks) -> None:
        """`put` for a file too big to hold whole (the catalogue download at 100,000 figures is 660 MB):
        its text comes in chunks, written as they come and compared with the previous file's bytes on
        the way, so that an unchanged file is still linked from the previous site."""
        target = self._target(out_path)
        old_path = os.path.join(self._previous, out_path) if self._previous is not None else None
        with contextlib.ExitStack() as files:
            old = None
            try:
                if old_path is not None and stat.S_ISREG(os.lstat(old_path).st_mode):
                    old = files.enter_context(open(old_path, "rb"))
            except OSError:
                pass  # not there, or not readable: written afresh
            same = old is not None
            with open(target, "wb") as f:
                for chunk in chunks:
                    data = chunk.encode("utf-8")
                    f.write(data)
                    same = same and old.read(len(data)) == data
            same = same and old.read(1) == b""
        if same:
            os.unlink(target)
            os.link(old_path, target)
            self.unchanged += 1
        else:
            self.written += 1

    def reuse(self, *out_paths: str) -> bool:
        """Hard-link claimed paths from the previous site as they are, all or none; False if one is missing."""
        if self._previous is None:
            return False
        olds = [os.path.join(self._previous, out_path) for out_path in out_paths]
        if not all(os.path.isfile(old) for old in olds):
            return False
        for out_path, old in zip(out_paths, olds):
            os.link(old, self._target(out_path))
        self.unchanged += len(out_paths)
        return True

    def fullest_folder(self) -> tuple[int, str]:
        """(entries, folder) of the output folder holding the most entries."""
        most = (0, "")
        for here, dirs, files in os.walk(self.staging):
            most = max(most, (len(dirs) + len(files), os.path.relpath(here, self.staging)))
        return most

    def commit(self) -> None:
        """Put the new site in place of the old one."""
        if self.previous is not None and _exchange(self.staging, self.output):
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        old = _sibling(self.output, "old")
        if self.output.exists():
            os.rename(self.output, old)
        os.rename(self.staging, self.output)
        shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
