"""Invariants of the site built from the seeds and the real-record corpus."""
from __future__ import annotations

import csv
import re
import shutil
from collections import defaultdict
from pathlib import Path

import html5lib
import pytest
import yaml
from schema_org import registry

from site_gen.errors import SiteError
from tests.conftest import REPO, copy_full_source, minimal_record, run_build, write_files
from tests.sitecheck import internal, jsonld_blocks, page_links, resolve, site_file

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


def test_figure_jsonld_names_the_figure_not_creativework(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/figures/PMC7988944__13027_2021_359_Fig6_HTML.html")
    dataset = jsonld_blocks(page.read_text())[0]
    assert dataset["name"] == "HBV induces sorafenib resistance in liver cancer via upregulation of cIAP2 expression"
    assert dataset["@id"] == dataset["url"] == f"{BASE}/figures/PMC7988944__13027_2021_359_Fig6_HTML.html"
    assert dataset["citation"]["@type"] == "ScholarlyArticle"
    assert dataset["image"]["contentUrl"] == ("https://europepmc.org/api/fulltextRepo?pmcId=PMC7988944&type=FILE"
                                              "&fileName=13027_2021_359_Fig6_HTML.jpg")  # the reference site's
    assert {g["identifier"] for g in dataset["about"] if g["@type"] == "Gene"} == {
        "208", "10000", "207", "4792", "4790", "4791", "5966", "5970", "5971"}
    assert {c["identifier"] for c in dataset["mentions"]} == {"D019259", "C471405"}


def test_jsonld_cannot_close_its_script_element(tmp_path):
    record = minimal_record("PMC8__xss", figtitle="'</script><script>alert(1)</script><!--'")
    source = write_files(tmp_path / "src", {"a.md": record})
    run_build(source, tmp_path / "out")
    html = site_file(tmp_path / "out", "/figures/PMC8__xss.html").read_text()
    assert "<script>alert(1)" not in html
    assert html.count("</script>") == html.count("<script")
    assert jsonld_blocks(html)[0]["name"] == "</script><script>alert(1)</script><!--"


def test_redirect_stub_never_overwrites_a_page(tmp_path, monkeypatch):
    source = write_files(tmp_path / "src", {
        "a.md": minimal_record("PMC1__A", figtitle="Real page A"),
        "b.md": minimal_record("PMC1__B", figtitle="Page B", figid_alias="PMC1__A"),
    })
    monkeypatch.chdir(tmp_path)
    result = run_build(source, tmp_path / "out")
    page = site_file(tmp_path / "out", "/figures/PMC1__A.html").read_text()
    assert "Real page A" in page and "http-equiv" not in page
    (problem,) = result.problems
    assert str(problem).startswith("src/b.md:")
    assert "would overwrite the figure page of src/a.md" in problem.message


def test_two_records_claiming_one_alias_is_an_error_naming_both(tmp_path, monkeypatch):
    source = write_files(tmp_path / "src", {
        "a.md": minimal_record("PMC1__A", figid_alias="PMC1__F1"),
        "b.md": minimal_record("PMC1__B", figid_alias="PMC1__F1"),
    })
    monkeypatch.chdir(tmp_path)
    result = run_build(source, tmp_path / "out")
    (problem,) = result.problems
    assert problem.src_path == "src/b.md" and "also claimed by src/a.md" in problem.message
    assert "PMC1__A.html" in site_file(tmp_path / "out", "/figures/PMC1__F1.html").read_text()
    assert "/figures/PMC1__F1 /figures/PMC1__A.html 301!" in (tmp_path / "out/_redirects").read_text()


def test_alias_stub_redirects_four_ways(full_site):
    _src, site, _ = full_site
    stub = site_file(site, "/figures/PMC7988944__F6.html").read_text()
    target = "/figures/PMC7988944__13027_2021_359_Fig6_HTML.html"
    assert f'<link rel="canonical" href="{BASE}{target}">' in stub
    assert '<meta name="robots" content="noindex">' in stub
    assert f'<meta http-equiv="refresh" content="0; url={target}">' in stub
    assert f'<a href="{target}" data-redirect>' in stub  # the link, which the site's redirect.js follows
    script = re.search(r'<script src="(/assets/redirect\.[0-9a-f]+\.js)"></script>', stub).group(1)
    assert "location.replace(link.getAttribute('href')" in (site / script.lstrip("/")).read_text()
    assert f"/figures/PMC7988944__F6 {target} 301!" in (site / "_redirects").read_text()


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


def _listed_figures(page: Path) -> set[str]:
    main = page.read_text(encoding="utf-8").split('<main id="main">')[1]
    return set(re.findall(r'href="/figures/([^"/]+)\.html"', main))


def test_entity_pages_list_exactly_the_figures_that_mention_them(full_site):
    source, site, _ = full_site
    genes, chems, orgs = _independent_mentions(source)
    for folder, expected in (("genes", genes), ("chemicals", chems), ("organisms", orgs)):
        pages = {p.stem: p for p in (site / folder).rglob("*.html") if p.stem != "index" and not p.stem.startswith("page-")}
        assert set(pages) == set(expected), folder
        for key, figids in expected.items():
            assert _listed_figures(pages[key]) == figids, (folder, key)


def test_text_mined_organisms_are_marked(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/organisms/drosophila_melanogaster.html").read_text()
    # every figure naming the fly does so only through text mining
    assert page.count('<span class="tag" title="Organism found by text mining only">') == len(_listed_figures(
        site_file(site, "/organisms/drosophila_melanogaster.html")))
    human = site_file(site, "/organisms/homo_sapiens.html").read_text()
    assert '<a href="https://www.ncbi.nlm.nih.gov/Taxonomy/Browser/wwwtax.cgi?id=9606">9606</a>' in human
    assert "<dt>Group</dt><dd>Primates</dd>" in human


def test_gene_page_shows_symbol_words_links_and_companions(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/genes/5594.html").read_text()  # MAPK1: found as MAPK and as Cyrillic МАРК
    assert "<code>MAPK</code>" in page and "<code>МАРК</code>" in page
    assert 'href="https://www.ncbi.nlm.nih.gov/gene/5594"' in page
    years = re.findall(r'<span class="meta">(\d{4})', page)
    assert years == sorted(years, reverse=True)


def test_output_is_byte_identical_across_builds(tmp_path):
    """Search index included: Pagefind writes some of its files in an order that changes from run to
    run, which the build makes canonical (`search.canonical_bundle`)."""
    source = copy_full_source(tmp_path / "src")
    run_build(source, tmp_path / "one", search_index="pagefind")
    run_build(source, tmp_path / "two", search_index="pagefind")
    one = {p.relative_to(tmp_path / "one"): p.read_bytes() for p in (tmp_path / "one").rglob("*") if p.is_file()}
    two = {p.relative_to(tmp_path / "two"): p.read_bytes() for p in (tmp_path / "two").rglob("*") if p.is_file()}
    assert one == two


def test_rebuild_writes_only_changed_files(tmp_path):
    source = copy_full_source(tmp_path / "src")
    first = run_build(source, tmp_path / "out")
    page = site_file(tmp_path / "out", "/figures/PMC100003__mb2410470011.html")
    inode = page.stat().st_ino
    second = run_build(source, tmp_path / "out", force=True)
    assert second.written == 0 and second.unchanged == first.written
    assert page.stat().st_ino == inode


def test_rebuild_with_nothing_changed_does_nothing_until_an_input_changes(tmp_path, caplog):
    source = copy_full_source(tmp_path / "src")
    write_files(source, {"bad.md": "---\nfigid: PMC1__bad\nfigtitle: [1\n---\n"})
    first = run_build(source, tmp_path / "out")
    assert not first.up_to_date and len(first.problems) == 1
    again = run_build(source, tmp_path / "out")
    assert again.up_to_date and again.site is None
    assert [str(p) for p in again.problems] == [str(p) for p in first.problems]  # still reported
    record = source / "seeds/000_a4da0ecd03bde010.txt"
    record.write_text(record.read_text().replace("figtitle: HBV", "figtitle: Edited HBV"))
    edited = run_build(source, tmp_path / "out")
    assert not edited.up_to_date and 0 < edited.written < first.written
    assert "Edited HBV" in site_file(tmp_path / "out", "/figures/PMC7988944__13027_2021_359_Fig6_HTML.html").read_text()
    shutil.rmtree(tmp_path / "out")
    assert not run_build(source, tmp_path / "out").up_to_date  # a missing site is rebuilt


def test_failed_build_leaves_previous_site_untouched(tmp_path):
    source = copy_full_source(tmp_path / "src")
    run_build(source, tmp_path / "out")
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    (templates / "gene.html").write_text("{% extends 'entity.html' %}{% block header %}{{ oops( }}{% endblock %}")
    (source / "seeds/000_a4da0ecd03bde010.txt").unlink()  # a change that would show if anything were written
    with pytest.raises(SiteError, match="gene.html:1: template error"):
        run_build(source, tmp_path / "out", templates=str(templates))
    after = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == [".out.cache", ".out.state"]  # no staging


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


def test_long_lists_are_paginated(tmp_path):
    source = copy_full_source(tmp_path / "src")
    run_build(source, tmp_path / "out", page_size=2)
    human = site_file(tmp_path / "out", "/organisms/homo_sapiens.html")
    second = site_file(tmp_path / "out", "/organisms/homo_sapiens-p2.html")
    assert human.is_file() and second.is_file()
    assert len(_listed_figures(human)) == 2
    assert 'rel="next" href="/organisms/homo_sapiens-p2.html"' in human.read_text()
    assert site_file(tmp_path / "out", "/genes/page-2.html").is_file()


def test_disease_pages_from_inline_and_tsv_mentions(tmp_path):
    inline = minimal_record("PMC1__dis", diseases="\n- word: Cancer\n  source: ''\n  identifier: ''\n"
                                                  "- word: Diabetes\n  source: MESH\n  identifier: D003920")
    source = write_files(tmp_path / "src", {
        "a.md": inline,
        "b.md": minimal_record("PMC2__dis"),
        "_data/PMC2__dis-diseases.tsv": "word\tmesh\tmatch\tname\tdoid\n"
                                        "diabetes\tmesh:D003920\tDiabetes Mellitus\tdiabetes mellitus\tdoid:9351\n"
                                        "tumour\tNA\tNA\tNA\tDOID:162\n",
    })
    result = run_build(source, tmp_path / "out")
    assert result.problems == []
    assert sorted(result.site.diseases) == ["D003920", "DOID:162"]
    page = site_file(tmp_path / "out", "/diseases/D003920.html").read_text()
    assert _listed_figures(site_file(tmp_path / "out", "/diseases/D003920.html")) == {"PMC1__dis", "PMC2__dis"}
    assert jsonld_blocks(page)[0]["@type"] == "MedicalCondition"
    assert site_file(tmp_path / "out", "/diseases/DOID_162.html").is_file()
    overview = site_file(tmp_path / "out", "/diseases/index.html").read_text()
    assert 'href="/diseases/DOID_162.html"' in overview and 'href="/diseases/D003920.html"' in overview
    figure = site_file(tmp_path / "out", "/figures/PMC1__dis.html").read_text()
    assert "<tr><td>Cancer</td>" in figure  # shown, though it has no identifier to link


def test_download_columns_are_the_mention_fields_in_order():
    """The JSON download pairs each column name with the mention field at the same place."""
    from site_gen.model import ChemicalMention, DiseaseMention, GeneMention
    from site_gen.render import CHEMICAL_COLUMNS, DISEASE_COLUMNS, GENE_COLUMNS

    assert GENE_COLUMNS == GeneMention._fields
    assert CHEMICAL_COLUMNS == ChemicalMention._fields
    assert DISEASE_COLUMNS == DiseaseMention._fields


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_template_failing_at_run_time_is_reported_with_its_file_and_line(tmp_path, jobs):
    source = copy_full_source(tmp_path / "src")
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    figure = templates / "figure.html"
    lines = figure.read_text().splitlines(keepends=True)
    line = next(n for n, text in enumerate(lines, 1) if "{{ fig.title }}</h1>" in text)
    lines[line - 1] = lines[line - 1].replace("{{ fig.title }}", "{{ fig.title + 1 }}")  # str + int: a TypeError
    figure.write_text("".join(lines))
    with pytest.raises(SiteError) as failed:
        run_build(source, tmp_path / "out", templates=str(templates), jobs=jobs)
    assert re.fullmatch(rf".*figure\.html:{line}: template error while rendering /figures/\S+\.html: TypeError: .*str.*",
                        str(failed.value))
    assert not (tmp_path / "out").exists()


def test_a_failure_outside_the_templates_is_not_called_a_template_error(tmp_path, monkeypatch):
    from site_gen.render import Renderer

    def broken(self, page):
        return 1 / 0

    monkeypatch.setattr(Renderer, "_context_figure", broken)
    with pytest.raises(ZeroDivisionError):  # a bug of the generator keeps its own traceback
        run_build(copy_full_source(tmp_path / "src"), tmp_path / "out")
