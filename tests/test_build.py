"""build: byte-identical output, no work when nothing changed, only changed files written, failures write nothing."""
from __future__ import annotations

import shutil

import pytest

from site_gen.errors import SiteError
from tests.conftest import REPO, copy_full_source, minimal_record, run_build, write_files
from tests.sitecheck import site_file


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


def test_strict_fails_and_writes_nothing(tmp_path):
    source = write_files(tmp_path / "src", {"a.md": minimal_record("PMC7__a", year="'not a year'")})
    result = run_build(source, tmp_path / "out", strict=True)
    assert not result.ok
    assert not (tmp_path / "out").exists()
