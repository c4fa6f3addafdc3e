"""The whole site built from seeds and corpus: every page, link, JSON-LD block, entity page and sitemap URL checked."""
from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import html5lib
import yaml
from schema_org import registry

from tests.conftest import copy_full_source, run_build
from tests.sitecheck import internal, jsonld_blocks, listed_figures as _listed_figures, page_links, resolve

BASE = "https://pfocr.wikipathways.org"


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_page_parses_as_html_without_errors(full_site):
    _src, site, _ = full_site
    parser = html5lib.HTMLParser(strict=True)
    pages = html_pages(site)
    assert len(pages) > 100
    for page in pages:
        parser.parse(page.read_bytes(), transport_encoding="utf-8")  # raises on the first parse error


def test_every_internal_link_resolves(full_site):
    _src, site, _ = full_site
    broken = []
    for page in html_pages(site):
        for url in page_links(page.read_text(encoding="utf-8")):
            if internal(url, BASE) and not resolve(site, url, BASE):
                broken.append((page.relative_to(site).as_posix(), url))
    for sitemap in (site / "sitemaps").glob("*.xml"):
        for url in re.findall(r"<loc>(.*?)</loc>", sitemap.read_text()):
            if not resolve(site, url, BASE):
                broken.append((sitemap.name, url))
    assert broken == []


def _check_schema_terms(node, where, errors):
    if isinstance(node, list):
        for item in node:
            _check_schema_terms(item, where, errors)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("@type")
    if kind is None:
        errors.append(f"{where}: object without @type: {sorted(node)}")
        return
    if kind not in registry.CLASS_METADATA:
        errors.append(f"{where}: {kind} is not a schema.org type")
        return
    lineage = {kind, *registry.ancestry(kind)}
    for key, value in node.items():
        if key.startswith("@"):
            continue
        prop = registry.PROPERTY_BY_SCHEMA.get(key)
        if prop is None:
            errors.append(f"{where}: {key} is not a schema.org property")
        elif not lineage & set(prop.domains):
            errors.append(f"{where}: {key} is not a property of {kind}")
        _check_schema_terms(value, where, errors)


def test_every_jsonld_block_parses_and_uses_only_schema_org_terms(full_site):
    _src, site, _ = full_site
    errors: list[str] = []
    kinds = defaultdict(set)
    for page in html_pages(site):
        html = page.read_text(encoding="utf-8")
        if 'http-equiv="refresh"' in html:
            continue  # redirect stubs carry no structured data
        blocks = jsonld_blocks(html)
        assert blocks, page
        assert blocks[-1]["@type"] == "BreadcrumbList", page
        for block in blocks:
            assert block["@context"] == "https://schema.org"
            kinds[page.relative_to(site).parts[0]].add(block["@type"])
            _check_schema_terms(block, page.relative_to(site).as_posix(), errors)
    assert errors == []
    assert {"Dataset", "CollectionPage"} <= kinds["figures"]
    assert {"Gene", "CollectionPage"} <= kinds["genes"]
    assert {"MolecularEntity", "CollectionPage"} <= kinds["chemicals"]
    assert {"Taxon", "CollectionPage"} <= kinds["organisms"]
    assert {"WebSite", "DataCatalog"} <= kinds["index.html"]


# --- independent counts: read the records with plain yaml and csv, not with site_gen ------------

def _independent_mentions(source: Path):
    genes, chems, orgs = defaultdict(set), defaultdict(set), defaultdict(set)
    tables = {p.name: p for p in source.rglob("*.tsv")}
    for path in sorted(list(source.glob("seeds/*.txt")) + list(source.glob("figures/*.md"))):
        data = yaml.safe_load(path.read_text(encoding="utf-8").split("\n---", 1)[0][4:])
        figid = data["figid"]
        for g in [] if f"{figid}-genes.tsv" in tables else data.get("genes") or []:  # a table wins
            genes[g["entrez"]].add(figid)
        for c in [] if f"{figid}-chemicals.tsv" in tables else data.get("chemicals") or []:
            if c["source"] == "MESH":
                chems[c["identifier"]].add(figid)
        if f"{figid}-genes.tsv" in tables:
            with open(tables[f"{figid}-genes.tsv"], newline="") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    if row["ncbigene_id"] not in ("", "NA"):
                        genes[row["ncbigene_id"]].add(figid)
        if f"{figid}-chemicals.tsv" in tables:
            with open(tables[f"{figid}-chemicals.tsv"], newline="") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    if row["mesh"] not in ("", "NA"):
                        chems[row["mesh"].split(":")[1]].add(figid)
        for key in ("organisms", "organisms_ner"):
            value = data.get(key) or []
            for name in [value] if isinstance(value, str) else value:
                if name not in ("NA", ".na.character"):
                    orgs[re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")].add(figid)  # the URL rule
    return genes, chems, orgs


def test_entity_pages_list_exactly_the_figures_that_mention_them(full_site):
    source, site, _ = full_site
    genes, chems, orgs = _independent_mentions(source)
    for folder, expected in (("genes", genes), ("chemicals", chems), ("organisms", orgs)):
        pages = {p.stem: p for p in (site / folder).rglob("*.html") if p.stem != "index" and not p.stem.startswith("page-")}
        assert set(pages) == set(expected), folder
        for key, figids in expected.items():
            assert _listed_figures(pages[key]) == figids, (folder, key)


def test_sitemap_index_splits_into_chunks(tmp_path):
    source = copy_full_source(tmp_path / "src")
    run_build(source, tmp_path / "out", sitemap_size=10)
    index = (tmp_path / "out/sitemap.xml").read_text()
    chunks = re.findall(r"<loc>(.*?)</loc>", index)
    assert len(chunks) > 1
    urls = []
    for chunk in chunks:
        text = (tmp_path / "out" / chunk.removeprefix(BASE + "/")).read_text()
        found = re.findall(r"<loc>(.*?)</loc>", text)
        assert 0 < len(found) <= 10
        urls += found
    assert len(urls) == len(set(urls))
    assert f"{BASE}/figures/PMC100003__mb2410470011.html" in urls
    assert "//" not in "".join(u.removeprefix("https://") for u in urls)
    assert f"Sitemap: {BASE}/sitemap.xml" in (tmp_path / "out/robots.txt").read_text()
