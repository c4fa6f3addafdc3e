"""schema.org JSON-LD for every page kind: plain dicts, serialised safely for a <script> element."""
from __future__ import annotations

import orjson

from site_gen import links
from site_gen.index import Chemical, Disease, Entity, Gene, Organism, Site, figure_url, slugify_organism
from site_gen.model import Figure

CONTEXT = "https://schema.org"


def dump_jsonld(data: dict) -> str:
    """JSON that cannot end its <script> element early: `<`, `>` and `&` are written as escapes."""
    text = orjson.dumps(data).decode("utf-8")  # compact, UTF-8, keys in insertion order
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _catalog_ref(site: Site, absolute) -> dict:
    return {"@type": "DataCatalog", "@id": absolute("/#catalog"), "name": site.settings.title}


def gene_ref(gene: Gene, absolute) -> dict:
    return {"@type": "Gene", "@id": absolute(gene.url), "identifier": gene.key, "name": gene.name,
            "sameAs": links.ncbi_gene(gene.key)}


def chemical_ref(chem: Chemical, absolute) -> dict:
    ref = {"@type": "MolecularEntity", "@id": absolute(chem.url), "identifier": chem.key, "name": chem.name,
           "sameAs": [links.mesh(chem.key)] + [links.chebi(c) for c in chem.chebi]}
    return ref


def disease_ref(disease: Disease, absolute) -> dict:
    same = ([links.mesh(disease.mesh)] if disease.mesh else []) + ([links.doid(disease.doid)] if disease.doid else [])
    return {"@type": "MedicalCondition", "@id": absolute(disease.url), "identifier": disease.key,
            "name": disease.name, "sameAs": same}


def organism_ref(org: Organism, absolute) -> dict:
    ref = {"@type": "Taxon", "@id": absolute(org.url), "name": org.name}
    if org.info and org.info.ncbi:
        ref["identifier"] = f"taxonomy:{org.info.ncbi}"
        ref["sameAs"] = links.taxon(org.info.ncbi)
    if org.info and org.info.common and org.info.common != org.name:
        ref["alternateName"] = org.info.common
    return ref


ENTITY_REFS = {"gene": gene_ref, "chemical": chemical_ref, "disease": disease_ref, "organism": organism_ref}


def _as_is(url: str) -> str:
    return url


def shown_on_figures(entity: Entity) -> bytes:
    """What the page of a figure that mentions an entity shows of it: its reference in the figure's
    JSON-LD (name, identifiers; the rest of the page holds the figure's own data). When this changes,
    for instance when an edit elsewhere changes the name most figures use, so do all those pages."""
    return orjson.dumps(ENTITY_REFS[entity.kind](entity, _as_is))


def figure_jsonld(site: Site, fig: Figure, absolute, image_url: str | None) -> dict:
    """A Dataset, as upstream's `schema-jsonld` describes it, with the figure title as its name."""
    url = absolute(figure_url(fig.figid))
    data = {
        "@context": CONTEXT,
        "@type": "Dataset",
        "@id": url,
        "url": url,
        "identifier": fig.figid,
        "name": fig.title,
        "description": fig.caption or fig.title,
        "license": site.settings.license_url,
        "creator": {"@type": "Organization", "name": site.settings.publisher},
        "includedInDataCatalog": _catalog_ref(site, absolute),
        "isAccessibleForFree": True,
    }
    if fig.year:
        data["datePublished"] = fig.year
    keywords = list(fig.keywords) or list(fig.mention_keywords)
    if keywords:
        data["keywords"] = keywords
    if fig.papertitle or fig.pmcid:
        article = {"@type": "ScholarlyArticle", "name": fig.papertitle or fig.reftext or fig.pmcid}
        if fig.pmcid:
            article["identifier"] = fig.pmcid
            article["url"] = links.pmc_article(fig.pmcid)
        if fig.doi:
            article["sameAs"] = links.doi(fig.doi)
        if fig.year:
            article["datePublished"] = fig.year
        if fig.journal:
            article["isPartOf"] = {"@type": "Periodical", "name": fig.journal}
        if fig.reftext:
            article["description"] = fig.reftext
        data["citation"] = article
    if image_url:
        data["image"] = {"@type": "ImageObject", "contentUrl": image_url, "caption": fig.title}
    about = [gene_ref(site.genes[e], absolute) for e in dict.fromkeys(m.entrez for m in fig.genes if m.entrez)]
    about += [organism_ref(site.organisms[s], absolute) for s in _organism_slugs(site, fig)]
    mentions = [chemical_ref(site.chemicals[k], absolute) for k in dict.fromkeys(m.mesh for m in fig.chemicals if m.mesh)]
    mentions += [disease_ref(site.diseases[k], absolute) for k in dict.fromkeys(m.key for m in fig.diseases if m.key)]
    if about:
        data["about"] = about
    if mentions:
        data["mentions"] = mentions
    return data


def _organism_slugs(site: Site, fig: Figure) -> list[str]:
    return [s for s in dict.fromkeys(slugify_organism(o) for o in fig.all_organisms) if s in site.organisms]


def entity_jsonld(entity: Entity, absolute, figures: list[Figure]) -> dict:
    data = {"@context": CONTEXT, **ENTITY_REFS[entity.kind](entity, absolute), "url": absolute(entity.url)}
    other_words = [w for w in entity.words if w != entity.name][:50]
    if other_words:
        data["alternateName"] = other_words
    data["subjectOf"] = [{"@type": "Dataset", "@id": absolute(figure_url(f.figid)), "name": f.title} for f in figures]
    return data


def collection_jsonld(name: str, url: str, items: list[tuple[str, str]], total: int, absolute) -> dict:
    """A CollectionPage whose main entity is the ItemList of the entries on this page."""
    return {
        "@context": CONTEXT,
        "@type": "CollectionPage",
        "@id": absolute(url),
        "url": absolute(url),
        "name": name,
        "mainEntity": {
            "@type": "ItemList",
            "numberOfItems": total,
            "itemListElement": [
                {"@type": "ListItem", "position": i, "url": absolute(u), "name": n}
                for i, (n, u) in enumerate(items, start=1)
            ],
        },
    }


def breadcrumb_jsonld(crumbs: list[tuple[str, str]], absolute) -> dict:
    return {
        "@context": CONTEXT,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": name, "item": absolute(url)}
            for i, (name, url) in enumerate(crumbs, start=1)
        ],
    }


def home_jsonld(site: Site, absolute, downloads=()) -> list[dict]:
    """The site, its data catalogue, and the whole catalogue as a Dataset whose distribution is every
    bulk download (`render.Download`), so that dataset search engines find them."""
    s = site.settings
    website = {
        "@context": CONTEXT,
        "@type": "WebSite",
        "@id": absolute("/#website"),
        "url": absolute("/"),
        "name": s.title,
        "description": s.description,
        "potentialAction": {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": absolute("/search.html") + "?q={query}"},
        },
    }
    catalog = {
        "@context": CONTEXT,
        **_catalog_ref(site, absolute),
        "url": absolute("/"),
        "description": s.description,
        "license": s.license_url,
        "publisher": {"@type": "Organization", "name": s.publisher},
        "dataset": [{"@type": "Dataset", "@id": absolute(figure_url(f)), "name": site.figures[f].title}
                    for f in list(site.figures)[:20]],
    }
    if not downloads:
        return [website, catalog]
    dataset = {
        "@context": CONTEXT,
        "@type": "Dataset",
        "@id": absolute("/#dataset"),
        "url": absolute("/downloads.html"),
        "name": f"{s.title}: the whole catalogue",
        "description": f"{s.description} Every figure with its genes, chemicals, diseases and organisms, as JSON "
                       "Lines, and gene sets per organism in GMT format.",
        "license": s.license_url,
        "creator": {"@type": "Organization", "name": s.publisher},
        "includedInDataCatalog": _catalog_ref(site, absolute),
        "isAccessibleForFree": True,
        "dateModified": site.build_date,
        "distribution": [{"@type": "DataDownload", "name": d.name, "description": d.about,
                          "contentUrl": absolute(d.url), "encodingFormat": d.format, "contentSize": f"{d.size} B"}
                         for d in downloads],
    }
    return [website, catalog, dataset]


def scholarly_article_jsonld(citation: dict) -> dict:
    """A publication to cite (a site page's `citation` front matter) as a schema.org ScholarlyArticle."""
    data: dict = {"@context": "https://schema.org", "@type": "ScholarlyArticle"}
    if citation.get("title"):
        data["headline"] = data["name"] = str(citation["title"])
    authors = citation.get("authors") or []
    if isinstance(authors, str):
        authors = [a.strip() for a in authors.split(";") if a.strip()]
    if authors:
        data["author"] = [{"@type": "Person", "name": str(a)} for a in authors]
    if citation.get("year"):
        data["datePublished"] = str(citation["year"])
    if citation.get("journal"):
        periodical = {"@type": "Periodical", "name": str(citation["journal"])}
        if citation.get("volume"):
            periodical = {"@type": "PublicationVolume", "volumeNumber": str(citation["volume"]), "isPartOf": periodical}
        data["isPartOf"] = periodical
    if citation.get("pages"):
        data["pagination"] = str(citation["pages"])
    if citation.get("doi"):
        doi = str(citation["doi"])
        data["identifier"] = {"@type": "PropertyValue", "propertyID": "DOI", "value": doi}
        data["sameAs"] = f"https://doi.org/{doi}"
    return data
