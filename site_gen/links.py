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


ENRICHR_FORM = "https://maayanlab.cloud/Enrichr/enrich"  # takes a POSTed `list` and `description`
DRUGSTONE_MOST = 100  # the genes the reference site sends Drugst.One at most


def drugstone(entrez_ids) -> str | None:
    """Drugst.One's standalone explorer on (at most 100 of) these human NCBI Gene IDs, as the reference
    site opens it; None without any."""
    nodes = ",".join(f"ncbigene:{e}" for e in list(dict.fromkeys(entrez_ids))[:DRUGSTONE_MOST])
    if not nodes:
        return None
    return (f"https://drugst.one/standalone?nodes={quote(nodes, safe=':,')}&autofillEdges=true"
            "&activateNetworkMenuButtonAdjacentDrugs=true&interactionDrugProtein=NeDRex&licensedDatasets=true")


def record_link(pattern: str, src_path: str, figid: str) -> str | None:
    """A curator's link for a record (`edit_url`, `report_url` settings), or None when not set."""
    if not pattern:
        return None
    return pattern.format(src_path=quote(src_path), figid=quote(figid, safe=""))
