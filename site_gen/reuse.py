"""What a rebuild can take from the last build's output instead of rendering it again.

After each build, the shape of the site is kept beside the output: a digest of everything every page
depends on (generator, settings, build date, assets, organism files), a digest of each template with
every template it depends on (`render.template_users`), a digest of each figure's source, a digest of
each entity, the order of every list and the redirects. The next build compares its own shape with
it. When the digest of everything differs, every page is rendered. Otherwise only these pages are:

- every page made with a template that changed or depends on one that did (a stub: `redirect.html`);
- the page and data files of each figure whose source changed, was added or went away;
- every page of each entity that changed (its name, its figures, their order) or that a changed figure
  mentions (its list shows that figure's entry);
- the page of each figure that mentions an entity whose reference changed (a figure page's JSON-LD
  names every entity it mentions, and an edit of another record can change the name most figures use);
- each page of an overview or a collection whose slice of the list changed or shows a changed figure
  or entity, and every page of a list whose length changed (each page states it);
- the home, search, downloads and 404 pages, and the redirect stubs that are new.

Every other page is left as the last build wrote it (updated in place, `write.SiteUpdater`), or
hard-linked from it when a new site is made beside it; the rebuild checks the output is the one the
shape was saved with. Anything missing there is rendered. The shape keeps every path the last build
wrote, so that an update in place removes those this build does not make. The catalogue-wide files made of a segment
per figure (the download, the search data, the gene sets) keep the layout of their segments in the
shape: a rebuild copies the segments of unchanged figures from the last build's files.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import operator
import pickle
from dataclasses import dataclass
from pathlib import Path

import orjson

from site_gen import __version__
from site_gen.index import ENTITY_SECTIONS, ITEMS_OF, Chemical, Disease, Entity, Gene, Organism, Page, Site
from site_gen.jsonld import shown_on_figures
from site_gen.render import make_environment, template_users
from site_gen.write import replace_file

log = logging.getLogger(__name__)


@dataclass
class Shape:
    key: str  # digest of everything every page depends on
    output: tuple  # identity of the output folder this shape describes
    figures: dict  # figid → digest of its source
    entities: dict  # kind → {key: digest}
    refs: dict  # kind → {key: digest of what a figure page shows of the entity}
    figure_ids: tuple
    entity_lists: dict  # kind → keys in list order
    collections: dict  # group → {name: figids}
    redirects: frozenset  # (from URL, to URL)
    templates: dict = dataclasses.field(default_factory=dict)  # name → digest of it and what it depends on
    layouts: dict = dataclasses.field(default_factory=dict)  # out path → Layout of each per-figure file
    claims: frozenset = frozenset()  # every output path the build wrote (the search index's aside)


def _tree_bytes(digest, folder: Path, pattern: str = "*") -> None:
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
        digest.update(f"\0{path.relative_to(folder).as_posix()}\0".encode())
        digest.update(path.read_bytes())


def global_key(site: Site, static: Path, organism_files: list[Path]) -> str:
    """A digest of what every page may depend on besides its own figures, entities and templates."""
    digest = hashlib.blake2b(f"{__version__}|{site.settings!r}|{site.build_date}".encode(), digest_size=16)
    _tree_bytes(digest, Path(__file__).parent, "*.py")  # the generator's own code
    _tree_bytes(digest, static)
    for path in organism_files:
        digest.update(f"\0{path}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# The fields of the entities made only of text, tuples of text and None, read in one call.
_PLAIN_FIELDS = {cls: operator.attrgetter(*(f.name for f in dataclasses.fields(cls))) for cls in (Gene, Chemical, Disease)}


def entity_digest(entity: Entity) -> bytes:
    """A digest of every field; a set is sorted first, as its order varies between processes."""
    fields = _PLAIN_FIELDS.get(type(entity))
    if fields is not None:  # as JSON: a tenth of the time of its repr, for 150,000 genes
        return hashlib.blake2b(orjson.dumps(fields(entity)), digest_size=12).digest()
    if isinstance(entity, Organism) and entity.mined_only:
        entity = dataclasses.replace(entity, mined_only=tuple(sorted(entity.mined_only)))
    return hashlib.blake2b(repr(entity).encode(), digest_size=12).digest()


def ref_digest(entity: Entity) -> bytes:
    return hashlib.blake2b(shown_on_figures(entity), digest_size=12).digest()


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


def shape_of(site: Site, key: str, source_digests: dict[str, bytes], templates: dict[str, bytes]) -> Shape:
    return Shape(
        key=key,
        output=(),
        figures={figid: source_digests.get(fig.src_path, b"") for figid, fig in site.figures.items()},
        entities={kind: {k: entity_digest(e) for k, e in site.entity_tables[kind].items()} for kind in ENTITY_SECTIONS},
        refs={kind: {k: ref_digest(e) for k, e in site.entity_tables[kind].items()} for kind in ENTITY_SECTIONS},
        figure_ids=site.figure_ids,
        entity_lists={kind: tuple(site.entity_tables[kind]) for kind in ENTITY_SECTIONS},
        collections=site.collections,
        redirects=frozenset((r.from_url, r.to_url) for r in site.redirects),
        templates=templates,
    )


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
class Fresh:
    """What must be rendered; everything else may be linked from the last build."""

    pages: dict  # output path → Page, of the pages to render
    figures: set  # figids whose page and data files change
    redirects: frozenset  # (from URL, to URL) of stubs to render
    shown: set  # figids whose page changes (`figures`, and those that mention an entity whose reference changed)
    layouts: dict  # out path → Layout of each per-figure file of the last build
    templates: set  # names of the templates that changed, with what they depend on

    def page(self, page: Page) -> bool:
        return page.out_path in self.pages or page.template in self.templates


def list_page_changed(site: Site, old: tuple, new: tuple, number: int, changed) -> bool:
    """Does page `number` of a list differ between its `old` and `new` items, given the items whose
    entries `changed`? Every page states the list's length, so a new length changes them all."""
    now = site.page_slice(new, number)
    return len(old) != len(new) or now != site.page_slice(old, number) or bool(changed) and not changed.isdisjoint(now)


def fresh_outputs(old: Shape | None, new: Shape, site: Site) -> Fresh | None:
    """What differs between the last build's site and this one, or None when everything may."""
    if old is None or old.key != new.key:
        return None
    changed = {f for f, d in new.figures.items() if old.figures.get(f) != d} | (old.figures.keys() - new.figures.keys())
    touched: dict[str, set] = {}
    for kind in ENTITY_SECTIONS:
        was, now = old.entities.get(kind, {}), new.entities[kind]
        keys = {k for k, d in now.items() if was.get(k) != d}
        items_of = ITEMS_OF[kind]
        for figid in changed:
            if figid in site.figures:
                keys |= {item[0] for item in items_of(site.figures[figid])}
        touched[kind] = keys
    shown = set(changed)
    for kind in ENTITY_SECTIONS:  # an entity that was there before: only changed figures can mention a new one
        was, table = old.refs.get(kind, {}), site.entity_tables[kind]
        for key, digest in new.refs[kind].items():
            if was.get(key, digest) != digest:
                shown.update(table[key].figids)
    groups = site.page_groups
    pages: dict[str, Page] = {p.out_path: p for p in groups["fixed"]}
    for figid in shown:
        pages |= {p.out_path: p for p in groups.get(("figure", figid), ())}
    for kind, keys in touched.items():
        for key in keys:
            pages |= {p.out_path: p for p in groups.get((kind, key), ())}
    lists = {"figure": (old.figure_ids, new.figure_ids, changed)}
    lists |= {kind: (old.entity_lists.get(kind, ()), new.entity_lists[kind], touched[kind]) for kind in ENTITY_SECTIONS}
    for kind, (was, now, dirty) in lists.items():
        overview = groups[("overview", kind)]
        whole = kind == "organism" and dirty  # the organisms overview groups every organism by kind
        for page in overview:
            if whole or list_page_changed(site, was, now, page.number, dirty):
                pages[page.out_path] = page
    for page in groups["collections"]:
        if page.kind != "collection":
            pages[page.out_path] = page
            continue
        group, name = page.key.split("/", 1)
        was, now = old.collections.get(group, {}).get(name, ()), site.collections[group].get(name, ())
        if list_page_changed(site, was, now, page.number, changed):
            pages[page.out_path] = page
    templates = {name for name in new.templates.keys() | old.templates.keys()
                 if new.templates.get(name) != old.templates.get(name)}
    redirects = new.redirects if "redirect.html" in templates else new.redirects - old.redirects
    return Fresh(pages, changed, redirects, shown, old.layouts, templates)
