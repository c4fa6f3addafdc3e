"""Every quirk of the real records (DATA.md) is handled, and none crashes a build."""
from __future__ import annotations

import json
import re

from tests.conftest import minimal_record, run_build, write_files
from tests.sitecheck import jsonld_blocks, site_file


def all_text(site) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(site.rglob("*")) if p.is_file()
                     and p.suffix in (".html", ".json", ".jsonl", ".tsv", ".xml", ".txt"))


def test_r_missing_values_never_appear_as_text(full_site):
    _src, site, result = full_site
    text = all_text(site)
    assert ".na.character" not in text
    # the one NA shown is the OCR word of the fly gene na (45338), a real mention
    shown = [text[m.start() - 300:m.end() + 300] for m in re.finditer(r">NA<|\"NA\"|/organisms/na\.html", text)]
    assert shown and all("45338" in around for around in shown)
    assert not site_file(site, "/organisms/na.html").exists()
    undated = site_file(site, "/figures/PMC3962044__nihms-563066-f0004.html").read_text()  # year: '' and doi: .na.character
    assert "DOI" not in undated and "<dt>Year</dt>" not in undated
    assert result.problems == []


def test_single_string_organism_is_a_list_of_one(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/figures/PMC100003__mb2410470011.html").read_text()  # organisms: Homo sapiens
    assert '<a href="/organisms/homo_sapiens.html"><i>Homo sapiens</i></a>' in page


def test_quoted_numbers_and_booleans_stay_text(full_site):
    _src, site, _ = full_site
    record = json.loads(site_file(site, "/data/PMC7988944__13027_2021_359_Fig6_HTML.json").read_text())
    assert record["year"] == "2021"
    assert {g["entrez"] for g in record["genes"]} >= {"10000", "208"}
    page = site_file(site, "/figures/PMC4207610__pgen.1004618.g007.html").read_text()  # keywords 'On' and 'Off'
    assert "<code>On</code>" in page and "<code>Off</code>" in page


def test_unquoted_yaml_boolean_is_reported_not_shown_as_true(tmp_path, monkeypatch):
    record = minimal_record("PMC2__bool", organisms="[Homo sapiens, On]")
    source = write_files(tmp_path / "src", {"a.md": record})
    monkeypatch.chdir(tmp_path)
    result = run_build(source, tmp_path / "out")
    (problem,) = result.problems
    assert str(problem) == "src/a.md:7: organisms[1]: expected text, got a boolean (True); quote it to keep it as text"
    assert not site_file(tmp_path / "out", "/organisms/true.html").exists()


def test_cyrillic_lookalike_letters_are_kept_as_written(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/figures/PMC7048131__12964_2020_527_Fig5_HTML.html").read_text()
    assert "<td>МАРК</td>" in page and "<td>с-Мус</td>" in page
    assert "<code>с-Мус</code>" in site_file(site, "/genes/4609.html").read_text()


def test_whitespace_folded_and_quoted_scalars(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/figures/PMC10033909__d3sc00173c-s1.html").read_text()  # keyword 'Me  Me  Me '
    assert "<code>Me Me Me</code>" in page
    title = jsonld_blocks(site_file(site, "/figures/PMC6791490__ehp-127-095001-g0003.html").read_text())[0]["name"]
    assert title == ("Evaluating Chemicals for Thyroid Disruption: Opportunities and Challenges with in Vitro "
                     "Testing and Adverse Outcome Pathway Approaches")


def test_figlink_with_or_without_leading_slash(full_site):
    _src, site, _ = full_site
    with_slash = site_file(site, "/figures/PMC5400654__oncotarget-08-22145-g003.html").read_text()
    without = site_file(site, "/figures/PMC7988944__13027_2021_359_Fig6_HTML.html").read_text()
    assert 'href="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5400654/figure/F3/"' in with_slash
    assert 'href="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC7988944/figure/Fig6/"' in without
    assert "gov//" not in with_slash + without


def test_duplicated_mention_rows_are_collapsed(full_site):
    _src, site, _ = full_site
    tsv = site_file(site, "/data/PMC10030845__fimmu-14-1150879-g001-chemicals.tsv").read_text().splitlines()
    assert [row.split("\t")[0] for row in tsv[1:]] == ["ATP", "Pyrin", "NACHT"]  # ATP was in three rows
    seed = site_file(site, "/figures/PMC7048131__12964_2020_527_Fig5_HTML.html").read_text()
    assert seed.count("<tr><td>STAT3</td>") == 1  # the seed lists STAT3 twice


def test_figids_with_dots_keep_them(full_site):
    _src, site, _ = full_site
    assert site_file(site, "/figures/PMC2864807__09_173_.de_ref2.html").is_file()
    assert site_file(site, "/figures/PMC1971124__pbio.0050248.g004.html").is_file()


def test_figure_without_mentions_shows_its_keywords(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/figures/PMC8714735__fonc-11-760971-g003.html").read_text()
    assert "Terms found in this figure" in page and "<code>RNaseMRP:RNA</code>" in page


def test_many_organisms_on_one_figure(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/figures/PMC6791490__ehp-127-095001-g0003.html").read_text()
    # 17 curated organisms; the 13 text-mined ones are all among them, so none is listed twice
    assert len(re.findall(r'href="/organisms/[a-z_]+\.html"><i>', page)) == 17


def test_bom_crlf_and_both_suffixes_are_read(tmp_path):
    crlf = minimal_record("PMC3__crlf").replace("\n", "\r\n")
    source = write_files(tmp_path / "src", {
        "a.md": "\ufeff" + minimal_record("PMC3__bom"),
        "b.txt": crlf,
        "notes.rst": "not a record",
    })
    result = run_build(source, tmp_path / "out")
    assert result.problems == []
    assert sorted(result.site.figures) == ["PMC3__bom", "PMC3__crlf"]


def test_markdown_body_is_rendered_without_raw_html(tmp_path):
    record = minimal_record("PMC4__body") + "Some *notes* with <b onclick=x>html</b> and [a link](javascript:alert(1)).\n"
    source = write_files(tmp_path / "src", {"a.md": record})
    run_build(source, tmp_path / "out")
    page = site_file(tmp_path / "out", "/figures/PMC4__body.html").read_text()
    assert "<em>notes</em>" in page
    assert "<b onclick" not in page and 'href="javascript:' not in page
