"""The engine: one incremental update of the output, for `site-gen build` and the preview alike.

An update takes what changed (`Engine.update`): nothing named, for a build, which scans the inputs
and compares them with the model store (`build.gather`); or the paths a file watcher saw, for the
preview, which reads just those records into the model it keeps. Either way the records that changed
are applied to the index (`reuse.apply_edit`), what they make stale is planned from the edit
(`reuse.plan_fresh`), and the output is updated in place with a journal (`write.SiteUpdater`); the
model store and the output's shape (`reuse.Shape`) are saved, so the next update of either kind starts
from them. When what changed cannot be planned from an edit (settings, assets, organism files, the
folders files live in, a first build), everything is rendered into a new site beside the old one.

The preview is a client of this engine, as `hugo server` and Lektor's dev server are of their
builders: it classifies the watcher's events, calls `update(paths, defer=True)` (the pages, before the
browser reloads), then `finish()` (the catalogue-wide files, after it).
"""
from __future__ import annotations

import gc
import logging
import os
import time
from dataclasses import replace
from pathlib import Path

from site_gen.build import (BuildResult, FigureProducts, _output_identity, _report, _save_state, _state_path,
                            _fits, collector_paused, gather, input_fingerprint, log_time, make_renderer,
                            scan_source, up_to_date, write_catalogue, write_pages)
from site_gen.cache import ModelStore, StoreChanged, cache_folder, parse_entry, still_valid
from site_gen.errors import Problem, summarize_problems
from site_gen.hosts import check_limits
from site_gen.load import display_path, leads_outside
from site_gen.parallel import default_jobs
from site_gen.reuse import (Fresh, Shape, apply_edit, changed_templates, global_key, load_shape, plan_fresh,
                            save_shape, shape_path, template_digests)
from site_gen.search import PAGEFIND_FOLDER, SearchDocuments, documents_folder, pagefind_groups, run_pagefind
from site_gen.settings import Settings
from site_gen.system import return_free_memory
from site_gen.write import SiteUpdater, SiteWriter, recover_output, sibling

log = logging.getLogger(__name__)


class NeedsFullBuild(Exception):
    """An edit that cannot be planned from the model kept in memory (a figid moving between files,
    the files of a section moving to other folders): the caller builds from the inputs instead."""


class Engine:
    """The inputs named by `settings`, the output they make, and the model and shape of that output.

    With `keep` (the preview), the model stays in memory between updates, with the renderer and its
    cached list entries, so that an update from the watcher's paths reads only those files.
    """

    def __init__(self, settings: Settings, root: Path, jobs: int | None = None, use_cache: bool = True,
                 keep: bool = False):
        self.settings, self.root = settings, root
        self.jobs = jobs or default_jobs()
        self.use_cache = use_cache
        self.keep = keep
        self.site = None  # the model, when kept
        self.renderer = None  # its renderer, when kept
        self.shape: Shape | None = None  # of the output as the last update left it, when kept
        self.tables: dict = {}  # sidecar table file name → path, when kept
        self.file_problems: dict[str, list[Problem]] = {}  # src path → its problems, when kept
        self.unindexed: set[str] = set()  # figids whose search documents changed since the index was made
        self._deferred: Fresh | None = None  # what `update(defer=True)` left for `finish`
        self._shape_saved = False  # the shape beside the output is `shape` (no update since it was saved)
        self._whole_names = False  # two edits deferred at once: the name lookup is made afresh

    def folder(self, name: str) -> Path:
        return self.settings.resolve(self.root, name)

    @property
    def output(self) -> Path:
        return self.folder("output")

    def problems(self) -> list[Problem]:
        extra = self.site.redirect_problems if self.site is not None else []
        return [p for ps in self.file_problems.values() for p in ps] + list(extra)

    def forget(self) -> None:
        """Drop the kept model (after a failure): the next update builds from the inputs."""
        self.site = self.renderer = self.shape = self._deferred = None
        self._shape_saved = False
        self.unindexed = set()

    # --- updates ---------------------------------------------------------------------------
    def update(self, paths=None, force: bool = False, strict: bool = False, progress: bool = False,
               defer: bool = False, show: set[str] | None = None) -> BuildResult:
        """Bring the output up to date with the inputs. `paths`: the record and sidecar table files that
        changed (the preview's events), read into the kept model; None: scan every input (a build).
        With `defer`, the catalogue-wide files of an update from `paths` wait for `finish`. Given `show`
        (the output paths of the pages a browser shows), an update from `paths` renders only those and
        the pages of the figures it changed: the other pages it makes stale are its result's `later`,
        for the caller to render before `finish` (the preview's fast render)."""
        with collector_paused():
            if paths is None or self.site is None or self.shape is None:
                result = self._build(force, strict, progress)
                self._settle()
                return result
            result = self._apply(paths, show)
            if not defer:
                self.finish()
            return result

    def load(self, show: set[str] | None = None) -> BuildResult | None:
        """Read the model of an output that is up to date (the preview started on a built site). Should a
        record have changed since the output was found up to date (edited while the preview started),
        the output is brought up to date with it: the pages it makes stale are rendered in place, as
        an update from the watcher's paths renders them (given `show`, only those shown and the
        figures' own now, the others are the result's `later`), and the catalogue-wide files are left
        for `finish` (the result says so); None when nothing changed. When the output's shape does not
        allow that, it is updated as a build would update it."""
        with collector_paused():
            start = time.perf_counter()
            scanned = scan_source(self.settings, self.root)
            gathered = gather(self.settings, self.root, self.jobs, self.use_cache, scanned=scanned)
            shape = load_shape(cache_folder(self.output), _output_identity(self.output)) \
                if self.output.is_dir() else None
            if shape is not None and (shape.generation != gathered.generation or shape.catalogue is None):
                shape = None  # not the output of this model: the first edit builds everything
            changed = gathered.saved != gathered.generation  # (the store was saved: what it holds changed)
            if changed:
                log.info("the source changed since the output was built: updating it")
                if not (gathered.edit is not None and _plans_from(shape, gathered, self._key(gathered))
                        and shape.templates == template_digests(self.folder("templates"))):
                    fingerprint = input_fingerprint(self.settings, self.root, scanned[1])
                    result = self._write(gathered, fingerprint, {}, start, strict=False, progress=False)
                    self._settle()
                    return result
            self._keep_model(gathered.site, gathered.problems, gathered.tables)
            self.shape = shape
            self.unindexed = set(shape.unindexed) if shape is not None else set()
            self._shape_saved = shape is not None
            result = None
            if changed:
                self._forget_shape()
                shape.generation = gathered.saved
                result = self._render_edit(gathered.edit, show, start, dict(gathered.timings), gathered.stats.parsed)
            self._settle()
            return result

    def _key(self, gathered) -> str:
        """The gathered model's `Shape.key`."""
        return global_key(gathered.site, self.folder("static"), gathered.organism_files)

    def _settle(self) -> None:
        """A model kept for the preview lives as long as it: moved out of the cyclic collector's reach
        (gc.freeze), which would otherwise pass over its millions of objects once the collector is
        enabled again, and now and then after."""
        if self.keep and self.site is not None:
            gc.freeze()

    def _keep_model(self, site, problems: list[Problem], tables: dict) -> None:
        self.site, self.tables = site, dict(tables)
        self.file_problems = {}
        for problem in problems:
            if problem not in site.redirect_problems:
                self.file_problems.setdefault(problem.src_path, []).append(problem)
        self.renderer = make_renderer(site, self.settings, self.root)

    def _build(self, force: bool, strict: bool, progress: bool) -> BuildResult:
        settings, root, jobs = self.settings, self.root, self.jobs
        start = time.perf_counter()
        self.forget()
        output = self.output
        recover_output(output.absolute())  # an update a killed build left
        scanning = time.perf_counter()
        scanned = scan_source(settings, root, jobs)
        fingerprint = input_fingerprint(settings, root, scanned[1])
        scanning = time.perf_counter() - scanning
        log.debug("%-8s %.3f s", "scan", scanning)
        if not force and (problems := up_to_date(settings, root, fingerprint)) is not None and not (strict and problems):
            _report(problems)
            log.info("%s is up to date (nothing changed since the last build) in %.2f s", settings.output,
                     time.perf_counter() - start)
            if problems:
                log.warning("%s", summarize_problems(problems))
            return BuildResult(None, problems, {"total": time.perf_counter() - start}, up_to_date=True)
        gathered = gather(settings, root, jobs, self.use_cache, progress, scanned)
        return self._write(gathered, fingerprint, {"scan": scanning}, start, strict, progress)

    def _write(self, gathered, fingerprint: str, timings: dict, start: float, strict: bool,
               progress: bool) -> BuildResult:
        """The second half of a build: what the gathered model makes stale, rendered into the output
        (in place when it can be planned from the model's edit), the output's state and shape saved."""
        settings, root, jobs, output = self.settings, self.root, self.jobs, self.output
        if not self.keep:
            gathered.site.tallies = {}
            return_free_memory()
        site, problems, stats = gathered.site, gathered.problems, gathered.stats
        timings = {**timings, **gathered.timings}
        _report(problems)
        result = BuildResult(site, problems, timings, parsed=stats.parsed, reused=stats.reused)
        if strict and problems:
            log.error("%s; --strict: nothing written", summarize_problems(problems))
            result.ok = False
            return result
        cache = cache_folder(output)
        with log_time(timings, "compare"):
            templates = template_digests(self.folder("templates"))
            shape = Shape(self._key(gathered), (), gathered.saved, templates)
            fresh = old = None
            if self.use_cache and output.is_dir():
                old = load_shape(cache, _output_identity(output))
                if _plans_from(old, gathered, shape.key):
                    fresh = plan_fresh(site, gathered.edit, changed_templates(old.templates, templates))
                    fresh.layouts = old.layouts
        # What changed is known: the output is updated in place. Else a new one is made beside it and swapped in.
        in_place = fresh is not None and old.catalogue is not None
        writer = SiteUpdater(output, fresh.stale, old.catalogue, old.files) if in_place else SiteWriter(output)
        renderer = make_renderer(site, settings, root)
        search = settings.search_index == "pagefind"
        products = documents = None
        try:
            if fresh is None:  # every figure rendered: what else is made of each is made beside its page
                if search:
                    documents, groups = documents_folder(writer.staging), pagefind_groups(site)
                products = FigureProducts(site, sibling(writer.output, "parts"),
                                          SearchDocuments(documents, groups, groups) if search else None)
            result.rendered = write_pages(site, renderer, writer, timings, jobs, fresh, progress, products)
            with log_time(timings, "data"):
                write_catalogue(site, renderer, writer, fresh, products=products)
            if search:
                with log_time(timings, "search"):
                    changed = fresh.shown | old.unindexed if fresh else None  # (`old.unindexed`: left by a preview)
                    names, made = run_pagefind(writer.staging, site, jobs, writer.previous if fresh else None,
                                               changed, keep=in_place, documents=documents)
                    if in_place:
                        for folder in ([PAGEFIND_FOLDER] if len(made) == len(names) else
                                       [f"{PAGEFIND_FOLDER}/{name}" for name in made]):
                            writer.replace_folder(folder)
            if in_place:  # should the update be killed midway, the next build finishes it and renders all
                writer.put_beside("state", _state_path(output), b"")
                writer.put_beside("shape", shape_path(cache), b"")
            with log_time(timings, "check"):
                check_limits(site, writer)
            with log_time(timings, "commit"):
                writer.commit()
        except BaseException:
            writer.abort()
            raise
        finally:
            if products is not None:
                products.close()
        _save_state(output, fingerprint, problems)
        self._save_shape(shape, writer)
        if self.keep:
            self._keep_model(site, problems, gathered.tables)
            self.renderer = renderer
            self.shape = shape
            self._shape_saved = True
        result.written, result.unchanged = writer.written, writer.unchanged
        timings["total"] = time.perf_counter() - start
        log.info(
            "built %d figures, %d genes, %d chemicals, %d diseases, %d organisms, %d redirects into %s "
            "(%d records parsed, %d cached; %d files written, %d unchanged) in %.2f s",
            len(site.figures), len(site.genes), len(site.chemicals), len(site.diseases), len(site.organisms),
            len(site.redirects), settings.output, stats.parsed, stats.reused, writer.written, writer.unchanged,
            timings["total"],
        )
        if problems:
            log.warning("%s", summarize_problems(problems))
        return result

    def _save_shape(self, shape: Shape, writer: SiteWriter | None = None) -> None:
        """The shape of the output (with what `writer` just committed), beside it."""
        if writer is not None:
            shape.layouts = {**shape.layouts, **writer.layouts}
            shape.catalogue = frozenset(writer.catalogue)
            shape.files = writer.files
        shape.output = _output_identity(self.output)
        shape.unindexed = frozenset(self.unindexed) if self.settings.search_index == "pagefind" else frozenset()
        save_shape(cache_folder(self.output), shape)

    def _apply(self, paths, show: set[str] | None = None) -> BuildResult:
        """An update from the watcher's paths: read those records into the kept model, plan what the edit
        makes stale, render it and update the output in place. The catalogue-wide files are left for
        `finish`; until then the output has no shape (a build killed meanwhile renders everything)."""
        start = time.perf_counter()
        timings: dict = {}
        site, output = self.site, self.output
        folders_before = site.folders
        store = ModelStore(cache_folder(output) if self.use_cache else None)
        try:
            with log_time(timings, "parse"):
                try:
                    edit, entries, gone = self._reparse(paths, store)
                except StoreChanged as exc:  # (the kept model is half-updated: it is dropped)
                    raise NeedsFullBuild(str(exc)) from None
            if site.folders != folders_before:
                raise NeedsFullBuild("the files of a section moved to other folders")
            if not entries and not gone:  # every record as the model has it (the watcher's echo of an edit
                # the model read already applied): nothing to render; the edit left for `finish` stays whole
                return BuildResult(site, self.problems(), timings, fresh=Fresh({}, set(), frozenset(), set(), set()))
            # from here until `finish`, the output is no longer what the store's last build left
            self._forget_shape()
            with log_time(timings, "store"):
                self.shape.generation = store.save(entries, gone, changed=set(entries) | set(gone))
        finally:
            store.close()
        return self._render_edit(edit, show, start, timings, len(entries))

    def _render_edit(self, edit, show: set[str] | None, start: float, timings: dict, parsed: int) -> BuildResult:
        """Render in place the pages an edit of the kept model makes stale (given `show`, those shown and
        the changed figures' own; the others are the result's `later`); the catalogue-wide files
        are left for `finish`."""
        site, output = self.site, self.output
        fresh = plan_fresh(site, edit)
        now, later = fresh, {}
        if show is not None:
            where, groups = site.out_path, site.page_groups
            mine = {where(p.url) for figid in fresh.figures for p in groups.get(("figure", figid), ())}
            later = {out_path: page for out_path, page in fresh.pages.items() if out_path not in mine | show}
            now = replace(fresh, pages={k: page for k, page in fresh.pages.items() if k not in later})
        writer = SiteUpdater(output, fresh.stale, set(), self.shape.files)  # no catalogue-wide file yet
        try:
            rendered = write_pages(site, self.renderer, writer, timings, 1, now)
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        self.shape.files = writer.files
        if self._deferred is None:
            self._deferred = fresh
        else:  # two edits before `finish`: every figure of both is made again
            self._deferred.figures |= fresh.figures
            self._deferred.edit = None  # (what the catalogue-wide files would patch from it)
            self._whole_names = True
        self.unindexed |= fresh.shown
        timings["total"] = time.perf_counter() - start
        return BuildResult(site, self.problems(), timings, writer.written, writer.unchanged, parsed=parsed,
                           rendered=rendered, removed=len(fresh.stale - writer.paths), fresh=fresh, later=later)

    def finish(self, templates_current: bool = True) -> int:
        """Write the catalogue-wide files an update left (the downloads, gene sets, name lookup,
        sitemaps, feed, host files and the pages that describe them), then save the output's shape
        (only when `templates_current`: no page is left to render for an edited template). Returns
        how many files were written."""
        fresh, self._deferred = self._deferred, None
        if self.site is None or self.shape is None:
            return 0
        written = 0
        if fresh is not None:
            fresh.layouts = self.shape.layouts
            if self._whole_names:
                fresh.edit, self._whole_names = None, False
            writer = SiteUpdater(self.output, set(), self.shape.catalogue, self.shape.files)
            try:
                write_catalogue(self.site, self.renderer, writer, fresh, names_afresh=fresh.edit is None)
                writer.commit()
            except BaseException:
                writer.abort()
                raise
            written = writer.written
        else:
            writer = None
        if templates_current:
            self.shape.templates = template_digests(self.folder("templates"))
            self._save_shape(self.shape, writer)
            self._shape_saved = True
        return written

    def indexed(self, figids: set[str]) -> None:
        """The search index was made again for these figures (the preview's, outside the engine)."""
        self.unindexed -= figids
        if self._shape_saved and self.shape is not None:
            self._save_shape(self.shape)  # (and the output folder's identity: the index was put in it)

    @property
    def shape_saved(self) -> bool:
        """Is the shape beside the output this model's (no update since it was saved)?"""
        return self._shape_saved

    def templates_changed(self) -> None:
        """An edited template: the output has no shape until its pages are rendered (`finish`)."""
        self._forget_shape()

    def _forget_shape(self) -> None:
        """The output is changing: no build may plan from its shape, nor call it up to date, until it is saved."""
        shape_path(cache_folder(self.output)).unlink(missing_ok=True)
        _state_path(self.output).unlink(missing_ok=True)
        self._shape_saved = False

    def _reparse(self, paths, store: ModelStore) -> tuple:
        """Read the changed records and sidecar tables and apply them to the kept model: (the edit, the
        store entries of the records read, the paths of those gone). A record whose files are as
        `store` last saw them, when this model saved or read it last, is as the model has it: it is not
        read again."""
        site = self.site
        source = self.folder("source")
        for path in paths:  # keep the sidecar table index up to date without walking the source
            if path.suffix == ".tsv":
                if path.exists():
                    self.tables.setdefault(path.name, str(path))
                elif self.tables.get(path.name) == str(path):
                    del self.tables[path.name]
        records: set[Path] = set()
        for path in paths:
            if path.suffix == ".tsv":
                fig = site.figures.get(path.name.rsplit("-", 1)[0])
                if fig is not None:
                    records.add(Path(os.path.abspath(fig.src_path)))
            else:
                records.add(path)
        # (only while the store is as this model last saved or read it: another build may have saved it since)
        ours = store.folder is not None and store.generation() == self.shape.generation
        known = store.known(str(path) for path in records) if ours else {}
        records = {path for path in records if (k := known.get(str(path))) is None
                   or not still_valid(k, path, self.tables)}
        by_src = {fig.src_path: fig for fig in site.figures.values()}
        removed, added, entries, gone = [], [], {}, []
        for path in sorted(records):
            shown = display_path(path)
            self.file_problems.pop(shown, None)
            if (old := by_src.get(shown)) is not None:
                removed.append(old)
            if leads_outside(path, source):
                self.file_problems[shown] = [Problem(shown, 0, "", "a link to a file outside the source folder; "
                                                    "not read", skipped=True)]
                gone.append(str(path))
            elif path.is_file():
                entry = entries[str(path)] = parse_entry(path, self.tables)
                if entry.figure is not None:
                    holder = site.figures.get(entry.figure.figid)
                    if holder is not None and holder.src_path != shown:
                        raise NeedsFullBuild(f"{shown} takes figid {entry.figure.figid} of {holder.src_path}")
                    added.append(entry.figure)
                if entry.problems:
                    self.file_problems[shown] = list(entry.problems)
                    for problem in entry.problems:  # in the terminal too, not only on the pages
                        log.warning("%s", problem)
            else:
                gone.append(str(path))
        if removed and any("duplicate figid" in p.message for ps in self.file_problems.values() for p in ps):
            raise NeedsFullBuild("a record that lost a duplicate figid may now win")
        if not _fits(site, removed, added):
            raise NeedsFullBuild("two records hold one figid")
        problems: list[Problem] = []
        edit = apply_edit(site, removed, added, problems)
        for problem in problems:
            self.file_problems.setdefault(problem.src_path, []).append(problem)
        return edit, entries, gone


def _plans_from(old: Shape | None, gathered, key: str) -> bool:
    """Can the output `old` describes be updated from the gathered model's edit? Only if it was made
    with what `key` names and shows the store's generation that edit starts from."""
    return old is not None and old.key == key and not gathered.remade \
        and old.generation is not None and old.generation == gathered.generation


def build(settings: Settings, root: Path, strict: bool = False, jobs: int | None = None,
          force: bool = False, use_cache: bool = True, progress: bool = False) -> BuildResult:
    """Build the site into the output folder (one update of a new engine); on any failure no file of it
    is half-written, and the next build completes what a killed one began (see `write`).

    When nothing the build reads changed since the last build (and its output was not replaced),
    nothing is done, unless `force`. Records whose files did not change come from the model store,
    unless not `use_cache`. With `progress`, long stages draw a bar on the terminal.
    """
    return Engine(settings, root, jobs, use_cache).update(force=force, strict=strict, progress=progress)
