"""A build that renders everything, killed at any moment, leaves a complete site: the previous one, or
the new one if the swap was already done; never a mix, never half a file. A rebuild that updates the
output in place, killed at any moment, leaves no half-written file, and the next build completes it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.corpus import write_corpus
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
