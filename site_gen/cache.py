"""The model kept between builds, so that a rebuild reads only the records that changed and applies them
to the last build's index instead of making it again.

It is an SQLite database beside the output folder (`.<output>.cache/model.sqlite`, safe to delete):

- `records`: for every record file, the names of the sidecar tables it looked for, a stamp of its
  identity (device, inode, size, modification time) and of the path and identity of each of those
  tables, a digest of their bytes, the problems parsing found, and the Figure it gave (pickled). When
  the stamp of the files the source's walk found matches, the record is not read again; when it
  changed but the bytes did not (a `touch`, a fresh checkout), it is not parsed again. (A stamp, not
  the identities themselves: a build compares 100,000 of them, a digest each, without unpickling.)
- `figures`: the Figure each record gave, pickled: a table of its own, so that a build's pass over
  every record's stamp reads a few MB, not the figures' hundreds (from disk, when the store has left
  the system's cache, that pass took seconds).
- `parts`: the index of the last build (`index.Site`, its figures kept light: `model.StoredFigure`)
  but for its tallies, with the key of what it was made from (settings, build date, organism files),
  pickled into rows of 4 MB as the pickle is made (`_put`), and read back a row at a time.
- `state`: the generator the store is of, and the store's generation, a random number drawn again by
  every save: the shape of a build's output (`reuse.Shape`) names the generation it shows, so the next
  build knows whether the saved index is what the output shows.
- `tally`: the index's tallies (`index.Tally`), one row per entity key: what the figures that mention
  it call it, and which they are. An edit reads the rows of the keys its figures mention; the other
  hundreds of thousands stay on disk.
- `pending`: the records changed since the index was last saved in full, with the figures it has of
  them; the next build applies them to it again.

Everything is keyed by the generator (its version, the source of the modules that parse and index, the
working folder, as problems name files relative to it): a store written by another generator is
emptied. Records and the index are saved in one transaction, so the index always describes the
records the store holds, and a killed build leaves a store that is still valid.
"""
from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import pickle
import sqlite3
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from site_gen import __version__
from site_gen.errors import Problem, SiteError
from site_gen.load import MENTION_KINDS, file_identity, load_record
from site_gen.index import FIXED_PAGES, ENTITY_CLASSES, ITEMS_OF, Page, Redirect, Tally, _from_slots, _slot_state
from site_gen.model import (Facts, Figure, _stored_figure, facts, light_fields, set_figure_loader,
                            stored)
from site_gen.system import return_free_memory

log = logging.getLogger(__name__)

_MODEL_MODULES = ("errors.py", "load.py", "fastyaml.py", "model.py", "cache.py", "index.py", "settings.py")
STORE_NAME = "model.sqlite"
SITE_FORMAT = 2  # of the saved index (`pack_site`) and its tally rows


class Entry(NamedTuple):
    identity: tuple | None  # of the record file
    digest: bytes  # of the record's bytes and its tables' bytes
    tables: tuple  # (file name, path or None, identity or None) of every sidecar table looked for
    figure: Figure | None
    problems: tuple[Problem, ...]
    data: bytes | None = None  # the figure pickled, as the store keeps it (made where it was parsed)


class Known(NamedTuple):
    """A record as the store holds it, without its figure."""

    stamp: bytes  # of the identities of its files (`stamp`)
    digest: bytes
    names: tuple[str, ...]  # of the sidecar tables it looked for (a name holding a line break comes back
    # split, so its record never matches its stamp and is read again: right, only slower)
    src_path: str | None  # of its figure, None when it gave none


def cache_folder(output: Path) -> Path:
    return output.parent / f".{output.name}.cache"


def generator_key() -> str:
    """What a stored parse and index depend on besides the files: the code that made them, and where."""
    digest = hashlib.blake2b(f"{__version__}|{sys.version_info[:2]}|{os.getcwd()}".encode(), digest_size=16)
    here = Path(__file__).parent
    for name in _MODEL_MODULES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def code_digest() -> bytes:
    """A digest of the generator's own code (every module of the package): what every output depends on."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(f"\0{path.name}\0".encode() + path.read_bytes())
    return digest.digest()


def _read(path) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


@dataclass
class ParseStats:
    reused: int = 0
    parsed: int = 0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    path TEXT PRIMARY KEY, stamp BLOB, names TEXT, digest BLOB, src_path TEXT, problems BLOB);
CREATE INDEX IF NOT EXISTS records_by_src ON records (src_path);
CREATE TABLE IF NOT EXISTS figures (path TEXT PRIMARY KEY, figure BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value BLOB);
CREATE TABLE IF NOT EXISTS parts (name TEXT, part INTEGER, data BLOB, PRIMARY KEY (name, part));
CREATE TABLE IF NOT EXISTS pending (path TEXT PRIMARY KEY, figure BLOB);
CREATE TABLE IF NOT EXISTS tally (kind TEXT, key TEXT, value BLOB, PRIMARY KEY (kind, key)) WITHOUT ROWID;
"""

# The saved index is made again in full once this many records changed since it was last saved; until
# then a build saves only which records changed (and their figures as the saved index has them), and
# the next build applies them to it again as it loads it.
PENDING_LIMIT = 2000


def pack_site(site) -> tuple:
    """The index as plain tuples, which pickle and load several times faster than its objects: figures
    kept light, entities and redirects as their fields, pages as tuples; what is derived from the
    entity tables (the lists, the top entities) as keys. The tallies are saved as rows (`_tally_rows`)."""
    figures = [(light_fields(fig), tuple(facts(fig))) for fig in site.figures.values()]
    entities = {kind: [_slot_state(e) for e in table.values()] for kind, table in site.entity_tables.items()}
    redirects = [_slot_state(r) for r in site.redirects]
    pages = {key: tuple(map(tuple, group)) for key, group in site.page_groups.items() if key != "fixed"}
    top = {kind: tuple(e.key for e in entities_) for kind, entities_ in site.top.items()}
    rest = replace(site, figures={}, entity_tables={}, entity_lists={}, page_groups={}, redirects=(), top={},
                   tallies={})
    return rest, figures, entities, redirects, pages, top


def unpack_site(packed: tuple, tally_rows=None):
    """The index `pack_site` packed; its tallies read their keys with `tally_rows(kind, keys)` (none
    without it)."""
    rest, figures, entities, redirects, pages, top = packed
    site = replace(rest)
    if tally_rows is not None:
        site.tallies = {kind: Tally(items_of, functools.partial(tally_rows, kind)) for kind, items_of in ITEMS_OF.items()}
    site.figures = {light[0]: _stored_figure(light, Facts._make(held)) for light, held in figures}
    site.entity_tables = {kind: {values[1]: _from_slots(ENTITY_CLASSES[kind], values) for values in rows}
                          for kind, rows in entities.items()}
    site.entity_lists = {kind: tuple(table.values()) for kind, table in site.entity_tables.items()}
    site.top = {kind: tuple(site.entity_tables[kind][key] for key in keys) for kind, keys in top.items()}
    site.redirects = tuple(_from_slots(Redirect, values) for values in redirects)
    make = Page._make
    site.page_groups = {key: tuple(map(make, group)) for key, group in pages.items()}
    site.page_groups["fixed"] = FIXED_PAGES
    return site


class StoreChanged(SiteError):
    """The index a model reads its tally rows from was replaced since it was loaded (another process's
    build saved the store in full, or the store was deleted): the model no longer matches them."""


_INHERITED: list = []


def _dumps(value) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


class ModelStore:
    """The database of one output folder's cache; `folder=None` keeps nothing (every method is a no-op
    or answers "nothing known")."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.path = folder / STORE_NAME if folder is not None else None
        self.key = generator_key() if folder is not None else ""
        self._db: sqlite3.Connection | None = None
        self._pid = None
        self._site_generation: bytes | None = None  # of the index last loaded or saved in full here

    # --- the connection (one per process: a forked worker opens its own) ----------------------------
    def db(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():
            if self._db is not None:  # a forked worker's copy of the parent's connection: never closed here
                _INHERITED.append(self._db)  # (closing it would act on the parent's database handle)
            self._pid = os.getpid()
            self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            db = self._connect()
            ok = db.execute("SELECT value FROM state WHERE name = 'generator'").fetchone()
            if ok is not None and ok[0] == self.key.encode():
                return db
            db.close()
        except sqlite3.DatabaseError as exc:  # damaged, or not a database: only a slower build
            log.debug("model store %s unreadable (%s); made again", self.path, exc)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        db = self._connect()
        with db:
            db.execute("INSERT INTO state VALUES ('generator', ?)", (self.key.encode(),))
        return db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        # No fsync: the store is a cache, safe against a killed build (the system keeps what was written);
        # an fsync under heavy disk writes (a build's output) can stall for seconds.
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(_SCHEMA)
        return db

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None

    # --- records -------------------------------------------------------------------------------
    def known(self, paths=None) -> dict[str, Known]:
        """Every record the store holds (or those of these paths), by path, without its figure."""
        if self.folder is None:
            return {}
        query = "SELECT path, stamp, names, digest, src_path FROM records"
        if paths is None:
            rows = self.db().execute(query)
        else:
            rows = [row for path in paths for row in self.db().execute(f"{query} WHERE path = ?", (path,))]
        return {path: Known(stamp, digest, tuple(names.split("\n")) if names else (), src_path)
                for path, stamp, names, digest, src_path in rows}

    def problems(self) -> dict[str, tuple[Problem, ...]]:
        """The parse problems of every record that had any, by path."""
        if self.folder is None:
            return {}
        rows = self.db().execute("SELECT path, problems FROM records WHERE problems IS NOT NULL")
        return {path: pickle.loads(data) for path, data in rows}

    def figures(self, paths) -> dict[str, Figure]:
        """The figures of these records, by path (those that gave none are left out)."""
        wanted = set(paths)
        if self.folder is None or not wanted:
            return {}
        db, out = self.db(), {}
        if len(wanted) < 10_000:  # a few: looked up
            for path in sorted(wanted):
                row = db.execute("SELECT figure FROM figures WHERE path = ?", (path,)).fetchone()
                if row is not None:
                    out[path] = pickle.loads(row[0])
            return out
        for path, data in db.execute("SELECT path, figure FROM figures"):
            if path in wanted:
                out[path] = pickle.loads(data)
        return out

    def figure(self, src_path: str) -> Figure:
        """A figure in full, by its source path (what a StoredFigure reads its heavy fields with)."""
        row = self.db().execute("SELECT figure FROM records JOIN figures USING (path) WHERE src_path = ? LIMIT 1",
                                (src_path,)).fetchone()
        if row is None:
            raise LookupError(f"the model store has no figure from {src_path}; delete {self.folder} and build again")
        return pickle.loads(row[0])

    # --- the index and the output's shape -------------------------------------------------------
    def get(self, name: str):
        """A value `_put` saved, unpickled as its parts are read; None when missing or unreadable."""
        if self.folder is None:
            return None
        parts = self.db().execute("SELECT data FROM parts WHERE name = ? ORDER BY part", (name,))
        try:
            return pickle.load(io.BufferedReader(_PartsReader(parts), _PART_SIZE))
        except Exception as exc:  # noqa: BLE001 - unreadable (or missing: an empty file): as if missing
            log.debug("model store: %s unreadable (%s)", name, exc)
            return None

    def load_site(self, key: str):
        """The index last saved if it was made from what `key` names, else None. Its figures read their
        heavy fields from this store. See `pending` for the records changed since it was saved."""
        saved = self.get("site")
        if not isinstance(saved, tuple) or len(saved) != 3 or saved[:2] != (SITE_FORMAT, key):
            return None
        set_figure_loader(self.figure)  # (the index's stored figures read their heavy fields here)
        self._site_generation = self._saved_generation()
        return unpack_site(saved[2], self.tally_rows)

    def lighten(self, site) -> None:
        """An index about to be saved here in full (`save`) keeps its figures as an index loaded from the
        store keeps them (light fields and facts), their heavy fields read from the store when used. The
        render workers then read the figures whose pages they render instead of each inheriting the
        whole catalogue's captions and mentions."""
        if self.folder is None:
            return
        set_figure_loader(self.figure)  # (the index's stored figures read their heavy fields here)
        site.figures = {figid: stored(fig) for figid, fig in site.figures.items()}

    def _saved_generation(self) -> bytes | None:
        row = self.db().execute("SELECT value FROM state WHERE name = 'site generation'").fetchone()
        return row[0] if row is not None else None

    def tally_rows(self, kind: str, keys) -> list[tuple[str, tuple]]:
        """(key, `Tally.state`) of those of these keys of a kind the saved index's tallies have; raises
        StoreChanged when that index is no longer the one loaded or saved last by this store."""
        if self._site_generation is None or self._saved_generation() != self._site_generation:
            raise StoreChanged(f"the model store {self.path} was saved by another build, or deleted, since "
                               "its index was read; build again")
        db, loads, out = self.db(), pickle.loads, []
        keys = sorted(keys)
        for start in range(0, len(keys), 500):  # (SQLite's limit on the parameters of a statement)
            part = keys[start:start + 500]
            rows = db.execute(f"SELECT key, value FROM tally WHERE kind = ? AND key IN ({','.join('?' * len(part))})",
                              (kind, *part))
            out += [(key, loads(value)) for key, value in rows]
        return out

    def generation(self) -> int | None:
        """The number drawn by the last save (0 before any; None without a store)."""
        if self.folder is None:
            return None
        row = self.db().execute("SELECT value FROM state WHERE name = 'generation'").fetchone()
        return int(row[0]) if row is not None else 0

    def pending(self) -> dict[str, Figure | None]:
        """The records changed since the index was saved: path → the figure the saved index has of it
        (None for a record it has no figure of)."""
        if self.folder is None:
            return {}
        return {path: pickle.loads(data) if data is not None else None
                for path, data in self.db().execute("SELECT path, figure FROM pending")}

    def save(self, entries: dict[str, Entry], gone, site=None, key: str = "", changed=()) -> int | None:
        """In one transaction: these records' entries (by path) and the records `gone` removed; then
        either the index `site` (made from what `key` names) in full, or, when `site` is None, only the
        paths of the records `changed` since the saved index, which the next build applies to it.
        Returns the store's generation after it. Each entry lets go of its figure, and of the figure's
        pickle, once they are written (the entries stay, without them)."""
        if self.folder is None:
            return None
        db = self.db()
        db.execute("BEGIN IMMEDIATE")
        try:
            generation = int.from_bytes(os.urandom(8), "big") | 1  # never 0
            db.execute("INSERT OR REPLACE INTO state VALUES ('generation', ?)", (str(generation),))
            if site is None:  # the saved index stays; note what it has of each changed record first
                db.executemany("INSERT OR IGNORE INTO pending SELECT path, figure FROM figures WHERE path = ?",
                               [(path,) for path in changed])
                db.executemany("INSERT OR IGNORE INTO pending VALUES (?, NULL)", [(path,) for path in changed])
            db.executemany("DELETE FROM records WHERE path = ?", [(path,) for path in gone])
            db.executemany("DELETE FROM figures WHERE path = ?", [(path,) for path in gone])
            db.executemany("DELETE FROM figures WHERE path = ?", [(path,) for path, e in entries.items()
                                                                  if e.data is None and e.figure is None])
            db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?)", [
                (path, stamp(e.identity, e.tables), "\n".join(lookup[0] for lookup in e.tables),
                 e.digest, e.figure.src_path if e.figure else None,
                 _dumps(e.problems) if e.problems else None)
                for path, e in entries.items()])
            db.executemany("INSERT OR REPLACE INTO figures VALUES (?, ?)", _figure_rows(entries))
            if site is not None:
                return_free_memory()  # (what the figures and their pickles held, before the index's is made)
                _put(db, "site", (SITE_FORMAT, key, pack_site(site)))
                _save_tallies(db, site.tallies)
                db.execute("INSERT OR REPLACE INTO state VALUES ('site generation', ?)", (str(generation).encode(),))
                db.execute("DELETE FROM pending")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if site is not None:
            self._site_generation = str(generation).encode()
        return generation

    def revalidate(self, path: str, known: Known, tables: dict) -> Entry | None:
        """A record whose identity changed but whose bytes (and its tables') did not: its entry with
        fresh identities, its figure read from the store; None when it must be parsed."""
        fresh = _revalidated(known, Path(path), tables)
        if fresh is None:
            return None
        row = self.db().execute("SELECT problems, figure FROM records LEFT JOIN figures USING (path) WHERE path = ?",
                                (path,)).fetchone()
        if row is None:
            return None
        problems, figure = (pickle.loads(data) if data is not None else None for data in row)
        return Entry(fresh[0], known.digest, fresh[1], figure, problems or (), row[1])


_PART_SIZE = 1 << 22  # bytes of a row of the parts table


def _put(db: sqlite3.Connection, name: str, value) -> None:
    """Save a value under `name`, pickled into rows of the parts table as the pickle is made: at
    100,000 figures the index's pickle is 140 MB, which neither it nor SQLite's copy of a bound value
    then holds whole."""
    db.execute("DELETE FROM parts WHERE name = ?", (name,))
    out = _PartsWriter(db, name)
    pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    out.flush()


class _PartsWriter:
    """A file whose bytes go into numbered rows of the parts table, `_PART_SIZE` at a time (the rest
    on `flush`)."""

    def __init__(self, db: sqlite3.Connection, name: str):
        self.db, self.name, self.part, self.buffer = db, name, 0, bytearray()

    def write(self, data) -> int:
        self.buffer += data
        if len(self.buffer) >= _PART_SIZE:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.buffer:
            self.db.execute("INSERT INTO parts VALUES (?, ?, ?)", (self.name, self.part, self.buffer))
            self.part += 1
            self.buffer = bytearray()


class _PartsReader(io.RawIOBase):
    """The bytes of the parts a query gives, in order, as a file (read one part at a time)."""

    def __init__(self, rows):
        self.rows, self.part, self.at = rows, b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self.at >= len(self.part):
            row = next(self.rows, None)
            if row is None:
                return 0
            self.part, self.at = row[0], 0
        n = min(len(buffer), len(self.part) - self.at)
        buffer[:n] = memoryview(self.part)[self.at:self.at + n]
        self.at += n
        return n


def _figure_rows(entries: dict[str, Entry]):
    """(path, pickled figure) of each entry with a figure, which lets go of the figure and its pickle
    (made where the record was parsed) once written. A cold build's index then holds the figures
    light (`ModelStore.lighten`), and the parsed ones are freed before the index's own pickle is made:
    at 100,000 records, 300 MB of pickles and the captions and mentions of every figure."""
    for path, e in entries.items():
        if e.data is not None or e.figure is not None:
            yield path, e.data if e.data is not None else _dumps(e.figure)
            entries[path] = e._replace(figure=None, data=None)  # (a value replaced, not a key: the walk goes on)


def _save_tallies(db: sqlite3.Connection, tallies: dict) -> None:
    """The rows of the tallies of an index saved in full: all of them for tallies made in memory, else
    those of the keys edits changed since they were read (the others are as the saved rows have them)."""
    for kind, tally in tallies.items():
        if tally.rows is None:
            db.execute("DELETE FROM tally WHERE kind = ?", (kind,))
        gone: list[tuple[str, str]] = []

        def rows(kind=kind, tally=tally, gone=gone):  # (made as they are written: 370,000 genes at 100,000 figures)
            for key in sorted(tally.keys()):
                state = tally.state(key)
                if state is None:
                    gone.append((kind, key))
                else:
                    yield kind, key, _dumps(state)

        db.executemany("INSERT OR REPLACE INTO tally VALUES (?, ?, ?)", rows())
        db.executemany("DELETE FROM tally WHERE kind = ? AND key = ?", gone)


def stamp(identity: tuple | None, lookups: tuple) -> bytes:
    """A digest of a record's identity and its table lookups (`_table_lookups`): what tells whether
    its files are as they were when it was parsed."""
    return hashlib.blake2b(repr((identity, lookups)).encode("utf-8", "surrogateescape"), digest_size=16).digest()


def still_valid(known: Known, path: Path | str, tables: dict, identities: dict | None = None) -> bool:
    """Do the record and every table it looked for have the paths and identities they had when it was
    parsed? (`identities`: those of the files as the source's walk found them, by path, else looked up.)"""
    identity = identities.get if identities is not None else file_identity
    lookups = []
    for name in known.names:
        now = tables.get(name)
        lookups.append((name, str(now), identity(str(now))) if now is not None else (name, None, None))
    return stamp(identity(str(path)), tuple(lookups)) == known.stamp


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


def _table_lookups(names, tables: dict) -> tuple:
    """(name, path or None, identity or None) of each sidecar table name a record looks for."""
    return tuple((name, str(tables[name]) if name in tables else None,
                  file_identity(tables[name]) if name in tables else None) for name in names)


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


def _revalidated(known: Known, path: Path, tables: dict) -> tuple | None:
    """(identity, table lookups) now, when the bytes the record was made from are unchanged, else None."""
    raw = _read(path)
    if raw is None:
        return None
    lookups = _table_lookups(known.names, tables)
    if _digest(raw, lookups) != known.digest:  # (which covers the tables' names and paths too)
        return None
    return file_identity(path), lookups


def parse_entry(path: Path, tables: dict) -> Entry:
    """Parse one record (and its sidecar tables) into a store entry."""
    identity = file_identity(path)
    raw = _read(path)
    problems: list[Problem] = []
    record = load_record(path, tables, problems, raw=raw)
    figure = Figure.from_raw(record, problems) if record is not None else None
    lookups = _table_lookups(_table_names(record.data.get("figid") if record is not None else None), tables)
    return Entry(identity, _digest(raw or b"", lookups), lookups, figure, tuple(problems),
                 _dumps(figure) if figure is not None else None)
