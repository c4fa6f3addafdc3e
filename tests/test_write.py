"""write: a build killed at any moment leaves a whole site and the next one completes it; unchanged files are linked."""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.corpus import write_corpus
from site_gen.write import SiteWriter
from tests.conftest import EPOCH, REPO, snapshot


def build_cmd(source: Path, output: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "site_gen", "build", "--config", str(REPO / "tests" / "empty.toml"), "--source", str(source),
            "--output", str(output), "--templates", str(REPO / "templates"), "--static", str(REPO / "static"),
            "--jobs", "2", "-q", "--search-index", "none", *extra]  # Pagefind is checked in test_search


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """A site built from version A of a corpus, the site of version B, and the source holding B."""
    root = tmp_path_factory.mktemp("atomic")
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    write_corpus(root / "src", 200, seed=3)
    subprocess.run(build_cmd(root / "src", root / "site"), check=True, env=env, cwd=root)
    old = snapshot(root / "site")
    subprocess.run(["cp", "-a", str(root / "site"), str(root / "site-a-copy")], check=True)
    for record in sorted((root / "src" / "figures").iterdir())[::3]:  # version B: many titles changed
        text = record.read_text(encoding="utf-8")
        record.write_text(text.replace("figtitle: ", "figtitle: B ", 1), encoding="utf-8")
    subprocess.run(build_cmd(root / "src", root / "site-b"), check=True, env=env, cwd=root)
    start = time.perf_counter()
    subprocess.run(build_cmd(root / "src", root / "timing", "--no-cache"), check=True, env=env, cwd=root)
    return root, old, snapshot(root / "site-b"), time.perf_counter() - start, env


@pytest.mark.parametrize("fraction", [0.15, 0.4, 0.7, 0.9, 0.97])
def test_sigkill_at_any_moment_leaves_a_complete_site(two_versions, fraction):
    root, old, new, duration, env = two_versions
    site = root / "site"
    if not site.is_dir() or snapshot(site) != old:  # an earlier case swapped version B in: start from A again
        subprocess.run(["rm", "-rf", str(site)], check=True)
        subprocess.run(["cp", "-a", str(root / "site-a-copy"), str(site)], check=True)
    # without the model store: a build that renders everything, and swaps the new site in
    proc = subprocess.Popen(build_cmd(root / "src", site, "--no-cache"), env=env, cwd=root, start_new_session=True)
    time.sleep(duration * fraction)
    os.killpg(proc.pid, signal.SIGKILL)  # the build and its workers, with no chance to clean up
    proc.wait()
    now = snapshot(site)
    assert now == old or now == new, f"a mixed site after a kill at {fraction:.0%} of the build"


def test_the_next_build_cleans_up_and_completes(two_versions):
    root, _old, new, _duration, env = two_versions
    subprocess.run(build_cmd(root / "src", root / "site"), check=True, env=env, cwd=root)
    assert snapshot(root / "site") == new
    assert [p.name for p in root.iterdir() if p.name.startswith(".site.") and p.name not in (".site.state", ".site.cache")] == []


# --- a rebuild that knows what changed updates the output in place ---------------------------------

def _set_titles(src: Path, prefix: str) -> None:
    """Version A (prefix "") or B ("B ") of every fifth record's title (a fifth: an edit that small is
    applied to the saved index and updates the output in place)."""
    for record in sorted((src / "figures").iterdir())[::5]:
        text = record.read_text(encoding="utf-8")
        text = text.replace("figtitle: B ", "figtitle: ", 1)
        record.write_text(text.replace("figtitle: ", f"figtitle: {prefix}", 1), encoding="utf-8")


@pytest.fixture(scope="module")
def in_place(tmp_path_factory):
    """A source of 200 records, the site of its version A and of its version B (cold builds), and the
    time an in-place update from A to B takes."""
    root = tmp_path_factory.mktemp("in-place")
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    write_corpus(root / "src", 200, seed=4)
    subprocess.run(build_cmd(root / "src", root / "cold-a"), check=True, env=env, cwd=root)
    _set_titles(root / "src", "B ")
    subprocess.run(build_cmd(root / "src", root / "cold-b"), check=True, env=env, cwd=root)
    _set_titles(root / "src", "")
    subprocess.run(build_cmd(root / "src", root / "site"), check=True, env=env, cwd=root)
    _set_titles(root / "src", "B ")
    folder = (root / "site").stat().st_ino
    start = time.perf_counter()
    subprocess.run(build_cmd(root / "src", root / "site"), check=True, env=env, cwd=root)
    duration = time.perf_counter() - start
    assert (root / "site").stat().st_ino == folder  # updated in place, not made beside it and swapped
    assert snapshot(root / "site") == snapshot(root / "cold-b")
    return root, snapshot(root / "cold-a"), snapshot(root / "cold-b"), duration, env


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.8, 0.9, 0.97])
def test_a_killed_update_in_place_is_completed_by_the_next_build(in_place, fraction):
    root, a, b, duration, env = in_place
    _set_titles(root / "src", "")
    subprocess.run(build_cmd(root / "src", root / "site"), check=True, env=env, cwd=root)
    assert snapshot(root / "site") == a
    _set_titles(root / "src", "B ")
    proc = subprocess.Popen(build_cmd(root / "src", root / "site"), env=env, cwd=root, start_new_session=True)
    time.sleep(duration * fraction)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for path, data in snapshot(root / "site").items():  # each file whole: as A or as B had it
        assert data in (a.get(path), b.get(path)), f"{path} half-written after a kill at {fraction:.0%}"
    subprocess.run(build_cmd(root / "src", root / "site"), check=True, env=env, cwd=root)
    assert snapshot(root / "site") == b
    assert not list(root.glob(".site.update-*"))


@pytest.mark.parametrize("after", [0, 1, 7, 40])
def test_an_update_that_fails_after_its_journal_is_completed(tmp_path, monkeypatch, after):
    """The update stops (as if killed) after `after` files were renamed into place; the next build
    completes it, and renders what it must: the output is a cold build's."""
    from site_gen import write
    from tests.conftest import run_build

    src = tmp_path / "src"
    write_corpus(src, 40, seed=6)
    run_build(src, tmp_path / "site")
    _set_titles(src, "B ")
    run_build(src, tmp_path / "cold")
    real, moved = os.replace, []

    def failing(source, target, *args, **kwargs):
        if str(target).startswith(str(tmp_path / "site") + os.sep):
            if len(moved) == after:
                raise OSError("stopped here")
            moved.append(target)
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(write.os, "replace", failing)
    with pytest.raises(OSError, match="stopped here"):
        run_build(src, tmp_path / "site")
    monkeypatch.setattr(write.os, "replace", real)
    assert list(tmp_path.glob(".site.update-*"))  # left for the next run
    _set_titles(src, "")  # the next build has other input again: what the update wrote must not linger
    run_build(src, tmp_path / "cold-a")
    run_build(src, tmp_path / "site")
    assert snapshot(tmp_path / "site") == snapshot(tmp_path / "cold-a")
    assert not list(tmp_path.glob(".site.update-*"))


# --- files the previous site already holds are linked or copied from it --------------------------

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


@pytest.mark.parametrize("fresh, linked", [
    ({}, True),  # nothing changed: the old file, linked
    ({"b": "BB"}, True),  # made again as it was
    ({"b": "B2"}, False),  # shorter, in the middle: what follows moves
    ({"a": "AAAAAA", "d": ""}, False),  # the first and the last
    ({"a": "1", "b": "2", "c": "3", "d": "4"}, False),  # every one
])
@pytest.mark.parametrize("head, sep, tail", [("[", ",", "]\n"), ("", "", "")])
def test_a_file_of_segments_patched_in_its_order_equals_one_written_whole(tmp_path, fresh, linked, head, sep, tail):
    first = SiteWriter(tmp_path / "out")
    first.claim("search.json")
    layout = first.put_segments("search.json", head, sep, tail, iter(OLD_SEGMENTS.items()))
    first.commit()
    path = tmp_path / "out/search.json"
    old_inode = path.stat().st_ino
    second = SiteWriter(tmp_path / "out")
    second.claim("search.json")
    assert second.patch_segments("search.json", head, sep, tail, ["a", "b", "d", "c"], fresh, layout) is None
    made = second.patch_segments("search.json", head, sep, tail, list(OLD_SEGMENTS), fresh, layout)
    second.commit()
    whole = SiteWriter(tmp_path / "whole")
    whole.claim("search.json")
    expected = whole.put_segments("search.json", head, sep, tail, iter((OLD_SEGMENTS | fresh).items()))
    whole.commit()
    assert path.read_bytes() == (tmp_path / "whole/search.json").read_bytes()
    assert (made.size, made.names, list(made.starts), list(made.lengths)) == \
        (expected.size, expected.names, list(expected.starts), list(expected.lengths))
    assert (path.stat().st_ino == old_inode) == linked


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
