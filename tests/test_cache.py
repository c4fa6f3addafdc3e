"""The model store: records and the index kept between builds, figures read from it only when needed."""
from __future__ import annotations

import dataclasses

import pytest

from bench.corpus import write_corpus
from site_gen import cache
from site_gen.cache import ModelStore, cache_folder
from site_gen.model import HEAVY_FIELDS, Figure, StoredFigure, facts, stored
from tests.conftest import run_build


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
