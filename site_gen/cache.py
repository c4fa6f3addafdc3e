"""Parsed records kept between builds, so that a rebuild re-reads only the records that changed.

The cache lives beside the output folder (`.<output>.cache/`, safe to delete). An entry holds what
parsing one record produced, its Figure (or None) and its problems, keyed by:

- the record's identity (device, inode, size, modification time), and that of each sidecar table it
  read or looked for: when every identity matches, the entry is used without reading the file;
- a digest of the record's bytes and its tables' bytes: when an identity changed but the bytes did not
  (a `touch`, a fresh checkout), the entry is still used;
- the generator: its version, the source of the modules that parse, and the working folder (problems
  name files relative to it). A cache written by another generator is ignored.

Entries are spread over bucket files by a hash of the record's path. A bucket file is rewritten only
when one of its records changed, atomically, so a killed build leaves a cache that is still valid.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from site_gen import __version__
from site_gen.errors import Problem
from site_gen.load import MENTION_KINDS, load_record
from site_gen.model import Figure
from site_gen.write import replace_file

log = logging.getLogger(__name__)

BUCKETS = 64
_PARSING_MODULES = ("errors.py", "load.py", "fastyaml.py", "model.py", "cache.py")


class Entry(NamedTuple):
    identity: tuple  # of the record file
    digest: bytes  # of the record's bytes and its tables' bytes
    tables: tuple  # (file name, path or None, identity or None) of every sidecar table looked for
    figure: Figure | None
    problems: tuple[Problem, ...]


def cache_folder(output: Path) -> Path:
    return output.parent / f".{output.name}.cache"


def generator_key() -> str:
    """What a cached parse depends on besides the file: the code that parsed it, and where it ran."""
    digest = hashlib.blake2b(f"{__version__}|{sys.version_info[:2]}|{os.getcwd()}".encode(), digest_size=16)
    here = Path(__file__).parent
    for name in _PARSING_MODULES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def _identity(path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _read(path) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def bucket_of(path: str) -> int:
    return zlib.crc32(path.encode("utf-8", "surrogateescape")) % BUCKETS


@dataclass
class ParseStats:
    reused: int = 0
    parsed: int = 0


class ParseCache:
    """The bucket files of one output folder's cache; `folder=None` keeps nothing."""

    def __init__(self, folder: Path | None):
        self.folder = folder / "parse" if folder is not None else None
        self.key = generator_key() if folder is not None else ""

    def _bucket_path(self, bucket: int) -> Path:
        return self.folder / f"{bucket:02d}.pickle"

    def load(self, bucket: int) -> dict[str, Entry]:
        """A bucket's entries: none if it is missing, damaged or written by another generator."""
        if self.folder is None:
            return {}
        try:
            with open(self._bucket_path(bucket), "rb") as f:
                if f.readline() != f"{self.key}\n".encode():
                    return {}
                entries = pickle.load(f)
        except FileNotFoundError:
            return {}
        except Exception as exc:  # noqa: BLE001 - a damaged cache is only a slower build
            log.debug("parse cache bucket %d unreadable (%s); ignored", bucket, exc)
            return {}
        return entries if isinstance(entries, dict) else {}

    def save(self, bucket: int, entries: dict[str, Entry]) -> None:
        if self.folder is None:
            return
        replace_file(self._bucket_path(bucket),
                     f"{self.key}\n".encode() + pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL))

    def unchanged_bucket(self, bucket: int, paths: list[Path], tables: dict) -> list[Entry] | None:
        """A bucket's entries if it holds exactly these records, each still valid by identity; else None
        (and its records go to `parse_bucket`)."""
        if self.folder is None:
            return None
        old = self.load(bucket)
        if len(old) != len(paths):
            return None
        entries = []
        for path in paths:
            entry = old.get(str(path))
            if entry is None or not _still_valid(entry, path, tables):
                return None
            entries.append(entry)
        return entries

    def parse_bucket(self, bucket: int, paths: list[Path], tables: dict, stats: ParseStats) -> list[Entry]:
        """The entries of one bucket's records: reused where still valid, parsed afresh otherwise."""
        old = self.load(bucket)
        new: dict[str, Entry] = {}
        dirty = len(old) != len(paths)
        valid = {}
        for path in paths:
            entry = old.get(str(path))
            valid[path] = entry is not None and _still_valid(entry, path, tables)
        prefetch([path for path in paths if not valid[path]], tables)
        for path in paths:
            name = str(path)
            entry = old.get(name)
            if valid[path]:
                stats.reused += 1
            else:
                entry = _revalidated(entry, path, tables) if entry is not None else None
                if entry is None:
                    entry = parse_entry(path, tables)
                    stats.parsed += 1
                else:
                    stats.reused += 1
                dirty = True
            new[name] = entry
        if dirty or new.keys() != old.keys():
            self.save(bucket, new)
        return list(new.values())


def prefetch(paths: list[Path], tables: dict) -> None:
    """Ask the kernel to start reading these records, and the sidecar tables named after their file
    names, all at once: on a cold disk, reading them one by one waits for each (4 times slower here)."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None or len(paths) < 2:
        return
    files = list(paths)
    for path in paths:
        files += [tables[name] for kind in MENTION_KINDS if (name := f"{path.stem}-{kind}.tsv") in tables]
    for path in files:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # reported when it is read
        try:
            advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def _still_valid(entry: Entry, path: Path, tables: dict) -> bool:
    """Do the record and every table it looked for have the identities they had when it was parsed?"""
    if _identity(path) != entry.identity:
        return False
    for name, table_path, identity in entry.tables:
        now = tables.get(name)
        if (str(now) if now is not None else None) != table_path:
            return False
        if now is not None and _identity(now) != identity:
            return False
    return True


def _table_lookups(names, tables: dict) -> tuple:
    """(name, path or None, identity or None) of each sidecar table name a record looks for."""
    return tuple((name, str(tables[name]) if name in tables else None,
                  _identity(tables[name]) if name in tables else None) for name in names)


def _table_names(figure_id) -> tuple[str, ...]:
    if not isinstance(figure_id, str):  # as `load_record`: no figid, no tables
        return ()
    return tuple(f"{figure_id}-{kind}.tsv" for kind in MENTION_KINDS)


def _digest(raw: bytes, lookups: tuple) -> bytes:
    digest = hashlib.blake2b(raw, digest_size=16)
    for name, table_path, _identity_now in lookups:
        digest.update(f"\0{name}\0{table_path}\0".encode("utf-8", "surrogateescape"))
        if table_path is not None:
            digest.update(_read(table_path) or b"")
    return digest.digest()


def _revalidated(entry: Entry, path: Path, tables: dict) -> Entry | None:
    """The entry with fresh identities when the bytes it was made from are unchanged, else None."""
    raw = _read(path)
    if raw is None:
        return None
    lookups = _table_lookups([name for name, _path, _identity_then in entry.tables], tables)
    if [t[:2] for t in lookups] != [t[:2] for t in entry.tables] or _digest(raw, lookups) != entry.digest:
        return None
    return entry._replace(identity=_identity(path), tables=lookups)


def parse_entry(path: Path, tables: dict) -> Entry:
    """Parse one record (and its sidecar tables) into a cache entry."""
    identity = _identity(path)
    raw = _read(path)
    problems: list[Problem] = []
    record = load_record(path, tables, problems, raw=raw)
    figure = Figure.from_raw(record, problems) if record is not None else None
    lookups = _table_lookups(_table_names(record.data.get("figid") if record is not None else None), tables)
    return Entry(identity, _digest(raw or b"", lookups), lookups, figure, tuple(problems))
