"""The stages of a build: gather and check everything first, then render and write. The engine
(`engine.Engine`) runs them, for `site-gen build` and the preview alike."""
from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import logging
import os
import pickle
import shutil
import time
from array import array
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from site_gen import __version__
from site_gen.api import render_api
from site_gen.errors import Problem, SiteError
from site_gen.hosts import HOST_FILES, host_files
from site_gen.index import Site, build_site, set_prose, figure_downloads, update_site
from site_gen.cache import (PENDING_LIMIT, code_digest, Entry, Known, ModelStore, ParseStats, cache_folder,
                            parse_entry, prefetch, still_valid)
from site_gen.load import SourceFiles, find_source_files, load_organism_records, refused_problems
from site_gen.model import Figure, build_organism_infos, read_for_a_moment, release_pools
from site_gen.parallel import run_shares
from site_gen.progress import Counts, bar
from site_gen.prose import load_prose
from site_gen.reuse import Edit, Fresh, apply_edit, same_page_urls
from site_gen.render import (LATE_PAGES, REFERENCE_STUBS, Renderer, describe_downloads, make_environment,
                             per_figure_files, render_feed, render_figure_data, render_robots,
                             render_sitemaps, SITEMAP_INDEX, SITEMAPS_FOLDER)
from site_gen.search import NAME_BUCKETS, SearchDocuments, names_path, render_name_index, update_name_index
from site_gen.settings import Settings
from site_gen.system import return_free_memory
from site_gen.write import SiteUpdater, SiteWriter, replace_file

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    site: Site | None  # None when the output was already up to date
    problems: list[Problem]
    timings: dict = field(default_factory=dict)
    written: int = 0
    unchanged: int = 0
    ok: bool = True
    up_to_date: bool = False
    parsed: int = 0  # records read and parsed
    reused: int = 0  # records taken from the model store
    rendered: int = 0  # pages, redirect stubs and figures' data files rendered (the rest were linked)
    removed: int = 0  # files an update in place removed
    fresh: Fresh | None = None  # what an update from the preview's paths planned
    later: dict = field(default_factory=dict)  # out path → Page of what it planned and left for later (`show`)


def _tree_state(folder: Path) -> list:
    """(path, size, mtime) of every file below a folder: what tells a rebuild whether anything changed.
    (os.scandir, and paths joined as text: at 400,000 files, os.walk with relpath took twice as long.)"""
    state: list = []
    if folder.is_dir():
        _scan_state(str(folder), "", state)
    return state


def _scan_state(folder: str, prefix: str, state: list) -> None:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):  # as os.walk: a linked folder is not entered
                _scan_state(entry.path, f"{prefix}{entry.name}/", state)
                continue
            st = entry.stat()
        except OSError:
            continue
        state.append((prefix + entry.name, st.st_size, st.st_mtime_ns))


def input_fingerprint(settings: Settings, root: Path, identities: dict) -> str:
    """A digest of everything a build reads: the generator, its settings, templates, assets, and the
    source's files, whose `identities` its walk found (`load.find_source_files`)."""
    digest = hashlib.sha256(f"{__version__}|{settings!r}|{build_date()}".encode() + code_digest())
    for name in ("templates", "static"):
        digest.update(repr((name, _tree_state(settings.resolve(root, name)))).encode())
    # (in the walk's order, which is the same for the same files: sorted by name, folder by folder)
    digest.update("".join([f"{path}\0{size}\0{mtime}\n" for path, (_dev, _ino, size, mtime) in identities.items()]).encode())
    return digest.hexdigest()


def _state_path(output: Path) -> Path:
    return output.parent / f".{output.name}.state"


def _output_identity(output: Path) -> tuple:
    st = output.stat()
    return st.st_ino, st.st_mtime_ns


def up_to_date(settings: Settings, root: Path, fingerprint: str) -> list[Problem] | None:
    """The problems of the last build when its inputs and output are exactly as it left them, else None."""
    output = settings.resolve(root, "output")
    try:
        state = pickle.loads(_state_path(output).read_bytes())
        if state["fingerprint"] == fingerprint and state["output"] == _output_identity(output):
            return state["problems"]
    except (OSError, pickle.PickleError, EOFError, KeyError, TypeError, AttributeError, ImportError):
        pass
    return None


def _save_state(output: Path, fingerprint: str, problems: list[Problem]) -> None:
    path = _state_path(output)
    replace_file(path, pickle.dumps({"fingerprint": fingerprint, "output": _output_identity(output),
                                     "problems": problems}))


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector: a build makes millions of objects and no garbage cycles,
    and the collector's passes over them cost a quarter of the parse and index time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def log_time(timings: dict, stage: str):
    start = time.perf_counter()
    yield
    timings[stage] = time.perf_counter() - start
    log.debug("%-8s %.3f s", stage, timings[stage])


def build_date() -> str:
    """Today (UTC), or the day of SOURCE_DATE_EPOCH when it is set, for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            moment = datetime.fromtimestamp(int(epoch), tz=timezone.utc)
        except (ValueError, OverflowError, OSError) as exc:
            raise SiteError(f"SOURCE_DATE_EPOCH: expected seconds since 1970, got {epoch!r}") from exc
    else:
        moment = datetime.now(tz=timezone.utc)
    return moment.strftime("%Y-%m-%d")


def fingerprint_assets(static: Path) -> dict[str, tuple[Path, str]]:
    """static file name → (source, public URL with a content hash), so assets can be cached forever."""
    assets = {}
    if not static.is_dir():
        return assets
    for path in sorted(p for p in static.rglob("*") if p.is_file()):
        name = path.relative_to(static).as_posix()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        stem, dot, suffix = name.rpartition(".")
        hashed = f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"
        assets[name] = (path, f"/assets/{hashed}")
    return assets


@dataclass
class Gathered:
    site: Site
    problems: list[Problem]
    timings: dict
    stats: ParseStats
    organism_files: list[Path]
    edit: Edit | None = None  # this build's changes to the saved index; None when it was made afresh
    remade: bool = True  # the index was made afresh (no saved one, or too much changed)
    generation: int | None = None  # of the store before this build saved to it (what the last output shows)
    saved: int | None = None  # of the store after
    tables: dict = field(default_factory=dict)  # sidecar table file name → path


@dataclass
class _ParseWork:
    store: ModelStore
    todo: list[Path]  # the records to read
    known: dict[str, Known]  # what the store holds of them
    tables: dict
    counts: Counts  # records done, for the progress bar


def _parse_share(work: _ParseWork, index: int, jobs: int) -> tuple[dict[str, Entry], dict[str, Entry]]:
    """(records parsed, records whose bytes had not changed: their stored entries), by path."""
    parsed: dict[str, Entry] = {}
    same: dict[str, Entry] = {}
    share = work.todo[index::jobs]
    fresh = []
    for path in share:
        known = work.known.get(str(path))
        entry = work.store.revalidate(str(path), known, work.tables) if known is not None else None
        if entry is not None:
            same[str(path)] = entry
        else:
            fresh.append(path)
    prefetch(fresh, work.tables)
    for done, path in enumerate(fresh, 1):
        entry = parse_entry(path, work.tables)
        # a worker sends the figure as the store keeps it (pickled once, for both)
        parsed[str(path)] = entry if index == 0 else entry._replace(figure=None)
        if not done % 64:
            work.counts.add(index, 64)
    work.counts.add(index, len(share) - len(fresh) + len(fresh) % 64)
    return parsed, same


def index_key(settings: Settings, date: str, organism_files: list[Path]) -> str:
    """A digest of what the index depends on besides the records: settings, build date, organism files."""
    digest = hashlib.blake2b(f"{settings!r}|{date}".encode(), digest_size=16)
    for path in organism_files:
        digest.update(f"\0{path}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# Past this share of the records changed by a build, the index is made afresh rather than updated.
UPDATE_SHARE = 0.25


def _updated_site(site: Site, store: ModelStore, known: dict[str, Known], pending: dict[str, Figure | None],
                  parsed: dict[str, Entry], gone: list[str]) -> Edit | None:
    """Apply to the saved index first the records changed by earlier builds since it was saved
    (`pending`: what their output already shows), then this build's, which is the edit returned. None
    when a figid held by two records is involved, which only a fresh index decides as a cold build would."""
    if any("duplicate figid" in p.message for p in site.index_problems):
        return None
    if pending:  # the store still holds each of these records as the last build left it
        removed = [fig for fig in pending.values() if fig is not None]
        added = list(store.figures(pending).values())
        if not _fits(site, removed, added):
            return None
        update_site(site, removed, added, [])
    by_src = {fig.src_path: fig for fig in site.figures.values()}
    removed = []
    for path in sorted(set(parsed) | set(gone)):
        old = known.get(path)
        if old is not None and (fig := by_src.get(old.src_path)) is not None:
            removed.append(fig)
    added = [e.figure for e in parsed.values() if e.figure is not None]
    if not _fits(site, removed, added):
        return None
    return apply_edit(site, removed, added, [])  # what it finds is in site.index_problems and redirect_problems


def _fits(site: Site, removed: list[Figure], added: list[Figure]) -> bool:
    """Can these figures replace those without two records holding one figid?"""
    leaving = {fig.figid for fig in removed}
    figids = [fig.figid for fig in added]
    return len(set(figids)) == len(figids) and not any(f in site.figures and f not in leaving for f in figids)


def scan_source(settings: Settings, root: Path, jobs: int = 1) -> tuple[SourceFiles, dict]:
    """The source's files, and the identity of each (one walk: see `find_source_files`)."""
    source = settings.resolve(root, "source")
    if not source.is_dir():
        raise SiteError(f"source folder {source} does not exist")
    identities: dict = {}
    return find_source_files(source, identities, jobs), identities


def gather(settings: Settings, root: Path, jobs: int = 1, use_cache: bool = True, progress: bool = False,
           scanned: tuple[SourceFiles, dict] | None = None) -> Gathered:
    """The first half: load, model and index every record. Nothing is written but the model store:
    the records that changed since the last build are read and applied to its index. `scanned`: what
    `scan_source` found, when the caller walked the source already."""
    timings: dict = {}
    source = settings.resolve(root, "source")
    if not source.is_dir():
        raise SiteError(f"source folder {source} does not exist")
    store = ModelStore(cache_folder(settings.resolve(root, "output")) if use_cache else None)
    try:
        if scanned is None:
            with log_time(timings, "scan"):
                scanned = scan_source(settings, root, jobs)
        files, identities = scanned
        gathered = _gather(settings, source, files, identities, store, timings, jobs, progress)
    finally:
        store.close()
    set_prose(gathered.site, load_prose(source, settings.resolve(root, "templates"), gathered.problems))
    return gathered


def _gather(settings: Settings, source: Path, files: SourceFiles, identities: dict, store: ModelStore, timings: dict,
            jobs: int, progress: bool) -> Gathered:
    with log_time(timings, "parse"):
        known = store.known()
        records = dict.fromkeys(files.records)
        todo = [Path(name) for name in records
                if (k := known.get(name)) is None or not still_valid(k, name, files.tables, identities)]
        gone = [name for name in known if name not in records]
        problems: list[Problem] = refused_problems(files)
        stats = ParseStats(reused=len(records) - len(todo))
        parsed: dict[str, Entry] = {}
        same: dict[str, Entry] = {}
        with bar(progress, "parse", len(todo), jobs) as counts:
            shares = min(jobs, max(1, len(todo) // 500))
            work = _ParseWork(store, todo, known, files.tables, counts)
            for share_parsed, share_same in run_shares(_parse_share, work, shares):
                for path, entry in share_parsed.items():
                    parsed[path] = entry if entry.data is None or entry.figure is not None else \
                        entry._replace(figure=pickle.loads(entry.data))
                same |= share_same
        stats.parsed, stats.reused = len(parsed), stats.reused + len(same)
        release_pools()
        for path, entries in store.problems().items():
            if path in records and path not in parsed and path not in same:
                problems += entries
        for entry in itertools.chain(parsed.values(), same.values()):
            problems += entry.problems
        organism_records = load_organism_records(files, problems)
        infos = build_organism_infos(organism_records, problems)
    log.debug("parsed %d records (%d more from the model store), %d organism files", stats.parsed, stats.reused,
              len(files.organisms))
    with log_time(timings, "index"):
        date = build_date()
        key = index_key(settings, date, files.organisms)
        site = edit = None
        generation = store.generation()
        pending = store.pending()
        changed = set(parsed) | set(gone) | set(pending)
        # (the records changed since the index was saved that the output already shows, `pending`, are
        # applied whatever their number: made afresh, the index would give no edit, and all be rendered)
        if len(set(parsed) | set(gone)) <= UPDATE_SHARE * len(records) and (site := store.load_site(key)) is not None:
            edit = _updated_site(site, store, known, pending, parsed, gone)
            site = site if edit is not None else None
        remade = site is None
        if remade:
            kept = [name for name in records if name not in parsed]
            figures = list(store.figures(kept).values()) + [e.figure for e in parsed.values() if e.figure]
            site = build_site(settings, date, figures, infos, problems)
            del figures
        else:
            problems += site.index_problems + site.redirect_problems
            log.debug("index updated with %d records changed since it was saved", len(changed))
    with log_time(timings, "store"):
        edited, entries = set(parsed) | set(gone), parsed | same
        del parsed, same  # (the store lets go of the entries' figures as it writes them)
        if remade or len(changed) > PENDING_LIMIT:
            if remade:  # its figures are kept light: once written, the parsed ones are freed
                store.lighten(site)
            saved = store.save(entries, gone, site, key)
        elif entries or gone:
            saved = store.save(entries, gone, changed=edited)
        else:  # nothing to save: the store keeps its generation, which the output's shape may name
            saved = generation
    return Gathered(site, problems, timings, stats, files.organisms, edit, remade, generation, saved, files.tables)


@dataclass
class _RenderWork:
    site: Site
    renderer: Renderer
    writer: SiteWriter
    fresh: Fresh | None  # what must be rendered; None: everything
    counts: Counts  # items done, for the progress bar
    in_place: bool = False  # the output is updated in place: what is not fresh stays as it is
    products: FigureProducts | None = None  # what else is made of each figure rendered


def render_items(site: Site, fresh: Fresh | None = None):
    """What a build renders, in a fixed order: (what, thing), ("page", Page) | ("redirect", Redirect)
    | ("data", Figure) | ("figure", Page): a figure's page and its data files, rendered together so
    that its heavy fields are read once. Made as it is walked: a list of them would sit in memory every
    worker copies. Given what is `fresh` when no template changed, only that (what an update in place
    renders)."""
    if fresh is not None and not fresh.templates:
        for _out_path, page in sorted(fresh.pages.items()):
            if page.kind not in LATE_PAGES:
                yield "page", page
        for redirect in site.redirects:
            if (redirect.from_url, redirect.to_url) in fresh.redirects:
                yield "redirect", redirect
        for figid in sorted(fresh.figures):
            if figid in site.figures:
                yield "data", site.figures[figid]
        return
    for page in site.iter_pages():
        if page.kind == "figure":
            yield "figure", page
        elif page.kind not in LATE_PAGES:  # rendered after the files they describe (write_site)
            yield "page", page
    for redirect in site.redirects:
        yield "redirect", redirect


def _parts(site: Site, what: str, thing) -> tuple[Figure | None, tuple]:
    """The figure of an item of `render_items` (None but for a figure's), and the items it is made
    of: a figure's, its page and its data files."""
    if what == "figure":
        fig = site.figures[thing.key]
        return fig, (("page", thing), ("data", fig))
    return None, ((what, thing),)


def _out_paths(site: Site, what: str, thing) -> list[str]:
    """The output paths of an item of `render_items` (not a figure's: of each of its `_parts`)."""
    if what == "data":
        return [site.out_path(url) for _label, url in figure_downloads(thing)]
    return [site.out_path(thing.url if what == "page" else thing.from_url)]


def _reused(what: str, thing, out_paths: list[str], fresh: Fresh | None, writer: SiteWriter) -> bool:
    """Was this item (whose output paths are `out_paths`) linked from the previous site as it was,
    instead of rendered?"""
    if fresh is None:
        return False
    if what == "page":
        return not fresh.page(thing, out_paths[0]) and writer.reuse(*out_paths)
    if what == "redirect":
        return (thing.from_url, thing.to_url) not in fresh.redirects and writer.reuse(*out_paths)
    return thing.figid not in fresh.figures and writer.reuse(*out_paths)


def _render_share(work: _RenderWork, index: int, jobs: int) -> tuple[int, int, int, object]:
    renderer, writer, site, products = work.renderer, work.writer, work.site, work.products
    writer.written = writer.unchanged = 0  # this share's own counts (render writes come first)
    rendered = 0
    current = "redirect.html"
    made = products.share(index) if products is not None else None
    try:
        items = render_items(site, work.fresh if work.in_place else None)
        for done, (kind, item) in enumerate(itertools.islice(items, index, None, jobs), 1):
            if not done % 512:
                work.counts.add(index, 512)
            fig, parts = _parts(site, kind, item)
            # a figure of the stored model (the heavy fields of none are held while pages render, see
            # `cache.ModelStore.lighten`) reads them from the store once, for all that is made of it
            with read_for_a_moment((fig,)) if fig is not None else contextlib.nullcontext():
                for what, thing in parts:
                    # (a figure's data files are named again as they are written: only a rebuild asks first)
                    out_paths = _out_paths(site, what, thing) if what != "data" or work.fresh is not None else []
                    if _reused(what, thing, out_paths, work.fresh, writer):
                        continue
                    rendered += 1
                    if what == "page":
                        current = thing.url
                        writer.put(out_paths[0], renderer.render_page(thing))
                    elif what == "redirect":
                        current = thing.from_url
                        writer.put(out_paths[0], renderer.render_redirect(thing))
                    else:
                        for url, text in render_figure_data(site, thing).items():
                            writer.put(site.out_path(url), text)
                if made is not None and fig is not None:
                    made.add(site, fig)
    except Exception as exc:  # noqa: BLE001 - reported with the template's line, or raised as it was
        raise renderer.failure(exc, current) from None
    finally:
        if made is not None:
            made.close()
    return writer.written, writer.unchanged, rendered, made.spans if made is not None else None


class FigureProducts:
    """What a build that renders every figure (`write_pages` without `fresh`) makes of each figure in
    the render worker that renders its page, while its heavy fields are read: its segment of each
    catalogue-wide file made of a segment per figure (`render.per_figure_files`), into a part file of
    that worker's, and, with `documents`, its search document (`search.SearchDocuments`). The parts
    are joined into those files by `write_per_figure_files`, in each file's order."""

    def __init__(self, site: Site, folder: Path, documents: SearchDocuments | None = None):
        self.files = per_figure_files(site)
        self.files_of: dict[str, list[int]] = {}  # figid → the files (their numbers) it has a segment in
        for n, file in enumerate(self.files):
            for figid in file.figids:
                self.files_of.setdefault(figid, []).append(n)
        self.folder = folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.documents = documents
        self.spans: list = []  # per share: its part file's (names, starts, lengths) of each file

    def share(self, index: int) -> _SharePart:
        return _SharePart(self, self.folder / f"{index}.part")

    def segments(self, site: Site, n: int):
        """(figid, segment) of file `n`, in its order, read from the parts (a figure no worker made its
        segment of is made here)."""
        file = self.files[n]
        where: dict[str, tuple[int, int, int]] = {}
        for share, spans in enumerate(self.spans):
            names, starts, lengths = spans[n]
            where.update(zip(names, zip(itertools.repeat(share), starts, lengths)))
        # each segment read where it lies, by itself: a file's segments are spread over the parts among
        # the other files' (a buffered reader would fill its buffer again for nearly every segment of a
        # file few figures have a segment in, as the gene sets of most organisms)
        parts: list[int] = []
        try:
            for share in range(len(self.spans)):
                parts.append(os.open(self.folder / f"{share}.part", os.O_RDONLY | os.O_CLOEXEC))
            for figid in file.figids:
                found = where.get(figid)
                if found is None:
                    yield figid, file.segment(site, site.figures[figid])
                    continue
                share, start, length = found
                data = os.pread(parts[share], length, start)
                if len(data) != length:  # (a part is whole when the parent reads it: only a fault cuts it)
                    raise OSError(f"{self.folder / f'{share}.part'}: {len(data)} bytes at {start}, not {length}")
                yield figid, data
        finally:
            for fd in parts:
                os.close(fd)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class _SharePart:
    """One render worker's part of `FigureProducts`: the segments it made, end to end, and where each is."""

    def __init__(self, products: FigureProducts, path: Path):
        self.products = products
        self.out = open(path, "wb", buffering=1 << 20)
        self.pos = 0
        self.spans = [([], array("q"), array("q")) for _ in products.files]

    def add(self, site: Site, fig: Figure) -> None:
        products = self.products
        for n in products.files_of.get(fig.figid, ()):
            text = products.files[n].segment(site, fig)
            data = text if type(text) is bytes else text.encode("utf-8")
            names, starts, lengths = self.spans[n]
            names.append(fig.figid)
            starts.append(self.pos)
            lengths.append(len(data))
            self.out.write(data)
            self.pos += len(data)
        if products.documents is not None:
            products.documents.write(site, fig)

    def close(self) -> None:
        self.out.close()


def make_renderer(site: Site, settings: Settings, root: Path) -> Renderer:
    """The renderer of a site: its templates, and the fingerprinted URLs of its assets."""
    assets = fingerprint_assets(settings.resolve(root, "static"))
    return Renderer(site, make_environment(settings.resolve(root, "templates")),
                    {name: url for name, (_src, url) in assets.items()}, source=settings.resolve(root, "source"),
                    asset_files={name: src for name, (src, _url) in assets.items()})


ITEMS_PER_JOB = 2000  # a render worker is forked for each this many items to render (beyond the first)


def write_pages(site: Site, renderer: Renderer, writer: SiteWriter, timings: dict, jobs: int = 1,
                fresh: Fresh | None = None, progress: bool = False, products: FigureProducts | None = None) -> int:
    """The pages, redirect stubs and figures' data files (with `fresh`, those it names); how many were
    rendered. The pages that describe the catalogue-wide files come with those (`write_catalogue`).
    `products` (given only without `fresh`: every figure rendered) are made of each figure too."""
    in_place = isinstance(writer, SiteUpdater)
    with log_time(timings, "plan"):
        if in_place and not fresh.templates:  # only what is fresh is walked, claimed and maybe written
            total = 0
            for what, thing in render_items(site, fresh):
                for out_path in _out_paths(site, what, thing):
                    writer.claim(out_path)
                total += 1
        else:
            total = len(site.redirects)  # items to render (a figure's page and data are one)
            where = site.out_path
            for page in site.iter_pages():
                if page.kind not in LATE_PAGES:
                    writer.claim(where(page.url))
                    total += 1
            for redirect in site.redirects:
                writer.claim(where(redirect.from_url))
            for fig in site.figures.values():
                for _label, url in figure_downloads(fig):
                    writer.claim(where(url))
    with log_time(timings, "render"):
        jobs = min(jobs, 1 + total // ITEMS_PER_JOB)
        with bar(progress, "render", total, jobs) as counts:
            work = _RenderWork(site, renderer, writer, fresh, counts, in_place, products)
            shares = run_shares(_render_share, work, jobs)
        writer.written = sum(written for written, _, _, _ in shares)
        writer.unchanged = sum(unchanged for _, unchanged, _, _ in shares)
        if work.products is not None:
            work.products.spans = [spans for _, _, _, spans in shares]
            # what this process rendered of every figure (the first share) is freed: returned to the
            # system before the catalogue-wide files are made (`write_catalogue` gives back what they
            # freed in turn, before Pagefind's processes run beside this one)
            return_free_memory()
    return sum(rendered for _, _, rendered, _ in shares)


def write_catalogue(site: Site, renderer: Renderer, writer: SiteWriter, fresh: Fresh | None = None,
                    names_afresh: bool = False, products: FigureProducts | None = None) -> None:
    """The catalogue-wide files (with `fresh`, a figure's segments copied from the output's files
    unless it is fresh; without, joined from the render workers' `products` if given), the host's
    files, the assets, and the pages that describe the downloads. The name lookup is patched from the
    edit `fresh` holds, unless `names_afresh`."""
    in_place = isinstance(writer, SiteUpdater)
    # In this process, one after the other, not beside a forked worker: these files walk the whole
    # model, and while two processes share memory, each page of it that either touches is copied
    # (at 100,000 figures this stage's peak was 4.0 GB with a worker, 1.9 GB without).
    late = [page for page in site.page_groups["fixed"] if page.kind in LATE_PAGES]
    for page in late:
        if (out_path := site.out_path(page.url)) not in writer.paths:
            writer.claim(out_path)
    write_per_figure_files(site, writer, fresh, products)
    write_name_index(site, writer, fresh if in_place and not names_afresh else None)
    for make in CATALOGUE_FILES:
        for out_path, text in make(site).items():
            writer.write(out_path, text)
    # the sitemaps (every page's URL) and the host's files (every alias): kept as they are by an edit
    # that changes neither the pages and their order nor the aliases
    keep_sitemaps = in_place and fresh is not None and same_page_urls(site, fresh)
    keep_host_files = in_place and fresh is not None and fresh.edit is not None \
        and site.redirects is fresh.edit.was.redirects
    for out_path in sorted(writer.before) if in_place else ():
        if keep_sitemaps and (out_path == SITEMAP_INDEX or out_path.startswith(SITEMAPS_FOLDER + "/")) \
                or keep_host_files and out_path in HOST_FILES:
            writer.claim(out_path, catalogue=True)
    if not keep_sitemaps:
        for out_path, text in render_sitemaps(site).items():
            writer.write(out_path, text)
    # the reference site's browse pages: made again only when their template may have changed
    for out_path in REFERENCE_STUBS:
        writer.claim(out_path, catalogue=True)
    if not in_place or "redirect.html" in fresh.templates:
        for out_path, text in renderer.render_reference_redirects().items():
            writer.put(out_path, text)
    if not keep_host_files:
        for out_path, text in host_files(site, renderer.base_path).items():
            writer.write(out_path, text)
    for name, url in renderer.assets.items():
        writer.write(url.lstrip("/"), renderer.asset_files[name].read_bytes())
    renderer.downloads = describe_downloads(site, writer.locate)
    current = ""
    try:
        for page in late:
            current = page.url
            writer.put(site.out_path(page.url), renderer.render_page(page))
    except Exception as exc:  # noqa: BLE001 - reported with the template's line, or raised as it was
        raise renderer.failure(exc, current) from None
    if fresh is None:  # (what every figure's files were made of: given back before Pagefind runs)
        return_free_memory()


def write_per_figure_files(site: Site, writer: SiteWriter, fresh: Fresh | None,
                           products: FigureProducts | None = None) -> None:
    """The catalogue-wide files made of a segment per figure; into `writer.layouts`, where each
    segment lies. A rebuild copies the segments of unchanged figures from the last build's files; a
    build that rendered every figure joins those its render workers made (`products`)."""
    if products is not None:
        for n, file in enumerate(products.files):
            writer.claim(file.out_path, catalogue=True)
            writer.layouts[file.out_path] = writer.put_segments(file.out_path, file.head, file.sep, file.tail,
                                                                products.segments(site, n))
        return
    for file in per_figure_files(site):
        writer.claim(file.out_path, catalogue=True)
        old = writer.previous_layout(file.out_path, fresh.layouts.get(file.out_path)) if fresh is not None else None
        layout = None
        if old is not None:  # the figures' segments but those of the figures changed as the last build's file has them
            figids = tuple(file.figids)
            if figids == old.names:
                members = figids if len(fresh.figures) < 64 else set(figids)
                fresh_parts = {figid: file.segment(site, site.figures[figid]) for figid in fresh.figures
                               if figid in members}
                layout = writer.patch_segments(file.out_path, file.head, file.sep, file.tail, figids, fresh_parts, old)
            if layout is None:
                spans = old.spans
                parts = ((figid, None) if figid in spans and figid not in fresh.figures
                         else (figid, file.segment(site, site.figures[figid])) for figid in figids)
                layout = writer.put_segments(file.out_path, file.head, file.sep, file.tail, parts, old)
        else:
            layout = writer.put_segments(file.out_path, file.head, file.sep, file.tail, file.segments(site))
        writer.layouts[file.out_path] = layout


def write_name_index(site: Site, writer: SiteWriter, fresh: Fresh | None) -> None:
    """The name lookup's files: when updating in place, only those the edit changes, patched from the
    output's (`search.update_name_index`); else, or when that cannot be done, all of them made afresh."""
    files = None
    if fresh is not None:
        if fresh.edit is None:
            files = {}  # no record changed: nor did the names
        else:
            try:
                files = update_name_index(site, fresh.edit, lambda out_path: Path(writer.locate(out_path)).read_bytes())
            except (OSError, ValueError) as exc:
                log.debug("name lookup made afresh: %s", exc)
    if files is None:
        files = render_name_index(site)
    for bucket in range(NAME_BUCKETS):  # every bucket is the site's, written or not
        writer.claim(names_path(bucket), catalogue=True)
    for out_path, text in files.items():
        writer.put(out_path, text)


# The other catalogue-wide files: output path → text.
CATALOGUE_FILES = (
    render_api,
    lambda site: {"robots.txt": render_robots(site)},
    render_feed,
)


def check_folders(settings: Settings, root: Path) -> None:
    """The source, templates and static folders exist, or a SiteError says which and what to do."""
    for name in ("source", "templates", "static"):
        folder = settings.resolve(root, name)
        if not folder.is_dir():
            raise SiteError(f"no {name} folder at {folder}; run in the site's folder or pass --{name}")


def _report(problems: list[Problem]) -> None:
    for problem in sorted(problems, key=lambda p: (p.src_path, p.line, p.field)):
        log.warning("%s", problem)


def build(settings: Settings, root: Path, strict: bool = False, jobs: int | None = None,
          force: bool = False, use_cache: bool = True, progress: bool = False) -> BuildResult:
    """`engine.build`: these stages, run by the engine (imported here, as the engine imports them)."""
    from site_gen.engine import build as run

    return run(settings, root, strict, jobs, force, use_cache, progress)
