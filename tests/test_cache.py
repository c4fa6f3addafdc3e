"""cache: the model store: records and the index kept between builds, read again only when their files change."""
from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3

import pytest

from bench.corpus import write_corpus
from site_gen import cache
from site_gen.cache import STORE_NAME, ModelStore, cache_folder, prefetch
from site_gen.model import HEAVY_FIELDS, Figure, StoredFigure, facts, stored
from tests.conftest import REPO, SEEDS, append_row as _append_row, make_settings, run_build


@pytest.fixture
def corpus(tmp_path):
    src = tmp_path / "src"
    write_corpus(src, 40, seed=11)
    return src, tmp_path / "site"


def test_a_stored_figure_reads_its_heavy_fields_from_the_store(corpus):
    src, out = corpus
    first = run_build(src, out)
    store = ModelStore(cache_folder(out))
    try:
        site = store.load_site(store.get("site")[1])
        assert site is not None and sorted(site.figures) == sorted(first.site.figures)
        for figid, fig in first.site.figures.items():
            kept = site.figures[figid]
            assert type(kept) is StoredFigure
            assert facts(kept) == facts(fig)  # held, not read
            for field in dataclasses.fields(Figure):  # the heavy ones read from the store on first use
                assert getattr(kept, field.name) == getattr(fig, field.name), (figid, field.name)
        assert store.load_site("another key") is None
    finally:
        store.close()


def test_stored_keeps_only_the_light_fields(corpus):
    src, out = corpus
    fig = next(f for f in run_build(src, out).site.figures.values() if f.genes)
    light = stored(fig)
    assert light.figid == fig.figid and light.title == fig.title and light.aliases == fig.aliases
    assert facts(light).gene_rows == len(fig.genes) > 0
    from site_gen import model
    loader = model._figure_loader
    model.set_figure_loader(None)
    try:
        for name in HEAVY_FIELDS:
            with pytest.raises(AttributeError):
                getattr(light, name)
    finally:
        model.set_figure_loader(loader)


def test_a_dropped_figure_reads_its_heavy_fields_again_when_next_used(corpus, monkeypatch):
    src, out = corpus
    fig = next(f for f in run_build(src, out).site.figures.values() if f.genes)
    light = stored(fig)
    from site_gen import model
    reads = []
    monkeypatch.setattr(model, "_figure_loader", lambda src_path: reads.append(src_path) or fig)
    assert light.genes == fig.genes and light.caption == fig.caption and reads == [fig.src_path]
    assert light.loaded
    light.drop()
    assert not light.loaded and light.title == fig.title  # the light fields stay
    assert light.genes == fig.genes and reads == [fig.src_path] * 2


def test_a_rebuild_reads_only_the_figures_it_renders(corpus, monkeypatch):
    """One record's title edited: the index is updated from the store without reading the other
    figures, and the rebuild's output is a cold build's."""
    src, out = corpus
    run_build(src, out)
    reads = []
    real = ModelStore.figure
    monkeypatch.setattr(ModelStore, "figure", lambda self, src_path: reads.append(src_path) or real(self, src_path))
    many = ModelStore.figures
    monkeypatch.setattr(ModelStore, "figures", lambda self, paths: reads.extend(paths) or many(self, paths))
    record = sorted((src / "figures").iterdir())[7]
    record.write_text(record.read_text(encoding="utf-8").replace("figtitle: ", "figtitle: Edited ", 1), encoding="utf-8")
    result = run_build(src, out)
    assert result.parsed == 1 and result.reused == 39
    assert len(reads) <= 1, reads  # at most the edited figure as it was, to take it out of the index
    monkeypatch.setattr(ModelStore, "figure", real)
    monkeypatch.setattr(ModelStore, "figures", many)
    run_build(src, out.with_name("cold"))
    from tests.conftest import snapshot
    assert snapshot(out) == snapshot(out.with_name("cold"))


@pytest.mark.parametrize("search_index, jobs", [("none", 1), ("pagefind", 1), ("pagefind", 2)])
def test_a_cold_build_reads_each_figure_from_the_store_once_and_lets_go_of_it(corpus, monkeypatch, search_index, jobs):
    """Once a cold build saved its index, its figures are kept light, as an index read from the store
    is: all that is made of a figure (its page, data files, segments of the catalogue-wide files and
    search document) is made from its heavy fields read from the store once, by the render worker of
    its page, which lets go of them after; the model is light when the build ends. The output is a
    build's without the store, whatever the number of workers."""
    from site_gen import build as stages
    from site_gen.build import build
    from site_gen.model import holds_heavy
    from tests.conftest import snapshot
    src, out = corpus
    reads = []
    real_figure = ModelStore.figure
    monkeypatch.setattr(ModelStore, "figure", lambda self, src_path: reads.append(src_path) or real_figure(self, src_path))
    monkeypatch.setattr(stages, "ITEMS_PER_JOB", 50)  # (2 workers for this small site)
    result = run_build(src, out, search_index=search_index, jobs=jobs)
    figures = result.site.figures.values()
    if jobs == 1:  # (a forked worker's reads are its own)
        assert sorted(reads) == sorted(f.src_path for f in figures)  # each read once, for all made of it
    assert all(type(f) is StoredFigure and not holds_heavy(f) for f in figures)
    # no part files beside the output, no search documents in it
    assert not list(out.parent.glob(f".{out.name}.parts-*")) and not list(out.glob(".*"))
    build(make_settings(src, out.with_name("plain"), search_index=search_index), REPO, jobs=1, use_cache=False)
    assert snapshot(out) == snapshot(out.with_name("plain"))


def test_the_index_is_saved_and_read_in_parts(corpus, monkeypatch):
    """The index's pickle goes into rows of a bounded size as it is made, and is read back part by part;
    an index whose parts are not all there reads as missing (the next build makes it again)."""
    monkeypatch.setattr(cache, "_PART_SIZE", 4096)
    src, out = corpus
    first = run_build(src, out)
    with sqlite3.connect(cache_folder(out) / STORE_NAME) as db:
        sizes = db.execute("SELECT part, length(data) FROM parts WHERE name = 'site' ORDER BY part").fetchall()
    assert [part for part, _ in sizes] == list(range(len(sizes))) and len(sizes) > 3
    assert all(size >= 4096 for _, size in sizes[:-1])
    store = ModelStore(cache_folder(out))
    try:
        site = store.load_site(store.get("site")[1])
        assert list(site.figures) == list(first.site.figures) and site.page_groups == first.site.page_groups
    finally:
        store.close()
    with sqlite3.connect(cache_folder(out) / STORE_NAME) as db:
        db.execute("DELETE FROM parts WHERE name = 'site' AND part = ?", (len(sizes) - 1,))
    store = ModelStore(cache_folder(out))
    try:
        assert store.get("site") is None
    finally:
        store.close()
    again = run_build(src, out, force=True)
    assert again.parsed == 0 and again.reused == 40
    run_build(src, out.with_name("cold"))
    from tests.conftest import snapshot
    assert snapshot(out) == snapshot(out.with_name("cold"))


def test_saving_lets_go_of_the_parsed_figures(tmp_path):
    """A parsed record's entry carries its figure, and the figure pickled (as a worker sends it); the
    save writes that pickle and lets go of both, before the index's own pickle is made."""
    from site_gen.cache import parse_entry
    src = tmp_path / "src"
    write_corpus(src, 3, seed=5)
    paths = sorted((src / "figures").glob("*.md"))
    entries = {str(p): parse_entry(p, {}) for p in paths}
    figures = {path: e.figure for path, e in entries.items()}
    assert all(e.data is not None and e.figure is not None for e in entries.values())
    store = ModelStore(tmp_path / "cache")
    try:
        store.save(entries, [])
        assert all(e.data is None and e.figure is None for e in entries.values())
        assert {path: store.figure(fig.src_path) for path, fig in figures.items()} == figures
    finally:
        store.close()


def test_figures_read_for_a_moment_are_not_pooled(corpus):
    """Mentions read from the store are pooled (one tuple for a row many figures have), but not those
    of a figure a thread reads for a moment (`transient`: a render worker's, let go of after its page)."""
    import pickle
    import threading

    from site_gen.model import transient
    src, out = corpus
    run_build(src, out)
    with sqlite3.connect(cache_folder(out) / STORE_NAME) as db:
        data = next(blob for blob, in db.execute("SELECT figure FROM figures") if pickle.loads(blob).genes)
    a, b = pickle.loads(data), pickle.loads(data)
    assert a.genes[0] is b.genes[0]
    elsewhere = []
    with transient():
        c, d = pickle.loads(data), pickle.loads(data)
        reader = threading.Thread(target=lambda: elsewhere.append(pickle.loads(data)))
        reader.start()
        reader.join()
    assert c == a and c.genes[0] is not d.genes[0]
    assert elsewhere[0].genes[0] is a.genes[0]  # another thread's reads meanwhile are pooled
    assert pickle.loads(data).genes[0] is a.genes[0]  # and this thread's after


def test_problems_of_unchanged_records_are_kept(tmp_path):
    from tests.conftest import minimal_record, write_files
    src = write_files(tmp_path / "src", {
        "a.md": minimal_record("PMC1__a", year="not a year"),
        "b.md": minimal_record("PMC2__b", organisms="'***'"),
        "c.md": minimal_record("PMC3__c"),
    })
    cold = run_build(src, tmp_path / "site")
    assert cold.problems
    (src / "c.md").write_text(minimal_record("PMC3__c", figtitle="Changed"), encoding="utf-8")
    again = run_build(src, tmp_path / "site")
    assert again.parsed == 1
    key = lambda p: (p.src_path, p.line, p.field, p.message)  # noqa: E731
    assert sorted(map(key, again.problems)) == sorted(map(key, cold.problems))


def test_the_store_is_made_again_for_another_generator(corpus, monkeypatch):
    src, out = corpus
    run_build(src, out)
    monkeypatch.setattr(cache, "generator_key", lambda: "another generator")
    result = run_build(src, out, force=True)
    assert result.parsed == 40 and result.reused == 0


# --- rebuilds re-read only the changed records (scenario tests, as they were in test_rebuild.py) -----

@pytest.fixture
def seeds(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "src")
    return tmp_path / "src", tmp_path / "out"


@pytest.mark.scenario
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


@pytest.mark.scenario
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


@pytest.mark.scenario
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


@pytest.mark.scenario
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


@pytest.mark.scenario
def test_no_cache_parses_everything(seeds):
    src, out = seeds
    run_build(src, out)
    from site_gen.build import build
    result = build(make_settings(src, out), REPO, force=True, use_cache=False, jobs=1)
    assert result.reused == 0 and result.parsed > 0


@pytest.mark.scenario
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
