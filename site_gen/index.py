"""Stage 3, index: [Figure] → Site. Entities, slugs, URLs, redirects and collisions, made once."""
from __future__ import annotations

import bisect
import heapq
import logging
import re
import unicodedata
import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from site_gen.errors import Problem
from site_gen.load import find_field_line
from site_gen.model import Figure, OrganismInfo, table_rows
from site_gen.settings import Settings

log = logging.getLogger(__name__)


SPLIT_SECTIONS = ("figures", "genes", "chemicals", "diseases", "organisms", "data")
SPLIT_FOLDER = "_"
KNOWN_SUFFIXES = (".html", ".xml", ".txt", ".json", ".tsv", ".jsonl", ".gmt", ".gpml")
# What a prefix folder's name may hold: characters a URL path carries as they are, so that a rewrite
# rule's prefix matches the request path the host sees.
PREFIX_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~")


def figure_url(figid: str) -> str:
    return f"/figures/{figid}.html"


def slugify_organism(name: str) -> str:
    """`Homo sapiens` → `homo_sapiens`, the reference site's organism URL."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")


def paged_url(first_url: str, number: int) -> str:
    """URL of page `number` of a list whose first page is `first_url`."""
    if number == 1:
        return first_url
    if first_url.endswith("/"):
        return f"{first_url}page-{number}.html"
    return f"{first_url.removesuffix('.html')}-p{number}.html"


def is_overview(name: str) -> bool:
    """A section's own list pages (`index.html`, `page-N.html`) stay in its folder."""
    return name == "index.html" or (name.startswith("page-") and name[5:-5].isdigit() and name.endswith(".html"))


def _section_name(url: str) -> tuple[str, str] | None:
    """(section, file name) of a URL of one of the split sections' files; None for any other URL."""
    section, slash, name = url.lstrip("/").partition("/")
    if not slash or "/" in name or not name or section not in SPLIT_SECTIONS:
        return None
    if not name.endswith(KNOWN_SUFFIXES):  # figids hold dots: `PMC2864807__09_173_.de_ref2`
        name += ".html"
    return section, name


@dataclass(frozen=True)
class Folders:
    """Where each URL's file lives in the output.

    Plain folders wherever the host's folder limit allows: `/figures/PMC1__F1.html` is the file
    `figures/PMC1__F1.html`, so the site works from any static host and from disk. A section with more
    files than the limit has them spread over folders named by a prefix of the file name
    (`figures/_/P/PM/PMC/PMC3/PMC3001__F1.html`, `prefix_folder`), chosen from the actual names
    (`plan_folders`) so that each stays under the limit; the host serves the public URLs from there
    through one rewrite rule per prefix (`rewrite_rules`). A name lives in the folder of the longest
    prefix of its section that it starts with, or in the section's folder if none.
    """

    splits: tuple = ()  # ((section, (prefix, ...)), ...), sections A-Z, prefixes A-Z

    def __post_init__(self):
        object.__setattr__(self, "_prefixes", {section: frozenset(prefixes) for section, prefixes in self.splits})
        object.__setattr__(self, "_lengths", {section: sorted({len(p) for p in prefixes}, reverse=True)
                                              for section, prefixes in self.splits})

    def prefix_of(self, section: str, name: str) -> str | None:
        prefixes = self._prefixes.get(section)
        if not prefixes or is_overview(name):
            return None
        for length in self._lengths[section]:
            if name[:length] in prefixes:
                return name[:length]
        return None

    def out_path(self, url: str) -> str:
        """`/genes/` → `genes/index.html`; `/figures/PMC1__F1` → `figures/PMC1__F1.html` (served at the
        extensionless URL by Netlify's pretty URLs and by `serve`), or in its prefix folder."""
        path = url.lstrip("/")
        if path == "" or path.endswith("/"):
            return path + "index.html"
        found = _section_name(path)
        if found is not None:
            section, name = found
            prefix = self.prefix_of(section, name) if self.splits else None
            return f"{section}/{name}" if prefix is None else f"{prefix_folder(section, prefix)}/{name}"
        if "." not in path.rsplit("/", 1)[-1]:
            path += ".html"
        return path

    def rewrite_rules(self, base_path: str = "") -> list[str]:
        """Netlify `_redirects` rules serving each prefix folder's files at their public URLs (a rewrite:
        status 200, the URL stays). A file at the very path (a section's list pages) is served as it is."""
        return [f"{base_path}/{section}/{prefix}* {base_path}/{prefix_folder(section, prefix)}/{prefix}:splat 200"
                for section, prefixes in self.splits
                for prefix in sorted(prefixes, key=lambda p: (-len(p), p))]  # the longest first: it wins


PLAIN = Folders()


def prefix_folder(section: str, prefix: str) -> str:
    """The folder of a prefix's files, nested one level per character (`figures/_/P/PM/PMC/PMC3`), so
    that no folder on the way holds more than one entry per character a prefix can have."""
    return "/".join((section, SPLIT_FOLDER, *(prefix[:n] for n in range(1, len(prefix) + 1))))


def split_prefixes(names: list[str], limit: int, room: int | None = None) -> tuple[str, ...]:
    """Prefix folders for `names` (sorted) such that no folder holds more than `limit` entries, and
    the section's own folder no more than `room` of them (its list pages aside).

    Walking the trie of the names, a node with too many moves its largest children out into folders
    of their own (recursing into any child still too big) until what remains fits: few folders, so
    few rewrite rules. A node's remaining names stay in its own folder (the section's, at the top), so
    prefixes nest; the rules list the longer first, and Netlify takes the first that matches. Names
    whose next character cannot be part of a folder name stay with their node."""
    out: list[str] = []

    def split(lo: int, hi: int, depth: int, room: int) -> int:
        # names[lo:hi] share their first `depth` characters, and are more than `room`; how many stay
        children = []
        i = lo
        while i < hi:
            name = names[i]
            prefix = name[:depth + 1]
            if len(name) <= depth or name[depth] not in PREFIX_CHARS or prefix.startswith("."):
                i += 1  # stays (`prefix_folder` would make a folder named `.` or `..`)
                continue
            j = bisect.bisect_left(names, prefix + "\U0010ffff", i, hi)
            children.append((j - i, prefix, i, j))
            i = j
        rest, moved = hi - lo, 0
        for size, prefix, i, j in sorted(children, key=lambda c: (-c[0], c[1])):
            if rest + moved <= room:  # (each child moved out is a folder in this one)
                break
            if size <= limit or split(i, j, depth + 1, limit):  # (no rule for a folder left empty)
                out.append(prefix)
            rest, moved = rest - size, moved + 1
        return rest

    room = limit if room is None else room
    if len(names) > room:
        split(0, len(names), 0, room)
    return tuple(sorted(out))


def data_url(figid: str, suffix: str) -> str:
    return f"/data/{figid}{suffix}"


def figure_downloads(fig: Figure) -> list[tuple[str, str]]:
    """(label, URL) of each per-figure download that exists."""
    out = [("All mentions (JSON)", data_url(fig.figid, ".json"))]
    # not the tables themselves: a figure of the saved index holds only how many rows they have
    rows = table_rows(fig)
    for kind, count in zip(("genes", "chemicals", "diseases"), rows):
        if count:
            out.append((f"{kind.capitalize()} (TSV)", data_url(fig.figid, f"-{kind}.tsv")))
    if rows[0] or rows[1]:
        out.append(("Genes and chemicals for PathVisio (GPML)", data_url(fig.figid, ".gpml")))
    return out


def _section_urls(site: Site, section: str):
    """The URLs of a split section's files that can move to a prefix folder (all but its list pages)."""
    groups = site.page_groups
    if section == "figures":
        yield from (page.url for figid in site.figures for page in groups[("figure", figid)])
        yield from (r.from_url for r in site.redirects)
    elif section == "data":
        yield from (url for fig in site.figures.values() for _label, url in figure_downloads(fig))
    else:
        kind = SECTION_KINDS[section]
        yield from (page.url for key in site.entity_tables[kind] for page in groups[(kind, key)])


def section_sizes(site: Site) -> dict[str, int]:
    """How many files each split section has outside its list pages, counted without naming them."""
    groups = site.page_groups
    sizes = {"figures": len(site.figures) + len(site.redirects),
             "data": sum(len(figure_downloads(fig)) for fig in site.figures.values())}
    for section, kind in SECTION_KINDS.items():
        sizes[section] = sum(len(groups[(kind, key)]) for key in site.entity_tables[kind])
    return sizes


def plan_folders(site: Site) -> Folders:
    """Plain folders, unless the host has a folder limit that a section's files exceed."""
    limit = site.settings.folder_limit
    if site.settings.host != "netlify":
        return PLAIN
    splits = []
    for section, size in sorted(section_sizes(site).items()):
        kind = "figure" if section == "figures" else SECTION_KINDS.get(section)
        room = limit - (len(site.page_groups.get(("overview", kind), ())) if kind else 0) - 1  # (its lists, `_/`)
        if size > room:
            names = sorted(_section_name(url)[1] for url in _section_urls(site, section))
            splits.append((section, split_prefixes(names, limit, max(0, room))))
    return Folders(tuple(splits))


@dataclass(frozen=True, slots=True)
class Entity:
    """A gene, chemical, disease or organism, and the figures that mention it (newest first)."""

    kind: str
    key: str
    name: str
    url: str
    figids: tuple[str, ...]
    words: tuple[str, ...] = ()  # OCR words it was found as


@dataclass(frozen=True, slots=True)
class Gene(Entity):
    organism: str | None = None  # the organism the NCBI Gene ID belongs to (Latin name), if the records say
    taxon: str | None = None  # its NCBI Taxonomy ID
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Chemical(Entity):
    chebi: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Disease(Entity):
    mesh: str | None = None
    doid: str | None = None


@dataclass(frozen=True, slots=True)
class Organism(Entity):
    mined_only: frozenset = frozenset()  # figids where the organism was only found by text mining
    info: OrganismInfo | None = None

    @property
    def group(self) -> str:
        return (self.info.group if self.info and self.info.group else None) or "Other"


@dataclass(frozen=True, slots=True)
class Redirect:
    from_url: str
    to_url: str
    src_path: str


# The saved index (`cache.pack_site`) keeps entities and redirects as tuples of their fields and sets
# them back through the slots: the index holds 400,000 of them at 100,000 figures, and pickling the
# objects (each slot's state in a dict) takes three times as long to load.
ENTITY_CLASSES = {"gene": Gene, "chemical": Chemical, "disease": Disease, "organism": Organism}
_SLOTS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in (*ENTITY_CLASSES.values(), Redirect)}
_SLOT_SETTERS = {cls: tuple(getattr(cls, name).__set__ for name in names) for cls, names in _SLOTS.items()}


def _slot_state(obj) -> tuple:
    return tuple(map(obj.__getattribute__, _SLOTS[type(obj)]))


def _from_slots(cls: type, values: tuple):
    obj = object.__new__(cls)
    for put, value in zip(_SLOT_SETTERS[cls], values):
        put(obj, value)
    return obj


class Page(NamedTuple):
    """One HTML page of the site: what to render, and where it goes (a named tuple: there are many)."""

    url: str
    template: str
    kind: str
    key: str | None = None
    number: int = 1
    pages: int = 1


@dataclass
class Site:
    settings: Settings
    build_date: str
    figures: dict[str, Figure]  # figid → Figure, newest first
    entity_tables: dict  # kind → {key → Entity}, each A-Z by name
    redirects: tuple[Redirect, ...] = ()
    page_groups: dict = field(default_factory=dict)  # ("figure", figid) | (kind, key) | ("overview", kind) → pages
    entity_lists: dict = field(default_factory=dict)  # kind → its entities as a tuple, for paging
    figure_ids: tuple[str, ...] = ()
    tallies: dict = field(default_factory=dict)  # kind → Tally, so an edit can update the index (build(editable))
    organism_info: dict = field(default_factory=dict)  # slug → OrganismInfo from the organism files
    redirect_problems: list = field(default_factory=list)  # from the last plan_redirects
    index_problems: list = field(default_factory=list)  # what indexing the figures found (duplicates, names)
    top: dict = field(default_factory=dict)  # kind → the TOP entities in most figures, most first
    gene_set_figids: dict = field(default_factory=dict)  # organism's slug → figids with a gene set of it
    gene_set_names: dict = field(default_factory=dict)  # organism's slug → its Latin name
    collections: dict = field(default_factory=dict)  # "years" | "pathways" → {name: figids, newest first}
    folders: Folders = PLAIN  # where each URL's file lives (`plan_folders`)
    prose: tuple = ()  # the site's pages written in Markdown (`prose.ProsePage`), A-Z by URL

    def out_path(self, url: str) -> str:
        """The output path of the file a URL of the site names."""
        return self.folders.out_path(url)

    @property
    def genes(self) -> dict[str, Gene]:
        return self.entity_tables["gene"]

    @property
    def chemicals(self) -> dict[str, Chemical]:
        return self.entity_tables["chemical"]

    @property
    def diseases(self) -> dict[str, Disease]:
        return self.entity_tables["disease"]

    @property
    def organisms(self) -> dict[str, Organism]:
        return self.entity_tables["organism"]

    def entities(self, kind: str) -> dict:
        return self.entity_tables[kind]

    @property
    def pages(self) -> tuple[Page, ...]:
        """Every page, in a stable order: fixed pages, figures, then each kind's overview and entities."""
        return tuple(self.iter_pages())

    def iter_pages(self):
        """`pages`, one at a time."""
        groups = self.page_groups
        yield from groups["fixed"]
        yield from groups[("overview", "figure")]
        for figid in self.figures:
            yield from groups[("figure", figid)]
        for kind in ENTITY_SECTIONS:
            yield from groups[("overview", kind)]
            for key in self.entity_tables[kind]:
                yield from groups[(kind, key)]
        yield from groups["collections"]

    def gene_set_figures(self) -> dict[str, tuple[str, ...]]:
        """Organism's slug → the figures with a gene set of it, in catalogue order; A-Z by slug."""
        rank = {figid: i for i, figid in enumerate(self.figures)}
        return {slug: tuple(sorted(figids, key=rank.__getitem__))
                for slug, figids in sorted(self.gene_set_figids.items())}

    def note_gene_sets(self, fig: Figure, sign: int) -> None:
        """Count a figure's gene sets in (+1) or out (-1)."""
        for organism in gene_sets(fig):
            slug = slugify_organism(organism)
            if not slug:
                continue
            if sign > 0:
                self.gene_set_figids.setdefault(slug, set()).add(fig.figid)
                self.gene_set_names.setdefault(slug, organism)
            else:
                figids = self.gene_set_figids.get(slug, set())
                figids.discard(fig.figid)
                if not figids:
                    self.gene_set_figids.pop(slug, None)
                    self.gene_set_names.pop(slug, None)

    def figure_pages(self):
        return (self.page_groups[("figure", figid)][0] for figid in self.figures)

    def _sections(self):
        """(kind, its keys) of each kind of page group with one group per key: figures, then entities."""
        yield "figure", self.figures
        for kind in ENTITY_SECTIONS:
            yield kind, self.entity_tables[kind]

    def pages_with_templates(self, uses, samples: bool = False):
        """The pages whose template `uses(template)` accepts, in `iter_pages` order; with `samples`,
        only the first page of each section's pages (the others have the same template). A section's
        pages all have the template of its first: one test per section, not one per page."""
        groups = self.page_groups
        yield from (page for page in groups["fixed"] if uses(page.template))
        for kind, keys in self._sections():
            yield from (page for page in groups[("overview", kind)] if uses(page.template))
            first = next(iter(keys), None)
            if first is None or not uses(groups[(kind, first)][0].template):
                continue
            if samples:
                yield groups[(kind, first)][0]
            else:
                for key in keys:
                    yield from groups[(kind, key)]
        yield from (page for page in groups["collections"] if uses(page.template))

    def page_at(self, out_path: str) -> Page | None:
        """The page written at an output path, found from its file name (`figures/_/P/PMC1__F1.html`
        is figure PMC1__F1's, `genes/7157-p2.html` the second page of gene 7157's), else among the
        list and fixed pages; None when it is no page."""
        where, groups = self.out_path, self.page_groups
        section, name = out_path.split("/", 1)[0], out_path.rsplit("/", 1)[-1]
        stem = name.removesuffix(".html")
        first = stem.rsplit("-p", 1)[0] if re.fullmatch(r".+-p\d+", stem) else stem
        kind = "figure" if section == "figures" else SECTION_KINDS.get(section)
        if kind is not None:
            keys = {stem, first}
            if kind == "disease":  # (its key's colon is an underscore in the file name)
                keys |= {k for k, e in self.entity_tables[kind].items() if e.url.rsplit("/", 1)[1] in
                         (f"{first}.html", f"{stem}.html")}
            for key in sorted(keys):
                for page in groups.get((kind, key), ()):
                    if where(page.url) == out_path:
                        return page
        small = [groups["fixed"], groups["collections"], *(groups[("overview", k)] for k, _keys in self._sections())]
        return next((page for group in small for page in group if where(page.url) == out_path), None)

    def page_slice(self, items: tuple, number: int) -> tuple:
        size = self.settings.page_size
        return items[(number - 1) * size : number * size]

    def page_count(self, n: int) -> int:
        return max(1, -(-n // self.settings.page_size))


ENTITY_SECTIONS = {
    # kind: (folder, title of the overview, noun)
    "gene": ("genes", "Genes", "gene"),
    "chemical": ("chemicals", "Chemicals", "chemical"),
    "disease": ("diseases", "Diseases", "disease"),
    "organism": ("organisms", "Organisms", "organism"),
}


def _bump(counts: dict, item, sign: int) -> None:
    counts[item] = counts.get(item, 0) + sign
    if counts[item] <= 0:
        del counts[item]


def gene_items(fig: Figure):
    return {(m.entrez, m.symbol or m.match or m.word, m.word, (m.organism, m.taxon, m.group))
            for m in fig.genes if m.entrez}


# A figure's gene set for an organism holds at least this many distinct genes of that organism (as
# PFOCR's own gene set files do).
MIN_GENE_SET = 3


def gene_sets(fig: Figure) -> dict[str, tuple[str, ...]]:
    """A figure's gene sets: organism (Latin name) → the distinct NCBI Gene IDs of that organism it
    names, in numeric order; only organisms with at least MIN_GENE_SET of them. Genes whose organism
    is not known belong to none."""
    by_organism: dict[str, set] = {}
    for m in fig.genes:
        if m.entrez and m.organism:
            by_organism.setdefault(m.organism, set()).add(m.entrez)
    return {organism: tuple(sorted(ids, key=int)) for organism, ids in sorted(by_organism.items())
            if len(ids) >= MIN_GENE_SET}


def chemical_items(fig: Figure):
    return {(m.mesh, m.name or m.word, m.word, m.chebi) for m in fig.chemicals if m.mesh}


def disease_items(fig: Figure):
    return {(m.key, m.name or m.word, m.word, (m.mesh, m.doid)) for m in fig.diseases if m.key}


def organism_items(fig: Figure):
    """(slug, spelling, curated?) of every organism of a figure that has a usable name."""
    items = set()
    for name in fig.all_organisms:
        slug = slugify_organism(name)
        if slug:  # a name without letters or digits is reported by `check_organism_names`
            items.add((slug, name, name, fig.figid if name in fig.organisms else None))
    return items


class Tally:
    """The figures, names, OCR words and extra identifiers of every entity of one kind.

    Counts are per figure, so removing a figure undoes exactly what adding it did: an edited record
    updates the index without a pass over the catalogue.

    A tally of a saved index is read key by key (`rows`: keys → (key, `state`) of those it has, as the
    model store keeps them, one row per key): an edit reads the keys its figures mention, not the
    catalogue's hundreds of thousands. The keys it `read` are those edits changed since.
    """

    def __init__(self, items_of, rows=None):
        self.items_of = items_of
        self.figids: dict[str, set] = defaultdict(set)
        # key → {name, word or identifier: figures}: plain dicts (a Counter's missing-key hook costs a
        # Python call per mention)
        self.names: dict[str, dict] = defaultdict(dict)
        self.words: dict[str, dict] = defaultdict(dict)
        self.extra: dict[str, dict] = defaultdict(dict)
        self.rows = rows  # None: every key is in memory
        self.read: set[str] = set()  # keys read from `rows`: those of the figures applied since

    def state(self, key: str) -> tuple | None:
        """What the tally holds of a key (in memory), None when no figure mentions it."""
        if key not in self.figids:
            return None
        return (tuple(sorted(self.figids[key])), self.names[key], self.words[key], self.extra.get(key) or {})

    def keys(self):
        """The keys to save: all of them, or, for a tally read key by key, those it read (edits changed them)."""
        return self.figids.keys() if self.rows is None else self.read

    def _need(self, fig: Figure) -> None:
        missing = {item[0] for item in self.items_of(fig)} - self.read
        if not missing:
            return
        self.read |= missing
        for key, (figids, names, words, extra) in self.rows(missing):
            self.figids[key] = set(figids)
            self.names[key], self.words[key] = names, words
            if extra:
                self.extra[key] = extra

    def add(self, fig: Figure) -> set[str]:
        """apply(fig, +1), written for speed: a full build calls it once per figure and kind."""
        items = self.items_of(fig)
        words, extras, names, figids = self.words, self.extra, self.names, self.figids
        figid = fig.figid
        keys = set()
        for key, name, word, extra in items:
            counts = words[key]
            counts[word] = counts.get(word, 0) + 1
            if extra is not None:
                counts = extras[key]
                counts[extra] = counts.get(extra, 0) + 1
            if key not in keys:
                keys.add(key)
                figids[key].add(figid)
        for key, name in {(item[0], item[1]) for item in items}:
            counts = names[key]
            counts[name] = counts.get(name, 0) + 1
        return keys

    def apply(self, fig: Figure, sign: int) -> set[str]:
        """Add (+1) or remove (-1) one figure; the keys it touches."""
        if self.rows is not None:
            self._need(fig)
        if sign > 0:
            return self.add(fig)
        keys = set()
        names = set()
        for key, name, word, extra in self.items_of(fig):
            keys.add(key)
            names.add((key, name))
            _bump(self.words[key], word, sign)
            if extra is not None:
                _bump(self.extra[key], extra, sign)
        for key, name in names:
            _bump(self.names[key], name, sign)
        for key in keys:
            self.figids[key].discard(fig.figid)
            if not self.figids[key]:
                for table in (self.figids, self.names, self.words, self.extra):
                    table.pop(key, None)
        return keys

    def best_name(self, key: str) -> str:
        """The name most figures use (the first A-Z among equals)."""
        names = self.names[key]
        if len(names) == 1:
            return next(iter(names))
        return min(names.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _make_entity(kind: str, key: str, tally: Tally, rank: dict[str, int], infos: dict) -> Entity:
    figids = tuple(sorted(tally.figids[key], key=rank.__getitem__))
    name = tally.best_name(key)
    words = tuple(sorted(tally.words[key]))
    if kind == "gene":  # an NCBI Gene ID belongs to one organism: the one most figures say, if they differ
        organism, taxon, group = min(tally.extra[key].items(),
                                     key=lambda kv: (-kv[1], tuple(v or "" for v in kv[0])))[0]
        return Gene("gene", key, name, f"/genes/{key}.html", figids, words, organism, taxon, group)
    if kind == "chemical":
        return Chemical("chemical", key, name, f"/chemicals/{key}.html", figids, words,
                        chebi=tuple(sorted(c for c in tally.extra[key] if c)))
    if kind == "disease":
        mesh, doid = min(tally.extra[key], key=lambda md: (md[0] or "", md[1] or ""))
        return Disease("disease", key, name, f"/diseases/{key.replace(':', '_')}.html", figids, words,
                       mesh=mesh, doid=doid)
    info = infos.get(key)
    return _organism(key, info.latin if info else name, figids, info,
                     frozenset(f for f in figids if f not in tally.extra[key]))


def _organism(key: str, name: str, figids: tuple, info: OrganismInfo | None, mined_only: frozenset = frozenset()):
    return Organism("organism", key, name, f"/organisms/{key}.html", figids, mined_only=mined_only, info=info)


ITEMS_OF = {"gene": gene_items, "chemical": chemical_items, "disease": disease_items, "organism": organism_items}

def check_organism_names(figures, problems: list[Problem]) -> None:
    for fig in figures:
        for name in fig.all_organisms:
            if not slugify_organism(name):
                problems.append(Problem(fig.src_path, 0, "organisms", f"organism {name!r} has no usable name; ignored"))


def organism_infos_by_slug(infos, problems: list[Problem]) -> dict[str, OrganismInfo]:
    by_slug: dict[str, OrganismInfo] = {}
    for info in infos:
        slug = slugify_organism(info.latin)
        if slug in by_slug:
            problems.append(Problem(info.src_path, 0, "latin", f"same organism as {by_slug[slug].src_path}; ignored"))
        elif slug:
            by_slug[slug] = info
    return by_slug


def dedupe_figures(figures: list[Figure], problems: list[Problem]) -> dict[str, Figure]:
    """figid → Figure, newest first. A repeated figid is reported naming both files; the first file wins."""
    seen: dict[str, Figure] = {}
    for fig in sorted(figures, key=lambda f: f.src_path):
        if fig.figid in seen:
            problems.append(Problem(fig.src_path, find_field_line(fig.src_path, ("figid",)), "figid",
                                    f"duplicate figid {fig.figid!r}: also in {seen[fig.figid].src_path}; record skipped",
                                    skipped=True))
        else:
            seen[fig.figid] = fig
    return {f.figid: f for f in sorted(seen.values(), key=lambda f: f.sort_key)}


FIXED_PAGES = (
    Page("/", "home.html", "home"),
    Page("/404.html", "404.html", "404"),
    Page("/search.html", "search.html", "search"),
    Page("/downloads.html", "downloads.html", "downloads"),
)


def set_prose(site: Site, prose: tuple) -> None:
    """The site's pages written in Markdown, among its fixed pages (rendered by every build)."""
    site.prose = prose
    site.page_groups["fixed"] = FIXED_PAGES + tuple(Page(p.url, p.template, "prose", p.url) for p in prose)


def overview_pages(site: Site, kind: str) -> tuple[Page, ...]:
    if kind == "figure":
        n = site.page_count(len(site.figures))
        return tuple(Page(paged_url("/figures/", i), "figures.html", "figure-overview", None, i, n) for i in range(1, n + 1))
    folder = ENTITY_SECTIONS[kind][0]
    overview = "organisms.html" if kind == "organism" else "overview.html"
    n = 1 if kind == "organism" else site.page_count(len(site.entity_tables[kind]))
    return tuple(Page(paged_url(f"/{folder}/", i), overview, f"{kind}-overview", kind, i, n) for i in range(1, n + 1))


def entity_pages(site: Site, entity: Entity) -> tuple[Page, ...]:
    template = "organism.html" if entity.kind == "organism" else f"{entity.kind}.html"
    n = site.page_count(len(entity.figids))
    return tuple(Page(paged_url(entity.url, i), template, entity.kind, entity.key, i, n) for i in range(1, n + 1))


def figure_page(figid: str) -> Page:
    return Page(figure_url(figid), "figure.html", "figure", figid)


COLLECTIONS = {
    # group: (overview URL, title, template of the overview)
    "years": ("/years/", "Figures by year", "years.html"),
    "pathways": ("/pathways/", "Figures with pathway models", "pathways.html"),
}
PATHWAY_LINKS = {"wikipathways": "WikiPathways", "ndex": "NDEx"}


def collection_url(group: str, name: str) -> str:
    return f"{COLLECTIONS[group][0]}{name}.html"


def refresh_collections(site: Site) -> None:
    """Figures by year, and figures linked to WikiPathways or NDEx (one pass, newest first)."""
    years: dict[str, list] = {}
    pathways: dict[str, list] = {name: [] for name in PATHWAY_LINKS}
    for fig in site.figures.values():
        years.setdefault(fig.year or "unknown", []).append(fig.figid)
        if fig.wpid:
            pathways["wikipathways"].append(fig.figid)
        if fig.ndex:
            pathways["ndex"].append(fig.figid)
    site.collections = {
        "years": {year: tuple(years[year])  # newest first, undated last
                  for year in sorted(years, key=lambda y: (y == "unknown", -int(y) if y.isdigit() else 0))},
        "pathways": {name: tuple(figids) for name, figids in pathways.items() if figids},
    }


def collection_pages(site: Site) -> tuple[Page, ...]:
    pages = []
    for group, (url, _title, template) in COLLECTIONS.items():
        pages.append(Page(url, template, "collection-overview", group))
        for name, figids in site.collections[group].items():
            n = site.page_count(len(figids))
            first = collection_url(group, name)
            pages += [Page(paged_url(first, i), "collection.html", "collection", f"{group}/{name}", i, n)
                      for i in range(1, n + 1)]
    return tuple(pages)


def plan_pages(site: Site, changed_figids=None, touched: dict | None = None) -> None:
    """Plan the pages of everything (or, given an edit, of what it changed) into `site.page_groups`."""
    groups = site.page_groups
    if changed_figids is None:
        groups.clear()
        groups["fixed"] = FIXED_PAGES
        changed_figids = site.figures.keys()
        touched = {kind: set(site.entity_tables[kind]) for kind in ENTITY_SECTIONS}
    for figid in changed_figids:
        if figid in site.figures:
            groups[("figure", figid)] = (figure_page(figid),)
        else:
            groups.pop(("figure", figid), None)
    groups[("overview", "figure")] = overview_pages(site, "figure")
    refresh_collections(site)
    groups["collections"] = collection_pages(site)
    for kind, keys in touched.items():
        table = site.entity_tables[kind]
        for key in keys:
            if key in table:
                groups[(kind, key)] = entity_pages(site, table[key])
            else:
                groups.pop((kind, key), None)
        groups[("overview", kind)] = overview_pages(site, kind)


def _alias_line(src_path: str) -> int:
    return find_field_line(src_path, ("figid_alias",)) or find_field_line(src_path, ("redirect_from",))


def plan_redirects(site: Site, problems: list[Problem]) -> tuple[Redirect, ...]:
    """Redirects from every alias; one that would land on a page or on another figure's alias is reported."""
    # (a clash is the same file name in the same section, whatever the folders: the plain ones tell)
    where = PLAIN.out_path
    figure_section = list(site.page_groups[("overview", "figure")]) + list(site.figure_pages())  # aliases live there
    taken = {where(p.url): f"the page {p.url}" for p in figure_section}
    for fig in site.figures.values():
        taken[where(figure_url(fig.figid))] = f"the figure page of {fig.src_path}"
    redirects: dict[str, Redirect] = {}
    for fig in sorted(site.figures.values(), key=lambda f: f.src_path):
        for alias in fig.aliases:
            target = figure_url(fig.figid)
            redirect = Redirect(alias, target, fig.src_path)
            path = where(alias)
            if alias == target or path == where(target):
                continue
            if path in taken:
                problems.append(Problem(fig.src_path, _alias_line(fig.src_path), "figid_alias",
                                        f"redirect {alias} would overwrite {taken[path]}; ignored"))
                continue
            other = redirects.get(path)
            if other and other.to_url != target:
                problems.append(Problem(fig.src_path, _alias_line(fig.src_path), "figid_alias",
                                        f"redirect {alias} is also claimed by {other.src_path}; ignored"))
                continue
            redirects.setdefault(path, redirect)
    return tuple(sorted(redirects.values(), key=lambda r: r.from_url))


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """Sorts names as a person reads them: MAPK1, MAPK2, … MAPK10 (runs of digits by their value),
    case ignored. (re.split with a group alternates text and digits, so the types line up.)"""
    return tuple(int(part) if n % 2 else part for n, part in enumerate(_DIGITS.split(text.casefold())))


SECTION_KINDS = {folder: kind for kind, (folder, _title, _noun) in ENTITY_SECTIONS.items()}

ENTITY_ORDER = {
    "gene": lambda e: (natural_key(e.name), int(e.key) if e.key.isdigit() else 0, e.key),
    "chemical": lambda e: (natural_key(e.name), e.key),
    "disease": lambda e: (natural_key(e.name), e.key),
    "organism": lambda e: e.key,
}


TOP = 48


def _by_figures(entity: Entity) -> tuple:
    return (-len(entity.figids), entity.name)


def refresh_top(site: Site, kind: str, keys: set[str]) -> None:
    """Keep the entities in most figures, from the old list and what an edit touched when that suffices."""
    table, old = site.entity_tables[kind], site.top.get(kind)
    if old is not None:
        for entity in old:
            now = table.get(entity.key) if entity.key in keys else entity
            if now is None or len(now.figids) < len(entity.figids) or now.name != entity.name:
                old = None  # something outside the old list may now belong in it
                break
    if old is None or len(old) < min(TOP, len(table)):
        site.top[kind] = tuple(heapq.nsmallest(TOP, table.values(), key=_by_figures))
        return
    candidates = {e.key: table[e.key] for e in old} | {k: table[k] for k in keys if k in table}
    site.top[kind] = tuple(heapq.nsmallest(TOP, candidates.values(), key=_by_figures))


def refresh_entities(site: Site, touched: dict[str, set[str]]) -> None:
    """Remake the entities whose keys were touched, drop those no figure mentions any more, re-plan pages."""
    rank = {figid: i for i, figid in enumerate(site.figures)}
    for kind, keys in touched.items():
        if not keys:
            site.entity_lists.setdefault(kind, tuple(site.entity_tables[kind].values()))
            site.top.setdefault(kind, ())
            continue
        tally, table = site.tallies[kind], site.entity_tables[kind]
        reorder = False
        for key in keys:
            old = table.get(key)
            if key in tally.figids:
                entity = _make_entity(kind, key, tally, rank, site.organism_info)
            elif kind == "organism" and key in site.organism_info:  # every organism file has its page
                info = site.organism_info[key]
                entity = _organism(key, info.latin, (), info)
            else:
                if old is not None:
                    del table[key]
                continue
            reorder = reorder or old is None or old.name != entity.name
            table[key] = entity
        if reorder:  # an entity came, or changed its name: A-Z order again
            site.entity_tables[kind] = dict(sorted(table.items(), key=lambda kv: ENTITY_ORDER[kind](kv[1])))
        site.entity_lists[kind] = tuple(site.entity_tables[kind].values())
        refresh_top(site, kind, keys)
    site.figure_ids = tuple(site.figures)


def build_site(settings: Settings, build_date: str, figures: list[Figure], infos: list[OrganismInfo],
               problems: list[Problem]) -> Site:
    found: list[Problem] = []
    by_id = dedupe_figures(figures, found)
    check_organism_names(by_id.values(), found)
    site = Site(settings=settings, build_date=build_date, figures=by_id,
                entity_tables={kind: {} for kind in ENTITY_SECTIONS},
                tallies={kind: Tally(items_of) for kind, items_of in ITEMS_OF.items()},
                organism_info=organism_infos_by_slug(infos, found), index_problems=found)
    problems += found
    for tally in site.tallies.values():
        add = tally.add
        for fig in by_id.values():
            add(fig)
    for fig in by_id.values():
        site.note_gene_sets(fig, +1)
    keys = {kind: set(tally.figids) for kind, tally in site.tallies.items()}
    keys["organism"] |= set(site.organism_info)  # with figures or not yet
    refresh_entities(site, keys)
    plan_pages(site)
    site.redirects = plan_redirects(site, site.redirect_problems)
    problems += site.redirect_problems
    site.folders = plan_folders(site)
    return site


def update_site(site: Site, removed: list[Figure], added: list[Figure],
                problems: list[Problem]) -> tuple[dict[str, set[str]], dict[str, dict]]:
    """Apply an edit (figures gone, figures new or changed) to a built Site; the entity keys it touched,
    and the entities they had before it ({kind: {key: Entity, or None for a new one}}).

    The caller makes sure no added figure takes a figid another file already holds. Problems of the
    added figures go to `problems`; those of the redirects to `site.redirect_problems`.
    """
    touched: dict[str, set[str]] = {kind: set() for kind in ENTITY_SECTIONS}
    # figures edited in their places (the same figids, in the same order): the catalogue order stays
    in_place = all(fig.figid in site.figures for fig in removed) and \
        sorted((f.figid, f.sort_key) for f in removed) == sorted((f.figid, f.sort_key) for f in added)
    figures = dict(site.figures)
    for fig in removed:
        if (figures.get(fig.figid) if in_place else figures.pop(fig.figid, None)) is not None:
            site.note_gene_sets(fig, -1)
            for kind, tally in site.tallies.items():
                touched[kind] |= tally.apply(fig, -1)
    for fig in added:
        figures[fig.figid] = fig
        site.note_gene_sets(fig, +1)
        for kind, tally in site.tallies.items():
            touched[kind] |= tally.apply(fig, +1)
    gone = {fig.src_path for fig in removed}
    found: list[Problem] = []
    check_organism_names(added, found)
    problems += found
    site.index_problems = [p for p in site.index_problems if p.src_path not in gone] + found
    site.figures = figures if in_place else {f.figid: f for f in sorted(figures.values(), key=lambda f: f.sort_key)}
    before = {kind: {key: site.entity_tables[kind].get(key) for key in keys} for kind, keys in touched.items()}
    pages_before = {(kind, key): len(site.page_groups.get((kind, key), ())) for kind, keys in touched.items() for key in keys}
    refresh_entities(site, touched)
    plan_pages(site, {f.figid for f in removed} | {f.figid for f in added}, touched)
    redirects = site.redirects
    if {(f.figid, f.aliases) for f in removed} != {(f.figid, f.aliases) for f in added}:
        site.redirect_problems = []
        site.redirects = plan_redirects(site, site.redirect_problems)
    renamed = (site.redirects is not redirects
               or {(f.figid, tuple(figure_downloads(f))) for f in removed} != {(f.figid, tuple(figure_downloads(f))) for f in added}
               or any(len(site.page_groups.get(group, ())) != count for group, count in pages_before.items()))
    if renamed:  # the files of a section are not those its folders were planned for
        site.folders = plan_folders(site)
    return touched, before
