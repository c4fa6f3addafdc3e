"""Stage 1, load: files on disk → RawRecord. Never raises on content; returns problems instead."""
from __future__ import annotations

import itertools
import logging
import operator
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from site_gen import fastyaml
from site_gen.errors import Problem
from site_gen.parallel import run_shares

log = logging.getLogger(__name__)

RECORD_SUFFIXES = (".md", ".txt")
ORGANISM_FOLDER = "_organisms"
MENTION_KINDS = ("genes", "chemicals", "diseases")
# The columns a sidecar table needs, in each layout it may have (the first is the one asked for).
TSV_COLUMNS = {
    "genes": (("word", "match", "ncbigene_symbol", "ncbigene_id"),),
    "chemicals": (("word", "mesh"),),
    "diseases": (("word", "mesh"), ("word", "source", "identifier")),
}
FRONT_MATTER_FIRST_LINE = 2  # the line after the opening `---`


@dataclass(frozen=True)
class TsvTable:
    """A sidecar table: its header and its rows, each as (line number, the line's text), blank lines and
    rows with the wrong number of cells left out (reported). The model splits the rows it reads."""

    header: tuple[str, ...]
    rows: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class RawRecord:
    """One parsed file: its front matter as loaded, its Markdown body and any sidecar tables."""

    data: dict
    src_path: str
    body: str = ""
    tables: dict = field(default_factory=dict)  # kind → (display path, tuple[TsvRow])


def display_path(path: Path) -> str:
    """The path as a user would type it: relative to the working folder when inside it."""
    text = os.fspath(path)
    if os.path.normpath(text) == text:  # then the common cases need no walk up the folders
        if not os.path.isabs(text):
            if text != ".." and not text.startswith("../"):
                return text
        else:
            cwd = os.getcwd()
            if text.startswith(cwd) and text[len(cwd):len(cwd) + 1] == os.sep:
                return text[len(cwd) + 1:]
    try:
        return os.path.relpath(text)
    except ValueError:
        return text


def _decode(raw: bytes, shown: str, problems: list[Problem]) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(shown, line, "", f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start}", skipped=True)
        )
        return None
    text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str, shown: str, problems: list[Problem]) -> tuple[str, str] | None:
    """(front matter, body) of a file that opens with a `---` line, or None with a problem."""
    lines = text.split("\n")
    if not text.strip():
        problems.append(Problem(shown, 1, "", "empty file", skipped=True))
        return None
    if lines[0].rstrip() != "---":
        problems.append(Problem(shown, 1, "", "no front matter: the first line must be '---'", skipped=True))
        return None
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :])
    problems.append(Problem(shown, 1, "", "no closing '---' after the front matter", skipped=True))
    return None


def parse_front_matter(path: Path, problems: list[Problem], raw: bytes | None = None) -> tuple[dict, str] | None:
    """(mapping, body) of one record file (its bytes when the caller read them), or None after reporting why not."""
    shown = display_path(path)
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(shown, 0, "", f"cannot read: {exc.strerror}", skipped=True))
            return None
    text = _decode(raw, shown, problems)
    if text is None:
        return None
    parts = split_front_matter(text, shown, problems)
    if parts is None:
        return None
    front, body = parts
    try:
        data = fastyaml.load(front)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + FRONT_MATTER_FIRST_LINE if mark else 1
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        problems.append(Problem(shown, line, "", f"invalid YAML: {what}", skipped=True))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(shown, 1, "", f"invalid YAML: {exc}", skipped=True))
        return None
    if not isinstance(data, dict):
        kind = "nothing" if data is None else type(data).__name__
        problems.append(Problem(shown, 2, "", f"front matter must be a mapping of fields, got {kind}", skipped=True))
        return None
    return data, body


def read_tsv(path: Path, kind: str, problems: list[Problem]) -> TsvTable:
    """A sidecar TSV (tab-separated, no quoting). Missing columns are reported and the file ignored."""
    shown = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(shown, 0, kind, f"cannot read: {exc.strerror}"))
        return EMPTY_TABLE
    text = _decode(raw, shown, problems)
    if text is None:
        return EMPTY_TABLE
    lines = text.split("\n")
    if not lines[0]:
        problems.append(Problem(shown, 1, kind, "empty table: no header line"))
        return EMPTY_TABLE
    header = tuple(sys.intern(h.strip()) for h in lines[0].split("\t"))
    layouts = TSV_COLUMNS[kind]
    if not any(all(c in header for c in layout) for layout in layouts):
        missing = [c for c in layouts[0] if c not in header]
        problems.append(Problem(shown, 1, kind, f"missing column(s): {', '.join(missing)}"))
        return EMPTY_TABLE
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line or line.isspace():  # a row of blanks is skipped whatever its width
            continue
        cells = line.count("\t") + 1
        if cells == len(header):
            rows.append((number, line))
        else:
            problems.append(Problem(shown, number, kind, f"expected {len(header)} columns, got {cells}; row ignored"))
    return TsvTable(header, tuple(rows))


EMPTY_TABLE = TsvTable((), ())


@dataclass
class SourceFiles:
    records: list[str]  # paths, as text (a Path per record costs the walk more than its stat), in Path order
    tables: dict  # file name → its path (text: a Path per table costs the walk more than its stat)
    organisms: list[Path]
    refused: list[Path] = field(default_factory=list)  # links that lead outside the source folder


def leads_outside(path: Path, root: Path) -> bool:
    """Is `path` a symbolic link whose target lies outside `root` (already resolved)?"""
    if not path.is_symlink():
        return False
    try:
        return not path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return True


def refused_problems(files: SourceFiles) -> list[Problem]:
    return [Problem(display_path(p), 0, "", "a link to a file outside the source folder; not read", skipped=True)
            for p in files.refused]


# Past this many files, their identities are read by `jobs` processes (a stat each: at 100,000
# records, 216,000 files, 1.3 s of system calls and as much of Python around them).
STAT_SHARE = 20_000


def file_identity(path) -> tuple | None:
    """(device, inode, size, modification time) of a file, None when it is gone or unreadable."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _stat_share(entries: list, index: int, jobs: int) -> list:
    """The identities of a contiguous share of these directory entries (None for one that is gone)."""
    return [file_identity(entry) for entry in entries[index * len(entries) // jobs:(index + 1) * len(entries) // jobs]]


def find_source_files(source: Path, identities: dict | None = None, jobs: int = 1) -> SourceFiles:
    """Every record, sidecar table and organism file under `source`, in a stable order.

    Folders whose names start with `_` or `.` hold data, not records (as in Jekyll). A linked folder
    is not entered (as os.walk does); a linked file that leads outside the source is refused. Given
    `identities`, it also notes the identity (`file_identity`) of every file it passes, by path, in
    the walk's order (read by `jobs` processes when there are many): one walk tells a build what
    there is and what changed.
    """
    passed: list = []  # the directory entry of every file, for its identity
    records: list[str] = []
    tables: dict = {}
    refused: list[Path] = []
    root = source.resolve()
    suffixes = (".tsv", *RECORD_SUFFIXES)
    todo = [(source, False)]  # (folder, inside a data folder)
    while todo:
        here, inside_data = todo.pop()
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=_name)
        except OSError:
            continue
        folders = []
        for entry in entries:  # os.scandir: no system call per file for its kind or a link
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not name.startswith(".") and not entry.is_symlink():
                    folders.append((here / name, inside_data or (here == source and name.startswith("_"))))
                continue
            if identities is not None:
                passed.append(entry)
            if not name.endswith(suffixes):
                continue
            if entry.is_symlink() and leads_outside(here / name, root):
                refused.append(here / name)
            elif name.endswith(".tsv"):
                tables.setdefault(name, entry.path)
            elif not inside_data and not name.startswith("."):
                records.append(entry.path)
        todo += reversed(folders)  # depth first, A-Z, as os.walk went
    if identities is not None:
        shares = min(jobs, 1 + len(passed) // STAT_SHARE)
        found = itertools.chain.from_iterable(run_shares(_stat_share, passed, shares))
        identities.update((entry.path, identity) for entry, identity in zip(passed, found) if identity is not None)
    organism_dir = source / ORGANISM_FOLDER
    organisms = sorted(p for p in organism_dir.glob("*.md") if p not in refused) if organism_dir.is_dir() else []
    records.sort(key=_parts)  # (as Paths sort: by their parts)
    return SourceFiles(records, tables, organisms, sorted(set(refused)))


_name = operator.attrgetter("name")


def _parts(path: str) -> list[str]:
    return path.split(os.sep)


def find_tables(figid: str, tables: dict) -> dict:
    return {kind: Path(tables[f"{figid}-{kind}.tsv"]) for kind in MENTION_KINDS if f"{figid}-{kind}.tsv" in tables}


def load_record(path: Path, tables: dict, problems: list[Problem], raw: bytes | None = None) -> RawRecord | None:
    parsed = parse_front_matter(path, problems, raw)
    if parsed is None:
        return None
    data, body = parsed
    loaded = {}
    figid = data.get("figid")
    if isinstance(figid, str):
        for kind, table_path in find_tables(figid, tables).items():
            loaded[kind] = (display_path(table_path), read_tsv(table_path, kind, problems))
    return RawRecord(data, display_path(path), body, loaded)


def load_organism_records(files: SourceFiles, problems: list[Problem]) -> list[RawRecord]:
    organisms = []
    for path in files.organisms:
        parsed = parse_front_matter(path, problems)
        if parsed:
            organisms.append(RawRecord(parsed[0], display_path(path), parsed[1]))
    return organisms


def find_field_line(src_path: str, field_path: tuple) -> int:
    """The file line of a field (`("genes", 4, "entrez")`) in a record, for error messages.

    Re-reads and composes the file only when a problem needs a line, so the fast path keeps no text.
    """
    try:
        text = Path(src_path).read_bytes().decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
        front = text.split("\n---", 1)[0].removeprefix("---\n")
        node = yaml.compose(front, Loader=fastyaml.Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return 0
    line = node.start_mark.line if node is not None else -FRONT_MATTER_FIRST_LINE
    for step in field_path:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step]
            if not found:
                break
            key, node = found[-1]
            line = key.start_mark.line
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line
        else:
            break
    return line + FRONT_MATTER_FIRST_LINE
