"""Shared fixtures: throwaway source folders and built sites."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from site_gen.build import build
from site_gen.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = Path(__file__).resolve().parent / "cases"
EPOCH = "1700000000"  # 2023-11-14

# Scenario suites: whole sites built again and again, preview servers, a browser, Netlify's parsers,
# Pagefind. Marked `scenario`; `make test-fast` (pytest -m "not scenario") runs the rest, the core.
SCENARIO_SUITES = {"test_atomic.py", "test_browser.py", "test_edit_sequences.py", "test_fuzz.py",
                   "test_incremental.py", "test_netlify.py", "test_rebuild.py", "test_scale.py", "test_search.py",
                   "test_serve.py"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.name in SCENARIO_SUITES:
            item.add_marker(pytest.mark.scenario)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below a folder: relative path → bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def make_settings(source: Path, output: Path, **overrides) -> Settings:
    """Settings for a test build. The Pagefind index is left out unless a test asks for it
    (search_index="pagefind"): it is checked by the search and browser tests."""
    values = {"templates": str(REPO / "templates"), "static": str(REPO / "static"), "search_index": "none"} | overrides
    return Settings(source=str(source), output=str(output), **values)


def run_build(source: Path, output: Path, strict: bool = False, force: bool = False, jobs: int = 1, **overrides):
    return build(make_settings(source, output, **overrides), REPO, strict=strict, force=force, jobs=jobs)


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """A throwaway source folder from {relative path: text}."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def copy_full_source(dest: Path) -> Path:
    """The seeds and the shared real-record corpus (with its TSVs and organism files) in one source."""
    shutil.copytree(SEEDS, dest / "seeds", ignore=shutil.ignore_patterns("_pages"))
    shutil.copytree(SEEDS / "_pages", dest / "_pages")  # the site's pages: a data folder of the source's top
    shutil.copytree(CORPUS / "figures", dest / "figures")
    shutil.copytree(CORPUS / "_data", dest / "_data")
    shutil.copytree(CORPUS / "_organisms", dest / "_organisms")
    return dest


@pytest.fixture(autouse=True)
def fixed_build_date(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def build_full_source(root: Path, extra: dict[str, str] | None = None):
    """The seeds and the corpus, with `extra` files in a folder of their own, built into root/_site at
    the fixed build date: (source folder, output folder, build result)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
    source = copy_full_source(root / "src")
    if extra:
        write_files(source / "extra", extra)
    output = root / "_site"
    result = run_build(source, output)
    mp.undo()
    assert result.ok
    return source, output, result


@pytest.fixture(scope="session")
def full_site(tmp_path_factory):
    """The seeds and the corpus built once: (source folder, output folder, build result)."""
    return build_full_source(tmp_path_factory.mktemp("full"))


def minimal_record(figid: str, **fields) -> str:
    """A valid newer-generation record; keyword arguments add or replace YAML lines."""
    base = {
        "figid": figid,
        "figtitle": f"Title of {figid}",
        "pmcid": figid.split("__")[0],
        "filename": f"{figid}.jpg",
        "year": "'2020'",
        "organisms": "Homo sapiens",
    }
    base.update(fields)
    lines = ["---"] + [f"{k}: {v}" for k, v in base.items()] + ["---", ""]
    return "\n".join(lines)
