"""Rebuilds: the model store re-reads only changed records, and only the pages an edit touches are
rendered again, yet every rebuild gives the same bytes as a cold build of the same input."""
from __future__ import annotations

import errno
import os
import shutil
import sqlite3

import pytest

from bench.corpus import write_corpus
from site_gen.cache import STORE_NAME, cache_folder, prefetch
from site_gen.index import PLAIN
from site_gen.render import REFERENCE_REDIRECTS, Renderer
from site_gen.write import SiteWriter
from tests.conftest import REPO, SEEDS, make_settings, minimal_record, run_build, snapshot, write_files

FIGURES = 120
PAGE_SIZE = 20


def _append_row(table, **cells) -> None:
    header = table.read_text(encoding="utf-8").split("\n", 1)[0].split("\t")
    with table.open("a", encoding="utf-8") as f:
        f.write("\t".join(cells.get(column, "") for column in header) + "\n")


@pytest.fixture
def seeds(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "src")
    return tmp_path / "src", tmp_path / "out"


def test_a_rebuild_parses_only_the_changed_record(seeds):
    src, out = seeds
    records = sorted(p for p in src.rglob("*") if p.suffix in (".md", ".txt") and "_pages" not in p.parts)
    first = run_build(src, out)
    assert (first.parsed, first.reused) == (len(records), 0)
    records[0].write_text(records[0].read_text(encoding="utf-8").replace("figtitle: ", "figtitle: New ", 1),
                          encoding="utf-8")
    second = run_build(src, out)
    assert (second.parsed, second.reused) == (1, len(records) - 1)
    assert any(f.title.startswith("New ") for f in second.site.figures.values())


def test_same_bytes_with_a_new_identity_are_not_parsed_again(seeds):
    src, out = seeds
    run_build(src, out)
    for path in src.rglob("*"):  # as a fresh checkout would: every file rewritten with the same bytes
        if path.is_file():
            data = path.read_bytes()
            path.unlink()
            path.write_bytes(data)
            os.utime(path, ns=(1, 1))
    again = run_build(src, out, force=True)
    assert again.parsed == 0 and again.reused > 0


def test_a_changed_or_new_sidecar_table_reparses_its_record(tmp_path):
    src = tmp_path / "src"
    write_corpus(src, 30, seed=5)
    first = run_build(src, tmp_path / "out")
    tables = sorted((src / "_data").glob("*-genes.tsv"))
    figid = tables[0].name.removesuffix("-genes.tsv")
    _append_row(tables[0], word="NEWWORD", match="NEWWORD", ncbigene_symbol="NEWWORD", ncbigene_id="999999")
    second = run_build(src, tmp_path / "out")
    assert second.parsed == 1
    assert "999999" in {m.entrez for m in second.site.figures[figid].genes}
    lonely = next(f for f in first.site.figures if not (src / "_data" / f"{f}-chemicals.tsv").exists()
                  and not any(p.name.startswith(f"{f}-chemicals") for p in src.rglob("*.tsv")))
    (src / "_data" / f"{lonely}-chemicals.tsv").write_text("word\tmesh\naspirin\tmesh:D001241\n", encoding="utf-8")
    third = run_build(src, tmp_path / "out")
    assert third.parsed == 1
    assert "D001241" in {m.mesh for m in third.site.figures[lonely].chemicals}


def test_a_damaged_or_foreign_cache_is_ignored(seeds):
    src, out = seeds
    cold = run_build(src, out)
    store = cache_folder(out) / STORE_NAME
    assert store.is_file()
    db = sqlite3.connect(store)
    with db:  # as another generator wrote it
        db.execute("UPDATE state SET value = ? WHERE name = 'generator'", (b"another generator",))
    db.close()
    again = run_build(src, out, force=True)
    assert again.parsed == cold.parsed and again.reused == 0
    assert sorted(again.site.figures) == sorted(cold.site.figures)
    assert run_build(src, out, force=True).parsed == 0  # and it was made again
    store.write_bytes(b"not a database" * 100)
    damaged = run_build(src, out, force=True)
    assert damaged.parsed == cold.parsed and sorted(damaged.site.figures) == sorted(cold.site.figures)
    assert run_build(src, out, force=True).parsed == 0


def test_no_cache_parses_everything(seeds):
    src, out = seeds
    run_build(src, out)
    from site_gen.build import build
    result = build(make_settings(src, out), REPO, force=True, use_cache=False, jobs=1)
    assert result.reused == 0 and result.parsed > 0


# --- only what an edit touches is rendered, and the result is what a cold build gives ----------

def _edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _records(src):
    return sorted((src / "figures").iterdir())


def edit_title(src):
    _edit(_records(src)[10], "figtitle: ", "figtitle: Edited ")


def edit_year(src):
    record = _records(src)[20]
    text = record.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("year: "))
    _edit(record, line, "year: '1999'")


def add_gene_row(src):
    table = sorted((src / "_data").glob("*-genes.tsv"))[3]
    _append_row(table, word="BRANDNEW1", match="BRANDNEW1", ncbigene_symbol="BRANDNEW1", ncbigene_id="987654321")


def delete_record(src):
    _records(src)[30].unlink()


def add_record(src):
    source = _records(src)[40]
    text = source.read_text(encoding="utf-8")
    figid = next(line for line in text.splitlines() if line.startswith("figid: ")).split(": ", 1)[1]
    (src / "figures" / "PMC9999999__F1.md").write_text(text.replace(figid, "PMC9999999__F1"), encoding="utf-8")


def add_alias(src):
    record = _records(src)[50]
    _edit(record, "figtitle: ", "redirect_from:\n- /figures/an-old-name\nfigtitle: ")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("rebuild")
    write_corpus(root / "src", FIGURES, seed=21)
    return root


@pytest.mark.parametrize("template, kinds", [
    ("gene.html", {"gene"}),  # a page template: its pages only
    ("entity.html", {"gene", "chemical", "disease", "organism"}),  # what extends it, through any step
    ("footer.html", None),  # a partial base.html renders: every page (a stub is a page of its own)
    ("redirect.html", {"redirect"}),
])
def test_a_template_edit_rerenders_exactly_the_pages_that_use_it(generated, tmp_path, template, kinds, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    first = run_build(generated / "src", tmp_path / "site", jobs=2, page_size=PAGE_SIZE, templates=str(templates))
    edited = templates / template
    edited.write_text(edited.read_text(encoding="utf-8").replace("</", "<!-- edited --></", 1), encoding="utf-8")
    rendered = []
    render_page, render_redirect = Renderer.render_page, Renderer.render_redirect

    def page_spy(self, page):
        rendered.append(page.kind)
        return render_page(self, page)

    def redirect_spy(self, redirect):
        rendered.append("redirect")
        return render_redirect(self, redirect)

    monkeypatch.setattr(Renderer, "render_page", page_spy)
    monkeypatch.setattr(Renderer, "render_redirect", redirect_spy)
    again = run_build(generated / "src", tmp_path / "site", jobs=1, page_size=PAGE_SIZE, templates=str(templates))
    always = {"home", "downloads", "404", "search", "collection-overview"}  # rendered by every rebuild
    site = again.site
    pages = [p.kind for p in site.iter_pages()] + ["redirect"] * (len(site.redirects) + len(REFERENCE_REDIRECTS))
    expected = [k for k in pages if (k != "redirect" if kinds is None else k in kinds | always)]
    from collections import Counter
    assert Counter(rendered) == Counter(expected), (Counter(rendered) - Counter(expected), Counter(expected) - Counter(rendered))
    assert again.rendered < first.rendered or kinds is None
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    run_build(generated / "src", tmp_path / "cold", jobs=1, page_size=PAGE_SIZE, templates=str(templates))
    assert snapshot(tmp_path / "site") == snapshot(tmp_path / "cold")


@pytest.mark.parametrize("edit", [edit_title, edit_year, add_gene_row, delete_record, add_record, add_alias])
def test_a_rebuild_renders_only_what_an_edit_touches_and_matches_a_cold_build(generated, tmp_path, edit, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    src = tmp_path / "src"
    shutil.copytree(generated / "src", src)
    first = run_build(src, tmp_path / "site", jobs=2, page_size=PAGE_SIZE)
    edit(src)
    spliced = []  # the files whose unchanged figures' segments were copied from the last build's
    put_segments = SiteWriter.put_segments

    def spy(self, out_path, head, sep, tail, parts, old=None):
        if old is not None:
            spliced.append(out_path)
        return put_segments(self, out_path, head, sep, tail, parts, old)

    monkeypatch.setattr(SiteWriter, "put_segments", spy)
    again = run_build(src, tmp_path / "site", jobs=2, page_size=PAGE_SIZE)
    assert again.parsed <= 1
    assert 0 < again.rendered < first.rendered / 4, (again.rendered, first.rendered)
    assert {"downloads/pfocr-figures.jsonl.gz", "search.json", "json/getFigureInfo.json",
            "downloads/gmt/pfocr-20231114-gmt-Homo_sapiens.gmt"} <= set(spliced)
    run_build(src, tmp_path / "cold", jobs=1, page_size=PAGE_SIZE)
    assert snapshot(tmp_path / "site") == snapshot(tmp_path / "cold")


def test_an_output_folder_replaced_since_is_not_linked_from(generated, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    site = tmp_path / "site"
    first = run_build(generated / "src", site, page_size=PAGE_SIZE)
    shutil.copytree(site, tmp_path / "copy")
    shutil.rmtree(site)
    os.rename(tmp_path / "copy", site)  # the same files in another folder: not the output the shape describes
    again = run_build(generated / "src", site, page_size=PAGE_SIZE, force=True)
    assert again.rendered == first.rendered


def test_prefetching_reads_ahead_and_tolerates_files_that_vanished(tmp_path, monkeypatch):
    """The read-ahead hint asks for each record and the tables named after it, and a file that is
    gone by then is left for the parser to report."""
    (tmp_path / "PMC1__F1.md").write_text("---\nfigid: PMC1__F1\n---\n")
    (tmp_path / "PMC1__F1-genes.tsv").write_text("word\n")
    asked = []
    monkeypatch.setattr(os, "posix_fadvise",
                        lambda fd, offset, length, advice: asked.append(os.readlink(f"/proc/self/fd/{fd}")))
    prefetch([tmp_path / "PMC1__F1.md", tmp_path / "gone.md"], {"PMC1__F1-genes.tsv": tmp_path / "PMC1__F1-genes.tsv"})
    assert asked == [str(tmp_path / "PMC1__F1.md"), str(tmp_path / "PMC1__F1-genes.tsv")]


@pytest.mark.parametrize("new, linked", [
    (["line 1\n", "line 2\n"], True),  # the same bytes, in other chunks than they were written in
    (["line 1\nline 2\n"], True),
    (["line 1\n", "line X\n"], False),  # a change in the middle
    (["line 1\n"], False),  # shorter
    (["line 1\n", "line 2\n", "line 3\n"], False),  # longer
])
def test_a_streamed_file_is_linked_from_the_previous_site_only_when_its_bytes_are_the_same(tmp_path, new, linked):
    first = SiteWriter(tmp_path / "out")
    first.claim("downloads/all.jsonl")
    first.put_stream("downloads/all.jsonl", iter(["line 1\nline", " 2\n"]))
    first.commit()
    old_inode = (tmp_path / "out/downloads/all.jsonl").stat().st_ino
    second = SiteWriter(tmp_path / "out")
    second.claim("downloads/all.jsonl")
    second.put_stream("downloads/all.jsonl", iter(new))
    second.commit()
    path = tmp_path / "out/downloads/all.jsonl"
    assert path.read_text() == "".join(new)
    assert (path.stat().st_ino == old_inode) == linked
    assert (second.unchanged, second.written) == ((1, 0) if linked else (0, 1))


def test_linking_from_the_previous_site_is_all_or_nothing(tmp_path):
    first = SiteWriter(tmp_path / "out")
    for out_path in ("data/a.json", "data/a-genes.tsv", "data/b.json"):
        first.write(out_path, out_path)
    (first.staging / "data" / "b-genes.tsv").mkdir()  # not a file
    first.commit()
    second = SiteWriter(tmp_path / "out")
    for out_path in ("data/a.json", "data/a-genes.tsv", "data/b.json", "data/b-genes.tsv", "data/c.json"):
        second.claim(out_path)
    assert second.reuse("data/a.json", "data/a-genes.tsv")
    assert not second.reuse("data/b.json", "data/c.json")  # c is missing: b is not left linked
    assert not second.reuse("data/b.json", "data/b-genes.tsv")
    assert sorted(p.name for p in (second.staging / "data").iterdir()) == ["a-genes.tsv", "a.json"]
    assert (second.staging / "data" / "a.json").stat().st_ino == (tmp_path / "out" / "data" / "a.json").stat().st_ino
    assert second.unchanged == 2
    second.abort()


OLD_SEGMENTS = {"a": "A", "b": "BB", "c": "CCC", "d": "DDDD"}


@pytest.mark.parametrize("new, linked", [
    ({"a": None, "b": None, "c": None, "d": None}, True),  # every segment copied, in its place
    ({"a": None, "b": "B2", "c": None, "d": None}, False),  # one changed in the middle
    ({"d": None, "a": None, "b": None, "c": None}, False),  # another order
    ({"a": None, "b": None, "d": None}, False),  # one gone
    ({"b": None, "c": None, "d": None}, False),  # the first gone: no separator before the new first
    ({"a": None, "b": None, "c": None, "d": None, "e": "EEEEE"}, False),  # one added
    ({"x": "X", "a": None, "b": None, "c": None, "d": None}, False),
    ({}, False),
])
@pytest.mark.parametrize("copy_file_range", [True, False])
def test_a_file_of_segments_copies_the_unchanged_ones_from_the_previous_site(tmp_path, monkeypatch, new, linked,
                                                                            copy_file_range):
    if not copy_file_range:  # a system without it: read and write
        def refuse(*args, **kwargs):
            raise OSError(errno.ENOSYS, "copy_file_range")
        monkeypatch.setattr(os, "copy_file_range", refuse)
    first = SiteWriter(tmp_path / "out")
    first.claim("search.json")
    layout = first.put_segments("search.json", "[", ",", "]\n", iter(OLD_SEGMENTS.items()))
    first.commit()
    path = tmp_path / "out/search.json"
    data = path.read_bytes()
    assert data == b"[A,BB,CCC,DDDD]\n" and layout.size == len(data)
    assert {name: data[start:start + length] for name, (start, length) in layout.spans.items()} == \
        {name: text.encode() for name, text in OLD_SEGMENTS.items()}
    old_inode = path.stat().st_ino

    second = SiteWriter(tmp_path / "out")
    second.claim("search.json")
    old = second.previous_layout("search.json", layout)
    assert old == layout
    made = second.put_segments("search.json", "[", ",", "]\n", iter(new.items()), old)
    second.commit()
    texts = {name: OLD_SEGMENTS[name] if text is None else text for name, text in new.items()}
    data = path.read_bytes()
    assert data == ("[" + ",".join(texts.values()) + "]\n").encode()
    assert made.size == len(data)
    assert {name: data[start:start + length] for name, (start, length) in made.spans.items()} == \
        {name: text.encode() for name, text in texts.items()}
    assert (path.stat().st_ino == old_inode) == linked
    assert (second.unchanged, second.written) == ((1, 0) if linked else (0, 1))


def test_a_file_of_segments_changed_since_the_last_build_is_not_copied_from(tmp_path):
    first = SiteWriter(tmp_path / "out")
    first.claim("all.jsonl")
    layout = first.put_segments("all.jsonl", "", "", "", iter([("a", "1\n"), ("b", "2\n")]))
    first.commit()
    second = SiteWriter(tmp_path / "out")
    assert second.previous_layout("all.jsonl", layout) == layout
    assert second.previous_layout("all.jsonl", None) is None
    (tmp_path / "out/all.jsonl").write_text("1\n2\n3\n")  # not the file the layout describes
    assert second.previous_layout("all.jsonl", layout) is None
    (tmp_path / "out/all.jsonl").unlink()
    assert second.previous_layout("all.jsonl", layout) is None
    second.abort()


def test_an_edit_that_changes_what_other_figures_show_of_an_entity_renders_their_pages(tmp_path, monkeypatch):
    """A figure page's JSON-LD names every entity it mentions by the name most figures use, and lists
    the ChEBI IDs of all of them: an edit of one record can change that on the pages of others."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    gene = "\n- {{word: {0}, symbol: {0}, entrez: '6774'}}".format
    chemicals = "word\tmatch\tmesh\tchebi\nATP\tATP\tmesh:D000255\t{}\n".format
    src = write_files(tmp_path / "src", {
        "a.md": minimal_record("PMC1__a", genes=gene("STAT3")), "_data/PMC1__a-chemicals.tsv": chemicals(""),
        "b.md": minimal_record("PMC2__b", genes=gene("STAT3")), "_data/PMC2__b-chemicals.tsv": chemicals(""),
        "d.md": minimal_record("PMC4__d"),
    })
    run_build(src, tmp_path / "site")
    page = tmp_path / "site" / PLAIN.out_path("/figures/PMC2__b.html")
    before = (tmp_path / "site" / PLAIN.out_path("/figures/PMC4__d.html")).stat().st_ino
    assert b'"name":"STAT3"' in page.read_bytes()
    # one figure each says STAT3 and AAA3 (the first A-Z among equals wins), and ATP gets a ChEBI ID
    write_files(src, {"a.md": minimal_record("PMC1__a", genes=gene("AAA3")),
                      "_data/PMC1__a-chemicals.tsv": chemicals("chebi:15422")})
    again = run_build(src, tmp_path / "site")
    assert again.parsed == 1
    assert b'"name":"AAA3"' in page.read_bytes() and b"CHEBI%3A15422" in page.read_bytes()
    assert (tmp_path / "site" / PLAIN.out_path("/figures/PMC4__d.html")).stat().st_ino == before  # linked, not rendered
    run_build(src, tmp_path / "cold")
    assert snapshot(tmp_path / "site") == snapshot(tmp_path / "cold")


@pytest.mark.parametrize("failure", ["template", "strict"])
def test_a_build_after_one_that_failed_once_it_had_read_an_edit_matches_a_cold_build(generated, tmp_path, failure,
                                                                                     monkeypatch):
    """A build that stops after reading an edit (a template error, --strict) has saved that edit in the
    model store but not rendered it: the next build must not take the store's index as what the output
    shows."""
    from site_gen.errors import SiteError

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    src, templates = tmp_path / "src", tmp_path / "templates"
    shutil.copytree(generated / "src", src)
    shutil.copytree(REPO / "templates", templates)
    run_build(src, tmp_path / "site", page_size=PAGE_SIZE, templates=str(templates))
    edit_title(src)  # shown on the pages of the figure's genes, which use gene.html
    if failure == "template":
        figure = templates / "figure.html"
        good = figure.read_text(encoding="utf-8")
        figure.write_text(good + "{% if %}", encoding="utf-8")
        with pytest.raises(SiteError):
            run_build(src, tmp_path / "site", page_size=PAGE_SIZE, templates=str(templates))
        figure.write_text(good, encoding="utf-8")
    else:
        write_files(src, {"figures/zz-bad.md": "---\nfigid: [\n---\n"})
        failed = run_build(src, tmp_path / "site", page_size=PAGE_SIZE, templates=str(templates), strict=True)
        assert not failed.ok
        (src / "figures/zz-bad.md").unlink()
    again = run_build(src, tmp_path / "site", page_size=PAGE_SIZE, templates=str(templates))
    assert again.parsed == 0  # the edit was read once, by the build that failed
    run_build(src, tmp_path / "cold", page_size=PAGE_SIZE, templates=str(templates))
    assert snapshot(tmp_path / "site") == snapshot(tmp_path / "cold")


def test_a_build_after_the_preview_changed_the_output_matches_a_cold_build(generated, tmp_path, monkeypatch):
    from site_gen.serve import Preview

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    src = tmp_path / "src"
    shutil.copytree(generated / "src", src)
    settings = make_settings(src, tmp_path / "site", page_size=PAGE_SIZE)
    live = Preview(settings, REPO, jobs=1)
    live.rebuild()
    edit_title(src)
    assert live.on_change() and live.error is None
    run_build(src, tmp_path / "site", page_size=PAGE_SIZE)
    run_build(src, tmp_path / "cold", page_size=PAGE_SIZE)
    assert snapshot(tmp_path / "site") == snapshot(tmp_path / "cold")
