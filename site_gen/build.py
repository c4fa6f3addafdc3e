"""The whole build: gather and check everything first, then render and write."""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import jinja2

from site_gen import __version__
from site_gen.errors import Problem, SiteError, summarize_problems
from site_gen.index import Site, build_site, out_path_for
from site_gen.load import SourceFiles, find_source_files, load_organism_records, load_record, refused_problems
from site_gen.model import Figure, build_figures, build_organism_infos
from site_gen.parallel import default_jobs, run_shares
from site_gen.render import (Renderer, figure_downloads, make_environment, render_catalogue_jsonl,
                             render_figure_data, render_redirects_file, render_robots, render_search_index,
                             render_gmt, render_sitemaps, template_error)
from site_gen.search import render_name_index, run_pagefind
from site_gen.settings import Settings
from site_gen.write import SiteWriter

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


def _tree_state(folder: Path) -> list:
    """(path, size, mtime) of every file below a folder: what tells a rebuild whether anything changed."""
    if not folder.is_dir():
        return []
    state = []
    for here, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(here, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            state.append((os.path.relpath(path, folder), st.st_size, st.st_mtime_ns))
    return state


def input_fingerprint(settings: Settings, root: Path) -> str:
    """A digest of everything a build reads: the generator, its settings, templates, assets, records."""
    digest = hashlib.sha256(f"{__version__}|{settings!r}|{build_date()}".encode())
    for name in ("templates", "static", "source"):
        digest.update(repr((name, _tree_state(settings.resolve(root, name)))).encode())
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
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(pickle.dumps({"fingerprint": fingerprint, "output": _output_identity(output),
                                  "problems": problems}))
    os.replace(tmp, path)


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


def _parse_share(files: SourceFiles, index: int, jobs: int) -> tuple[list[Figure], list[Problem]]:
    problems: list[Problem] = []
    records = [r for p in files.records[index::jobs] if (r := load_record(p, files.tables, problems))]
    return build_figures(records, problems), problems


def gather(settings: Settings, root: Path, jobs: int = 1) -> tuple[Site, list[Problem], dict]:
    """The first half: load, model and index every record. Nothing is written."""
    timings: dict = {}
    source = settings.resolve(root, "source")
    if not source.is_dir():
        raise SiteError(f"source folder {source} does not exist")
    with log_time(timings, "parse"):
        files = find_source_files(source)
        figures: list[Figure] = []
        problems: list[Problem] = refused_problems(files)
        for share_figures, share_problems in run_shares(_parse_share, files, min(jobs, max(1, len(files.records) // 500))):
            figures += share_figures
            problems += share_problems
        organism_records = load_organism_records(files, problems)
        infos = build_organism_infos(organism_records, problems)
    log.debug("parsed %d records, %d organism files", len(files.records), len(files.organisms))
    with log_time(timings, "index"):
        site = build_site(settings, build_date(), figures, infos, problems)
    return site, problems, timings


@dataclass
class _RenderWork:
    site: Site
    renderer: Renderer
    writer: SiteWriter
    items: list  # (what, thing): ("page", Page) | ("redirect", Redirect) | ("data", Figure)


def _render_share(work: _RenderWork, index: int, jobs: int) -> tuple[int, int]:
    renderer, writer = work.renderer, work.writer
    writer.written = writer.unchanged = 0  # this share's own counts (render writes come first)
    current = "redirect.html"
    try:
        for what, thing in work.items[index::jobs]:
            if what == "page":
                current = thing.url
                writer.put(thing.out_path, renderer.render_page(thing))
            elif what == "redirect":
                current = thing.from_url
                writer.put(thing.out_path, renderer.render_redirect(thing))
            else:
                for url, text in render_figure_data(work.site, thing).items():
                    writer.put(out_path_for(url), text)
    except (jinja2.TemplateError, KeyError) as exc:
        raise template_error(exc, current) from None
    return writer.written, writer.unchanged


def write_site(site: Site, settings: Settings, root: Path, writer: SiteWriter, timings: dict, jobs: int = 1) -> None:
    """The second half: render every output of a complete Site into `writer`."""
    assets = fingerprint_assets(settings.resolve(root, "static"))
    env = make_environment(settings.resolve(root, "templates"))
    renderer = Renderer(site, env, {name: url for name, (_src, url) in assets.items()})
    with log_time(timings, "plan"):
        items: list = [("page", page) for page in site.pages]
        items += [("redirect", redirect) for redirect in site.redirects]
        items += [("data", fig) for fig in site.figures.values()]
        for page in site.pages:
            writer.claim(page.out_path)
        for redirect in site.redirects:
            writer.claim(redirect.out_path)
        for fig in site.figures.values():
            for _label, url in figure_downloads(fig):
                writer.claim(out_path_for(url))
    with log_time(timings, "render"):
        shares = run_shares(_render_share, _RenderWork(site, renderer, writer, items), min(jobs, 1 + len(items) // 2000))
        writer.written = sum(written for written, _ in shares)
        writer.unchanged = sum(unchanged for _, unchanged in shares)
    with log_time(timings, "data"):
        writer.write("downloads/pfocr-figures.jsonl", render_catalogue_jsonl(site))
        writer.write("search.json", render_search_index(site))
        for out_path, text in render_name_index(site).items():
            writer.write(out_path, text)
        for out_path, text in render_gmt(site).items():
            writer.write(out_path, text)
        for out_path, text in render_sitemaps(site).items():
            writer.write(out_path, text)
        writer.write("robots.txt", render_robots(site))
        writer.write("_redirects", render_redirects_file(site, renderer.base_path))
        for _name, (src, url) in assets.items():
            writer.write(url.lstrip("/"), src.read_bytes())


def _report(problems: list[Problem]) -> None:
    for problem in sorted(problems, key=lambda p: (p.src_path, p.line, p.field)):
        log.warning("%s", problem)


def build(settings: Settings, root: Path, strict: bool = False, jobs: int | None = None,
          force: bool = False) -> BuildResult:
    """Build the site into the output folder; on any failure the previous site stays as it was.

    When nothing the build reads changed since the last build (and its output was not replaced),
    nothing is done, unless `force`.
    """
    start = time.perf_counter()
    jobs = jobs or default_jobs()
    fingerprint = input_fingerprint(settings, root)
    if not force and (problems := up_to_date(settings, root, fingerprint)) is not None and not (strict and problems):
        _report(problems)
        log.info("%s is up to date (nothing changed since the last build) in %.2f s", settings.output,
                 time.perf_counter() - start)
        if problems:
            log.warning("%s", summarize_problems(problems))
        return BuildResult(None, problems, {"total": time.perf_counter() - start}, up_to_date=True)
    site, problems, timings = gather(settings, root, jobs)
    _report(problems)
    result = BuildResult(site, problems, timings)
    if strict and problems:
        log.error("%s; --strict: nothing written", summarize_problems(problems))
        result.ok = False
        return result
    writer = SiteWriter(settings.resolve(root, "output"))
    try:
        write_site(site, settings, root, writer, timings, jobs)
        if settings.search_index == "pagefind":
            with log_time(timings, "search"):
                run_pagefind(writer.staging, site, jobs)
        with log_time(timings, "check"):
            entries, folder = writer.fullest_folder()
            if entries > settings.folder_limit:
                raise SiteError(f"output folder {folder}/ would hold {entries} entries, more than folder_limit "
                                f"({settings.folder_limit}); nothing written")
        with log_time(timings, "commit"):
            writer.commit()
    except BaseException:
        writer.abort()
        raise
    _save_state(settings.resolve(root, "output"), fingerprint, problems)
    result.written, result.unchanged = writer.written, writer.unchanged
    timings["total"] = time.perf_counter() - start
    log.info(
        "built %d figures, %d genes, %d chemicals, %d diseases, %d organisms, %d redirects into %s "
        "(%d files written, %d unchanged) in %.2f s",
        len(site.figures), len(site.genes), len(site.chemicals), len(site.diseases), len(site.organisms),
        len(site.redirects), settings.output, writer.written, writer.unchanged, timings["total"],
    )
    if problems:
        log.warning("%s", summarize_problems(problems))
    return result
