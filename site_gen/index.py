"""Stage 3, index: [Figure] → Site. Entities, slugs, URLs, redirects and collisions, made once."""
from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from site_gen.errors import Problem
from site_gen.load import find_field_line
from site_gen.model import Figure, OrganismInfo
from site_gen.settings import Settings

log = logging.getLogger(__name__)


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


def out_path_for(url: str) -> str:
    """Where a URL's file lives under the output folder (`/genes/` → `genes/index.html`)."""
    path = url.lstrip("/")
    if path == "" or path.endswith("/"):
        return path + "index.html"
    if "." not in path.rsplit("/", 1)[-1] or not path.endswith((".html", ".xml", ".txt", ".json", ".tsv", ".jsonl")):
        return path + ".html"  # served at the extensionless URL by Netlify's pretty URLs and by `serve`
    return path


@dataclass(frozen=True)
class Entity:
    """A gene, chemical, disease or organism, and the figures that mention it (newest first)."""

    kind: str
    key: str
    name: str
    url: str
    figids: tuple[str, ...]
    words: tuple[str, ...] = ()  # OCR words it was found as


@dataclass(frozen=True)
class Gene(Entity):
    related: tuple[tuple[str, int], ...] = ()  # (entrez, figures in common), most first


@dataclass(frozen=True)
class Chemical(Entity):
    chebi: tuple[str, ...] = ()


@dataclass(frozen=True)
class Disease(Entity):
    mesh: str | None = None
    doid: str | None = None


@dataclass(frozen=True)
class Organism(Entity):
    mined_only: frozenset = frozenset()  # figids where the organism was only found by text mining
    info: OrganismInfo | None = None

    @property
    def group(self) -> str:
        return (self.info.group if self.info and self.info.group else None) or "Other"


@dataclass(frozen=True)
class Redirect:
    from_url: str
    to_url: str
    src_path: str

    @property
    def out_path(self) -> str:
        return out_path_for(self.from_url)


@dataclass(frozen=True)
class Page:
    """One HTML page of the site: what to render, and where it goes."""

    url: str
    template: str
    kind: str
    key: str | None = None
    number: int = 1
    pages: int = 1

    @property
    def out_path(self) -> str:
        return out_path_for(self.url)


@dataclass
class Site:
    settings: Settings
    build_date: str
    figures: dict[str, Figure]  # figid → Figure, newest first
    genes: dict[str, Gene]  # entrez → Gene, A-Z by symbol
    chemicals: dict[str, Chemical]
    diseases: dict[str, Disease]
    organisms: dict[str, Organism]  # slug → Organism, A-Z
    redirects: tuple[Redirect, ...] = ()
    pages: tuple[Page, ...] = ()
    entity_tables: dict = field(default_factory=dict)  # kind → the dict above
    entity_lists: dict = field(default_factory=dict)  # kind → its entities as a tuple, for paging
    figure_ids: tuple[str, ...] = ()

    def entities(self, kind: str) -> dict:
        return self.entity_tables[kind]

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


def _most_common(counter: Counter) -> str:
    return min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _sorted_figids(figids, figures: dict[str, Figure]) -> tuple[str, ...]:
    return tuple(sorted(set(figids), key=lambda f: figures[f].sort_key))


@dataclass
class _Mentions:
    """Figures, names and OCR words of every entity of one kind, gathered in one pass."""

    figids: dict = field(default_factory=lambda: defaultdict(set))
    names: dict = field(default_factory=lambda: defaultdict(Counter))
    words: dict = field(default_factory=lambda: defaultdict(set))
    rows: dict = field(default_factory=dict)  # key → first mention seen

    def best_names(self) -> dict[str, str]:
        return {key: _most_common(c) for key, c in self.names.items()}


def _gather(figures: dict[str, Figure], kind: str, key_of, name_of) -> _Mentions:
    found = _Mentions()
    for fig in figures.values():
        for m in getattr(fig, kind):
            key = key_of(m)
            if key:
                found.figids[key].add(fig.figid)
                found.names[key][name_of(m) or m.word] += 1
                found.words[key].add(m.word)
                found.rows.setdefault(key, m)
    return found


def index_genes(figures: dict[str, Figure], related_count: int) -> dict[str, Gene]:
    found = _gather(figures, "genes", lambda m: m.entrez, lambda m: m.symbol or m.match)
    names = found.best_names()
    genes = {}
    for entrez in sorted(found.figids, key=lambda e: (names[e].casefold(), int(e))):
        together: Counter = Counter()
        for figid in found.figids[entrez]:
            together.update({m.entrez for m in figures[figid].genes if m.entrez and m.entrez != entrez})
        related = sorted(together.items(), key=lambda kv: (-kv[1], names[kv[0]].casefold(), kv[0]))
        genes[entrez] = Gene(
            "gene", entrez, names[entrez], f"/genes/{entrez}.html",
            _sorted_figids(found.figids[entrez], figures), tuple(sorted(found.words[entrez])),
            related=tuple(related[:related_count]),
        )
    return genes


def index_chemicals(figures: dict[str, Figure]) -> dict[str, Chemical]:
    found = _gather(figures, "chemicals", lambda m: m.mesh, lambda m: m.name)
    chebi = defaultdict(set)
    for fig in figures.values():
        for m in fig.chemicals:
            if m.mesh and m.chebi:
                chebi[m.mesh].add(m.chebi)
    names = found.best_names()
    return {
        k: Chemical("chemical", k, names[k], f"/chemicals/{k}.html", _sorted_figids(found.figids[k], figures),
                    tuple(sorted(found.words[k])), chebi=tuple(sorted(chebi[k])))
        for k in sorted(found.figids, key=lambda k: (names[k].casefold(), k))
    }


def index_diseases(figures: dict[str, Figure]) -> dict[str, Disease]:
    found = _gather(figures, "diseases", lambda m: m.key, lambda m: m.name)
    names = found.best_names()
    return {
        k: Disease("disease", k, names[k], f"/diseases/{k.replace(':', '_')}.html",
                   _sorted_figids(found.figids[k], figures), tuple(sorted(found.words[k])),
                   mesh=found.rows[k].mesh, doid=found.rows[k].doid)
        for k in sorted(found.figids, key=lambda k: (names[k].casefold(), k))
    }


def index_organisms(figures: dict[str, Figure], infos: list[OrganismInfo], problems: list[Problem]) -> dict[str, Organism]:
    by_slug: dict[str, OrganismInfo] = {}
    for info in infos:
        slug = slugify_organism(info.latin)
        if slug in by_slug:
            problems.append(Problem(info.src_path, 0, "latin", f"same organism as {by_slug[slug].src_path}; ignored"))
        elif slug:
            by_slug[slug] = info
    curated, mined, spellings = defaultdict(set), defaultdict(set), defaultdict(Counter)
    for fig in figures.values():
        for name in fig.all_organisms:
            slug = slugify_organism(name)
            if not slug:
                problems.append(Problem(fig.src_path, 0, "organisms", f"organism {name!r} has no usable name; ignored"))
                continue
            (curated if name in fig.organisms else mined)[slug].add(fig.figid)
            spellings[slug][name] += 1
    organisms = {}
    for slug in sorted(spellings):
        info = by_slug.get(slug)
        name = info.latin if info else _most_common(spellings[slug])
        mined_only = frozenset(mined[slug] - curated[slug])
        organisms[slug] = Organism(
            "organism", slug, name, f"/organisms/{slug}.html",
            _sorted_figids(curated[slug] | mined[slug], figures), mined_only=mined_only, info=info,
        )
    return organisms


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


def plan_pages(site: Site) -> tuple[Page, ...]:
    pages = [
        Page("/", "home.html", "home"),
        Page("/404.html", "404.html", "404"),
        Page("/search.html", "search.html", "search"),
        Page("/downloads.html", "downloads.html", "downloads"),
    ]
    n = site.page_count(len(site.figures))
    pages += [Page(paged_url("/figures/", i), "figures.html", "figure-overview", None, i, n) for i in range(1, n + 1)]
    pages += [Page(figure_url(figid), "figure.html", "figure", figid) for figid in site.figures]
    for kind, (folder, _title, _noun) in ENTITY_SECTIONS.items():
        table = site.entities(kind)
        overview = "organisms.html" if kind == "organism" else "overview.html"
        n = 1 if kind == "organism" else site.page_count(len(table))
        pages += [Page(paged_url(f"/{folder}/", i), overview, f"{kind}-overview", kind, i, n) for i in range(1, n + 1)]
        template = "organism.html" if kind == "organism" else f"{kind}.html"
        for entity in table.values():
            n = site.page_count(len(entity.figids))
            pages += [Page(paged_url(entity.url, i), template, kind, entity.key, i, n) for i in range(1, n + 1)]
    return tuple(pages)


def _alias_line(src_path: str) -> int:
    return find_field_line(src_path, ("figid_alias",)) or find_field_line(src_path, ("redirect_from",))


def plan_redirects(site: Site, problems: list[Problem]) -> tuple[Redirect, ...]:
    """Redirects from every alias; one that would land on a page or on another figure's alias is reported."""
    taken = {p.out_path: f"the page {p.url}" for p in site.pages}
    for fig in site.figures.values():
        taken[out_path_for(figure_url(fig.figid))] = f"the figure page of {fig.src_path}"
    redirects: dict[str, Redirect] = {}
    for fig in sorted(site.figures.values(), key=lambda f: f.src_path):
        for alias in fig.aliases:
            target = figure_url(fig.figid)
            redirect = Redirect(alias, target, fig.src_path)
            if alias == target or redirect.out_path == out_path_for(target):
                continue
            if redirect.out_path in taken:
                problems.append(Problem(fig.src_path, _alias_line(fig.src_path), "figid_alias",
                                        f"redirect {alias} would overwrite {taken[redirect.out_path]}; ignored"))
                continue
            other = redirects.get(redirect.out_path)
            if other and other.to_url != target:
                problems.append(Problem(fig.src_path, _alias_line(fig.src_path), "figid_alias",
                                        f"redirect {alias} is also claimed by {other.src_path}; ignored"))
                continue
            redirects.setdefault(redirect.out_path, redirect)
    return tuple(sorted(redirects.values(), key=lambda r: r.from_url))


def build_site(settings: Settings, build_date: str, figures: list[Figure], infos: list[OrganismInfo],
               problems: list[Problem]) -> Site:
    by_id = dedupe_figures(figures, problems)
    site = Site(
        settings=settings,
        build_date=build_date,
        figures=by_id,
        genes=index_genes(by_id, settings.related_genes),
        chemicals=index_chemicals(by_id),
        diseases=index_diseases(by_id),
        organisms=index_organisms(by_id, infos, problems),
    )
    site.entity_tables = {"gene": site.genes, "chemical": site.chemicals, "disease": site.diseases,
                          "organism": site.organisms}
    site.entity_lists = {kind: tuple(table.values()) for kind, table in site.entity_tables.items()}
    site.figure_ids = tuple(by_id)
    site.pages = plan_pages(site)
    site.redirects = plan_redirects(site, problems)
    return site
