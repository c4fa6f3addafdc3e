"""Local preview: build, serve the output as Netlify would, rebuild on change, reload the browser."""
from __future__ import annotations

import contextlib
import errno
import html
import itertools
import logging
import mimetypes
import os
import shutil
import signal
import socket
import threading
import time
import webbrowser
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote


from site_gen.build import collector_paused
from site_gen.engine import Engine, NeedsFullBuild
from site_gen.parallel import default_jobs, run_shares
from site_gen.errors import Problem, SiteError
from site_gen.index import Page, set_prose
from site_gen.prose import PAGES_FOLDER, load_prose, outline
from site_gen.load import ORGANISM_FOLDER
from site_gen.model import read_for_a_moment
from site_gen.render import Renderer, template_users
from site_gen.search import PAGEFIND_FOLDER, run_pagefind
from site_gen.settings import Settings, load_settings
from site_gen.write import write_new

log = logging.getLogger(__name__)

HTML_TYPE = "text/html; charset=utf-8"
VIEWED = 64  # the pages last served, re-rendered before the reload after a template edit
CHUNK = 1000  # pages re-rendered in the background per turn of the lock (in this process): a request
# for a page still pending waits for at most one turn


def _render_pages(renderer: Renderer, pages) -> dict[str, str]:
    out, current = {}, ""
    try:
        for page in pages:
            current = page.url
            out[renderer.site.out_path(page.url)] = renderer.render_page(page)
    except Exception as exc:  # noqa: BLE001 - reported with the template's line, or raised as it was
        raise renderer.failure(exc, current) from None
    return out


def _preview_share(work, index: int, jobs: int) -> int:
    renderer, output, pages = work
    for out_path, text in _render_pages(renderer, pages[index::jobs]).items():
        _replace(output, out_path, text)
    return 0


def _replace(output: Path, out_path: str, text: str | bytes) -> None:
    """Write one file of the served site so a request never sees it half-written."""
    target = os.path.join(output, out_path)
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name}.tmp")
    data = text if type(text) is bytes else text.encode("utf-8")
    try:
        write_new(tmp, data)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        write_new(tmp, data)
    os.replace(tmp, target)


def read_redirect_rules(output: Path) -> list[tuple[str, str, int]]:
    """The rules of a Netlify `_redirects` file, in order: (from, to, status). Only what the site's
    own file uses: exact paths, and a trailing `*` whose match `:splat` puts in the target."""
    rules = []
    try:
        lines = (output / "_redirects").read_text(encoding="utf-8").splitlines()
    except OSError:
        return rules
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#"):
            status = int(parts[2].rstrip("!")) if len(parts) > 2 and parts[2].rstrip("!").isdigit() else 301
            rules.append((parts[0], parts[1], status))
    return rules


def match_rule(rules: list[tuple[str, str, int]], path: str) -> tuple[str, int] | None:
    """The first rule that matches a request path, as Netlify takes it: (target, status)."""
    for source, target, status in rules:
        if source.endswith("*"):
            if path.startswith(source[:-1]):
                return target.replace(":splat", path[len(source) - 1:]), status
        elif path == source or path.rstrip("/") == source.rstrip("/"):
            return target, status
    return None


def safe_path(output: Path, url_path: str) -> Path | None:
    """The file a request path names inside `output`, or None if the path tries to leave it."""
    parts = [p for p in url_path.split("/") if p]
    if any(p in (".", "..") or "\\" in p or "\0" in p for p in parts):
        return None
    candidate = output.joinpath(*parts) if parts else output
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError):
        return None
    return resolved if resolved == output or resolved.is_relative_to(output) else None


def _file_state(folder: Path) -> dict[Path, tuple[int, int]]:
    state = {}
    if folder.is_dir():
        for here, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if (st := _stat(Path(here, name))) is not None:
                    state[Path(here, name)] = (st.st_size, st.st_mtime_ns)
    return state


def _stat(path: Path):
    try:
        return path.stat()
    except OSError:
        return None


def _changed(before: dict, after: dict) -> set[Path]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


class Preview:
    """The served site: the output folder, and the engine that keeps it up to date (`engine.Engine`,
    the same that `site-gen build` runs, here keeping its model in memory).

    A change to records is an update of the engine from the watcher's paths: it re-reads only those
    files and re-renders the pages they make stale before the reload; the catalogue-wide files
    (downloads, gene sets, name lookup, sitemaps) are written after it (`flush_data`), then the
    search bundles those records fall in. A change to settings, organism files or static assets, or
    any failure, falls back to a build from the inputs.

    Template edits use a fast render mode, as `hugo server` does: the pages a browser showed last
    (and one page of each edited template, so that its errors show at once) are re-rendered before
    the reload; the others are `pending` and re-rendered after it, in the background, and any of them
    that is requested before then is rendered for that request.

    Started on an output that is up to date, the preview serves it at once and reads the model
    (`load`) in the background; an edit waits for that.
    """

    def __init__(self, settings: Settings, root: Path, jobs: int | None = None, use_cache: bool = True,
                 config: Path | None = None, overrides: dict | None = None, snapshots: bool = True):
        self.settings = settings
        self.root = root
        self.jobs = jobs
        self.engine = Engine(settings, root, jobs, use_cache, keep=True)
        # the settings file, read again when it changes (with the command line's `overrides` on top)
        self.config = (config if config is not None else root / "pyproject.toml").absolute()
        self.overrides = overrides or {}
        self.snapshots = snapshots  # without a watcher, changes are found by comparing snapshots
        self.bad_settings = False
        self._locate()
        self.error: str | None = None
        self.rules: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        self.state: dict = {}
        self.pending_data = False
        self.pending_index = False  # the Pagefind index is to be made again (outside the lock)
        self.edits = 0  # edits applied: tells a search index made meanwhile that it may be stale
        self.pending: dict[str, Page] = {}  # out path → page whose template changed, not yet re-rendered
        # edited templates whose pages are not yet listed in `pending` (a walk of every page, done after
        # the reload), and the out paths rendered since they were edited (not listed then)
        self.unlisted: set[str] = set()
        self.rendered_since: set[str] = set()
        self.viewed: dict[str, None] = {}  # out paths of the pages served last, oldest first
        self.dirty = threading.Event()  # set by `changed`: the background has pages or files to write
        self.waiting = 0  # requests waiting for the lock to render a pending page: the background lets them in
        self._count = threading.Lock()

    @property
    def site(self):
        return self.engine.site

    @property
    def renderer(self) -> Renderer:
        return self.engine.renderer

    def _locate(self) -> None:
        """The folders the settings name."""
        settings, root = self.settings, self.root
        self.output = settings.resolve(root, "output").absolute()
        self.source = settings.resolve(root, "source").absolute()
        self.templates = settings.resolve(root, "templates").absolute()
        self.static = settings.resolve(root, "static").absolute()
        self._real_output = self.output.resolve()

    def _reload_settings(self) -> bool:
        """Read the settings file again; False (the error shown) when it cannot be used."""
        try:
            self.settings, self.root = load_settings(self.config, self.overrides)
        except SiteError as exc:
            self._fail(str(exc))
            self.bad_settings = True  # tried again on every change, until they can be used
            return False
        self.bad_settings = False
        self._locate()
        return True

    @property
    def problems(self) -> list[Problem]:
        return self.engine.problems()

    def _snapshot(self) -> dict:
        return {
            "source": _file_state(self.source),
            "templates": _file_state(self.templates),
            "static": _file_state(self.static),
            "config": {self.config: (st.st_size, st.st_mtime_ns)} if (st := _stat(self.config)) else {},
        }

    # --- builds --------------------------------------------------------------------------------
    def full_build(self, force: bool = True) -> None:
        """Build from the inputs (without `force`, nothing is done when the output is up to date: its
        model is then read by `load`)."""
        start = time.perf_counter()
        self.state = self._snapshot() if self.snapshots else {}
        self.engine.settings, self.engine.root = self.settings, self.root
        self.pending, self.unlisted = {}, set()
        with self._reporting("build"):
            self.engine.update(force=force)
            self.pending_data = self.pending_index = False
            if self.site is not None:
                self._built()
                log.info("full build in %.2f s", time.perf_counter() - start)
            else:  # up to date: served as it is while its model is read, the rewrites of split folders too
                self.rules = read_redirect_rules(self.output)
                log.info("the output is up to date (%.2f s): serving it while its model is read",
                         time.perf_counter() - start)

    def load(self) -> None:
        """Read the model of the output being served, when the first build found it up to date."""
        with self.lock:
            if self.site is not None or self.error is not None:
                return
            start = time.perf_counter()
            with self._reporting("reading the model"):
                result = self.engine.load(show=set(self.viewed))
                self._built()
                if result is not None and result.fresh is not None:  # a record edited meanwhile: its pages
                    self._edited(result)
                    self.dirty.set()  # (the catalogue-wide files, then the search index)
                    log.info("updated %d file(s), removed %d, for the records changed since the output was "
                             "built", result.written, result.removed)
                log.info("model read in %.2f s", time.perf_counter() - start)

    def _built(self) -> None:
        self.error = None
        self.users = template_users(self.renderer.env, self.templates)
        self.rules = read_redirect_rules(self.output)

    @contextlib.contextmanager
    def _reporting(self, what: str):
        """Run a step of a rebuild; a failure becomes the error the browser shows (a SiteError by its
        message, anything else also with its traceback in the terminal), and the server keeps serving."""
        try:
            yield
        except SiteError as exc:  # the model may have moved on without its pages: the next change builds all
            self._fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - keep serving whatever goes wrong; say what it was
            log.exception("%s failed", what)
            self._fail(f"{type(exc).__name__}: {exc}")

    def _fail(self, message: str) -> None:
        self.error = message
        self.engine.forget()  # the next change builds from scratch
        self.pending, self.unlisted = {}, set()
        log.error("build failed: %s", message)

    # --- incremental --------------------------------------------------------------------------
    def _classify(self, paths) -> dict[str, set[Path]]:
        """Changed paths reported by the file watcher, sorted by what they are; editor droppings ignored."""
        changed: dict[str, set[Path]] = {"source": set(), "templates": set(), "static": set(), "config": set(),
                                         "pages": set()}
        for raw in paths:
            path = Path(raw).absolute()
            if path == self.config:
                changed["config"].add(path)
            elif path.is_relative_to(self.templates) and path.suffix == ".html":
                changed["templates"].add(path)
            elif path.is_relative_to(self.static) and not path.name.startswith("."):
                changed["static"].add(path)
            elif path.is_relative_to(self.source) and path.suffix in (".md", ".txt", ".tsv"):
                folders = path.relative_to(self.source).parts[:-1]
                if any(part.startswith(".") for part in path.relative_to(self.source).parts):
                    continue
                if folders and folders[0] == PAGES_FOLDER:
                    if path.suffix == ".md":
                        changed["pages"].add(path)
                elif path.suffix == ".tsv" or not folders or folders[0] == ORGANISM_FOLDER \
                        or not folders[0].startswith("_"):  # records never live in other `_` folders
                    changed["source"].add(path)
        return changed

    def render_pending(self) -> int:
        """Re-render the pages a template edit left pending, a chunk at a time so that an edit or a
        request can come in between; how many were written."""
        done, start = 0, time.perf_counter()
        while True:
            with self.lock, collector_paused():
                self._list_pending()
                if self.site is None or not self.pending:
                    break
                # pending until written: a request for one of them waits for this chunk, not the old page
                chunk = [self.pending[out_path] for out_path in itertools.islice(self.pending, CHUNK)]
                # (every figure page again, after a template edit: the model's memory stays as it was)
                figures = [self.site.figures[page.key] for page in chunk
                           if page.kind == "figure" and page.key in self.site.figures]
                with self._reporting("rendering pending pages"), read_for_a_moment(figures):
                    done += self._render_and_write(chunk, [], {})  # (a failure ends the loop: no site)
                    for page in chunk:
                        del self.pending[self.site.out_path(page.url)]
            deadline = time.monotonic() + 1  # a request waiting for the lock takes it now (it is not fair)
            while self.waiting and time.monotonic() < deadline:
                time.sleep(0.001)
        if done:
            log.info("re-rendered %d more page(s) in %.3f s", done, time.perf_counter() - start)
        return done

    def flush_data(self) -> None:
        """Write what an edit left for after the reload: pending pages, then the catalogue-wide files
        (the download, search data and sitemaps) and the output's shape, then the full-text index."""
        self.render_pending()
        with self.lock:
            # (after a template edit, the output's shape is saved once every page of it is written)
            current = not self.pending and not self.unlisted  # no page left to render for an edited template
            if self.site is not None and (self.pending_data or not self.engine.shape_saved and current):
                start = time.perf_counter()
                with self._reporting("catalogue-wide files"):
                    written = self.engine.finish(templates_current=current)
                    if self.pending_data:
                        log.info("updated %d catalogue-wide file(s) in %.3f s", written, time.perf_counter() - start)
                    self.pending_index = self.pending_index or (
                        self.pending_data and self.settings.search_index == "pagefind")
                    self.pending_data = False
                    self.rules = read_redirect_rules(self.output)  # (`_redirects` is one of those files)
        self.reindex()

    def reindex(self) -> None:
        """Make the full-text index's bundles that edits changed again, outside the lock: an edit in
        the meantime is applied and reloaded at once. The new bundles go to a folder beside the site and
        each replaces its old self when all are complete, so the search page always has an index. Those
        made while an edit came are dropped: that edit's own update makes them again."""
        with self.lock:
            if self.site is None or not self.pending_index:
                return
            self.pending_index = False
            site, edits = self.site, self.edits
            changed = set(self.engine.unindexed)  # (noted as indexed once the new index is in place)
        start = time.perf_counter()
        fresh = self.output.parent / f".{self.output.name}.{PAGEFIND_FOLDER}"
        shutil.rmtree(fresh, ignore_errors=True)
        # Only the bundles a changed figure falls in are made again (all, if the bundles changed), one
        # Pagefind process at a time: beside the model this process keeps, each holds a bundle's index
        # (about 0.5 GB at 100,000 figures), and two edits in two bundles made two at once.
        try:
            names, made = run_pagefind(self.output, site, 1, previous=self.output, changed=changed, into=fresh,
                                       keep=True)
        except SiteError as exc:
            shutil.rmtree(fresh, ignore_errors=True)
            log.error("search index not updated: %s", exc)
            return
        old = self.output.parent / f".{self.output.name}.{PAGEFIND_FOLDER}-old"
        shutil.rmtree(old, ignore_errors=True)
        index = self.output / PAGEFIND_FOLDER
        with self.lock:
            current = self.site is site and self.edits == edits  # no edit and no full build came meanwhile
            if current and len(made) == len(names):  # the whole index
                with contextlib.suppress(FileNotFoundError):
                    os.rename(index, old)
                os.rename(fresh, index)
            elif current:  # each bundle made replaces its old self; a query finds one or the other, whole
                old.mkdir()
                for name in made:
                    with contextlib.suppress(FileNotFoundError):
                        os.rename(index / name, old / name)
                    os.rename(fresh / name, index / name)
            if current:
                self.engine.indexed(changed)
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(fresh, ignore_errors=True)
        if current:
            log.info("search index made again in %.3f s", time.perf_counter() - start)

    def on_change(self, paths=None, defer: bool = False) -> bool:
        """Rebuild what changed: the given paths, or else whatever differs from the last snapshot.

        Returns False when nothing did. With `defer`, the catalogue-wide files wait for flush_data.
        """
        changed = self._on_change(paths)
        if changed and not defer:
            self.flush_data()
        return changed

    def _on_change(self, paths) -> bool:
        with self.lock, collector_paused():
            start = time.perf_counter()
            after = self.state
            if paths is None:  # no watcher to say what changed: compare with the last snapshot
                after = self._snapshot()
                paths = set().union(*(_changed(self.state.get(key, {}), after[key]) for key in after))
            changed = self._classify(paths)  # one filter for both ways of learning of a change
            if not any(changed.values()):
                return False
            if (changed["config"] or self.bad_settings) and not self._reload_settings():
                self.state = self._snapshot() if self.snapshots else {}
                return True
            if self.site is None or changed["config"] or changed["static"] or any(
                    self._is_organism_file(p) for p in changed["source"]):
                self.full_build()
                return True
            self.state = after
            if changed["pages"] and not self._update_prose():
                self.full_build()
                return True
            what = None
            with self._reporting("rebuild"):
                try:
                    what = self._apply(changed["source"], changed["templates"]) if changed["source"] or \
                        changed["templates"] else "the site's pages"
                except NeedsFullBuild as reason:
                    log.info("%s: full build", reason)
                    self.full_build()
                    return True
            if what is None:
                return True
            self.error = None
            log.info("rebuilt %s in %.3f s", what, time.perf_counter() - start)
            return True

    def changed(self, paths, loop) -> None:
        """Called by the watcher thread: rebuild what changed and have the server's loop send the
        reload; the background thread then writes what was left for after it. Requests keep being
        served throughout."""
        from livereload.handlers import LiveReloadHandler

        if self.on_change(paths, defer=True):
            loop.add_callback(LiveReloadHandler.reload_waiters)
            self.dirty.set()

    def background(self, loop, stop: threading.Event) -> None:
        """The background thread: after each change, the pending pages and catalogue-wide files; a
        reload again if that found an error, so the browser shows it."""
        from livereload.handlers import LiveReloadHandler

        self.load()  # when the first build found the output up to date
        while not stop.is_set():
            if self.dirty.wait(0.2):
                self.dirty.clear()
                had_error = self.error is not None
                self.flush_data()
                if self.error is not None and not had_error:
                    loop.add_callback(LiveReloadHandler.reload_waiters)

    def _is_organism_file(self, path: Path) -> bool:
        try:
            rel = path.relative_to(self.source)
        except ValueError:
            return False
        return rel.parts[0] == ORGANISM_FOLDER

    def _update_prose(self) -> bool:
        """Re-read the site's pages written in Markdown and render them; False when the set of pages or
        their menu changed (it is on every page: the caller builds everything)."""
        problems: list = []
        prose = load_prose(self.source, self.templates, problems)
        if outline(prose) != outline(self.site.prose):
            return False
        set_prose(self.site, prose)
        files = {}
        with self._reporting("rendering the site's pages"):
            files = _render_pages(self.renderer, [p for p in self.site.page_groups["fixed"] if p.kind == "prose"])
        for out_path, text in files.items():
            _replace(self.output, out_path, text)
        for problem in problems:
            log.warning("%s", problem)
        return True

    def _apply(self, sources: set[Path], templates: set[Path]) -> str:
        """Apply changed records (an update of the engine: the pages they make stale are rendered now, the
        catalogue-wide files after the reload) and templates (the pages that use them: those shown
        and one per template now, the others after the reload)."""
        site = self.site
        todo: dict[str, Page] = {}
        notes = []
        written = removed = 0
        if sources:
            if self.engine.shape is None:
                raise NeedsFullBuild("the output's shape is not known")
            # the pages of the records and those a browser shows now; the others after the reload
            result = self.engine.update(sources, defer=True, show=set(self.viewed))
            written, removed = result.written, result.removed
            self._edited(result)
            notes.append(f"{len(sources)} source file(s)")
        names = {p.name for p in templates}
        if templates:
            self.engine.templates_changed()
            env = self.renderer.env
            if env.cache is not None:
                env.cache.clear()
            self.renderer.items.clear()  # list entries come from macros.html
            self.renderer.partials.clear()
            self.users = template_users(env, self.templates)
            self.rendered_since = set()  # (a page rendered before this edit may use these templates)
            self.unlisted |= names  # every page using them is listed after the reload (`_list_pending`)
            uses = self._uses(self.unlisted)
            probes: set[str] = set()  # one page per edited template, rendered now: its errors show at once
            for page in site.pages_with_templates(uses, samples=True):
                if not (found := self.users.get(page.template, {page.template}) & names) <= probes:
                    probes |= found
                    todo[site.out_path(page.url)] = page
            notes.append(", ".join(sorted(names)))
        stale = self._uses(self.unlisted)  # (a page of an edited template, not yet listed)
        for out_path in list(self.viewed):  # what browsers show now: before the reload (a copy: requests add to it)
            if out_path in self.pending:
                todo[out_path] = self.pending[out_path]
            elif self.unlisted and out_path not in todo and (page := site.page_at(out_path)) is not None \
                    and stale(page.template):
                todo[out_path] = page
        for out_path in todo:
            self.pending.pop(out_path, None)
        if self.unlisted:
            self.rendered_since |= todo.keys()
        if self.pending or self.unlisted:
            notes.append("the other pages after the reload")
        files: dict[str, str] = {}
        stubs = []
        if "redirect.html" in names:
            stubs = list(site.redirects)
            files.update(self.renderer.render_reference_redirects())
        written += self._render_and_write(list(todo.values()), stubs, files)
        return f"{' and '.join(notes)}: {written} file(s) written, {removed} removed"

    def _edited(self, result) -> None:
        """(Under the lock) What an update of the engine from edited records rendered and left: the pages
        it left for later are pending, and the catalogue-wide files wait for `flush_data`."""
        for out_path in itertools.chain(result.fresh.pages, result.fresh.stale):
            self.pending.pop(out_path, None)  # rendered now, or gone
        if self.unlisted:  # (rendered with the edited templates: not listed again)
            self.rendered_since |= result.fresh.pages.keys() - result.later.keys()
        self.pending.update(result.later)
        self.edits += 1
        self.pending_data = True

    def _uses(self, names: set[str]):
        """The test of a page's template: does it use any of these templates?"""
        users = self.users
        return lambda template: not users.get(template, {template}).isdisjoint(names)

    def _list_pending(self) -> None:
        """(Under the lock) List in `pending` every page of the templates edited since the last listing,
        but for those rendered since: one walk of the site's pages, after the reload."""
        if not self.unlisted or self.site is None:
            return
        start, where, done = time.perf_counter(), self.site.out_path, self.rendered_since
        for page in self.site.pages_with_templates(self._uses(self.unlisted)):
            out_path = where(page.url)
            if out_path not in done:
                self.pending[out_path] = page
        self.unlisted, self.rendered_since = set(), set()
        log.info("%d page(s) of edited templates left to render (listed in %.3f s)", len(self.pending),
                 time.perf_counter() - start)

    def _render_and_write(self, pages: list[Page], stubs: list, files: dict[str, str]) -> int:
        """Render pages and redirect stubs (in parallel when there are many), then write every file."""
        jobs = min(self.jobs or default_jobs(), 1 + len(pages) // 2000)
        if jobs > 1:  # a template edit: workers render and write their share themselves
            run_shares(_preview_share, (self.renderer, self.output, pages), jobs)
        else:
            files.update(_render_pages(self.renderer, pages))
        current = ""
        try:
            for redirect in stubs:
                current = redirect.from_url
                files[self.site.out_path(redirect.from_url)] = self.renderer.render_redirect(redirect)
        except Exception as exc:  # noqa: BLE001 - reported with the template's line, or raised as it was
            raise self.renderer.failure(exc, current) from None
        for out_path, text in files.items():
            _replace(self.output, out_path, text)
        return len(files) + (len(pages) if jobs > 1 else 0)

    def rebuild(self) -> None:
        """The first update, at start: a build when an input changed since the last one, else nothing
        (the output is served as it is) and the model is read (`load`)."""
        with self.lock:
            self.full_build(force=False)
        self.load()

    # --- WSGI ---------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        body = self._serve(environ, start_response)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else body  # HEAD: GET's headers, no body

    def _serve(self, environ, start_response):
        raw = environ.get("PATH_INFO", "/")
        try:
            path = unquote(raw.encode("latin-1").decode("utf-8"))
        except UnicodeError:
            return self._respond(start_response, "400 Bad Request", b"bad request path\n", "text/plain")
        if self.error is not None:
            return self._respond(start_response, "500 Build Failed", self._error_page(), HTML_TYPE)
        if "\0" in path or "\\" in path:
            return self._not_found(start_response)
        # under the base URL's path, as the host serves it (a GitHub Pages project site: /<project>/...)
        base = self.settings.base_path
        if base and path in ("", "/"):
            return self._redirect(start_response, base + "/", 302)
        if base and path != base and not path.startswith(base + "/"):
            return self._not_found(start_response)
        # as Netlify does: a file at the very path (a folder's index.html), then the first rule that
        # matches (a redirect, or a rewrite to another file), then the path with .html
        found = safe_path(self.output, path[len(base):])
        if found is not None and found.is_dir():
            if not path.endswith("/"):
                return self._redirect(start_response, path + "/", 301)
            found = found / "index.html"
        if found is not None and found.is_file():
            return self._file(start_response, found, "200 OK")
        rule = match_rule(self.rules, path)
        if rule is not None:
            target, status = rule
            if status in (301, 302, 303, 307, 308):
                return self._redirect(start_response, target, status)
            if target.startswith(base + "/"):
                for candidate in (target, target + ".html"):
                    found = safe_path(self.output, candidate[len(base):])
                    if found is not None and found.is_file():
                        return self._file(start_response, found, f"{status} {HTTPStatus(status).phrase}")
            return self._not_found(start_response)
        found = safe_path(self.output, path[len(base):] + ".html") if not path.endswith("/") else None
        if found is not None and found.is_file():
            return self._file(start_response, found, "200 OK")
        return self._not_found(start_response)

    def _file(self, start_response, target: Path, status: str):
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind == "text/html" and status == "200 OK":
            self._render_if_pending(target)
            if self.error is not None:
                return self._respond(start_response, "500 Build Failed", self._error_page(), HTML_TYPE)
        body = target.read_bytes()
        if kind == "text/html":
            kind = HTML_TYPE
            body = self._with_problems(body)
        elif kind.startswith("text/") or kind in ("application/json", "application/xml"):
            kind += "; charset=utf-8"
        return self._respond(start_response, status, body, kind)

    def _render_if_pending(self, target: Path) -> None:
        """Note a page as shown; render it first if a template edit left it pending."""
        try:
            out_path = target.relative_to(self._real_output).as_posix()
        except ValueError:
            return
        self.viewed.pop(out_path, None)
        self.viewed[out_path] = None
        while len(self.viewed) > VIEWED:
            del self.viewed[next(iter(self.viewed))]
        if out_path not in self.pending and (not self.unlisted or out_path in self.rendered_since):
            return  # current (rendered with the edited templates: those shown at the reload are)
        with self._count:
            self.waiting += 1
        try:
            locked = self.lock.acquire(timeout=30)
        finally:
            with self._count:
                self.waiting -= 1
        if not locked:
            return  # (a rebuild holding the lock that long: the page as it is on disk)
        try:
            with collector_paused():
                self._list_pending()
            page = self.pending.pop(out_path, None)
            if page is not None and self.site is not None:
                with self._reporting(f"rendering {out_path}"):
                    _replace(self.output, out_path, _render_pages(self.renderer, [page])[out_path])
        finally:
            self.lock.release()

    def _not_found(self, start_response):
        page = self.output / "404.html"
        if page.is_file():
            return self._file(start_response, page, "404 Not Found")
        return self._respond(start_response, "404 Not Found", b"not found\n", "text/plain")

    def _redirect(self, start_response, location: str, status: int):
        reason = {301: "Moved Permanently", 302: "Found", 200: "OK"}.get(status, "Moved Permanently")
        body = f"redirect to {location}\n".encode()
        start_response(f"{status} {reason}", [("Location", location), ("Content-Type", "text/plain"),
                                              ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
        return [body]

    @staticmethod
    def _respond(start_response, status: str, body: bytes, kind: str):
        start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body))),
                                ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")])
        return [body]

    def _error_page(self) -> bytes:
        message = html.escape(self.error or "")
        return (
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Build failed</title></head>"
            f"<body><h1>Build failed</h1><pre>{message}</pre><p>Fix the file and save it: this page reloads "
            "by itself.</p></body></html>"
        ).encode()

    def _with_problems(self, body: bytes) -> bytes:
        """Show the last build's input problems on top of every page while there are any."""
        if not self.problems:
            return body
        items = "".join(f"<li>{html.escape(str(p))}</li>" for p in self.problems[:50])
        more = f"<li>… and {len(self.problems) - 50} more</li>" if len(self.problems) > 50 else ""
        banner = (f'<aside aria-label="Input problems" style="background:#fff3cd;border-bottom:2px solid #d39e00;'
                  f'padding:.5rem 1rem"><div role="alert"><strong>{len(self.problems)} input problem(s) in the last '
                  f"build</strong><ul>{items}{more}</ul></div></aside>")
        return body.replace(b"<body>", b"<body>" + banner.encode(), 1)


def _watch(preview: Preview, loop, stop: threading.Event) -> None:
    """Wait for file system events (inotify, through watchfiles) and hand them to the server's loop."""
    from watchfiles import watch

    paths = [p for p in (preview.source, preview.templates, preview.static, preview.config) if p.exists()]
    for changes in watch(*paths, debounce=50, step=20, stop_event=stop, raise_interrupt=False):
        preview.changed({path for _kind, path in changes}, loop)  # here, off the loop that serves requests


def available_port(host: str, port: int, tries: int = 20) -> int:
    """`port`, or the next one that is free on `host` (as `hugo server` does); a SiteError when none of
    `tries` ports is."""
    for candidate in range(port, port + tries):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, candidate))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise SiteError(f"cannot listen on {host}:{candidate}: {exc.strerror}") from exc
                continue
        if candidate != port:
            log.warning("port %d is in use; serving on port %d instead", port, candidate)
        return candidate
    raise SiteError(f"ports {port} to {port + tries - 1} on {host} are all in use; pass another with --port")


def run(settings: Settings, root: Path, host: str = "127.0.0.1", port: int = 8000,
        open_browser: bool = False, jobs: int | None = None, use_cache: bool = True,
        config: Path | None = None, overrides: dict | None = None, livereload: bool = True) -> int:
    """Build, serve and rebuild on change until interrupted. Without `livereload` no script is injected
    and browsers are not told to reload (MkDocs' --no-livereload): pages are still rebuilt."""
    from livereload import Server
    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop
    from tornado.wsgi import WSGIContainer

    port = available_port(host, port)
    # Ctrl-C (and SIGTERM) stop the preview even when it was started with SIGINT ignored, as a
    # background job of a non-interactive shell is: Python then leaves it ignored.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    preview = Preview(settings, root, jobs, use_cache, config, overrides, snapshots=False)
    with preview.lock:  # the output is served from here on; its model is read in the background
        preview.full_build(force=False)
    server = Server(preview)
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(preview, IOLoop.instance(), stop), daemon=True)
    watcher.start()
    behind = threading.Thread(target=preview.background, args=(IOLoop.instance(), stop), daemon=True)
    behind.start()
    address = f"http://{host}:{port}{preview.settings.base_path}/"
    if open_browser:
        threading.Timer(1.0, webbrowser.open, [address]).start()
    log.info("serving %s on %s (Ctrl-C stops)", settings.output, address)
    # What changed is decided by our watcher alone. livereload's own poller would otherwise watch the
    # working folder (the output too, when it lies there) and reload on a "server restarted" event at
    # start: it is told it never sees anything.
    server.watcher.examine = lambda: (None, None)
    try:
        if livereload:
            server.serve(host=host, port=port, restart_delay=0, debug=False)
        else:
            HTTPServer(WSGIContainer(preview)).listen(port, host)
            IOLoop.instance().start()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        watcher.join(timeout=1)
        behind.join(timeout=1)
        log.info("stopped")
    return 0
