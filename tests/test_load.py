"""load: records, front matter and tables read from disk; bad input said as file:line: field, good records built."""
from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import CASES, GOOD, build_with, minimal_record, run_build, write_files
from tests.sitecheck import site_file


# case file → (line, field, words the message must contain, record skipped?)
CASES_EXPECTED = {
    "unclosed_front_matter.md": (1, "", "no closing '---'", True),
    "bad_yaml_indent.md": (7, "", "invalid YAML", True),
    "empty_file.md": (1, "", "empty file", True),
    "no_front_matter.md": (1, "", "no front matter", True),
    "front_matter_is_list.md": (2, "", "must be a mapping", True),
    "missing_figid.md": (1, "figid", "required", True),
    "unsafe_figid.md": (2, "figid", "unsafe figid", True),
    "gene_entrez_is_list.md": (14, "genes[1].entrez", "expected text, got a list", False),
    "organisms_is_mapping.md": (5, "organisms", "got a mapping", False),
    "title_is_list.md": (3, "figtitle", "expected text, got a list", False),
    "redirect_offsite.md": (4, "redirect_from", "not a same-site path", False),
    "bad_year.md": (4, "year", "unexpected value 'twenty twenty'", False),
    "genes_is_text.md": (4, "genes", "expected a list of mentions", False),
    "not_utf8.md": (3, "", "not UTF-8", True),
}


@pytest.mark.parametrize("case", sorted(CASES_EXPECTED))
def test_bad_record_reports_file_line_and_field(case, tmp_path, monkeypatch):
    line, field, words, skipped = CASES_EXPECTED[case]
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(CASES / case, source / case)
    write_files(source, {"good.md": minimal_record("PMC9__good")})
    monkeypatch.chdir(tmp_path)
    result = run_build(source, tmp_path / "out")

    mine = [p for p in result.problems if p.src_path.endswith(case)]
    assert len(mine) == 1, [str(p) for p in result.problems]
    problem = mine[0]
    assert str(problem).startswith(f"src/{case}:{line}:" if line else f"src/{case}:")
    assert problem.field == field
    assert words in problem.message
    assert problem.skipped is skipped
    # the good record beside it is always built
    assert site_file(tmp_path / "out", "/figures/PMC9__good.html").is_file()
    built = {p.name for p in (tmp_path / "out" / "figures").rglob("*.html")}
    assert any(n.startswith("PMC1__") for n in built) is not skipped


def test_every_problem_of_a_run_is_reported_and_counted(tmp_path, monkeypatch):
    source = tmp_path / "src"
    shutil.copytree(CASES, source)
    monkeypatch.chdir(tmp_path)
    result = run_build(source, tmp_path / "out")
    assert {p.src_path.rsplit("/", 1)[-1] for p in result.problems} == set(CASES_EXPECTED)
    from site_gen.errors import summarize_problems

    summary = summarize_problems(result.problems)
    skipped = sum(1 for v in CASES_EXPECTED.values() if v[3])
    assert summary.startswith(f"{len(CASES_EXPECTED)} problem(s) in {len(CASES_EXPECTED)} file(s); {skipped} record(s) skipped")


def test_missing_tsv_column_is_reported_with_table_file(tmp_path, monkeypatch):
    source = write_files(tmp_path / "src", {
        "a.md": minimal_record("PMC6__tsv"),
        "_data/PMC6__tsv-genes.tsv": "word\tmatch\tncbigene_id\nAKT\tAKT\t207\n",
    })
    monkeypatch.chdir(tmp_path)
    result = run_build(source, tmp_path / "out")
    (problem,) = result.problems
    assert str(problem) == "src/_data/PMC6__tsv-genes.tsv:1: genes: missing column(s): ncbigene_symbol"
    assert site_file(tmp_path / "out", "/figures/PMC6__tsv.html").is_file()


def test_short_tsv_row_is_reported_and_others_kept(tmp_path, monkeypatch):
    header = "organism_id\torganism_name\torganism_group\tword\tmatch\tncbigene_symbol\tncbigene_id\tsource\n"
    source = write_files(tmp_path / "src", {
        "a.md": minimal_record("PMC6__rows"),
        "a/PMC6__rows-genes.tsv": header + "9606\tHomo sapiens\tPrimates\tAKT\tAKT\tAKT1\t207\tx\n9606\tshort\n",
    })
    (tmp_path / "src/a").mkdir(exist_ok=True)
    monkeypatch.chdir(tmp_path)
    result = run_build(source, tmp_path / "out")
    assert [str(p) for p in result.problems] == ["src/a/PMC6__rows-genes.tsv:3: genes: expected 8 columns, got 2; row ignored"]
    assert site_file(tmp_path / "out", "/genes/207.html").is_file()


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


def test_the_identities_of_many_files_are_read_in_shares_in_the_walks_order(tmp_path, monkeypatch):
    """Past STAT_SHARE files, two processes read the files' identities: the same identities, in the
    same order (the fingerprint of the inputs depends on it), as one process reads; a file that went
    between the walk and its stat is left out, as missing."""
    from bench.corpus import write_corpus
    from site_gen import load

    write_corpus(tmp_path / "src", 30, seed=5)
    (tmp_path / "src" / "figures" / "_data").mkdir()
    (tmp_path / "src" / "figures" / "_data" / "x-genes.tsv").write_text("a\n", encoding="utf-8")
    one: dict = {}
    files = load.find_source_files(tmp_path / "src", one, 1)
    monkeypatch.setattr(load, "STAT_SHARE", 10)
    two: dict = {}
    assert load.find_source_files(tmp_path / "src", two, 2) == files
    assert list(two.items()) == list(one.items()) and len(one) > 60
    real = load._stat_share
    gone = files.records[3]

    def racing(entries, index, jobs):  # a record deleted after the walk listed it
        if index == 0:
            os.unlink(gone)
        return real(entries, index, jobs)

    monkeypatch.setattr(load, "_stat_share", racing)
    three: dict = {}
    load.find_source_files(tmp_path / "src", three, 1)
    assert list(three.items()) == [(path, identity) for path, identity in one.items() if path != gone]
