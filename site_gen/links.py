"""Outward links: every URL pattern of another site lives here, once."""
from __future__ import annotations

from urllib.parse import quote

from site_gen.model import Figure

NCBI = "https://www.ncbi.nlm.nih.gov"


def ncbi_gene(entrez: str) -> str:
    return f"{NCBI}/gene/{entrez}"


def mesh(mesh_id: str) -> str:
    return f"https://meshb.nlm.nih.gov/record/ui?ui={quote(mesh_id)}"


def chebi(chebi_id: str) -> str:
    return f"https://www.ebi.ac.uk/chebi/searchId.do?chebiId={quote(chebi_id)}"


def doid(doid_id: str) -> str:
    return f"https://disease-ontology.org/?id={quote(doid_id)}"


def taxon(taxid: str) -> str:
    return f"{NCBI}/Taxonomy/Browser/wwwtax.cgi?id={quote(taxid)}"


def pmc_article(pmcid: str) -> str:
    return f"{NCBI}/pmc/articles/{pmcid}/"


def pmc_figure(fig: Figure) -> str | None:
    """The figure on PMC. `figlink` comes with or without a leading slash."""
    if fig.figlink:
        return f"{NCBI}/{quote(fig.figlink.lstrip('/'), safe='/:._-~')}"
    return pmc_article(fig.pmcid) if fig.pmcid else None


def doi(value: str) -> str:
    return f"https://doi.org/{quote(value, safe='/:.;()_-')}"


def ndex(uuid: str) -> str:
    return f"https://www.ndexbio.org/viewer/networks/{uuid}"


def wikipathways(wpid: str) -> str:
    return f"https://www.wikipathways.org/pathways/{wpid}.html"


def figure_image(fig: Figure, pattern: str) -> str | None:
    if not (fig.pmcid and fig.filename):
        return None
    return pattern.format(pmcid=fig.pmcid, filename=quote(fig.filename))
