"""Stage 5, write: how the engine writes the output folder, for a build and the preview alike (the
preview's fast render after a template edit replaces single pages through `serve._replace`, and the
search index is written by `search.run_pagefind`).

A build that renders everything (`SiteWriter`) writes a complete new site beside the old one, then
swaps the two folders. Files whose bytes did not change are hard-linked from the old site, so they
keep their identity and modification time.

A rebuild that knows what changed (`SiteUpdater`) updates the output in place: the files that differ
are written beside it, then a journal naming the files to remove and the folders to replace is
written (the commit point), then every file is renamed into place, atomically each. The next run of
any command completes an update whose journal exists and drops one whose journal does not
(`recover_output`). Either way a build that fails or is killed never leaves a half-written file, and
the next build gives the output a cold build would.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import logging
import os
import shutil
import stat
from array import array
from itertools import accumulate
from pathlib import Path
from typing import NamedTuple

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


def write_new(path: str, data: bytes) -> None:
    """Write a file that no reader sees yet (a page in the staging folder, which `put` writes a million
    of in a cold build of the whole catalogue; a search document; a file the preview renames into
    place): with the system's calls alone, not a buffered file object's, which adds three more (a
    size query, a terminal check, a seek) and two objects to each file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        done = os.write(fd, data)
        while done < len(data):  # (a regular file takes all at once but on a full disk or a signal)
            done += os.write(fd, memoryview(data)[done:])
    finally:
        os.close(fd)


def sibling(output: Path, tag: str) -> Path:
    """A folder beside the output, of this process (`recover_output` removes those a killed one left)."""
    return output.parent / f".{output.name}.{tag}-{os.getpid()}"


def recover_output(output: Path) -> None:
    """Undo what an interrupted swap left: restore the old site if it is missing, drop stale folders;
    complete an in-place update whose journal was written, drop one whose journal was not."""
    for update in sorted(output.parent.glob(f".{output.name}.update-*")):
        if (update / JOURNAL).is_file() and output.is_dir():
            log.warning("completing the interrupted update of %s", output)
            apply_update(output, update)
    leftovers = sorted(output.parent.glob(f".{output.name}.*-*"))
    if not output.exists():
        olds = [p for p in leftovers if p.name.startswith(f".{output.name}.old-")]
        if olds:
            log.warning("restoring the previous site from %s", olds[-1])
            os.rename(olds[-1], output)
            leftovers.remove(olds[-1])
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)


def file_sizes(root: Path) -> dict[str, int]:
    """Path (relative, with `/`) → size of every file under `root`."""
    out: dict[str, int] = {}
    stack = [("", str(root))]
    while stack:
        rel, folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((rel + entry.name + "/", entry.path))
                elif entry.is_file(follow_symlinks=False):
                    out[rel + entry.name] = entry.stat(follow_symlinks=False).st_size
    return out


def size_summary(sizes: dict[str, int]) -> tuple[int, int, str]:
    """(total bytes, largest file's bytes, its path) of `file_sizes`."""
    path, largest = max(sizes.items(), key=lambda item: (item[1], item[0]), default=("", 0))
    return sum(sizes.values()), largest, path


def replace_file(path: Path, data: bytes) -> None:
    """Write a file beside the output (state, caches) so that a reader never sees it half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Layout(NamedTuple):
    """Where each segment of a file made of segments lies in it: the segments' names in the file's
    order, and each one's offset and length in bytes (arrays: 100,000 segments pickle in a few MB)."""

    size: int
    names: tuple
    starts: array
    lengths: array

    @property
    def spans(self) -> dict:
        """name → (offset, length)."""
        return dict(zip(self.names, zip(self.starts, self.lengths)))


def _layout(size: int, names: list, starts: list, lengths: list) -> Layout:
    return Layout(size, tuple(names), array("q", starts), array("q", lengths))


def _spanned(head: str, sep: str, tail: str, parts, spanned: tuple[list, list, list]):
    """The bytes of `head`, `parts` (name, text or bytes) joined by `sep`, and `tail`, noting each part's
    name, offset and length in `spanned`."""
    names, starts, lengths = spanned
    data, lead = head.encode(), sep.encode()
    yield data
    pos = len(data)
    for n, (name, text) in enumerate(parts):
        data = text if type(text) is bytes else text.encode("utf-8")
        names.append(name)
        lengths.append(len(data))
        if n and lead:
            starts.append(pos + len(lead))
            data = lead + data
        else:
            starts.append(pos)
        yield data
        pos += len(data)
    yield tail.encode()


class _Output:
    """A file written through its descriptor, with small writes gathered and runs of another file's
    bytes copied by the kernel (copy_file_range, or read and write where the system lacks it)."""

    def __init__(self, path: str, old_path: str):
        self.path, self.old_path = path, old_path
        self.buffer = bytearray()

    def __enter__(self):
        self.old = os.open(self.old_path, os.O_RDONLY)
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        except BaseException:
            os.close(self.old)
            raise
        return self

    def __exit__(self, *exc):
        try:
            if exc[0] is None:
                self.flush()
        finally:
            os.close(self.fd)
            os.close(self.old)

    def write(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= 1 << 20:
            self.flush()

    def flush(self) -> None:
        done = 0
        with memoryview(self.buffer) as view:
            while done < len(view):
                done += os.write(self.fd, view[done:])
        self.buffer.clear()

    def copy(self, start: int, end: int) -> tuple[int, int]:
        """Append the old file's bytes [start, end); the run copied."""
        self.flush()
        offset = start
        while offset < end:
            try:
                done = os.copy_file_range(self.old, self.fd, end - offset, offset)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                done = os.write(self.fd, os.pread(self.old, min(end - offset, 1 << 24), offset))
            if done == 0:
                raise SiteError(f"{self.old_path} changed during the build: it ends before byte {end}")
            offset += done
        return start, end

    def old_bytes(self, start: int, length: int) -> bytes:
        return os.pread(self.old, length, start)


class SiteWriter:
    STAGING = "staging"  # the tag of the folder written beside the output

    def __init__(self, output: Path):
        self.output = output.resolve()
        if self.output == Path(self.output.anchor) or self.output == Path.home():
            raise SiteError(f"refusing to use {self.output} as the output folder")
        self.output.parent.mkdir(parents=True, exist_ok=True)
        recover_output(self.output)
        self.previous = self.output if self.output.is_dir() else None
        self.staging = sibling(self.output, self.STAGING)
        self.staging.mkdir()
        self.written = 0
        self.unchanged = 0
        self.paths: set[str] = set()
        self.catalogue: set[str] = set()  # claimed paths of catalogue-wide files and assets
        self.layouts: dict[str, Layout] = {}  # out path → layout of each file written by put_segments
        self._made: set[str] = set()
        self._staging = str(self.staging)
        self._previous = str(self.previous) if self.previous is not None else None

    def locate(self, out_path: str) -> str:
        """Where a claimed file is now (in the staging folder)."""
        return os.path.join(self._staging, out_path)

    def claim(self, out_path: str, catalogue: bool = False) -> None:
        """Reserve an output path: refuse one outside the folder or one claimed twice. A `catalogue`
        path (a catalogue-wide file, an asset) is also noted as such."""
        parts = out_path.split("/")
        if (not out_path or out_path.startswith("/") or "\\" in out_path or "\0" in out_path
                or any(part in ("", ".", "..") for part in parts)):
            raise SiteError(f"refusing to write outside the output folder: {out_path!r}")
        if out_path in self.paths:
            raise SiteError(f"two outputs claim {out_path!r}")
        self.paths.add(out_path)
        if catalogue:
            self.catalogue.add(out_path)

    def write(self, out_path: str, data: str | bytes) -> None:
        """Claim and write a catalogue-wide file or an asset."""
        self.claim(out_path, catalogue=True)
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
        if self.previous is not None:
            old = os.path.join(self._previous, out_path)
            try:
                st = os.lstat(old)
                if st.st_size == len(data) and stat.S_ISREG(st.st_mode):
                    with open(old, "rb") as f:
                        same = f.read() == data
                    if same:
                        self._keep(old, out_path)
                        self.unchanged += 1
                        return
            except OSError:
                pass  # not there, or not readable: write it afresh
        write_new(self._target(out_path), data)
        self.written += 1

    def _keep(self, old: str, out_path: str) -> None:
        """The previous site's file at `out_path`, unchanged, goes into the new one: linked."""
        os.link(old, self._target(out_path))

    def put_stream(self, out_path: str, chunks) -> int:
        """`put` for a file too big to hold whole (the catalogue download at 100,000 figures is 660 MB):
        its text (or bytes) comes in chunks, written as they come and compared with the previous file's
        bytes on the way, so that an unchanged file is still linked from the previous site. Returns its
        size."""
        size = 0
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
                    data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
                    f.write(data)
                    size += len(data)
                    same = same and old.read(len(data)) == data
            same = same and old.read(1) == b""
        self._settle(target, old_path, same)
        return size

    def _settle(self, target: str, old_path: str | None, same: bool) -> None:
        """Count a file just written; one whose bytes are the previous site's is linked from it instead."""
        if same:
            os.unlink(target)
            os.link(old_path, target)
            self.unchanged += 1
        else:
            self.written += 1

    def previous_layout(self, out_path: str, layout: Layout | None) -> Layout | None:
        """`layout` (of the last build's file at `out_path`) if that file is still there with its size."""
        if layout is None or self._previous is None:
            return None
        try:
            st = os.lstat(os.path.join(self._previous, out_path))
        except OSError:
            return None
        return layout if stat.S_ISREG(st.st_mode) and st.st_size == layout.size else None

    def put_segments(self, out_path: str, head: str, sep: str, tail: str, parts, old: Layout | None = None) -> Layout:
        """Write a claimed file made of `head`, segments joined by `sep`, and `tail`, from `parts`:
        (name, text or bytes), or (name, None) for the segment of that name in the last build's file, which
        `old` describes (see `previous_layout`). Those are copied from it by the kernel, a run of
        adjacent ones at a time. A file made only of the last one's segments, in their order, is linked
        from it. Returns the new file's layout."""
        if old is None:
            spanned: tuple[list, list, list] = ([], [], [])
            size = self.put_stream(out_path, _spanned(head, sep, tail, parts, spanned))
            return _layout(size, *spanned)
        target = self._target(out_path)
        old_path = os.path.join(self._previous, out_path)
        head_b, sep_b, tail_b = head.encode(), sep.encode(), tail.encode()
        old_spans, names, starts, lengths = old.spans, [], [], []
        pos = len(head_b)  # in the new file
        run: list[int] | None = None  # [start, end) of old bytes to copy next
        runs: list[tuple[int, int]] = []  # every run copied
        remade = False  # any segment not from the old file?
        with _Output(target, old_path) as out:
            out.write(head_b)
            for n, (name, text) in enumerate(parts):
                lead = sep_b if n else b""
                names.append(name)
                if text is None:
                    start, length = old_spans[name]
                    if run is not None and start == run[1] + len(lead):  # the separator between them comes along
                        run[1] = start + length
                    else:
                        if run is not None:
                            runs.append(out.copy(*run))
                        out.write(lead)
                        run = [start, start + length]
                else:
                    data = text if type(text) is bytes else text.encode("utf-8")
                    length = len(data)
                    if run is not None:
                        runs.append(out.copy(*run))
                        run = None
                    out.write(lead + data)
                    remade = True
                starts.append(pos + len(lead))
                lengths.append(length)
                pos += len(lead) + length
            if run is not None:
                runs.append(out.copy(*run))
            out.write(tail_b)
            same = (not remade and pos + len(tail_b) == old.size
                    and [r for r in runs if r[0] != r[1]] in ([(len(head_b), old.size - len(tail_b))], [])
                    and out.old_bytes(0, len(head_b)) == head_b and out.old_bytes(pos, len(tail_b)) == tail_b)
        self._settle(target, old_path, same)
        return _layout(pos + len(tail_b), names, starts, lengths)

    def patch_segments(self, out_path: str, head: str, sep: str, tail: str, names, fresh: dict,
                       old: Layout) -> Layout | None:
        """`put_segments` for a file whose segments are the last build's file's (`old`), by name and in
        its order, but for those in `fresh` (name → text or bytes, each a name of `names`): the runs
        between them are copied from the old file, and the new layout is worked out from the old one's
        arrays, without a step per segment. None when `names` are not the old file's (the caller uses
        `put_segments`)."""
        names = names if type(names) is tuple else tuple(names)
        if not names or names != old.names:
            return None
        where = {name: n for n, name in enumerate(names)} if len(fresh) > 64 else None
        changed = sorted(((where[name] if where is not None else names.index(name)),
                          text if type(text) is bytes else text.encode("utf-8")) for name, text in fresh.items())
        head_b, sep_b, tail_b = head.encode(), sep.encode(), tail.encode()
        lengths = array("q", old.lengths)
        for n, data in changed:
            lengths[n] = len(data)
        steps = array("q", (length + len(sep_b) for length in lengths))  # (in C: a generator over an array)
        starts = array("q", accumulate(steps[:-1], initial=len(head_b)))
        size = starts[-1] + lengths[-1] + len(tail_b)
        target = self._target(out_path)
        old_path = os.path.join(self._previous, out_path)
        old_end = old.starts[-1] + old.lengths[-1]  # of the last segment
        with _Output(target, old_path) as out:
            same = (out.old_bytes(0, old.starts[0]) == head_b
                    and out.old_bytes(old_end, old.size - old_end) == tail_b)
            out.write(head_b)
            at = old.starts[0]  # in the old file: the first byte not yet copied
            for n, data in changed:
                out.copy(at, old.starts[n])  # the segments before this one, and the separator after them
                out.write(data)
                same = same and out.old_bytes(old.starts[n], old.lengths[n]) == data
                at = old.starts[n] + old.lengths[n]
            out.copy(at, old_end)
            out.write(tail_b)
        self._settle(target, old_path, same)
        return Layout(size, names, starts, lengths)

    def reuse(self, *out_paths: str) -> bool:
        """Hard-link claimed paths from the previous site as they are, all or none; False if one is missing."""
        if self._previous is None:
            return False
        linked = []
        try:
            for out_path in out_paths:  # no stat first: the link fails on what is not a file
                target = self._target(out_path)
                os.link(os.path.join(self._previous, out_path), target)
                linked.append(target)
        except OSError:  # missing (or a folder): the caller renders them all
            for target in linked:
                os.unlink(target)
            return False
        self.unchanged += len(out_paths)
        return True

    @property
    def files(self) -> int:
        """How many files the site has (its search index aside): every path claimed."""
        return len(self.paths)

    def sizes(self) -> tuple[int, int, str]:
        """(total bytes, largest file's bytes, its path) of the site as it will be."""
        return size_summary(file_sizes(self.staging))

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
        old = sibling(self.output, "old")
        if self.output.exists():
            os.rename(self.output, old)
        os.rename(self.staging, self.output)
        shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


JOURNAL = ".journal.json"  # in an update's folder: written last, it makes the update happen
_TRASH = ".trash"  # in an update's folder: the folders it replaced, removed last
_BESIDE = ".beside"  # in an update's folder: files that go beside the output (the build's shape)


def apply_update(output: Path, update: Path) -> None:
    """Carry out an update whose journal was written: replace its folders, rename its files into the
    output, remove the files it names, then drop the update. Each step can be done again: a run killed
    midway is completed by the next."""
    journal = json.loads((update / JOURNAL).read_text(encoding="utf-8"))
    trash = update / _TRASH
    for folder in journal["replace"]:
        new, old = update / folder, output / folder
        if not new.exists():
            continue  # done before
        if old.exists():
            target = trash / folder
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(target, ignore_errors=True)
            os.rename(old, target)
        old.parent.mkdir(parents=True, exist_ok=True)
        os.rename(new, old)
    skip = {JOURNAL, _TRASH, _BESIDE}
    made: set[str] = set()
    for here, dirs, files in os.walk(update):
        rel = os.path.relpath(here, update)
        if rel == ".":
            dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            if rel == "." and name in skip:
                continue
            target = os.path.join(output, name) if rel == "." else os.path.join(output, rel, name)
            folder = os.path.dirname(target)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            os.replace(os.path.join(here, name), target)
    for out_path in journal["delete"]:
        path = output / out_path
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        folder = path.parent
        while folder != output:  # a folder the removal emptied goes too, as a cold build would not make it
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent
    for name, target in journal.get("beside", {}).items():
        source = update / _BESIDE / name
        if source.exists():
            os.replace(source, target)
    shutil.rmtree(update, ignore_errors=True)


class SiteUpdater(SiteWriter):
    """A writer that updates the output folder in place (see the module's docstring). It claims only
    what it may write; it removes the files the plan of the update found `stale`, and those of the last
    build's `catalogue` files (its catalogue-wide files and assets) this update does not make. An
    unchanged file is left as it is instead of linked."""

    STAGING = "update"

    def __init__(self, output: Path, stale: set[str], catalogue: set[str], files: int = 0):
        super().__init__(output)
        if self.previous is None:
            self.abort()
            raise SiteError(f"no output folder {self.output} to update")
        self.stale = stale
        self.before = catalogue
        self._files = files  # in the output before the update; after it, once committed
        self._new: set[str] | None = None
        self.replaced: set[str] = set()  # folders (relative) written whole into the staging folder
        self.beside: dict[str, tuple[Path, bytes]] = {}  # name → (path beside the output, bytes)

    def _keep(self, old: str, out_path: str) -> None:
        pass  # it stays where it is

    def _settle(self, target: str, old_path: str | None, same: bool) -> None:
        if same:
            os.unlink(target)
            self.unchanged += 1
        else:
            self.written += 1

    def reuse(self, *out_paths: str) -> bool:
        """Are these claimed paths files in the output, to be left as they are? False if one is not."""
        if not all(os.path.isfile(os.path.join(self._previous, p)) for p in out_paths):
            return False
        self.unchanged += len(out_paths)
        return True

    def locate(self, out_path: str) -> str:
        """Where a claimed file is now: in the staging folder if this update wrote it, else in the output."""
        target = os.path.join(self._staging, out_path)
        return target if os.path.exists(target) else os.path.join(self._previous, out_path)

    def replace_folder(self, folder: str) -> None:
        """A folder this update writes whole (into `staging / folder`): it replaces the output's."""
        self.replaced.add(folder)

    def put_beside(self, name: str, path: Path, data: bytes) -> None:
        """A file beside the output (the build's shape), put in place with the update."""
        self.beside[name] = (path, data)

    def fullest_folder(self) -> tuple[int, str]:
        """(entries, folder) of the folder of the updated output holding the most entries, among those
        this update adds entries to (the others held no more than the last build checked)."""
        entries: dict[str, set[str]] = {}
        for out_path in self._added():
            parts = out_path.split("/")
            for depth in range(len(parts)):
                folder = "/".join(parts[:depth]) or "."
                if folder not in entries:
                    try:
                        entries[folder] = set(os.listdir(self.output / folder))
                    except OSError:
                        entries[folder] = set()
                entries[folder].add(parts[depth])
        for folder in self.replaced:  # written whole here; the other unclaimed folders stay as they are
            for base in (self.staging, self.output):
                if not (base / folder).is_dir():
                    continue
                for here, dirs, files in os.walk(base / folder):
                    rel = os.path.relpath(here, base)
                    if base == self.output and any(rel == f or rel.startswith(f + "/") for f in self.replaced):
                        continue
                    entries.setdefault(rel, set()).update(dirs, files)
        return max(((len(names), folder) for folder, names in entries.items()), default=(0, ""))

    def sizes(self) -> tuple[int, int, str]:
        """(total bytes, largest file's bytes, its path) of the output as this update leaves it."""
        sizes = file_sizes(self.output)
        for folder in self.replaced:
            for path in [p for p in sizes if p.startswith(folder + "/")]:
                del sizes[path]
        for path in self._gone():
            sizes.pop(path, None)
        sizes.update((path, size) for path, size in file_sizes(self.staging).items()
                     if not path.startswith((JOURNAL, _TRASH, _BESIDE)))
        return size_summary(sizes)

    def _gone(self) -> set[str]:
        return (self.stale | (self.before - self.catalogue)) - self.paths

    @property
    def files(self) -> int:
        return self._files

    def _added(self) -> set[str]:
        """The claimed paths the output does not have yet (looked up once, when every path is claimed)."""
        if self._new is None:
            output = self._previous + os.sep
            self._new = {p for p in self.paths if not os.path.lexists(output + p)}
        return self._new

    def commit(self) -> None:
        """Write the journal, then carry the update out (`apply_update`)."""
        beside = {}
        if self.beside:
            (self.staging / _BESIDE).mkdir()
            for name, (path, data) in self.beside.items():
                (self.staging / _BESIDE / name).write_bytes(data)
                beside[name] = str(path)
        gone = self._gone()
        journal = {"delete": sorted(p for p in gone if not any(p == f or p.startswith(f + "/") for f in self.replaced)),
                   "replace": sorted(self.replaced), "beside": beside}
        output = self._previous + os.sep
        self._files += len(self._added()) - sum(os.path.lexists(output + p) for p in journal["delete"])
        self.unchanged = self._files - self.written  # every other file stays as it is
        tmp = self.staging / f"{JOURNAL}.tmp"
        tmp.write_text(json.dumps(journal), encoding="utf-8")
        os.rename(tmp, self.staging / JOURNAL)  # the commit point: complete, or not there
        apply_update(self.output, self.staging)

    def abort(self) -> None:
        """Drop the update, unless its journal was written: then it is completed by the next run."""
        if not (self.staging / JOURNAL).exists():
            shutil.rmtree(self.staging, ignore_errors=True)
