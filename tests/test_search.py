"""The search data built with the site: the Pagefind bundles and the name lookup."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from site_gen import search
from site_gen.index import Gene
from site_gen.search import bucket_of, name_key
from tests.conftest import copy_full_source, run_build


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1700000000")
        result = run_build(copy_full_source(root / "src"), root / "out", search_index="pagefind")
    return root / "out", result.site


def lookup(site_dir, text):
    key = name_key(text)
    data = json.loads((site_dir / search.names_path(bucket_of(key))).read_text())
    return [url for _label, url, _kind in data.get(key, [])]


def test_names_lead_to_their_pages(built):
    site_dir, site = built
    assert lookup(site_dir, "STAT3") == ["/genes/6774.html"]
    assert lookup(site_dir, "stat-3") == ["/genes/6774.html"]  # case and punctuation do not matter
    assert "/genes/5594.html" in lookup(site_dir, "МАРК")  # an OCR word, Cyrillic letters and all
    assert lookup(site_dir, "Homo sapiens") == ["/organisms/homo_sapiens.html"]
    assert lookup(site_dir, "PMC7988944") == ["/figures/PMC7988944__13027_2021_359_Fig6_HTML.html"]
    assert lookup(site_dir, "PMC7988944__F6") == ["/figures/PMC7988944__13027_2021_359_Fig6_HTML.html"]
    fig = next(f for f in site.figures.values() if f.doi)
    assert lookup(site_dir, fig.doi) == [f"/figures/{fig.figid}.html"]
    buckets = list((site_dir / "search" / "names").glob("*/*.json"))
    assert len(buckets) == search.NAME_BUCKETS and max(p.stat().st_size for p in buckets) < 100_000


def test_every_figure_is_in_the_pagefind_bundle_and_nothing_else(built):
    site_dir, site = built
    assert json.loads((site_dir / "pagefind" / "indexes.json").read_text()) == ["all"]
    entry = json.loads((site_dir / "pagefind" / "all" / "pagefind-entry.json").read_text())
    assert entry["languages"]["en"]["page_count"] == len(site.figures)
    assert len(list((site_dir / "pagefind" / "all" / "fragment").iterdir())) == len(site.figures)


def test_a_large_catalogue_is_indexed_in_groups(tmp_path, monkeypatch):
    from bench.corpus import write_corpus

    monkeypatch.setattr(search, "GROUP_FIGURES", 20)
    write_corpus(tmp_path / "src", 60, seed=5)
    result = run_build(tmp_path / "src", tmp_path / "out", search_index="pagefind")
    names = json.loads((tmp_path / "out" / "pagefind" / "indexes.json").read_text())
    assert names == ["01-of-04", "02-of-04", "03-of-04", "04-of-04"]  # 60 figures, at most 20 a bundle, room to spare
    counted = 0
    for name in names:
        entry = json.loads((tmp_path / "out" / "pagefind" / name / "pagefind-entry.json").read_text())
        counted += entry["languages"]["en"]["page_count"]
        assert 0 < entry["languages"]["en"]["page_count"] <= 20
        assert len(list((tmp_path / "out" / "pagefind" / name / "fragment").iterdir())) <= 20
    assert counted == len(result.site.figures) == 60


def test_with_a_low_folder_limit_the_search_index_is_split_to_fit(tmp_path):
    from bench.corpus import write_corpus

    write_corpus(tmp_path / "src", 60, seed=5)
    run_build(tmp_path / "src", tmp_path / "out", search_index="pagefind", folder_limit=40)
    for folder in (tmp_path / "out").rglob("*"):
        if folder.is_dir():
            assert len(list(folder.iterdir())) <= 40, folder
    assert len(json.loads((tmp_path / "out" / "pagefind" / "indexes.json").read_text())) >= 2


def test_a_rebuild_makes_again_only_the_bundle_of_the_edited_figure(tmp_path, monkeypatch):
    from bench.corpus import write_corpus

    monkeypatch.setattr(search, "GROUP_FIGURES", 20)
    write_corpus(tmp_path / "src", 60, seed=5)
    first = run_build(tmp_path / "src", tmp_path / "out", search_index="pagefind")
    figid = sorted(first.site.figures)[7]
    dirty = search.group_of(figid, search.pagefind_groups(first.site))
    record = next(p for p in (tmp_path / "src" / "figures").iterdir() if f"figid: {figid}\n" in p.read_text())
    record.write_text(record.read_text().replace("figtitle: ", "figtitle: Zyxwvut ", 1))

    def files(name):
        folder = tmp_path / "out" / "pagefind" / name
        return {p.relative_to(folder): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}

    before = {name: files(name) for name in ("01-of-04", "02-of-04", "03-of-04", "04-of-04")}
    run_build(tmp_path / "src", tmp_path / "out", search_index="pagefind")
    for name, inodes in before.items():
        assert (files(name) == inodes) == (name != dirty), name  # the others are the very same files
    fragments = (tmp_path / "out" / "pagefind" / dirty / "fragment").iterdir()
    import gzip
    assert any(b"Zyxwvut" in gzip.decompress(p.read_bytes()) for p in fragments)


def test_search_documents_a_killed_indexer_left_are_removed_by_the_next(tmp_path):
    """The documents folder of a process killed while it indexed (the preview's is beside the
    output) goes at the next index made there; a running process's stays."""
    from bench.corpus import write_corpus

    write_corpus(tmp_path / "src", 12, seed=5)
    result = run_build(tmp_path / "src", tmp_path / "out", search_index="none")
    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()
    orphan = tmp_path / f".index.documents-{ended.pid}-1"
    running = tmp_path / f".index.documents-{os.getpid()}-1"
    for folder in (orphan, running):
        (folder / "all" / "figures").mkdir(parents=True)
        (folder / "all" / "figures" / "x.html").write_text("<p>left</p>")
    names, made = search.run_pagefind(tmp_path / "out", result.site, 1, into=tmp_path / "index")
    assert names == made == ["all"] and (tmp_path / "index" / "all" / "pagefind-entry.json").is_file()
    assert not orphan.exists() and running.is_dir()
    assert [p.name for p in tmp_path.glob(".index.documents-*")] == [running.name]  # (its own, removed)


@given(st.text())
def test_a_name_is_normalised_as_the_search_page_does_it(text):
    """Letters and digits of any script kept, lower case, accents and everything else dropped."""
    folded = unicodedata.normalize("NFKD", text).lower()
    assert name_key(text) == "".join(c for c in folded if c.isalnum())


def test_pages_that_share_a_name_and_label_are_listed_by_url():
    """The order of a name's hits never depends on the order entities were found in."""
    genes = {key: Gene("gene", key, "ABC1", f"/genes/{key}.html", ("F1",), ("abc-1",)) for key in ("30", "10", "20")}
    site = SimpleNamespace(figures={}, entities=lambda kind: genes if kind == "gene" else {})
    out = search.render_name_index(site)
    data = json.loads(out[search.names_path(bucket_of("abc1"))])
    assert [url for _label, url, _kind in data["abc1"]] == ["/genes/10.html", "/genes/20.html", "/genes/30.html"]
    by_key = json.loads(out[search.names_path(bucket_of("30"))])["30"]
    assert by_key == [["ABC1 (gene, 1 figure)", "/genes/30.html", "gene"]]
    assert len(out) == search.NAME_BUCKETS


def test_an_update_in_place_patches_only_the_lookup_files_an_edit_changes(tmp_path, monkeypatch):
    """The name lookup of a rebuild in place is patched from the output's files, and is the one a
    cold build makes; a name whose list was cut at MOST_HITS makes it all again."""
    from site_gen import build
    from tests.conftest import minimal_record, snapshot, write_files

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    gene = "\n- {{word: SHARED, symbol: G{0}, entrez: '{1}'}}".format
    files = {f"r{i}.md": minimal_record(f"PMC{i}__x", genes=gene(i, 1000 + i)) for i in range(1, search.MOST_HITS + 6)}
    files["lone.md"] = minimal_record("PMC99999__lone", genes=gene("LONE", 5).replace("SHARED", "ALONE"))
    src = write_files(tmp_path / "src", files)
    run_build(src, tmp_path / "site")
    made = []
    render = search.render_name_index
    monkeypatch.setattr(build, "render_name_index", lambda site: made.append(1) or render(site))
    before = snapshot(tmp_path / "site")
    write_files(src, {"lone.md": minimal_record("PMC99999__lone", figtitle="Renamed", doi="10.1000/new",
                                                genes=gene("SOLO", 6).replace("SHARED", "SOLO"))})
    run_build(src, tmp_path / "site")
    assert made == []  # patched
    after = snapshot(tmp_path / "site")
    changed = {p for p in after if p.startswith("search/names/") and after[p] != before.get(p)}
    assert 0 < len(changed) < 10
    run_build(src, tmp_path / "cold")
    assert after == snapshot(tmp_path / "cold")
    made.clear()
    write_files(src, {"r1.md": minimal_record("PMC1__x", figtitle="Renamed", genes=gene(1, 1001))})
    run_build(src, tmp_path / "site")
    assert made == [1]  # "shared" lists more targets than its file holds: made again
    run_build(src, tmp_path / "cold")
    assert snapshot(tmp_path / "site") == snapshot(tmp_path / "cold")
