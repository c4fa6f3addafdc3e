"""Stage 4, render: (Site, one item) → text. Writes nothing (`describe_downloads` reads the sizes of the
bulk files a build made, for the pages rendered after them)."""
from __future__ import annotations

import csv
import gzip
import hashlib
from collections import namedtuple
from collections.abc import Callable, Iterable
import io
import itertools
import orjson
import logging
import os
import re
import traceback
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape as xml_escape

import jinja2
import jinja2.meta
import jinja2.nodes
import markupsafe
from markdown_it import MarkdownIt

from site_gen import api, gpml, jsonld, links
from site_gen.errors import SiteError
from site_gen.load import display_path
from site_gen.index import (COLLECTIONS, ENTITY_SECTIONS, PATHWAY_LINKS, Entity, Page, Redirect, Site, collection_url,
                            MIN_GENE_SET, data_url, figure_downloads, figure_url, gene_sets, natural_key, paged_url,
                            slugify_organism)
from site_gen.model import Figure, table_rows
from site_gen.prose import menu

log = logging.getLogger(__name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
GENE_COLUMNS = ("word", "match", "symbol", "entrez", "source", "organism", "taxon", "group")
CHEMICAL_COLUMNS = ("word", "name", "mesh", "chebi", "source")
DISEASE_COLUMNS = ("word", "name", "mesh", "doid", "source")
NOT_IN_SITEMAP = {"404", "search"}


# Rows handed to templates are named tuples: Jinja reads their fields without a failed attribute lookup.
# A figure page's mention rows come ready to show, so that a template can unpack them in its loop
# (`{% for word, match, label, href, entrez, ncbi, organism, group, source, m in genes %}`): a gene
# table of 600 rows then costs no attribute lookup or call per cell. `label` is what a link to the
# entity's page says, `href` where it goes (already under the base URL's path), and `m` the mention
# itself, for any other field.
GeneRow = namedtuple("GeneRow", "word match label href entrez ncbi organism group source m")
ChemicalRow = namedtuple("ChemicalRow", "word label href mesh mesh_url chebi chebi_url m")
DiseaseRow = namedtuple("DiseaseRow", "word label href mesh mesh_url doid doid_url m")
OrganismLink = namedtuple("OrganismLink", "name url mined")
# The gene rows of one organism on a figure page: its name (None: not known), page, group, how many
# distinct genes, an id for its part of the table, and the rows.
GeneGroup = namedtuple("GeneGroup", "organism url group count id rows")
FigureSummary = namedtuple("FigureSummary", "fig url organisms")


_escape_inner = getattr(markupsafe, "_escape_inner", None)  # markupsafe's C escaping (3.x)


def fast_escape(value, /, _new=str.__new__, _markup=markupsafe.Markup) -> markupsafe.Markup:
    """markupsafe.escape, with the same result, made without a Python call to Markup.__new__ for plain
    text: every `{{ value }}` of an autoescaped template calls it (350 times on a figure page), and
    that call was a sixth of the time of a page. Markup comes back as itself, not copied."""
    if type(value) is str:
        return _new(_markup, _escape_inner(value))
    if type(value) is _markup:  # (markupsafe would copy it: a list entry, once in every list it is in)
        return value
    return markupsafe.escape(value)


def _used_templates(ast: jinja2.nodes.Template) -> set[str]:
    """The templates one template extends, includes or imports, and the partials it renders through
    `cached_partial("name")`."""
    used = {t for t in jinja2.meta.find_referenced_templates(ast) if t}
    for call in ast.find_all(jinja2.nodes.Call):
        if isinstance(call.node, jinja2.nodes.Name) and call.node.name == "cached_partial" and call.args \
                and isinstance(call.args[0], jinja2.nodes.Const) and isinstance(call.args[0].value, str):
            used.add(call.args[0].value)
    return used


def template_users(env: jinja2.Environment, templates: Path) -> dict[str, set[str]]:
    """template name → every template its output depends on (those it extends, includes or imports,
    and the partials it renders, through any of them), itself included."""
    direct: dict[str, set[str]] = {}
    for path in templates.glob("*.html"):
        try:
            direct[path.name] = _used_templates(env.parse(path.read_text(encoding="utf-8")))
        except (jinja2.TemplateSyntaxError, OSError):
            direct[path.name] = set()
    closure = {}
    for name in direct:
        seen, todo = {name}, [name]
        while todo:
            for dep in direct.get(todo.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        closure[name] = seen
    return closure


class _Template(jinja2.Template):
    """A template whose output is escaped by `fast_escape`: the name `escape` that its compiled code
    calls is set in the code's own namespace, which all its blocks and macros share."""

    @classmethod
    def from_code(cls, environment, code, globals, uptodate=None):
        template = super().from_code(environment, code, globals, uptodate)
        if _escape_inner is not None:
            template.root_render_func.__globals__["escape"] = fast_escape
        return template


class _Environment(jinja2.Environment):
    """Templates see the globals as a plain dict made when the template is loaded, not a ChainMap
    over the environment's: Jinja copies and compares a template's globals on every render and every
    `{% from %}` import, and through a ChainMap that cost a tenth of a gene page. So the globals must
    all be set before the first template is loaded (Renderer does it)."""

    template_class = _Template

    def make_globals(self, d):
        return {**self.globals, **(d or {})}


def make_environment(templates: Path) -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        auto_reload=False,  # no stat per page: the preview clears the cache itself when a template changes
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["thousands"] = lambda n: f"{n:,}"
    return env


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_SITE_LINK = re.compile(r'(<a href=")/(?!/)')


def render_markdown(text: str) -> str:
    """Record bodies as HTML. Raw HTML is not passed through and unsafe link schemes are refused."""
    return _markdown.render(text) if text else ""


CAPTION_SHOWN = 300  # characters of a long caption shown before "more" (the reference shows about three lines)


def caption_head(caption: str | None) -> str | None:
    """The start of a caption too long to show whole (cut at a word), or None when it is short."""
    if not caption or len(caption) <= CAPTION_SHOWN * 5 // 4:
        return None
    return caption[:CAPTION_SHOWN].rsplit(" ", 1)[0].rstrip(",.;:")


def shorten(text: str, limit: int = 300) -> str:
    """Text cut at a word boundary to fit a meta description."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


@dataclass
class Renderer:
    """What every render function needs: the site, the templates, the URLs of fingerprinted assets."""

    site: Site
    env: jinja2.Environment
    assets: dict  # static file name → public URL
    downloads: list = field(default_factory=list)  # Download of each bulk file, once they are made
    source: Path | None = None  # the source folder, which the records' `edit_url` paths are relative to
    asset_files: dict = field(default_factory=dict)  # static file name → its source file

    def __post_init__(self):
        self.items: dict = {}  # (figid, mined) → (Figure, its list entry HTML)
        self.base_path = self.site.settings.base_path
        self.partials: dict = {}
        self.env.globals.update(
            settings=self.site.settings,
            build_date=self.site.build_date,
            asset=self.asset,
            link=self.link,
            sections=ENTITY_SECTIONS,
            cached_partial=self.cached_partial,
            site_menu=menu(self.site.prose),
        )

    def cached_partial(self, name: str) -> markupsafe.Markup:
        """A template that is the same on every page (site header, footer), rendered once per build."""
        if name not in self.partials:
            self.partials[name] = markupsafe.Markup(self.env.get_template(name).render())
        return self.partials[name]

    # --- URLs -------------------------------------------------------------------------------
    def link(self, url: str) -> str:
        """A site URL as written in a page: root-relative, under the base URL's path."""
        return self.base_path + url

    def absolute(self, url: str) -> str:
        return self.site.settings.base_url + url

    def asset(self, name: str) -> str:
        return self.link(self.assets[name])

    # --- pages ------------------------------------------------------------------------------
    def render_page(self, page: Page) -> str:
        handler = getattr(self, f"_context_{page.kind.replace('-', '_')}")
        context = handler(page)
        context.setdefault("description", self.site.settings.description)
        context.setdefault("citation", {})
        context.setdefault("og_image", None)
        context.setdefault("noindex", False)
        crumbs = [("Home", "/")] + context.pop("crumbs", [])
        blocks = context.pop("jsonld", [])
        blocks = (blocks if isinstance(blocks, list) else [blocks]) + [jsonld.breadcrumb_jsonld(crumbs, self.absolute)]
        return self.env.get_template(page.template).render(
            page=page,
            canonical=self.absolute(page.url),
            crumbs=crumbs,
            jsonld_blocks=[jsonld.dump_jsonld(b) for b in blocks],
            **context,
        )

    def _pager(self, page: Page, first_url: str) -> dict:
        numbers = sorted({1, page.pages, *range(max(1, page.number - 3), min(page.pages, page.number + 3) + 1)})
        return {
            "number": page.number,
            "pages": page.pages,
            "prev": paged_url(first_url, page.number - 1) if page.number > 1 else None,
            "next": paged_url(first_url, page.number + 1) if page.number < page.pages else None,
            "links": [(n, paged_url(first_url, n)) for n in numbers],
        }

    def gene_groups(self, fig: Figure) -> list[GeneGroup]:
        """A figure's gene rows by the organism each gene belongs to: curated organisms of the figure
        first, then the others A-Z; genes of no known organism last."""
        site, base = self.site, self.base_path
        rows: dict[str | None, list] = {}
        for m in fig.genes:
            rows.setdefault(m.organism, []).append(
                GeneRow(m.word, m.match or "", m.symbol or m.entrez or "", m.entrez and base + site.genes[m.entrez].url,
                        m.entrez, m.entrez and links.ncbi_gene(m.entrez), m.organism or "", m.group or "",
                        m.source or "", m))
        order = sorted(rows, key=lambda o: (o is None, o not in fig.organisms, o or ""))
        groups = []
        for n, organism in enumerate(order):
            org = site.organisms.get(slugify_organism(organism)) if organism else None
            group_rows = rows[organism]
            groups.append(GeneGroup(organism, org and base + org.url, next((r.group for r in group_rows if r.group), None),
                                    len({r.entrez or r.label for r in group_rows}), f"genes-{n + 1}", group_rows))
        return groups

    def figure_organisms(self, fig: Figure) -> list[OrganismLink]:
        out = []
        for name in fig.all_organisms:
            org = self.site.organisms.get(slugify_organism(name))
            out.append(OrganismLink(name, org.url if org else None, name not in fig.organisms))
        return out

    def figure_item(self, figid: str, mined: bool = False) -> markupsafe.Markup:
        """A figure's entry in lists, rendered once and reused while the figure stays the same."""
        fig = self.site.figures[figid]
        cached = self.items.get((figid, mined))
        if cached is None or cached[0] is not fig:
            macro = self.env.get_template("macros.html").module.figure_item
            cached = self.items[(figid, mined)] = (fig, markupsafe.Markup(macro(self.figure_summary(figid), mined)))
        return cached[1]

    def figure_summary(self, figid: str) -> FigureSummary:
        fig = self.site.figures[figid]
        return FigureSummary(fig, figure_url(figid), self.figure_organisms(fig))

    def _context_home(self, page: Page) -> dict:
        site = self.site
        top = site.top["gene"][:24]
        return {
            "title": site.settings.title,
            "counts": {kind: len(site.entities(kind)) for kind in ENTITY_SECTIONS} | {"figure": len(site.figures)},
            "top_genes": top,
            "genes_drawn": self.gene_chart(top[:12]),
            "years_drawn": self.year_chart(),
            "top_organisms": site.top["organism"][:12],
            "recent": [self.figure_item(f) for f in list(site.figures)[:12]],
            "jsonld": jsonld.home_jsonld(site, self.absolute, self.downloads),
            "crumbs": [],
        }

    def year_chart(self) -> dict:
        """Figures per year as bars of an SVG drawn here, at build time (no chart code in the browser)."""
        years = sorted((int(y), len(f)) for y, f in self.site.collections["years"].items() if y.isdigit())
        width, height, top = 720, 180, max([n for _y, n in years] or [1])
        step = width / max(1, len(years))
        bars = [{"x": round(i * step + 1, 1), "width": round(max(1.0, step - 2), 1),
                 "height": round(n / top * (height - 30), 1), "label": str(y), "value": n,
                 "url": collection_url("years", str(y))}
                for i, (y, n) in enumerate(years)]
        for bar in bars:
            bar["y"] = round(height - 20 - bar["height"], 1)
        return {"width": width, "height": height, "bars": bars, "top": top,
                "first": years[0][0] if years else None, "last": years[-1][0] if years else None}

    def gene_chart(self, genes) -> dict:
        """The most mentioned genes as horizontal bars, drawn at build time."""
        top = max([len(g.figids) for g in genes] or [1])
        rows = [{"y": i * 22, "width": round(len(g.figids) / top * 460, 1), "label": g.name, "value": len(g.figids),
                 "url": g.url} for i, g in enumerate(genes)]
        return {"width": 720, "height": 22 * len(rows), "rows": rows}

    def _context_collection_overview(self, page: Page) -> dict:
        group = page.key
        url, title, _template = COLLECTIONS[group]
        entries = [{"name": name, "label": PATHWAY_LINKS.get(name, name), "url": collection_url(group, name),
                    "count": len(figids)} for name, figids in self.site.collections[group].items()]
        return {
            "title": title,
            "entries": entries,
            "chart": self.year_chart() if group == "years" else None,
            "description": f"{title}: {len(entries)} lists of pathway figures.",
            "crumbs": [(title, url)],
            "jsonld": jsonld.collection_jsonld(title, url, [(e["label"], e["url"]) for e in entries], len(entries),
                                               self.absolute),
        }

    def _context_collection(self, page: Page) -> dict:
        group, name = page.key.split("/", 1)
        url, group_title, _template = COLLECTIONS[group]
        figids = self.site.collections[group][name]
        shown = self.site.page_slice(figids, page.number)
        first = collection_url(group, name)
        label = {"years": f"Figures from {name}" if name != "unknown" else "Figures of unknown year",
                 "pathways": f"Figures with a {PATHWAY_LINKS.get(name, name)} model"}[group]
        suffix = f" (page {page.number} of {page.pages})" if page.pages > 1 else ""
        return {
            "title": label + suffix,
            "total": len(figids),
            "description": f"{len(figids):,} pathway figures: {label.lower()}.",
            "figure_items": [self.figure_item(f) for f in shown],
            "pager": self._pager(page, first),
            "crumbs": [(group_title, url), (label, page.url)],
            "jsonld": jsonld.collection_jsonld(label + suffix, page.url,
                                               [(self.site.figures[f].title, figure_url(f)) for f in shown],
                                               len(figids), self.absolute),
        }

    def _context_404(self, page: Page) -> dict:
        return {"title": "Page not found", "crumbs": [("Page not found", page.url)], "noindex": True}

    def _context_prose(self, page: Page) -> dict:
        prose = next(p for p in self.site.prose if p.url == page.url)
        content = render_markdown(prose.body)
        if self.base_path:  # the prose's site links (`/help.html`) under the base URL's path
            content = _SITE_LINK.sub(lambda m: m.group(1) + self.base_path + "/", content)
        context = {"title": prose.title, "content_html": content,
                   "crumbs": [(prose.title, page.url)], "prose": prose}
        if prose.citation:
            context["jsonld"] = [jsonld.scholarly_article_jsonld(prose.citation)]
        if prose.template == "stats.html":
            context["stats"] = catalogue_stats(self.site)
        return context

    def _context_search(self, page: Page) -> dict:
        return {"title": "Search", "crumbs": [("Search", page.url)]}

    def _context_downloads(self, page: Page) -> dict:
        by_kind: dict[str, list] = {}
        for download in self.downloads:
            by_kind.setdefault(download.kind, []).append(download)
        return {"title": "Downloads", "crumbs": [("Downloads", page.url)], "figure_count": len(self.site.figures),
                "catalogue": by_kind.get("catalogue", [None])[0], "gene_sets": by_kind.get("gmt", []),
                "chemical_sets": by_kind.get("chemical-gmt", []), "endpoints": by_kind.get("json", []),
                "min_gene_set": MIN_GENE_SET}

    def _context_figure(self, page: Page) -> dict:
        site, fig, base = self.site, self.site.figures[page.key], self.base_path
        gene_groups = self.gene_groups(fig)
        image = links.figure_image(fig, site.settings.image_url_pattern)
        citation = {"citation_title": fig.papertitle or fig.title}
        if fig.year:
            citation["citation_publication_date"] = fig.year
        if fig.journal:
            citation["citation_journal_title"] = fig.journal
        if fig.doi:
            citation["citation_doi"] = fig.doi
        if fig.pmcid:
            citation["citation_pmcid"] = fig.pmcid
        return {
            "title": fig.title,
            "description": shorten(fig.caption or fig.title),
            "fig": fig,
            "image_url": image,
            "og_image": image,
            "pmc_article": links.pmc_article(fig.pmcid) if fig.pmcid else None,
            "pmc_figure": links.pmc_figure(fig),
            "doi_url": links.doi(fig.doi) if fig.doi else None,
            "ndex_url": links.ndex(fig.ndex) if fig.ndex else None,
            "wp_url": links.wikipathways(fig.wpid) if fig.wpid else None,
            "organisms": self.figure_organisms(fig),
            "gene_groups": gene_groups,
            "genes": [row for group in gene_groups for row in group.rows],
            "gene_count": len({row.entrez or row.label for group in gene_groups for row in group.rows}),
            "chemicals": [
                ChemicalRow(m.word, m.name or m.word if m.mesh else m.name or "",
                            m.mesh and base + site.chemicals[m.mesh].url, m.mesh, m.mesh and links.mesh(m.mesh),
                            m.chebi, m.chebi and links.chebi(m.chebi), m)
                for m in fig.chemicals
            ],
            "diseases": [
                DiseaseRow(m.word, m.name or m.word if m.key else m.name or "",
                           m.key and base + site.diseases[m.key].url, m.mesh, m.mesh and links.mesh(m.mesh),
                           m.doid, m.doid and links.doid(m.doid), m)
                for m in fig.diseases
            ],
            "body_html": render_markdown(fig.body),
            "aliases": [a.rsplit("/", 1)[-1] for a in fig.aliases],
            "downloads": figure_downloads(fig),
            "caption_head": caption_head(fig.caption),
            "permalink": self.absolute(page.url),
            **self._figure_actions(fig),
            "citation": citation,
            "crumbs": [("Figures", "/figures/"), (fig.figid, page.url)],
            "jsonld": jsonld.figure_jsonld(site, fig, self.absolute, image),
        }

    def _figure_actions(self, fig: Figure) -> dict:
        """What a reader can take a figure's genes to, and a curator's links."""
        settings = self.site.settings
        human = [m for m in fig.genes if m.organism == "Homo sapiens" and m.entrez]
        symbols = list(dict.fromkeys(m.symbol for m in (human or fig.genes) if m.symbol))
        record = fig.src_path
        if self.source is not None:
            record = Path(os.path.relpath(os.path.abspath(fig.src_path), self.source)).as_posix()
        return {
            "gpml_url": data_url(fig.figid, ".gpml") if fig.genes or fig.chemicals else None,
            "enrichr": (links.ENRICHR_FORM, "\n".join(symbols)) if symbols else None,
            "drugstone_url": links.drugstone(m.entrez for m in human),
            "edit_url": links.record_link(settings.edit_url, record, fig.figid),
            "report_url": links.record_link(settings.report_url, record, fig.figid),
        }

    def _entity_context(self, page: Page) -> dict:
        kind = page.kind
        entity: Entity = self.site.entities(kind)[page.key]
        folder, section_title, noun = ENTITY_SECTIONS[kind]
        figids = self.site.page_slice(entity.figids, page.number)
        suffix = f" (page {page.number} of {page.pages})" if page.pages > 1 else ""
        return {
            "entity": entity,
            "title": f"{entity.name}{suffix}",
            "description": f"{len(entity.figids)} pathway figure(s) that mention the {noun} {entity.name}.",
            "figure_items": [self.figure_item(f, f in entity.mined_only) if kind == "organism" else self.figure_item(f)
                             for f in figids],
            "pager": self._pager(page, entity.url),
            "crumbs": [(section_title, f"/{folder}/"), (entity.name, page.url)],
            "jsonld": jsonld.entity_jsonld(entity, self.absolute, [self.site.figures[f] for f in figids]),
        }

    def _context_gene(self, page: Page) -> dict:
        context = self._entity_context(page)
        context["ncbi"] = links.ncbi_gene(page.key)
        organism = context["entity"].organism
        org = self.site.organisms.get(slugify_organism(organism)) if organism else None
        context["organism_url"] = org and org.url
        return context

    def _context_chemical(self, page: Page) -> dict:
        context = self._entity_context(page)
        context["mesh"] = links.mesh(page.key)
        context["chebi"] = [(c, links.chebi(c)) for c in context["entity"].chebi]
        return context

    def _context_disease(self, page: Page) -> dict:
        context = self._entity_context(page)
        entity = context["entity"]
        context["mesh"] = entity.mesh and links.mesh(entity.mesh)
        context["doid"] = entity.doid and links.doid(entity.doid)
        return context

    def _context_organism(self, page: Page) -> dict:
        context = self._entity_context(page)
        info = context["entity"].info
        context["taxon"] = info and info.ncbi and links.taxon(info.ncbi)
        context["gmt"] = gmt_url(self.site, context["entity"])
        return context

    def _context_figure_overview(self, page: Page) -> dict:
        figids = self.site.page_slice(self.site.figure_ids, page.number)
        suffix = f" (page {page.number} of {page.pages})" if page.pages > 1 else ""
        return {
            "title": f"Figures{suffix}",
            "total": len(self.site.figures),
            "description": f"All {len(self.site.figures):,} pathway figures of the catalogue, newest first.",
            "figure_items": [self.figure_item(f) for f in figids],
            "pager": self._pager(page, "/figures/"),
            "crumbs": [("Figures", "/figures/")] + ([(f"Page {page.number}", page.url)] if page.number > 1 else []),
            "jsonld": jsonld.collection_jsonld(f"Figures{suffix}", page.url,
                                               [(self.site.figures[f].title, figure_url(f)) for f in figids],
                                               len(self.site.figures), self.absolute),
        }

    def _overview_context(self, page: Page) -> dict:
        kind = page.key
        folder, section_title, noun = ENTITY_SECTIONS[kind]
        table = self.site.entities(kind)
        first = f"/{folder}/"
        suffix = f" (page {page.number} of {page.pages})" if page.pages > 1 else ""
        return {
            "kind": kind,
            "noun": noun,
            "title": f"{section_title}{suffix}",
            "total": len(table),
            "crumbs": [(section_title, first)] + ([(f"Page {page.number}", page.url)] if page.number > 1 else []),
            "pager": self._pager(page, first),
            "entities": [],
        }

    def _context_gene_overview(self, page: Page) -> dict:
        context = self._overview_context(page)
        entries = self.site.page_slice(self.site.entity_lists[page.key], page.number)
        context["entities"] = entries
        context["description"] = f"All {context['total']:,} {context['noun']}s of the catalogue, A–Z, with figure counts."
        context["jsonld"] = jsonld.collection_jsonld(context["title"], page.url, [(e.name, e.url) for e in entries],
                                                     context["total"], self.absolute)
        return context

    _context_chemical_overview = _context_gene_overview
    _context_disease_overview = _context_gene_overview

    def _context_organism_overview(self, page: Page) -> dict:
        context = self._overview_context(page)
        groups: dict[str, list] = {}
        for org in self.site.organisms.values():
            groups.setdefault(org.group, []).append(org)
        context["groups"] = sorted(groups.items(), key=lambda kv: (kv[0] == "Other", kv[0]))
        context["description"] = f"All {context['total']:,} organisms of the catalogue, grouped by kind."
        context["jsonld"] = jsonld.collection_jsonld(
            context["title"], page.url, [(o.name, o.url) for o in self.site.organisms.values()],
            context["total"], self.absolute)
        return context

    def failure(self, exc: Exception, current: str) -> Exception:
        """template_error for this renderer's templates."""
        return template_error(exc, current, getattr(self.env.loader, "searchpath", ()))

    def render_redirect(self, redirect: Redirect) -> str:
        return self.env.get_template("redirect.html").render(
            target=self.link(redirect.to_url), canonical=self.absolute(redirect.to_url))

    def render_reference_redirects(self) -> dict[str, str]:
        """The stub pages of the reference site's browse URLs (`REFERENCE_REDIRECTS`): output path → text."""
        return {source.lstrip("/"): self.render_redirect(Redirect(source, target, ""))
                for source, target in REFERENCE_REDIRECTS}


def template_error(exc: Exception, current: str, templates: list[str] = ()) -> Exception:
    """What to raise for a failure while rendering `current`: the message a curator sees, naming the
    template's file and line (found in the traceback, which Jinja points at template sources under
    `templates`) and the page being made. Any error a template raised is one, a TypeError from
    `{{ fig.year + 1 }}` as much as an undefined name; an error raised with no template on its way is
    a bug of the generator, and stays itself, with its traceback."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return SiteError(f"{exc.filename or exc.name}:{exc.lineno}: template error: {exc.message}")
    folders = tuple(os.path.join(os.path.abspath(folder), "") for folder in templates)
    where = None
    for frame, line in traceback.walk_tb(exc.__traceback__):  # the innermost template frame
        if os.path.abspath(frame.f_code.co_filename).startswith(folders):
            where = f"{display_path(Path(frame.f_code.co_filename))}:{line}: "
    if where is None and not isinstance(exc, (jinja2.TemplateError, KeyError)):
        return exc
    detail = str(exc) if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {exc}"
    return SiteError(f"{where or ''}template error while rendering {current}: {detail}")


# --- data files: no templates needed ---------------------------------------------------------

def _tsv(columns: tuple[str, ...], rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if getattr(row, c) is None else getattr(row, c) for c in columns])
    return buffer.getvalue()


def figure_record(site: Site, fig: Figure) -> dict:
    """One figure as plain data: the per-figure JSON download and a line of the catalogue JSONL."""
    absolute = lambda u: site.settings.base_url + u  # noqa: E731
    page = absolute(figure_url(fig.figid))
    return {
        "figid": fig.figid,
        "url": page,
        "pfocrUrl": page,  # the names other PFOCR dumps give the page and the image
        "figureUrl": links.figure_image(fig, site.settings.image_url_pattern),
        "title": fig.title,
        "caption": fig.caption,
        "pmcid": fig.pmcid,
        "doi": fig.doi,
        "year": fig.year,
        "paper_title": fig.papertitle,
        "reference": fig.reftext,
        "organisms": list(fig.organisms),
        "organisms_text_mined": [o for o in fig.organisms_ner if o not in fig.organisms],
        "aliases": list(fig.aliases),
        # the columns are the mentions' fields, in order (tests/test_render.py checks it)
        "genes": [dict(zip(GENE_COLUMNS, m)) for m in fig.genes],
        "chemicals": [dict(zip(CHEMICAL_COLUMNS, m)) for m in fig.chemicals],
        "diseases": [dict(zip(DISEASE_COLUMNS, m)) for m in fig.diseases],
    }


def render_figure_data(site: Site, fig: Figure) -> dict[str, str]:
    """Per-figure downloads: URL → text."""
    out = {data_url(fig.figid, ".json"): orjson.dumps(figure_record(site, fig), option=orjson.OPT_INDENT_2).decode() + "\n"}
    for kind, columns, rows in (("genes", GENE_COLUMNS, fig.genes), ("chemicals", CHEMICAL_COLUMNS, fig.chemicals),
                                ("diseases", DISEASE_COLUMNS, fig.diseases)):
        if rows:
            out[data_url(fig.figid, f"-{kind}.tsv")] = _tsv(columns, rows)
    if fig.genes or fig.chemicals:
        out[data_url(fig.figid, ".gpml")] = gpml.render_gpml(fig, site.settings.base_url + figure_url(fig.figid))
    return out


def catalogue_line(site: Site, fig: Figure) -> bytes:
    """A figure's line of the catalogue download, as a gzip member of its own: members joined end to end
    are one gzip file (RFC 1952), which every gzip reader reads whole, and a rebuild copies the
    unchanged figures' members as they were."""
    # level 3: at 10,000 generated figures 0.55 s and 4.95 times smaller, against 1.17 s and 5.2 at level 6
    return gzip.compress(orjson.dumps(figure_record(site, fig), option=orjson.OPT_APPEND_NEWLINE), 3, mtime=0)


def _natural(name: str) -> tuple:
    return natural_key(name), name


def search_entry(site: Site, fig: Figure) -> bytes:
    entry = {
        "id": fig.figid,
        "t": fig.title,
        "y": fig.year,
        "o": list(fig.all_organisms),
        "g": sorted({m.symbol or m.match or m.word for m in fig.genes}, key=_natural),
        "c": sorted({m.name or m.word for m in fig.chemicals} | {m.name or m.word for m in fig.diseases}, key=_natural),
        "k": list(fig.keywords or fig.mention_keywords)[:40],
        "a": [a.rsplit("/", 1)[-1] for a in fig.aliases] + [x for x in (fig.pmcid, fig.doi) if x],
    }
    return orjson.dumps(entry).replace(b"<", b"\\u003c")


def gmt_head(fig: Figure) -> str:
    """The first two columns of a figure's line in PFOCR's GMT files: its short ID (`PMC3039968__F2`)
    and its title, with no tab or line break in either."""
    return f"{api.short_id(fig)}\t{' '.join(fig.title.split())}"


def gmt_line(site: Site, fig: Figure, organism: str) -> str:
    """A figure's gene set of one organism: ID, title, then the NCBI Gene IDs of that organism it names
    (rWikiPathways' writeGMT layout, as PFOCR publishes it); "" for a figure with fewer than
    MIN_GENE_SET of them."""
    ids = gene_sets(fig).get(organism)
    return f"{gmt_head(fig)}\t{chr(9).join(ids)}\n" if ids else ""


def chemical_set(fig: Figure) -> list[str]:
    """The ChEBI IDs of the chemicals a figure names, as PFOCR's chemical GMT files write them."""
    return sorted({"chebi:" + m.chebi.removeprefix("CHEBI:") for m in fig.chemicals if m.chebi})


def chemical_gmt_line(site: Site, fig: Figure) -> str:
    """A figure's chemical set: ID, title, then ChEBI IDs (`chebi:15422`); "" for a figure with none."""
    ids = chemical_set(fig)
    return f"{gmt_head(fig)}\t{chr(9).join(ids)}\n" if ids else ""


class PerFigureFile(NamedTuple):
    """A catalogue-wide file made of a segment per figure, and of nothing else: `head`, then the
    segments of `figids` (in that order) joined by `sep`, then `tail`. A segment (text, or bytes written
    as they are) depends only on its figure and the settings, so a rebuild copies the unchanged ones
    from the last build's file."""

    out_path: str
    figids: Iterable[str]
    segment: Callable[[Site, Figure], str | bytes]
    head: str = ""
    sep: str = ""
    tail: str = ""

    def segments(self, site: Site, memo: dict | None = None):
        """(figid, segment) in order; `memo` (figid → (Figure, segment)) keeps those of unchanged figures."""
        make, figures = self.segment, site.figures
        if memo is None:
            for figid in self.figids:
                yield figid, make(site, figures[figid])
            return
        for figid in self.figids:
            fig = figures[figid]
            cached = memo.get(figid)
            if cached is None or cached[0] is not fig:
                cached = memo[figid] = (fig, make(site, fig))
            yield figid, cached[1]

    def data(self, site: Site, memo: dict | None = None) -> bytes:
        sep = self.sep.encode()
        return self.head.encode() + sep.join(text if type(text) is bytes else text.encode()
                                             for _figid, text in self.segments(site, memo)) + self.tail.encode()


CATALOGUE_DOWNLOAD = "downloads/pfocr-figures.jsonl.gz"

# A bulk file as the downloads page and the catalogue's JSON-LD describe it: its kind ("catalogue",
# "gmt", "chemical-gmt", "json"), URL, name, media type, size in bytes, SHA-256 (of the catalogue only)
# and what it holds.
Download = namedtuple("Download", "kind url name format size sha256 about")
# Pages that describe the bulk files, and so are rendered after them.
LATE_PAGES = ("home", "downloads")


def describe_downloads(site: Site, locate) -> list[Download]:
    """The bulk files as they were made; `locate(out path)` says where each is (in the output, or where
    a build wrote it)."""
    def made(out_path: str) -> int:
        return os.stat(locate(out_path)).st_size

    digest = hashlib.sha256()
    with open(locate(CATALOGUE_DOWNLOAD), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    out = [Download("catalogue", "/" + CATALOGUE_DOWNLOAD, CATALOGUE_DOWNLOAD.rsplit("/", 1)[-1], "application/gzip",
                    made(CATALOGUE_DOWNLOAD), digest.hexdigest(), "every figure as a line of JSON, gzip-compressed")]
    for slug in sorted(site.gene_set_figids):
        latin = site.gene_set_names[slug]
        for kind, about in (("gmt", "NCBI Gene IDs"), ("chemical-gmt", "ChEBI IDs")):
            url = gmt_name(site, latin, kind)
            out.append(Download(kind, url, latin, "text/tab-separated-values", made(url.lstrip("/")), None,
                                f"{about} of the figures naming at least {MIN_GENE_SET} genes of {latin}"))
    for url, about in api.ENDPOINTS:
        out.append(Download("json", url, url.rsplit("/", 1)[-1], "application/json", made(url.lstrip("/")), None, about))
    return out


def gmt_name(site: Site, latin: str, kind: str = "gmt") -> str:
    """PFOCR's name of a GMT file: `pfocr-<build date>-gmt-<Latin_name>.gmt` (`chemical-gmt` for the
    chemical sets), the pattern the tools that fetch PFOCR's gene sets look for."""
    name = "_".join(latin.replace("/", " ").split())
    return f"/downloads/gmt/pfocr-{site.build_date.replace('-', '')}-{kind}-{name}.gmt"


def per_figure_files(site: Site) -> list[PerFigureFile]:
    """The catalogue-wide files made of a segment per figure: the catalogue download (a JSON line per
    figure, gzip-compressed: 660 MB uncompressed at 100,000 figures), the data the search page loads
    (a JSON list), the figure list of the reference site's JSON API, and the gene sets for enrichment
    tools (clusterProfiler, Enrichr, g:Profiler): per organism, a GMT file whose lines are the figures
    that name at least MIN_GENE_SET genes of that organism, each with only those genes, and a GMT file
    of the chemicals (ChEBI IDs) of those figures."""
    files = [PerFigureFile(CATALOGUE_DOWNLOAD, site.figures, catalogue_line),
             PerFigureFile("search.json", site.figures, search_entry, "[", ",", "]\n"),
             PerFigureFile("json/getFigureInfo.json", api.by_short_id(site, site.figures), api.figure_info,
                           '{"figureInfo":[\n', ",\n", "\n]}\n")]
    for slug, figids in site.gene_set_figures().items():
        latin = site.gene_set_names[slug]
        files.append(PerFigureFile(gmt_name(site, latin).lstrip("/"), figids, partial(gmt_line, organism=latin)))
        files.append(PerFigureFile(gmt_name(site, latin, "chemical-gmt").lstrip("/"), figids, chemical_gmt_line))
    return files


def gmt_url(site: Site, organism: Entity) -> str | None:
    """The URL of an organism's GMT file, None if it has none."""
    if organism.key not in site.gene_set_figids:
        return None
    return gmt_name(site, site.gene_set_names[organism.key])


def catalogue_stats(site: Site) -> dict:
    """The catalogue's numbers, counted from it: figures, papers, mentions and distinct entities, in
    all and by year (newest first)."""
    years: dict[str, list[int]] = {}
    papers: dict[str, set[str]] = {}
    totals = [0, 0, 0, 0]
    for fig in site.figures.values():
        rows = table_rows(fig)
        year = fig.year or "unknown"
        counts = years.setdefault(year, [0, 0, 0, 0])
        for n, value in enumerate((1, *rows)):
            counts[n] += value
            totals[n] += value
        if fig.pmcid:
            papers.setdefault(year, set()).add(fig.pmcid)
    all_papers = set().union(*papers.values()) if papers else set()
    by_year = [{"year": year, "figures": c[0], "papers": len(papers.get(year, ())), "genes": c[1],
                "chemicals": c[2], "diseases": c[3]}
               for year, c in sorted(years.items(), key=lambda kv: (kv[0] != "unknown", kv[0]), reverse=True)]
    return {"figures": totals[0], "papers": len(all_papers),
            "mentions": {"genes": totals[1], "chemicals": totals[2], "diseases": totals[3]},
            "distinct": {kind: len(site.entity_tables[kind]) for kind in ENTITY_SECTIONS},
            "with_figures": {kind: sum(1 for e in site.entity_tables[kind].values() if e.figids)
                             for kind in ENTITY_SECTIONS},
            "by_year": by_year}


FEED_ENTRIES = 50


def render_feed(site: Site) -> dict[str, str]:
    """`/feed.xml`, the reference site's feed URL: an Atom feed of the newest figures (newest first)."""
    base = site.settings.base_url
    updated = f"{site.build_date}T00:00:00Z"
    out = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
           f"<title>{xml_escape(site.settings.title)}: newest figures</title>",
           f"<subtitle>{xml_escape(site.settings.description)}</subtitle>",
           f'<link href="{xml_escape(base)}/feed.xml" rel="self" type="application/atom+xml"/>',
           f'<link href="{xml_escape(base)}/" rel="alternate" type="text/html"/>',
           f"<id>{xml_escape(base)}/feed.xml</id>", f"<updated>{updated}</updated>",
           f"<author><name>{xml_escape(site.settings.publisher)}</name></author>",
           f'<rights>{xml_escape(site.settings.license_url)}</rights>']
    for figid in itertools.islice(site.figures, FEED_ENTRIES):
        fig, url = site.figures[figid], xml_escape(base + figure_url(figid))
        out += ["<entry>", f"<title>{xml_escape(fig.title)}</title>", f'<link href="{url}"/>', f"<id>{url}</id>",
                f"<updated>{fig.year + '-01-01T00:00:00Z' if fig.year else updated}</updated>"]
        # (the paper, not the caption: a rebuild reads no stored figure's text for the feed)
        source = ", ".join(v for v in (fig.journal, fig.year) if v)
        if fig.papertitle:
            out.append(f"<summary>From {xml_escape(fig.papertitle)}{f' ({xml_escape(source)})' if source else ''}</summary>")
        out.append("</entry>")
    out.append("</feed>\n")
    return {"feed.xml": "\n".join(out)}


# The reference site's browse pages, answered by their equivalents here: from → to.
REFERENCE_REDIRECTS = (
    ("/browse/ndex.html", "/pathways/ndex.html"),
    ("/browse/organisms.html", "/organisms/"),
    ("/browse/table.html", "/figures/"),
    ("/browse/wikipathways.html", "/pathways/wikipathways.html"),
)
REFERENCE_STUBS = tuple(source.lstrip("/") for source, _target in REFERENCE_REDIRECTS)  # their output paths


def render_robots(site: Site) -> str:
    return f"User-agent: *\nAllow: /\nDisallow: /404.html\n\nSitemap: {site.settings.base_url}/sitemap.xml\n"


SITEMAP_INDEX = "sitemap.xml"
SITEMAPS_FOLDER = "sitemaps"


def render_sitemaps(site: Site) -> dict[str, str]:
    """A sitemap index at /sitemap.xml over files of at most `sitemap_size` URLs each."""
    base = site.settings.base_url
    urls = [p.url for p in site.iter_pages() if p.kind not in NOT_IN_SITEMAP]
    size = site.settings.sitemap_size
    chunks = [urls[i : i + size] for i in range(0, len(urls), size)] or [[]]
    out = {}
    names = []
    for n, chunk in enumerate(chunks, start=1):
        name = f"{SITEMAPS_FOLDER}/sitemap-{n}.xml"
        names.append(name)
        body = "".join(f"<url><loc>{xml_escape(base + u)}</loc><lastmod>{site.build_date}</lastmod></url>\n" for u in chunk)
        out[name] = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n{body}</urlset>\n'
    index = "".join(f"<sitemap><loc>{xml_escape(base)}/{n}</loc><lastmod>{site.build_date}</lastmod></sitemap>\n" for n in names)
    out[SITEMAP_INDEX] = f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">\n{index}</sitemapindex>\n'
    return out
