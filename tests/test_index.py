"""index: figures → Site: entities and their order, aliases and their redirects, duplicate figids, pagination."""
from __future__ import annotations

import json
import re

from site_gen.index import natural_key
from tests.conftest import build_with, copy_full_source, minimal_record, run_build, write_files
from tests.sitecheck import jsonld_blocks, listed_figures as _listed_figures, site_file

BASE = "https://pfocr.wikipathways.org"


def test_names_sort_as_a_person_reads_them():
    names = ["MAPK10", "MAPK1", "mapk2", "MAPK11", "AKT1", "Akt", "MAPK"]
    assert sorted(names, key=natural_key) == ["Akt", "AKT1", "MAPK", "MAPK1", "mapk2", "MAPK10", "MAPK11"]


def test_gene_lists_and_search_data_are_in_natural_order(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    symbols = {"MAPK10": "5602", "MAPK1": "5594", "MAPK2": "9000001", "MAPK11": "5600", "MAPK3": "5595"}
    genes = "".join(f"\n- {{word: {s}, symbol: {s}, entrez: '{e}'}}" for s, e in symbols.items())
    src = write_files(tmp_path / "src", {"a.md": minimal_record("PMC1__a", genes=genes)})
    site = run_build(src, tmp_path / "out").site
    assert [g.name for g in site.entity_lists["gene"]] == ["MAPK1", "MAPK2", "MAPK3", "MAPK10", "MAPK11"]
    entry = json.loads((tmp_path / "out" / "search.json").read_text())
    entries = entry if isinstance(entry, list) else entry.get("figures", entry)
    assert [e["g"] for e in entries] == [["MAPK1", "MAPK2", "MAPK3", "MAPK10", "MAPK11"]]


def test_duplicate_figid_names_both_files(tmp_path, monkeypatch):
    source = write_files(tmp_path / "src", {
        "a.md": minimal_record("PMC5__same", figtitle="First"),
        "b.md": minimal_record("PMC5__same", figtitle="Second"),
    })
    monkeypatch.chdir(tmp_path)
    result = run_build(source, tmp_path / "out")
    (problem,) = result.problems
    assert str(problem).startswith("src/b.md:2: figid: duplicate figid 'PMC5__same': also in src/a.md")
    page = site_file(tmp_path / "out", "/figures/PMC5__same.html").read_text()
    assert "First" in page and "Second" not in page


def test_alias_equal_to_another_figid_or_alias_is_refused(tmp_path, monkeypatch):
    result = build_with(tmp_path, monkeypatch, {
        "a.md": minimal_record("PMC1__A", figid_alias="PMC9__good", redirect_from="/figures/PMC9__good"),
        "b.md": minimal_record("PMC2__B", figid_alias="PMC3__X", redirect_from="/figures/PMC3__X"),
        "c.md": minimal_record("PMC3__C", figid_alias="PMC3__X", redirect_from="/figures/PMC3__X"),
    })
    messages = sorted(str(p) for p in result.problems)
    assert any(m.startswith("src/a.md:") and "would overwrite the figure page" in m for m in messages), messages
    assert any(m.startswith("src/c.md:") and "also claimed by src/b.md" in m for m in messages), messages
    assert "PMC9__good" in site_file(tmp_path / "out", "/figures/PMC9__good.html").read_text()


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


def test_every_page_is_found_from_its_output_path(tmp_path):
    """`Site.page_at`, which the preview uses to re-render the pages a browser shows: paged lists, split
    folders (a tiny folder limit), diseases (whose key's colon is an underscore in the file name)."""
    source = copy_full_source(tmp_path / "src")
    site = run_build(source, tmp_path / "out", page_size=4, folder_limit=300).site
    assert site.folders.splits and site.diseases
    pages = list(site.iter_pages())
    assert any(p.number > 1 for p in pages)
    for page in pages:
        assert site.page_at(site.out_path(page.url)) == page
    assert site.page_at("genes/no-such-gene.html") is None and site.page_at("data/search.json") is None


def test_the_pages_of_templates_are_walked_by_section(tmp_path):
    source = copy_full_source(tmp_path / "src")
    site = run_build(source, tmp_path / "out", page_size=2).site
    for names in ({"gene.html"}, {"figure.html", "overview.html"}, {"home.html"}, {"nope.html"}):
        uses = names.__contains__
        assert list(site.pages_with_templates(uses)) == [p for p in site.iter_pages() if uses(p.template)]
        samples = list(site.pages_with_templates(uses, samples=True))
        assert {p.template for p in samples} == {p.template for p in site.iter_pages() if uses(p.template)}
    assert [p.template for p in site.pages_with_templates({"gene.html"}.__contains__, samples=True)] == ["gene.html"]
