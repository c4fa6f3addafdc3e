"""What a rebuild renders: the outputs an edit of the model changed, decided from the edit itself.

Build and preview alike apply the records that changed to the index they already have
(`index.update_site`, through `apply_edit`), which says which figures and entities the edit touched
and what those entities were before; `plan_fresh` turns that into the outputs to render:

- the page and data files of each figure added, changed or gone;
- every page of each entity the edit touched (its name, its figures, their order; a changed figure's
  entry in its list);
- the page of each figure that mentions an entity whose reference changed (a figure page's JSON-LD
  names every entity it mentions, and an edit of another record can change the name most figures use);
- each page of an overview or a collection whose slice of the list changed or shows a changed figure
  or entity, and every page of a list whose length changed (each page states it);
- the fixed pages (home, search, downloads, 404), and the redirect stubs that are new or changed;
- every page made with a template that changed, or that extends, includes or imports one that did
  (`render.template_users`).

A build keeps the shape of its output beside it (`Shape`): the digest of everything every page
depends on besides the model (generator, settings, build date, assets, organism files, the folders
files live in), the digest of
each template with those it depends on, the paths of the catalogue-wide files it wrote, and the model
store's generation its output shows. The next build plans from the edit only when all of these still hold; otherwise it
renders everything. Every other page is left as the last build wrote it (updated in place,
`write.SiteUpdater`), or hard-linked from it when a new site is made beside it. The catalogue-wide
files made of a segment per figure (the download, the search data, the gene sets) keep the layout of
their segments in the shape: a rebuild copies the segments of unchanged figures from the last build's
files.
"""
from __future__ import annotations

import hashlib
import logging
import dataclasses
import pickle
from dataclasses import dataclass, field
from pathlib import Path

from site_gen import __version__
from site_gen.cache import code_digest
from site_gen.index import ENTITY_SECTIONS, Entity, Page, Site, figure_downloads, gene_sets, update_site
from site_gen.jsonld import shown_on_figures
from site_gen.model import Figure
from site_gen.prose import outline
from site_gen.render import make_environment, template_users
from site_gen.write import replace_file

log = logging.getLogger(__name__)


@dataclass
class Shape:
    key: str  # digest of everything every page depends on besides the model and the templates
    output: tuple  # identity of the output folder this shape describes
    generation: int | None = None  # of the model store whose index the output shows; None: not known
    templates: dict = field(default_factory=dict)  # name → digest of it and what it depends on
    layouts: dict = field(default_factory=dict)  # out path → Layout of each per-figure file
    catalogue: frozenset | None = None  # the paths of the catalogue-wide files and assets it wrote
    files: int = 0  # how many files the output has (its search index aside)
    unindexed: frozenset = frozenset()  # figids whose search documents changed since its search index was made


def _tree_bytes(digest, folder: Path, pattern: str = "*") -> None:
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
        digest.update(f"\0{path.relative_to(folder).as_posix()}\0".encode())
        digest.update(path.read_bytes())


def global_key(site: Site, static: Path, organism_files: list[Path]) -> str:
    """A digest of what every page may depend on besides its own figures, entities and templates."""
    digest = hashlib.blake2b(f"{__version__}|{site.settings!r}|{site.build_date}|{site.folders!r}|"
                             f"{outline(site.prose)!r}".encode(),
                             digest_size=16)  # (the site's own pages: their menu is on every page)
    digest.update(code_digest())  # the generator's own code
    _tree_bytes(digest, static)
    for path in organism_files:
        digest.update(f"\0{path}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def template_digests(templates: Path) -> dict[str, bytes]:
    """Each template's digest: of its own text and that of every template it depends on."""
    texts = {p.name: p.read_bytes() for p in templates.glob("*.html") if p.is_file()}
    out = {}
    for name, uses in template_users(make_environment(templates), templates).items():
        digest = hashlib.blake2b(digest_size=16)
        for used in sorted(uses):
            digest.update(f"\0{used}\0".encode() + texts.get(used, b"\0missing"))
        out[name] = digest.digest()
    return out


def changed_templates(old: dict[str, bytes], new: dict[str, bytes]) -> set[str]:
    return {name for name in new.keys() | old.keys() if new.get(name) != old.get(name)}


def shape_path(cache: Path) -> Path:
    return cache / "shape.pickle"


def load_shape(cache: Path, output_identity: tuple) -> Shape | None:
    """The last build's shape, if it describes the output folder as it is now."""
    try:
        shape = pickle.loads(shape_path(cache).read_bytes())
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged shape only means rendering everything
        log.debug("last build's shape unreadable (%s); rendering everything", exc)
        return None
    return shape if isinstance(shape, Shape) and shape.output == output_identity else None


def save_shape(cache: Path, shape: Shape) -> None:
    replace_file(shape_path(cache), pickle.dumps(shape, protocol=pickle.HIGHEST_PROTOCOL))


@dataclass
class Before:
    """What the site was before an edit, as far as deciding what the edit changed needs: each is a
    reference to what the edit replaces, not a copy of it."""

    groups: dict  # page_groups (a shallow copy)
    redirects: tuple  # the site's redirects (the same tuple while no alias changes)
    figures: dict  # figid → Figure
    figure_ids: tuple
    entity_lists: dict  # kind → its entities in list order
    collections: dict

    @classmethod
    def of(cls, site: Site) -> Before:
        return cls(dict(site.page_groups), site.redirects, site.figures, site.figure_ids, dict(site.entity_lists),
                   site.collections)


@dataclass
class Edit:
    """An edit applied to a site: what it was, the figures added, changed or gone, the entity keys
    touched, and those entities as they were ({kind: {key: Entity, or None for a new one}})."""

    was: Before
    figids: set
    touched: dict
    before: dict


def apply_edit(site: Site, removed: list[Figure], added: list[Figure], problems: list) -> Edit:
    """`index.update_site`, remembering what the site was."""
    was = Before.of(site)
    touched, before = update_site(site, removed, added, problems)
    return Edit(was, {f.figid for f in removed} | {f.figid for f in added},
                {kind: keys for kind, keys in touched.items() if keys}, before)


@dataclass
class Fresh:
    """What must be rendered; everything else is as the last build wrote it."""

    pages: dict  # output path → Page, of the pages to render
    figures: set  # figids whose page and data files change
    redirects: frozenset  # (from URL, to URL) of stubs to render
    shown: set  # figids whose page changes (`figures`, and those that mention an entity whose reference changed)
    stale: set  # output paths of pages, stubs and data files the edit took away
    added: set = field(default_factory=set)  # output paths of the pages the edit added
    templates: set = field(default_factory=set)  # names of the templates that changed, with what they depend on
    layouts: dict = field(default_factory=dict)  # out path → Layout of each per-figure file of the last build
    edit: Edit | None = None  # the records' edit this was planned from

    def page(self, page: Page, out_path: str) -> bool:
        return out_path in self.pages or page.template in self.templates


def list_page_changed(site: Site, old: tuple, new: tuple, number: int, changed) -> bool:
    """Does page `number` of a list differ between its `old` and `new` items, given the items whose
    entries `changed`? Every page states the list's length, so a new length changes them all."""
    now = site.page_slice(new, number)
    return len(old) != len(new) or now != site.page_slice(old, number) or bool(changed) and not changed.isdisjoint(now)


def _mentioning_changed_refs(site: Site, before: dict[str, dict]) -> set[str]:
    """The figures whose pages show an entity (by its JSON-LD reference) that an edit changed."""
    figids: set[str] = set()
    for kind, entities in before.items():
        for key, old in entities.items():
            new = site.entity_tables[kind].get(key)
            if old is not None and new is not None and shown_on_figures(old) != shown_on_figures(new):
                figids.update(new.figids)
    return figids


def _same_but_figures(old: Entity | None, new: Entity | None) -> bool:
    """Are these an entity before and after an edit with the same fields and as many figures (which may
    be others, or in another order)?"""
    return (old is not None and new is not None and len(old.figids) == len(new.figids)
            and dataclasses.replace(old, figids=()) == dataclasses.replace(new, figids=()))


def _gene_sets(fig) -> set[str] | None:
    return set(gene_sets(fig)) if fig is not None else None


def plan_fresh(site: Site, edit: Edit | None, templates: set[str] = frozenset()) -> Fresh:
    """What an edit (None: no record changed) and the templates that changed make stale."""
    groups, where = site.page_groups, site.out_path
    pages: dict[str, Page] = {where(p.url): p for p in groups["fixed"]}
    if edit is None:
        return Fresh(pages, set(), frozenset(), set(), set(), templates=set(templates))
    was, changed = edit.was, edit.figids
    stale: set[str] = set()
    added: set[str] = set()
    shown = changed | _mentioning_changed_refs(site, edit.before)

    def replan(key) -> None:  # every page of a group; those it had and no longer has are stale
        new = groups.get(key, ())
        pages.update((where(p.url), p) for p in new)
        had, has = {where(p.url) for p in was.groups.get(key, ())}, {where(p.url) for p in new}
        stale.update(had - has)
        added.update(has - had)

    for figid in shown:
        replan(("figure", figid))
    # An entity whose own fields and number of figures stay, but for the order of its figures: only the
    # pages of its list whose entries moved or changed (a figure's title edit shows on one page of each of
    # its genes and organisms, not on every page of one that thousands of figures mention). Not when an
    # organism came or went (gene pages and figure entries link to organism pages), nor for organisms
    # when an edited figure's gene sets changed (an organism's pages link to its gene sets, if any).
    organisms = edit.before.get("organism", {})
    same_links = all(old is not None and key in site.entity_tables["organism"] for key, old in organisms.items())
    same_sets = all(_gene_sets(was.figures.get(figid)) == _gene_sets(site.figures.get(figid)) for figid in changed)
    for kind, keys in edit.touched.items():
        tables, before = site.entity_tables[kind], edit.before.get(kind, {})
        for key in keys:
            old, new = before.get(key), tables.get(key)
            if not same_links or kind == "organism" and not same_sets or not _same_but_figures(old, new):
                replan((kind, key))
                continue
            for page in groups.get((kind, key), ()):
                if list_page_changed(site, old.figids, new.figids, page.number, changed):
                    pages[where(page.url)] = page
    lists = {"figure": (was.figure_ids, site.figure_ids, changed)}
    lists |= {kind: (was.entity_lists.get(kind, ()), site.entity_lists[kind], frozenset()) for kind in ENTITY_SECTIONS}
    for kind, (old, now, dirty) in lists.items():
        overview = groups[("overview", kind)]
        had, has = {where(p.url) for p in was.groups.get(("overview", kind), ())}, {where(p.url) for p in overview}
        stale.update(had - has)
        added.update(has - had)
        whole = kind == "organism" and bool(edit.touched.get("organism"))  # grouped by kind: every page
        for page in overview:
            if whole or list_page_changed(site, old, now, page.number, dirty):
                pages[where(page.url)] = page
    old_pages = {where(p.url): p for p in was.groups.get("collections", ())}
    for page in groups["collections"]:
        if page.kind != "collection" or old_pages.get(where(page.url)) != page:
            pages[where(page.url)] = page
            continue
        group, name = page.key.split("/", 1)
        old, now = was.collections.get(group, {}).get(name, ()), site.collections[group].get(name, ())
        if list_page_changed(site, old, now, page.number, changed):
            pages[where(page.url)] = page
    has = {where(p.url) for p in groups["collections"]}
    stale.update(set(old_pages) - has)
    added.update(has - set(old_pages))
    made: set[str] = set()
    if "redirect.html" in templates:
        redirects = {(r.from_url, r.to_url) for r in site.redirects}
    elif site.redirects is was.redirects:  # no alias changed (`index.update_site` keeps the tuple)
        redirects = set()
    else:
        before = {r.from_url: r for r in was.redirects}
        redirects = {(r.from_url, r.to_url) for r in site.redirects if before.get(r.from_url) != r}
        made = {where(r.from_url) for r in site.redirects}
        stale.update({where(r.from_url) for r in was.redirects} - made)
    for figid in changed:
        if (fig := was.figures.get(figid)) is not None:
            stale.update(where(url) for _label, url in figure_downloads(fig))
        if (fig := site.figures.get(figid)) is not None:
            made.update(where(url) for _label, url in figure_downloads(fig))
    stale -= pages.keys() | made  # (a path can change hands: a figure's page to a new alias's stub)
    return Fresh(pages, set(changed), frozenset(redirects), shown, stale, added, set(templates), edit=edit)


def same_page_urls(site: Site, fresh: Fresh) -> bool:
    """Does the site have the same pages, in the same order, as before the edit `fresh` was planned
    from (what its sitemaps list)? No page came or went, and no figure or entity moved in its list."""
    edit = fresh.edit
    if edit is None or fresh.added or fresh.stale or edit.was.figure_ids != site.figure_ids:
        return False
    for kind, old in edit.was.entity_lists.items():
        new = site.entity_lists.get(kind)
        if old is not new and (new is None or [e.key for e in old] != [e.key for e in new]):
            return False
    return True
