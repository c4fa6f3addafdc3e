"""reuse: a rebuild renders only the pages an edit touches, yet writes the same bytes as a cold build."""
from __future__ import annotations

import os
import shutil

import pytest

from bench.corpus import write_corpus
from site_gen.index import PLAIN
from site_gen.render import REFERENCE_REDIRECTS, Renderer
from site_gen.write import SiteWriter
from tests.conftest import (REPO, append_row as _append_row, make_settings, minimal_record, run_build, snapshot,
                            write_files)

FIGURES = 120
PAGE_SIZE = 20


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

    patch_segments = SiteWriter.patch_segments

    def patch_spy(self, out_path, *args):
        layout = patch_segments(self, out_path, *args)
        if layout is not None:
            spliced.append(out_path)
        return layout

    monkeypatch.setattr(SiteWriter, "put_segments", spy)
    monkeypatch.setattr(SiteWriter, "patch_segments", patch_spy)
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


def test_the_sitemaps_and_host_files_are_made_again_only_when_pages_or_aliases_change(tmp_path, monkeypatch):
    """The sitemaps list every page and `_redirects` every alias: an edit that changes neither (a
    title) keeps both as they are, a new record (without an alias) the sitemaps alone, a new alias (a
    stub, not a page) `_redirects` alone; each time the output is a cold build's."""
    from site_gen import build

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    src = write_files(tmp_path / "src", {f"r{i}.md": minimal_record(f"PMC{i}__x") for i in range(1, 6)})
    run_build(src, tmp_path / "site")
    made = []
    sitemaps, hosts = build.render_sitemaps, build.host_files
    monkeypatch.setattr(build, "render_sitemaps", lambda site: made.append("sitemaps") or sitemaps(site))
    monkeypatch.setattr(build, "host_files", lambda *args: made.append("host") or hosts(*args))
    for files, expected in (({"r2.md": minimal_record("PMC2__x", figtitle="Renamed")}, []),
                            ({"r6.md": minimal_record("PMC6__x")}, ["sitemaps"]),
                            ({"r3.md": minimal_record("PMC3__x", figid_alias="PMC3__F1")}, ["host"])):
        made.clear()
        write_files(src, files)
        assert run_build(src, tmp_path / "site").rendered > 0
        assert made == expected, files
        shutil.rmtree(tmp_path / "cold", ignore_errors=True)
        build.build(make_settings(src, tmp_path / "cold"), REPO, jobs=1, force=True, use_cache=False)
        assert snapshot(tmp_path / "site") == snapshot(tmp_path / "cold"), files


def test_a_title_edit_renders_of_each_entity_that_lists_the_figure_only_the_page_it_is_on(generated, tmp_path,
                                                                                          monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    src = tmp_path / "src"
    shutil.copytree(generated / "src", src)
    run_build(src, tmp_path / "site", jobs=1, page_size=4)
    record = _records(src)[10]
    figid = next(line for line in record.read_text(encoding="utf-8").splitlines()
                 if line.startswith("figid: ")).split(": ", 1)[1]
    edit_title(src)
    rendered = []
    render_page = Renderer.render_page

    def spy(self, page):
        rendered.append((page.kind, page.key, page.number))
        return render_page(self, page)

    monkeypatch.setattr(Renderer, "render_page", spy)
    site = run_build(src, tmp_path / "site", jobs=1, page_size=4).site
    listing = {(kind, e.key): e.figids.index(figid) // 4 + 1 for kind in ("gene", "chemical", "disease")
               for e in site.entities(kind).values() if figid in e.figids}
    assert any(len(site.page_groups[group]) > 1 for group in listing)  # (a list of several pages is the case)
    assert {(kind, key, number) for kind, key, number in rendered if (kind, key) in listing} == \
        {(kind, key, number) for (kind, key), number in listing.items()}
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    run_build(src, tmp_path / "cold", jobs=1, page_size=4)
    assert snapshot(tmp_path / "site") == snapshot(tmp_path / "cold")
