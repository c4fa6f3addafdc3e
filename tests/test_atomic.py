"""A build killed at any moment leaves a complete site: the previous one, or the new one if the swap
was already done. Never a mix, never half a file."""
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


def build_cmd(source: Path, output: Path) -> list[str]:
    return [sys.executable, "-m", "site_gen", "build", "--config", str(REPO / "tests" / "empty.toml"), "--source", str(source),
            "--output", str(output), "--templates", str(REPO / "templates"), "--static", str(REPO / "static"),
            "--jobs", "2", "-q", "--search-index", "none"]  # Pagefind is checked in test_search


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
    subprocess.run(build_cmd(root / "src", root / "timing"), check=True, env=env, cwd=root)
    return root, old, snapshot(root / "site-b"), time.perf_counter() - start, env


@pytest.mark.parametrize("fraction", [0.15, 0.4, 0.7, 0.9, 0.97])
def test_sigkill_at_any_moment_leaves_a_complete_site(two_versions, fraction):
    root, old, new, duration, env = two_versions
    site = root / "site"
    if not site.is_dir() or snapshot(site) != old:  # an earlier case swapped version B in: start from A again
        subprocess.run(["rm", "-rf", str(site)], check=True)
        subprocess.run(["cp", "-a", str(root / "site-a-copy"), str(site)], check=True)
    proc = subprocess.Popen(build_cmd(root / "src", site), env=env, cwd=root, start_new_session=True)
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
