"""Shared fixtures: throwaway source folders and built sites."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from site_gen.build import build
from site_gen.settings import Settings
from tests.sitecheck import site_file

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = Path(__file__).resolve().parent / "cases"
EPOCH = "1700000000"  # 2023-11-14

# Scenario suites: whole sites built again and again, preview servers, a browser, Netlify's parsers,
# Pagefind. Marked `scenario`; `make test-fast` (pytest -m "not scenario") runs the rest, the core. A
# module's test file of the core marks its few scenario tests itself (@pytest.mark.scenario).
SCENARIO_SUITES = {"test_browser.py", "test_edit_sequences.py", "test_fuzz.py", "test_netlify.py", "test_reuse.py",
                   "test_scale.py", "test_search.py", "test_serve.py", "test_write.py"}


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


def append_row(table, **cells) -> None:
    """One more row of a TSV table, its cells named by column (an empty cell for a column not named)."""
    header = table.read_text(encoding="utf-8").split("\n", 1)[0].split("\t")
    with table.open("a", encoding="utf-8") as f:
        f.write("\t".join(cells.get(column, "") for column in header) + "\n")


def write_config(path, body: str):
    """A settings file: `body` in its [tool.site_gen] table, with the project's templates and static files."""
    path.write_text(f"[tool.site_gen]\n{body}\ntemplates = '{REPO / 'templates'}'\nstatic = '{REPO / 'static'}'\n")
    return path


# A good record built beside hostile input: it must always be built.
GOOD = {"good.md": minimal_record("PMC9__good")}


def build_with(tmp_path, monkeypatch, files: dict):
    """Build `files` beside GOOD: the good record is built, and nothing is written outside tmp_path."""
    source = write_files(tmp_path / "src", GOOD | files)
    monkeypatch.chdir(tmp_path)
    result = run_build(source, tmp_path / "out")
    assert site_file(tmp_path / "out", "/figures/PMC9__good.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.cache", ".out.state", "out", "src"]  # nothing elsewhere
    return result


# Records mixing human, mouse and fly rows, with the cases the real tables have: a fly gene found as the
# word NA, a gene ID shared by no other organism, a figure with only two genes of an organism.
MIXED = {
    "PMC1__a.md": "---\nfigid: PMC1__a\nfigtitle: Mixed one\nfigid_alias: PMC1__F1\norganisms: Homo sapiens\n"
                  "year: '2021'\n---\n",
    "_data/PMC1__a-genes.tsv": (
        "organism_id\torganism_name\torganism_group\tword\tmatch\tncbigene_symbol\tncbigene_id\tsource\n"
        "9606\tHomo sapiens\tPrimates\tAKT1\tAKT1\tAKT1\t207\tncbigene_symbol\n"
        "9606\tHomo sapiens\tPrimates\tAKT2\tAKT2\tAKT2\t208\tncbigene_symbol\n"
        "9606\tHomo sapiens\tPrimates\tp38\tp38\tMAPK14\t1432\tncbigene_synonym\n"
        "10090\tMus musculus\tRodents\tAkt1\tAkt1\tAkt1\t11651\tncbigene_symbol\n"
        "10090\tMus musculus\tRodents\tAkt2\tAkt2\tAkt2\t11652\tncbigene_symbol\n"
        "7227\tDrosophila melanogaster\tInvertebrates\tNA\tNA\tna\t45338\tncbigene_symbol\n"
        "7227\tDrosophila melanogaster\tInvertebrates\tinaC\tinaC\tinaC\t36897\tncbigene_symbol\n"
        "7227\tDrosophila melanogaster\tInvertebrates\tAkt\tAkt\tAkt1\t41957\tncbigene_symbol\n"),
    "PMC2__b.md": "---\nfigid: PMC2__b\nfigtitle: Fly only\nfigid_alias: PMC2__F3\norganisms: Homo sapiens\n"
                  "year: '2020'\n---\n",
    "_data/PMC2__b-genes.tsv": (
        "organism_id\torganism_name\torganism_group\tword\tmatch\tncbigene_symbol\tncbigene_id\tsource\n"
        "7227\tDrosophila melanogaster\tInvertebrates\tJAK\tJAK\thop\t32062\tncbigene_symbol\n"
        "7227\tDrosophila melanogaster\tInvertebrates\tSTAT\tSTAT\tStat92E\t34904\tncbigene_symbol\n"
        "7227\tDrosophila melanogaster\tInvertebrates\tdome\tdome\tdome\t31938\tncbigene_symbol\n"),
    "_data/PMC2__b-chemicals.tsv": "word\tmesh\tmatch\tname\tchebi\nATP\tmesh:D000255\tATP\tAdenosine Triphosphate\t"
                                   "chebi:15422\nglucose\tmesh:D005947\tglucose\tGlucose\tchebi:17234\n",
    "PMC3__c.txt": "---\nfigid: PMC3__c\nfigtitle: Older human record\norganisms: Mus musculus\nyear: '2010'\n"
                   "genes:\n- {word: JAK1, symbol: JAK1, source: hgnc_symbol, hgnc_symbol: JAK1, entrez: '3716'}\n"
                   "- {word: JAK2, symbol: JAK2, source: hgnc_symbol, hgnc_symbol: JAK2, entrez: '3717'}\n"
                   "- {word: JAK3, symbol: JAK3, source: hgnc_symbol, hgnc_symbol: JAK3, entrez: '3718'}\n---\n",
}


@pytest.fixture(scope="session")
def mixed(tmp_path_factory):
    """The seeds and the corpus with MIXED beside them, built once (tests only read it)."""
    return build_full_source(tmp_path_factory.mktemp("mixed"), MIXED)
