"""Search over the whole catalogue on a static host.

Two parts, both built with the site:
- a Pagefind index of every figure (title, caption, names and IDs; organism and year filters). Pagefind
  reads a lean document per figure written for it (`search_document`), at the relative path of the
  figure's page so that results link the page, instead of the full pages: at 10,000 figures it took
  25.3 s and 1.9 GB on the pages, 6.1 s and 0.48 GB on such documents, and results show the title and
  caption rather than table cells. Past `group_limit` figures the figures are indexed in groups (by a
  hash of the figid), each its own bundle under `/pagefind/<group>/`, which the search page merges at
  query time: an edit re-indexes the one bundle its figure falls in, and no Pagefind process holds the
  whole catalogue.
- a name lookup, `/search/names/<nn>/<bbbb>.json`: every gene, chemical, disease and organism name,
  OCR word, figure ID, alias, PMCID and DOI, normalised, so that a query naming one of them offers its
  own page first. The bucket is a hash of the normalised name, so a query fetches one small file.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import struct
import sys
import threading
import unicodedata
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
from markupsafe import escape

from site_gen import links
from site_gen.errors import SiteError
from site_gen.index import ENTITY_SECTIONS, Site, figure_url
from site_gen.model import Figure, read_for_a_moment
from site_gen.system import return_free_memory
from site_gen.write import write_new

log = logging.getLogger(__name__)

# Most figures in one Pagefind bundle. Small enough that an edit re-indexes a few thousand figures
# (at 100,000 figures: 32 bundles of ~3,100; one takes Pagefind ~2 s and ~0.3 GB), large enough that
# a query's requests stay few: each bundle merged adds its metadata (~10 bytes a figure, the same in
# all) and one index chunk (~25 kB) per word searched.
GROUP_FIGURES = 4_000
PAGEFIND_FOLDER = "pagefind"
NAMES_FOLDER = "search/names"


_NOT_ALNUM = re.compile(r"[\W_]+")  # \w is str.isalnum() plus "_"


def name_key(text: str) -> str:
    """Lower case, accents and punctuation dropped: `NF-κB` → `nfκb`, `PMC7988944` → `pmc7988944`."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", text).lower())


NAME_BUCKETS = 1024


def bucket_of(key: str) -> int:
    """The lookup file of a normalised name: FNV-1a of its UTF-8 bytes (the JavaScript computes the
    same). A hash, not a prefix: IDs share prefixes (every figure ID starts with `pmc`)."""
    h = 0x811C9DC5
    for byte in key.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h % NAME_BUCKETS


def names_path(bucket: int) -> str:
    """`search/names/07/0231.json`: 32 folders of 32 files."""
    return f"{NAMES_FOLDER}/{bucket // 32:02d}/{bucket:04d}.json"


def _hit_order(hit: tuple[str, str, str]) -> tuple:
    label, url, kind = hit
    return kind != "figure", label, url


def _entity_target(entity) -> tuple[tuple, list[str]]:
    """(label, URL, kind) of an entity's page in the name lookup, and the names that lead to it."""
    count = len(entity.figids)
    names = [entity.name, entity.key, *entity.words]
    if entity.kind == "organism" and entity.info and entity.info.common:
        names.append(entity.info.common)
    noun = ENTITY_SECTIONS[entity.kind][2]
    return (f"{entity.name} ({noun}, {count} figure{'s' if count != 1 else ''})", entity.url, entity.kind), names


def _figure_target(fig: Figure) -> tuple[tuple, list[str]]:
    return ((f"{fig.title} (figure {fig.figid})", figure_url(fig.figid), "figure"),
            [fig.figid, fig.pmcid, fig.doi, *(a.rsplit("/", 1)[-1] for a in fig.aliases)])


def _keys(names) -> set[str]:
    return {key for key in {name_key(name) for name in names if name} if len(key) >= 2}


MOST_HITS = 50  # targets a name lists at most


def _bucket_text(data: dict) -> str:
    # JSON that cannot break out of anything it is embedded in
    return orjson.dumps(data).decode().replace("<", "\\u003c") + "\n"


def render_name_index(site: Site) -> dict[str, str]:
    """Lookup files: out_path → JSON {normalised name: [[label, url, kind], ...]}.

    Made to be small at catalogue scale (a million names): each page it points to is one
    (label, URL, kind) target, and a name holds the number of its target, or a list of them.
    """
    targets: list[tuple[str, str, str]] = []
    buckets: list[dict] = [{} for _ in range(NAME_BUCKETS)]  # normalised name → target number(s)

    def add(target_names) -> None:
        target, names = target_names
        number = len(targets)
        targets.append(target)
        for key in _keys(names):  # each target once per name
            table = buckets[bucket_of(key)]
            hit = table.get(key)
            if hit is None:
                table[key] = number
            elif type(hit) is int:
                table[key] = [hit, number]
            else:
                hit.append(number)

    for kind in ENTITY_SECTIONS:
        for entity in site.entities(kind).values():
            add(_entity_target(entity))
    for fig in site.figures.values():
        add(_figure_target(fig))
    out = {}
    for bucket, table in enumerate(buckets):  # every bucket, even empty, so a lookup never 404s
        data = {}
        for key in sorted(table):
            hit = table[key]
            data[key] = [targets[hit]] if type(hit) is int else sorted((targets[i] for i in hit), key=_hit_order)[:MOST_HITS]
        out[names_path(bucket)] = _bucket_text(data)
    return out


def update_name_index(site: Site, edit, read) -> dict[str, str] | None:
    """The lookup files an edit (`reuse.Edit`) changes, patched from their last version (`read(out_path)`
    gives its text): the targets of the entities and figures it touched taken out as they were and put
    in as they are. None when a name's list it changes may have been cut at MOST_HITS (what was cut is
    not in the file): then the whole lookup is made again."""
    gone: dict[int, dict[str, list]] = {}
    came: dict[int, dict[str, list]] = {}

    def note(into: dict, target_names) -> None:
        target, names = target_names
        for key in _keys(names):
            into.setdefault(bucket_of(key), {}).setdefault(key, []).append(list(target))

    for kind, entities in edit.before.items():
        for key, old in entities.items():
            if old is not None:
                note(gone, _entity_target(old))
            if (new := site.entity_tables[kind].get(key)) is not None:
                note(came, _entity_target(new))
    for figid in edit.figids:
        if (old := edit.was.figures.get(figid)) is not None:
            note(gone, _figure_target(old))
        if (new := site.figures.get(figid)) is not None:
            note(came, _figure_target(new))
    out = {}
    for bucket in sorted(gone.keys() | came.keys()):
        path = names_path(bucket)
        data = orjson.loads(read(path))
        for key in gone.get(bucket, {}).keys() | came.get(bucket, {}).keys():
            hits = data.get(key, [])
            if len(hits) >= MOST_HITS:
                return None
            for hit in gone.get(bucket, {}).get(key, []):
                if hit in hits:
                    hits.remove(hit)
            hits += came.get(bucket, {}).get(key, [])
            if hits:
                data[key] = sorted(hits, key=_hit_order)[:MOST_HITS]
            else:
                data.pop(key, None)
        text = _bucket_text(dict(sorted(data.items())))
        out[path] = text
    return out


def group_limit(site: Site) -> int:
    """Most figures in one Pagefind bundle: its fragment folder holds a file per figure, and every
    folder of the site counts against the host's folder limit."""
    limit = GROUP_FIGURES
    if site.settings.host == "netlify":
        limit = min(limit, max(1, site.settings.folder_limit - 10))  # (Pagefind's own few files beside)
    return limit


def _group_index(figid: str, count: int) -> int:
    return zlib.crc32(figid.encode("utf-8")) * count >> 32


def pagefind_groups(site: Site) -> list[str]:
    """The names of the Pagefind bundles that index the figures: as few as keep each under
    `group_limit` figures (every bundle a query merges costs its own metadata and filter files). A
    figure's bundle is a hash of its figid (`group_of`), so an edit re-indexes one bundle."""
    if not site.figures:
        return []
    limit = group_limit(site)
    if len(site.figures) <= limit:
        return ["all"]
    count = -(-len(site.figures) * 5 // (limit * 4))  # 25% spare: a hash is uneven
    while True:
        sizes = [0] * count
        for figid in site.figures:
            sizes[_group_index(figid, count)] += 1
        if max(sizes) <= limit:
            return [_group_name(n, count) for n in range(count) if sizes[n]]
        count += 1


def _group_name(index: int, count: int) -> str:
    return f"{index + 1:02d}-of-{count:02d}"


def group_of(figid: str, groups: list[str]) -> str:
    """The bundle that indexes a figure's page."""
    return _grouper(groups)(figid)


def _grouper(groups: list[str]):
    """figid → its bundle's name, for bundles named by `pagefind_groups`."""
    if groups == ["all"]:
        return lambda figid: "all"
    count = int(groups[0].rsplit("-of-", 1)[1])
    return lambda figid: _group_name(_group_index(figid, count), count)


def _words(values) -> str:
    """Distinct texts, in order, as one escaped paragraph."""
    return " ".join(escape(v) for v in dict.fromkeys(v for v in values if v))


def search_document(site: Site, fig: Figure) -> str:
    """What Pagefind indexes of a figure: its title (weighted, and the result's title), caption, paper,
    curator note, then its organisms, the names of what it mentions, its keywords and IDs; its organisms and year as filters (the year
    also to sort by), its image as meta. Made from the figure and the settings alone."""
    title = escape(fig.title)
    out = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>', title,
           '</title></head>\n<body data-pagefind-body>\n<h1 data-pagefind-weight="5">', title, "</h1>\n"]
    for text in (fig.caption, fig.papertitle, fig.body):
        if text:
            out += ["<p>", escape(text), "</p>\n"]
    out.append(f"<p>{_words(fig.all_organisms)}</p>\n")
    # names, not every OCR spelling (the name lookup knows those): at 10,000 figures the genes' OCR
    # words beside their symbols cost Pagefind 3.5 s and 190 MB more, the symbols 5 s and 700 MB
    out.append(f"<p>{_words(m.symbol or m.word for m in fig.genes)}</p>\n")
    out.append(f"<p>{_words(m.name or m.word for m in (*fig.chemicals, *fig.diseases))}</p>\n")
    out.append(f"<p>{_words(fig.keywords or fig.mention_keywords)}</p>\n")
    aliases = (a.rsplit("/", 1)[-1] for a in fig.aliases)
    out.append(f"<p>{_words((fig.figid, fig.pmcid, fig.doi, *aliases))}</p>\n")
    if fig.year:
        out.append(f'<span data-pagefind-filter="year:{fig.year}" data-pagefind-sort="year:{fig.year}"></span>\n')
    out += [f'<span data-pagefind-filter="organism:{escape(o)}"></span>\n' for o in fig.all_organisms]
    image = links.figure_image(fig, site.settings.image_url_pattern)
    if image:
        out.append(f'<span data-pagefind-meta="image:{escape(image)}"></span>'
                   f'<span data-pagefind-meta="image_alt:{title}"></span>\n')
    out.append("</body></html>\n")
    return "".join(out)


def write_search_documents(site: Site, folder: Path, groups: list[str], names) -> None:
    """The search documents of the figures in the bundles `names`, each bundle's in its own folder at
    the public path of the figure's page (`<folder>/<bundle>/figures/<figid>.html`), so that a result
    links the page."""
    wanted = set(names)
    documents = SearchDocuments(folder, groups, wanted)
    for fig in list(site.figures.values()):  # a list: the preview's edits may replace the dict meanwhile
        if documents.group_of(fig.figid) in wanted:
            # (the model goes on, while Pagefind runs and after, with the memory of the index alone: a
            # preview's would otherwise keep every figure of each bundle an edit made again)
            with read_for_a_moment((fig,)):
                documents.write(site, fig)
    return_free_memory()


class SearchDocuments:
    """Where the search documents of the bundles `names` (of the bundles `groups`) are written: a folder
    per bundle, each document at the public path of its figure's page."""

    def __init__(self, folder: Path, groups: list[str], names):
        self.folder = folder
        self.group_of = _grouper(groups)
        for name in names:
            (folder / name / "figures").mkdir(parents=True, exist_ok=True)

    def write(self, site: Site, fig: Figure) -> None:
        path = os.path.join(self.folder, self.group_of(fig.figid), figure_url(fig.figid).lstrip("/"))
        write_new(path, search_document(site, fig).encode("utf-8"))


def documents_folder(site_dir: Path, into: Path | None = None) -> Path:
    """The folder this thread writes search documents into, beside the bundles' folder (`into`, by
    default the site's `pagefind/`), empty; those a killed process left there are removed."""
    into = (into or site_dir / PAGEFIND_FOLDER).absolute()
    prefix = f".{into.name}.documents-"
    _remove_orphans(into.parent, prefix)
    docs = into.parent / f"{prefix}{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(docs, ignore_errors=True)
    return docs


# --- Pagefind's output, made byte-identical from run to run ----------------------------------------
# Pagefind (1.5) writes the values of each filter, and the lists of filters and sorts of its metadata,
# in the order of a Rust hash map, which changes from process to process; the names of those files
# are hashes of their bytes, and the entry file names the metadata's. Pagefind's reader puts all three
# in sorted maps, so sorting them (as a later Pagefind release does) changes nothing it finds.
# Each file is gzip("pagefind_dcd" + CBOR); its name is `<language>_` and the start of the SHA-1 of
# the CBOR, in hex without zero padding.

PF_SIGNATURE = b"pagefind_dcd"
_GZIP_HEADER = bytes.fromhex("1f8b08000000000002ff")  # no name, mtime 0, best compression, OS unknown


def read_pf(path: Path):
    """A Pagefind data file's content (CBOR, decoded)."""
    import cbor2

    data = gzip.decompress(path.read_bytes())
    if not data.startswith(PF_SIGNATURE):
        raise SiteError(f"{path}: not a Pagefind data file")
    return cbor2.loads(data[len(PF_SIGNATURE):])


def _pf_bytes(payload: bytes) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = PF_SIGNATURE + payload
    body = deflate.compress(raw) + deflate.flush()
    return _GZIP_HEADER + body + struct.pack("<II", zlib.crc32(raw), len(raw) & 0xFFFFFFFF)


def _pf_hash(payload: bytes) -> str:
    return "".join(f"{byte:x}" for byte in hashlib.sha1(payload).digest())


def _write_pf(folder: Path, suffix: str, prefix: str, length: int, value, taken: set[str]) -> str:
    """Write `value` as the Pagefind file named after it (the name grown by two on a clash, as Pagefind
    does); its name, without the suffix."""
    import cbor2

    payload = cbor2.dumps(value)
    digest = _pf_hash(payload)
    while (name := f"{prefix}{digest[:length]}") in taken:
        length += 2
    taken.add(name)
    (folder / f"{name}{suffix}").write_bytes(_pf_bytes(payload))
    return name


def canonical_bundle(bundle: Path) -> None:
    """Make a Pagefind bundle's bytes and names depend only on what it indexes."""
    entry_path = bundle / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    for language, info in sorted(entry["languages"].items()):
        meta_path = bundle / f"pagefind.{info['hash']}.pf_meta"
        meta = read_pf(meta_path)  # [version, pages, index chunks, filters, sorts, meta fields]
        contents = []
        for name, file_hash in sorted(meta[3]):
            path = bundle / "filter" / f"{file_hash}.pf_filter"
            content = read_pf(path)  # [name, [[value, [pages]], ...]]
            content[1].sort(key=lambda item: item[0])
            contents.append((name, content))
            path.unlink()
        meta_path.unlink()
        taken: set[str] = set()
        meta[3] = [[name, _write_pf(bundle / "filter", ".pf_filter", f"{language}_", 7, content, taken)]
                   for name, content in contents]
        meta[4] = sorted(meta[4], key=lambda item: item[0])
        name = _write_pf(bundle, ".pf_meta", f"pagefind.{language}_", len(language) + 8, meta, set())
        info["hash"] = name.removeprefix("pagefind.")
    entry["languages"] = dict(sorted(entry["languages"].items()))
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


# What Pagefind writes beside an index for its own search interfaces, which the site does not use
UNUSED_FILES = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
                "pagefind-component-ui.js", "pagefind-component-ui.css", "pagefind-highlight.js")


def _link_tree(source: Path, target: Path) -> None:
    for here, _dirs, files in os.walk(source):
        folder = target / Path(here).relative_to(source)
        folder.mkdir(parents=True, exist_ok=True)
        for name in files:
            os.link(os.path.join(here, name), folder / name)


def _remove_orphans(folder: Path, prefix: str) -> None:
    """The search documents a process killed while it indexed left in `folder` (named `<prefix><pid>-…`:
    the preview's beside the output, where no build's clean-up reaches), removed."""
    for path in folder.glob(f"{prefix}*"):
        pid = path.name[len(prefix):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass  # (alive, another user's)


def run_pagefind(site_dir: Path, site: Site, jobs: int, previous: Path | None = None,
                 changed: set[str] | None = None, into: Path | None = None,
                 keep: bool = False, documents: Path | None = None) -> tuple[list[str], list[str]]:
    """Index the figures of a site (their search documents); the names of the bundles, and of those made.

    Result URLs are the figure pages' public URLs. Given the `previous` site and the figids whose pages `changed` since (the others'
    pages being the same), a bundle none of them falls in is linked from there instead of made again
    (or, with `keep`, left where it is: an update in place of `previous`). The bundles go to `into`, by
    default the site's own `pagefind/` folder; the documents are written beside it (`documents_folder`),
    and removed. `documents`: that folder, where every figure's document was written already (by the
    render workers of a build that renders every figure, `SearchDocuments`).
    """
    into = (into or site_dir / PAGEFIND_FOLDER).absolute()
    groups = pagefind_groups(site)
    todo = set(groups)
    if previous is not None and changed is not None and documents is None:
        try:
            before = json.loads((previous / PAGEFIND_FOLDER / "indexes.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            before = None
        if before == sorted(groups):
            dirty = {group_of(figid, groups) for figid in changed}
            for name in sorted(set(groups) - dirty):
                if not keep:
                    _link_tree(previous / PAGEFIND_FOLDER / name, into / name)
                todo.discard(name)
            log.debug("search index: %d of %d bundles made again", len(todo), len(groups))
    docs = documents if documents is not None else documents_folder(site_dir, into)

    def index(name: str) -> None:
        cmd = [sys.executable, "-m", "pagefind", "--site", str(docs / name), "--glob", "figures/*.html",
               "--output-path", str(into / name), "--silent"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SiteError(f"search index {name}: pagefind failed: {(done.stderr or done.stdout).strip()[-500:]}")
        canonical_bundle(into / name)
        for file in UNUSED_FILES:  # (the search page is the site's own: ~0.5 MB a bundle)
            (into / name / file).unlink(missing_ok=True)

    try:
        if documents is None:
            write_search_documents(site, docs, groups, todo)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(index, sorted(todo)))
    finally:
        shutil.rmtree(docs, ignore_errors=True)
    names = sorted(groups)
    into.mkdir(exist_ok=True)
    (into / "indexes.json").write_text(json.dumps(names) + "\n", encoding="utf-8")
    return names, sorted(todo)
