"""The reference site's JSON endpoints (`/json/*.json`), which scripts fetch: the same URLs and fields.

`getFigureInfo.json` holds a line per figure and is written like the other per-figure files (see
`render.per_figure_files`); the others are made here from the whole catalogue.
"""
from __future__ import annotations

import orjson

from site_gen.index import Site, figure_url
from site_gen.model import HGNC_ORGANISM, Figure, facts

HUMAN = HGNC_ORGANISM[0]


def short_id(fig: Figure) -> str:
    """A figure's short ID, `PMC3039968__F2`: the last part of its first alias, else its figid."""
    return fig.aliases[0].rsplit("/", 1)[-1] if fig.aliases else fig.figid


def by_short_id(site: Site, figids) -> list[str]:
    """Figure IDs in the reference site's order: by short ID (`figid_alias`), then figid."""
    return sorted(figids, key=short_id_rank(site).__getitem__)


_ranks: list = [None, None]  # the figures (`Site.figures`, a new dict after every edit) and their ranks


def short_id_rank(site: Site) -> dict[str, int]:
    """Each figure's place in the reference site's order (sorted once for all the lists in that order)."""
    if _ranks[0] is not site.figures:
        figures = site.figures
        order = sorted(figures, key=lambda f: (short_id(figures[f]), f))
        _ranks[:] = [figures, {figid: n for n, figid in enumerate(order)}]
    return _ranks[1]


def figure_info(site: Site, fig: Figure) -> bytes:
    """A figure's entry of `getFigureInfo.json`: the reference's fields, all text, organisms joined by
    ", "; `url` is its permanent short URL, as the reference gives it."""
    path = fig.aliases[0] if fig.aliases else figure_url(fig.figid)
    return orjson.dumps({
        "figid": fig.figid,
        "url": site.settings.base_url + path,
        "pmcid": fig.pmcid or "",
        "number": fig.number or "",
        "figtitle": fig.title,
        "year": fig.year or "",
        "organisms": ", ".join(fig.organisms),
        "organisms_ner": ", ".join(fig.organisms_ner),
    })


def list_figures_by_organism(site: Site) -> bytes:
    """Every organism (A-Z by Latin name, spaces as `_`) with the figures curated as showing it, listed by
    short ID (`figid_alias`), as the reference site lists them."""
    organisms = []
    for org in sorted(site.organisms.values(), key=lambda o: o.name):
        curated = by_short_id(site, (f for f in org.figids if f not in org.mined_only))
        if curated:
            organisms.append({"latin": org.name.replace(" ", "_"), "common": (org.info and org.info.common) or "",
                              "figures": [{"figid": f} for f in curated]})
    return orjson.dumps({"organisms": organisms})


def gene_organisms(site: Site) -> list[dict]:
    """The organisms whose genes the figures name (found by the gene tables' named-entity recognition)."""
    seen = {(g.taxon or "", g.organism, g.group or "") for g in site.genes.values() if g.organism}
    return [{"organism_id": taxon, "organism_name": name, "organism_group": group}
            for taxon, name, group in sorted(seen, key=lambda t: (t[1], t[0]))]


def list_organisms(site: Site) -> bytes:
    return orjson.dumps({"organisms_by_ner": gene_organisms(site),
                         "organisms_by_annotation": sorted(org.name for org in site.organisms.values())})


def counts(site: Site) -> dict[str, int]:
    """The catalogue's numbers, under the reference's names: mentions are rows with an identifier."""
    papers, human_papers = set(), set()
    human_figures = genes = chemicals = diseases = 0
    for fig in site.figures.values():
        papers.add(fig.pmcid or fig.figid)
        held = facts(fig)
        if HUMAN in fig.organisms or HUMAN in held.organisms:
            human_figures += 1
            human_papers.add(fig.pmcid or fig.figid)
        genes += held.gene_ids
        chemicals += held.chemical_ids
        diseases += held.disease_ids
    return {
        "figures": len(site.figures),
        "papers": len(papers),
        "human_figures": human_figures,
        "human_papers": len(human_papers),
        "organisms_by_ner": len(gene_organisms(site)),
        "organisms_by_annotation": len(site.organisms),
        "ncbigenes": genes,
        "ncbigenes_unique": len(site.genes),
        "human_ncbigenes_unique": sum(1 for g in site.genes.values() if g.organism == HUMAN),
        "chemicals": chemicals,
        "chemicals_unique_mesh": len(site.chemicals),
        "chemicals_unique_chebi": len({c for chem in site.chemicals.values() for c in chem.chebi}),
        "diseases": diseases,
        "diseases_unique_mesh": sum(1 for d in site.diseases.values() if d.mesh),
        "diseases_unique_doid": sum(1 for d in site.diseases.values() if d.doid),
    }


def render_api(site: Site) -> dict[str, bytes]:
    """The JSON endpoints other than `getFigureInfo.json`: output path → bytes."""
    return {
        "json/listFiguresByOrganism.json": list_figures_by_organism(site) + b"\n",
        "json/listOrganisms.json": list_organisms(site) + b"\n",
        "json/getCounts.json": orjson.dumps(counts(site), option=orjson.OPT_INDENT_2) + b"\n",
    }


# What each endpoint is, for the downloads page: (URL, what it holds).
ENDPOINTS = (
    ("/json/getFigureInfo.json", "every figure: figid, permanent URL, PMCID, figure number, title, year, "
                                 "organisms and text-mined organisms (comma-separated)"),
    ("/json/listFiguresByOrganism.json", "every organism (Latin name with _) with the figures curated as showing it"),
    ("/json/listOrganisms.json", "the organisms of the genes found (NCBI Taxonomy ID, name, group) and the "
                                 "organisms the figures are annotated with"),
    ("/json/getCounts.json", "figures, papers, mentions and distinct genes, chemicals, diseases and organisms"),
)
