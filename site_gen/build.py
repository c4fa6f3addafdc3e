"""The whole build: gather and check everything first, then render and write."""
from __future__ import annotations

import hashlib
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import jinja2

from site_gen.errors import Problem, SiteError, summarize_problems
from site_gen.index import Site, build_site, out_path_for
from site_gen.load import load_records
from site_gen.model import build_figures, build_organism_infos
from site_gen.render import (Renderer, make_environment, render_catalogue_jsonl, render_figure_data,
                             render_redirects_file, render_robots, render_search_index, render_sitemaps)
from site_gen.settings import Settings
from site_gen.write import SiteWriter

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    site: Site | None
    problems: list[Problem]
    timings: dict = field(default_factory=dict)
    written: int = 0
    unchanged: int = 0
    ok: bool = True


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


def gather(settings: Settings, root: Path) -> tuple[Site, list[Problem], dict]:
    """The first half: load, model and index every record. Nothing is written."""
    timings: dict = {}
    source = settings.resolve(root, "source")
    if not source.is_dir():
        raise SiteError(f"source folder {source} does not exist")
    with log_time(timings, "load"):
        records, organism_records, problems = load_records(source)
    with log_time(timings, "model"):
        figures = build_figures(records, problems)
        infos = build_organism_infos(organism_records, problems)
    with log_time(timings, "index"):
        site = build_site(settings, build_date(), figures, infos, problems)
    return site, problems, timings


def write_site(site: Site, settings: Settings, root: Path, writer: SiteWriter, timings: dict) -> None:
    """The second half: render every output of a complete Site into `writer`."""
    assets = fingerprint_assets(settings.resolve(root, "static"))
    env = make_environment(settings.resolve(root, "templates"))
    renderer = Renderer(site, env, {name: url for name, (_src, url) in assets.items()})
    with log_time(timings, "render"):
        current = "redirect.html"
        try:
            for page in site.pages:
                current = page.url
                writer.write(page.out_path, renderer.render_page(page))
            for redirect in site.redirects:
                current = redirect.from_url
                writer.write(redirect.out_path, renderer.render_redirect(redirect))
        except jinja2.TemplateSyntaxError as exc:
            raise SiteError(f"{exc.filename or exc.name}:{exc.lineno}: template error: {exc.message}") from exc
        except (jinja2.TemplateError, KeyError) as exc:
            raise SiteError(f"while rendering {current}: template error: {exc}") from exc
    with log_time(timings, "data"):
        for fig in site.figures.values():
            for url, text in render_figure_data(site, fig).items():
                writer.write(out_path_for(url), text)
        writer.write("downloads/pfocr-figures.jsonl", render_catalogue_jsonl(site))
        writer.write("search.json", render_search_index(site))
        for out_path, text in render_sitemaps(site).items():
            writer.write(out_path, text)
        writer.write("robots.txt", render_robots(site))
        writer.write("_redirects", render_redirects_file(site, renderer.base_path))
        for _name, (src, url) in assets.items():
            writer.write(url.lstrip("/"), src.read_bytes())


def build(settings: Settings, root: Path, strict: bool = False) -> BuildResult:
    """Build the site into the output folder; on any failure the previous site stays as it was."""
    start = time.perf_counter()
    site, problems, timings = gather(settings, root)
    for problem in sorted(problems, key=lambda p: (p.src_path, p.line, p.field)):
        log.warning("%s", problem)
    result = BuildResult(site, problems, timings)
    if strict and problems:
        log.error("%s; --strict: nothing written", summarize_problems(problems))
        result.ok = False
        return result
    writer = SiteWriter(settings.resolve(root, "output"))
    try:
        write_site(site, settings, root, writer, timings)
        with log_time(timings, "commit"):
            writer.commit()
    except BaseException:
        writer.abort()
        raise
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
