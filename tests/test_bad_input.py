"""Each bad-input case reports `file:line: field: problem`, and good records beside it are still built."""
from __future__ import annotations

import shutil

import pytest

from tests.conftest import CASES, minimal_record, run_build, write_files
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


def test_strict_fails_and_writes_nothing(tmp_path):
    source = write_files(tmp_path / "src", {"a.md": minimal_record("PMC7__a", year="'not a year'")})
    result = run_build(source, tmp_path / "out", strict=True)
    assert not result.ok
    assert not (tmp_path / "out").exists()
