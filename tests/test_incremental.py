"""The preview's incremental rebuild writes exactly what a full build of the same input writes."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from site_gen import serve
from site_gen.build import build
from site_gen.index import PLAIN
from site_gen.serve import Preview
from site_gen.settings import load_settings
from tests.conftest import EPOCH, REPO, copy_full_source, make_settings, minimal_record, snapshot, write_files


PAGE_SIZE = 7  # small pages, so that every list is paginated and an edit shifts later pages


@pytest.fixture
def preview(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    source = copy_full_source(tmp_path / "src")
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    settings = make_settings(source, tmp_path / "out", templates=str(templates), search_index="pagefind",
                             page_size=PAGE_SIZE)
    live = Preview(settings, REPO, jobs=1)
    live.rebuild()
    assert live.error is None
    return live


def assert_same_as_full_build(live: Preview, tmp_path: Path):
    settings = make_settings(live.source, tmp_path / "fresh", templates=str(live.templates), search_index="pagefind",
                             page_size=PAGE_SIZE)
    full = build(settings, REPO, jobs=1, force=True)
    got, want = snapshot(live.output), snapshot(tmp_path / "fresh")
    # Pagefind numbers pages in the order the folder lists them, which differs between a folder written
    # at once and one edited in place; its per-page fragments (named by their content) must match.
    fragments = {k for k in want if k.startswith("pagefind/") and "/fragment/" in k}
    assert fragments and fragments == {k for k in got if k.startswith("pagefind/") and "/fragment/" in k}
    got = {k: v for k, v in got.items() if not k.startswith("pagefind/")}
    want = {k: v for k, v in want.items() if not k.startswith("pagefind/")}
    assert sorted(got) == sorted(want)
    assert [k for k in want if got[k] != want[k]] == []
    assert sorted(map(str, live.problems)) == sorted(map(str, full.problems))


def test_edit_add_delete_records_and_tables(preview, tmp_path):
    source = preview.source
    seed = source / "seeds/003_00dc568588f0f9ad.txt"
    seed.write_text(seed.read_text().replace("figtitle: Advances", "figtitle: Edited advances"))
    preview.on_change()
    assert preview.error is None
    assert_same_as_full_build(preview, tmp_path)

    # a new figure that mentions a gene nobody mentioned, and one more figure for a known gene
    write_files(source, {"new.md": minimal_record(
        "PMC77__new", genes="\n- {word: NEWG, symbol: NEWG, entrez: '999999'}\n- {word: STAT3, symbol: STAT3, entrez: '6774'}")})
    preview.on_change()
    assert (preview.output / "genes").exists() and "999999" in preview.site.genes
    assert_same_as_full_build(preview, tmp_path)

    # a sidecar table edited: genes of that figure change
    table = source / "_data/PMC10030845__fimmu-14-1150879-g001-genes.tsv"
    lines = table.read_text().splitlines()
    table.write_text("\n".join(lines[:1] + lines[3:]) + "\n")
    preview.on_change()
    assert_same_as_full_build(preview, tmp_path)

    # the new record deleted: its gene goes away with it
    (source / "new.md").unlink()
    preview.on_change()
    assert "999999" not in preview.site.genes
    assert_same_as_full_build(preview, tmp_path)


def test_an_edit_that_renames_an_entity_rerenders_the_pages_of_every_figure_that_mentions_it(preview, tmp_path):
    """Figure pages name the entities they mention in their JSON-LD, by the name most figures use."""
    gene = "\n- {{word: {0}, symbol: {0}, entrez: '999998'}}".format
    write_files(preview.source, {"one.md": minimal_record("PMC71__one", genes=gene("ZZZ1")),
                                 "two.md": minimal_record("PMC72__two", genes=gene("ZZZ1"))})
    preview.on_change()
    page = preview.output / PLAIN.out_path("/figures/PMC72__two.html")
    assert b'"name":"ZZZ1"' in page.read_bytes()
    write_files(preview.source, {"one.md": minimal_record("PMC71__one", genes=gene("AAA1"))})  # a tie: A-Z first
    preview.on_change()
    assert preview.site.genes["999998"].name == "AAA1" and b'"name":"AAA1"' in page.read_bytes()
    assert_same_as_full_build(preview, tmp_path)


def test_template_edit_rerenders_only_its_pages(preview, tmp_path):
    before = snapshot(preview.output)
    chemical = preview.templates / "chemical.html"
    chemical.write_text(chemical.read_text().replace("{% block header %}", "{% block header %}<p>Edited chemical</p>"))
    preview.on_change()
    after = snapshot(preview.output)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed and all(k.startswith("chemicals/C") or k.startswith("chemicals/D") for k in changed)  # no overview
    assert_same_as_full_build(preview, tmp_path)


def test_broken_record_then_fixed(preview, tmp_path):
    seed = preview.source / "seeds/003_00dc568588f0f9ad.txt"
    good = seed.read_text()
    seed.write_text(good.replace("figtitle:", "figtitle: [unclosed", 1))
    preview.on_change()
    assert any("invalid YAML" in str(p) for p in preview.problems)
    assert_same_as_full_build(preview, tmp_path)
    seed.write_text(good)
    preview.on_change()
    assert not any("invalid YAML" in str(p) for p in preview.problems)
    assert_same_as_full_build(preview, tmp_path)


def test_template_error_is_shown_then_recovers(preview, tmp_path):
    figure = preview.templates / "figure.html"
    good = figure.read_text()
    figure.write_text(good.replace("{% block main %}", "{% block main %}{{ oops( }}", 1))
    seed = preview.source / "seeds/003_00dc568588f0f9ad.txt"
    seed.write_text(seed.read_text().replace("figtitle: Advances", "figtitle: Edited advances"))
    preview.on_change()
    assert preview.error and "figure.html" in preview.error and "template error" in preview.error
    figure.write_text(good)
    preview.on_change()
    assert preview.error is None
    assert_same_as_full_build(preview, tmp_path)


def request(live: Preview, path: str) -> tuple[str, str]:
    """(status, body) of one request to the preview's WSGI app."""
    got = {}
    body = b"".join(live({"PATH_INFO": path}, lambda status, headers: got.update(status=status)))
    return got["status"], body.decode("utf-8")


def test_template_edit_renders_the_pages_shown_before_the_reload_and_the_rest_after(preview, tmp_path):
    genes = [e.url for e in preview.site.genes.values()]
    shown, asked, untouched = genes[3], genes[1], genes[2]  # (genes[0] is the probe of gene.html)
    assert request(preview, shown)[0] == "200 OK"
    gene = preview.templates / "gene.html"
    gene.write_text(gene.read_text().replace("{% block header %}", "{% block header %}<p>Edited gene</p>", 1))
    assert preview.on_change(defer=True)  # the server sends the reload here
    on_disk = lambda url: (preview.output / PLAIN.out_path(url)).read_text(encoding="utf-8")  # noqa: E731
    assert "Edited gene" in on_disk(shown)
    assert "Edited gene" not in on_disk(asked) and PLAIN.out_path(asked) in preview.pending
    status, body = request(preview, asked)  # asked for before the background reaches it: made for the request
    assert status == "200 OK" and "Edited gene" in body and "Edited gene" in on_disk(asked)
    assert "Edited gene" not in on_disk(untouched)
    preview.flush_data()  # the background's turn
    assert not preview.pending and "Edited gene" in on_disk(untouched)
    assert_same_as_full_build(preview, tmp_path)


def test_a_template_error_found_after_the_reload_is_shown(preview):
    gene = preview.templates / "gene.html"
    last = list(preview.site.genes)[-1]
    gene.write_text(gene.read_text().replace(
        "{% block header %}", "{% block header %}{% if entity.key == '" + last + "' %}{{ entity.nope() }}{% endif %}", 1))
    assert preview.on_change(defer=True)
    assert preview.error is None  # the page rendered before the reload is fine
    preview.flush_data()
    assert preview.error and "template error" in preview.error
    assert request(preview, "/")[0] == "500 Build Failed"


def test_the_search_index_is_made_outside_the_lock_and_dropped_if_an_edit_came(preview, tmp_path, monkeypatch):
    """Pagefind takes half a minute at catalogue scale: an edit meanwhile goes through at once, the
    site keeps its old index until a new one is complete, and an index an edit overtook is not used."""

    real, started, release, bundles = serve.run_pagefind, threading.Event(), threading.Event(), []

    def slow_pagefind(*args, **kwargs):
        bundles.append(kwargs.get("into"))
        started.set()
        assert release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(serve, "run_pagefind", slow_pagefind)
    seed = preview.source / "seeds/003_00dc568588f0f9ad.txt"
    text = seed.read_text()
    seed.write_text(text.replace("figtitle: Advances", "figtitle: First edit of"))
    assert preview.on_change(defer=True)
    before = snapshot(preview.output / "pagefind")
    flushing = threading.Thread(target=preview.flush_data)
    flushing.start()
    try:
        assert started.wait(60)
        seed.write_text(text.replace("figtitle: Advances", "figtitle: Second edit of"))
        editing = threading.Thread(target=preview.on_change, kwargs={"defer": True})
        editing.start()
        editing.join(20)
        assert not editing.is_alive()  # the lock was free while Pagefind ran
        figid = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("figid:"))
        assert "Second edit of" in (preview.output / PLAIN.out_path(f"/figures/{figid}.html")).read_text()
        assert snapshot(preview.output / "pagefind") == before  # the old index is served meanwhile
    finally:
        release.set()
        flushing.join(120)
    assert snapshot(preview.output / "pagefind") == before  # made before the second edit: dropped
    assert bundles and not bundles[0].exists()
    monkeypatch.setattr(serve, "run_pagefind", real)
    preview.flush_data()
    assert_same_as_full_build(preview, tmp_path)


def test_a_page_that_cannot_be_written_when_asked_for_shows_why(preview, monkeypatch):
    """A page left for later by a template edit, then asked for, that cannot be written (a full disk):
    the browser gets the reason on the error page instead of a failed request, and the server goes on."""
    asked = [e.url for e in preview.site.genes.values()][1]
    gene = preview.templates / "gene.html"
    good = gene.read_text()
    gene.write_text(good.replace("{% block header %}", "{% block header %}<p>Edited gene</p>", 1))
    assert preview.on_change(defer=True)
    assert PLAIN.out_path(asked) in preview.pending

    def disk_full(*_args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(serve, "_replace", disk_full)
    status, body = request(preview, asked)
    assert status == "500 Build Failed" and "No space left on device" in body
    monkeypatch.undo()
    gene.write_text(good)
    preview.on_change()  # the next change builds again
    assert preview.error is None and request(preview, asked)[0] == "200 OK"


def test_the_preview_reads_its_settings_file_again_and_only_the_one_it_was_given(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    source = copy_full_source(tmp_path / "src")
    config = tmp_path / "site.toml"
    table = (f'[tool.site_gen]\nsource = "src"\noutput = "out"\ntemplates = "{REPO / "templates"}"\n'
             f'static = "{REPO / "static"}"\nsearch_index = "none"\n')
    config.write_text(table + 'title = "First title"\n')
    (tmp_path / "pyproject.toml").write_text('[tool.site_gen]\ntitle = "Not this one"\n')
    settings, root = load_settings(config, {})
    live = Preview(settings, root, jobs=1, config=config, overrides={})
    live.rebuild()
    home = tmp_path / "out" / "index.html"
    assert "<title>First title</title>" in home.read_text()

    (tmp_path / "pyproject.toml").write_text('[tool.site_gen]\ntitle = "Still not this one"\n')
    assert not live.on_change()  # another settings file than --config's: nothing to do

    config.write_text(table + 'title = "Second title"\n')
    assert live.on_change() and live.error is None
    assert "<title>Second title</title>" in home.read_text()

    config.write_text(table + 'title = "Third"\npage_size = "many"\n')  # bad settings: said, site kept
    live.on_change()
    assert live.error and "page_size" in live.error and "<title>Second title</title>" in home.read_text()
    (source / "seeds" / "new.md").write_text(minimal_record("PMC5__new"))  # still said, whatever changes
    live.on_change()
    assert live.error and "page_size" in live.error

    config.write_text(table + 'title = "Third"\npage_size = 5\n')
    live.on_change()
    assert live.error is None and "<title>Third</title>" in home.read_text()
    assert live.settings.page_size == 5 and (tmp_path / "out" / "genes" / "page-2.html").exists()


def test_a_record_edit_prints_its_problems_and_one_short_line(preview, caplog):
    seed = preview.source / "seeds/003_00dc568588f0f9ad.txt"
    with caplog.at_level("INFO", logger="site_gen"):
        seed.write_text(seed.read_text().replace("year: '2020'", "year: 'soon'", 1))
        preview.on_change()
    problems = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("003_00dc568588f0f9ad.txt" in p and "year" in p for p in problems), problems
    assert all(len(r.getMessage()) < 300 for r in caplog.records if r.levelname == "INFO")


def test_an_edited_site_page_alone_is_rendered_again_and_a_new_one_builds_the_menus(preview, tmp_path):
    about = preview.source / "_pages" / "about.md"
    before = snapshot(preview.output)
    about.write_text(about.read_text().replace("**Pathway Figure OCR**", "**Pathway Figure OCR**, edited,"))
    preview.on_change()
    after = snapshot(preview.output)
    assert {k for k in after if after[k] != before.get(k)} == {"about.html"}
    assert_same_as_full_build(preview, tmp_path)
    (preview.source / "_pages" / "news.md").write_text("---\ntitle: News\n---\nNothing yet.\n")
    preview.on_change()  # a page more is in the menus of every page: everything again
    assert 'href="/news.html"' in (preview.output / "index.html").read_text()
    assert_same_as_full_build(preview, tmp_path)
