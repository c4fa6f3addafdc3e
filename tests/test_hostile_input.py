"""Hostile input beyond the case files: each is survived, reported as file:line: field, and the good
record beside it is always built."""
from __future__ import annotations

import pytest

from tests.conftest import minimal_record, run_build, write_files
from tests.sitecheck import site_file

GOOD = {"good.md": minimal_record("PMC9__good")}


def build_with(tmp_path, monkeypatch, files: dict):
    source = write_files(tmp_path / "src", GOOD | files)
    monkeypatch.chdir(tmp_path)
    result = run_build(source, tmp_path / "out")
    assert site_file(tmp_path / "out", "/figures/PMC9__good.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.cache", ".out.state", "out", "src"]  # nothing elsewhere
    return result


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


def test_enormous_caption_and_thousands_of_mention_rows(tmp_path, monkeypatch):
    caption = "word " * 400_000  # 2 MB
    rows = "".join(f"9606\tHomo sapiens\tPrimates\tG{i}\tG{i}\tG{i}\t{100000 + i}\tx\n" for i in range(5000))
    header = "organism_id\torganism_name\torganism_group\tword\tmatch\tncbigene_symbol\tncbigene_id\tsource\n"
    result = build_with(tmp_path, monkeypatch, {
        "big.md": minimal_record("PMC1__big", caption=caption.strip()),
        "_data/PMC1__big-genes.tsv": header + rows,
    })
    assert result.problems == []
    page = site_file(tmp_path / "out", "/figures/PMC1__big.html").read_text()
    assert page.count("<tr>") >= 5000 and len(page) > 2_000_000
    assert len(result.site.genes) == 5000


@pytest.mark.parametrize("content, words", [
    ("word\tmatch\tncbigene_symbol\tncbigene_id\textra\nAKT\tAKT\tAKT1\t207\tx\tmore\n", "expected 5 columns, got 6"),
    (b"word\tmatch\tncbigene_symbol\tncbigene_id\n\xff\xfeAKT\tAKT\tAKT1\t207\n", "UTF-8"),
    ("", "empty table"),
])
def test_bad_tables_are_reported(tmp_path, monkeypatch, content, words):
    result = build_with(tmp_path, monkeypatch, {"a.md": minimal_record("PMC1__tsv"),
                                                "_data/PMC1__tsv-genes.tsv": content})
    assert len(result.problems) == 1 and words in str(result.problems[0]), [str(p) for p in result.problems]
    assert str(result.problems[0]).startswith("src/_data/PMC1__tsv-genes.tsv:")
    assert site_file(tmp_path / "out", "/figures/PMC1__tsv.html").is_file()


@pytest.mark.parametrize("content", ["---\nlatin: [unclosed\n---\n", "---\n- a list\n---\n", b"\xff\xfe---\n",
                                     "---\nlatin: Homo sapiens\nncbi: {a: 1}\n---\n", "no front matter"])
def test_broken_organism_file_is_reported_and_the_organism_still_listed(tmp_path, monkeypatch, content):
    result = build_with(tmp_path, monkeypatch, {"_organisms/homo_sapiens.md": content})
    assert [str(p).split(":")[0] for p in result.problems] == ["src/_organisms/homo_sapiens.md"]
    assert site_file(tmp_path / "out", "/organisms/homo_sapiens.html").is_file()


def test_links_out_of_the_source_folder_are_not_read(tmp_path, monkeypatch):
    secret = tmp_path / "secret.md"
    secret.write_text(minimal_record("PMC5__secret", figtitle="SECRET-CONTENT"))
    (tmp_path / "outside.tsv").write_text("word\tmatch\tncbigene_symbol\tncbigene_id\nLEAK\tLEAK\tLEAK\t999\n")
    source = write_files(tmp_path / "src", GOOD | {"inside.md": minimal_record("PMC6__inside")})
    (source / "link.md").symlink_to(secret)
    (source / "_data").mkdir()
    (source / "_data" / "PMC6__inside-genes.tsv").symlink_to(tmp_path / "outside.tsv")
    (source / "ok.md").symlink_to(source / "inside.md")  # a link inside the source is fine
    monkeypatch.chdir(tmp_path)
    result = run_build(source, tmp_path / "out")
    refused = sorted(str(p) for p in result.problems if "outside the source folder" in p.message)
    assert refused == ["src/_data/PMC6__inside-genes.tsv: a link to a file outside the source folder; not read",
                       "src/link.md: a link to a file outside the source folder; not read"]
    for page in (tmp_path / "out").rglob("*"):
        if page.is_file():
            assert b"SECRET-CONTENT" not in page.read_bytes() and b"LEAK" not in page.read_bytes()


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
