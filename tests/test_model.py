"""model: records → Figure: the real records' quirks (DATA.md); each field checked, reported as file:line: field."""
from __future__ import annotations

import json
import re

import pytest

from tests.conftest import build_with, minimal_record, run_build, write_files
from tests.sitecheck import jsonld_blocks, section_page as _page, site_file


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


def test_many_organisms_on_one_figure(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/figures/PMC6791490__ehp-127-095001-g0003.html").read_text()
    # 17 curated organisms; the 13 text-mined ones are all among them, so none is listed twice
    assert len(re.findall(r'href="/organisms/[a-z_]+\.html"><i>', page)) == 17


def test_real_tables_no_longer_dropped(full_site):
    source, output, result = full_site
    said = "\n".join(str(p) for p in result.problems)
    assert "PMC5409774__1415-4757-gmb-1678-4685-GMB-2016-0133-gf06-diseases.tsv" not in said
    assert "PMC10030510__fimmu-14-1140749-g002-genes.tsv" not in said
    figure = _page(output, "figures", "PMC10030510__fimmu-14-1140749-g002.html")
    assert re.search(r'<td>NA</td><td></td>\s*<td><a href="/genes/45338.html">na</a></td>', figure)
    old_layout = _page(output, "figures", "PMC5409774__1415-4757-gmb-1678-4685-GMB-2016-0133-gf06.html")
    assert '<h2 id="diseases">Diseases' in old_layout and "Noonan syndrome" in old_layout


@pytest.mark.parametrize("figid, words", [
    ("''", "required"), ("PMC1/evil", "unsafe figid"), ("'PMC1\\\\evil'", "unsafe figid"),
    ("PMC1..x", "unsafe figid"), ('"PMC1\\0x"', "unsafe figid"), ("'PMC1 <b>'", "unsafe figid"),
    ("'%2e%2e'", "unsafe figid"), ("[a, b]", "expected text"), ("{a: 1}", "expected text"),
])
def test_bad_figids_skip_the_record(tmp_path, monkeypatch, figid, words):
    record = minimal_record("PMC1__x").replace("figid: PMC1__x", f"figid: {figid}", 1)
    result = build_with(tmp_path, monkeypatch, {"bad.md": record})
    (problem,) = result.problems
    assert str(problem).startswith("src/bad.md:2: figid:") and words in problem.message and problem.skipped


@pytest.mark.parametrize("target", ["https://evil.example/figures/x", "//evil.example/x", "/genes/7157.html",
                                    "/figures/../../etc/passwd", "javascript:alert(1)"])
def test_redirect_from_off_site_or_outside_figures_is_refused(tmp_path, monkeypatch, target):
    result = build_with(tmp_path, monkeypatch, {"a.md": minimal_record("PMC1__A", redirect_from=f"'{target}'")})
    (problem,) = result.problems
    assert str(problem).startswith("src/a.md:") and problem.field.startswith("redirect_from")
    assert not (tmp_path / "out" / "genes" / "7157.html").exists()


@pytest.mark.parametrize("field, value", [
    ("caption", "[a, b]"), ("caption", "{a: 1}"), ("organisms", "{a: 1}"), ("keywords", "{a: 1}"),
    ("genes", "{a: 1}"), ("genes", "'text'"), ("chemicals", "42"), ("year", "[2020]"), ("pmcid", "{a: b}"),
    ("figlink", "[x]"), ("doi", "[x]"), ("ndex", "{x: 1}"), ("number", "[1]"), ("filename", "{a: 1}"),
])
def test_wrong_types_are_reported_and_the_record_kept(tmp_path, monkeypatch, field, value):
    result = build_with(tmp_path, monkeypatch, {"a.md": minimal_record("PMC1__types", **{field: value})})
    assert [p.field.split("[")[0] for p in result.problems] == [field]
    assert str(result.problems[0]).startswith(f"src/a.md:")
    assert site_file(tmp_path / "out", "/figures/PMC1__types.html").is_file()


def test_table_cells_are_cleaned_like_front_matter_text(tmp_path, monkeypatch):
    """A sidecar cell with control characters, stray whitespace or R's missing values reaches the site
    as front matter text would: what HTML forbids dropped, whitespace collapsed, NA as missing."""
    header = "word\tmatch\tncbigene_symbol\tncbigene_id\tsource\n"
    rows = "AK\x01T  \t AKT \tAKT1\t207\tNA\nTP53\tTP53\tTP53\t7157\t.na.character\n"
    result = build_with(tmp_path, monkeypatch, {"a.md": minimal_record("PMC1__cells"),
                                                "_data/PMC1__cells-genes.tsv": header + rows})
    assert result.problems == []
    genes = result.site.figures["PMC1__cells"].genes
    assert [(g.word, g.match, g.source) for g in genes] == [("AKT", "AKT", None), ("TP53", "TP53", None)]
    page = site_file(tmp_path / "out", "/figures/PMC1__cells.html").read_text()
    assert "\x01" not in page and "AKT" in page


def test_a_row_met_again_is_reported_again(tmp_path, monkeypatch):
    """Rows recur across figures: a row with a problem is reported in every file it is in, and a front
    matter row equal to an earlier one except in type (1 and true) is read for what it is."""
    header = "word\tmatch\tncbigene_symbol\tncbigene_id\n"
    good, bad = "AKT\tAKT\tAKT1\t207\n", "TP53\tTP53\tTP53\tnot-a-number\n"
    inline_one = "\n- word: TP53\n  entrez: 1"
    inline_true = "\n- word: TP53\n  entrez: true"
    result = build_with(tmp_path, monkeypatch, {
        "a.md": minimal_record("PMC1__a"), "_data/PMC1__a-genes.tsv": header + good + bad,
        "b.md": minimal_record("PMC2__b"), "_data/PMC2__b-genes.tsv": header + bad + good,
        "c.md": minimal_record("PMC3__c", genes=inline_one), "d.md": minimal_record("PMC4__d", genes=inline_true),
    })
    assert sorted(str(p) for p in result.problems) == [
        "src/_data/PMC1__a-genes.tsv:3: ncbigene_id: unexpected identifier 'not-a-number'; shown without a link",
        "src/_data/PMC2__b-genes.tsv:2: ncbigene_id: unexpected identifier 'not-a-number'; shown without a link",
        "src/d.md:10: genes[0].entrez: expected text, got a boolean (True); quote it to keep it as text",
    ]
    figures = result.site.figures
    assert figures["PMC1__a"].genes == figures["PMC2__b"].genes[::-1]
    assert [g.entrez for g in figures["PMC3__c"].genes] == ["1"]
    assert [g.entrez for g in figures["PMC4__d"].genes] == [None]
