"""Random sequences of edits: after each one, a cached rebuild and the preview hold exactly what a cold
build of the same input writes.

Each edit is one a curator makes: a year, a title, a body, keywords, organisms, an alias; a gene's
symbol, ID or OCR word, a chemical's name or ChEBI ID, a disease's name in a sidecar table; a record
deleted, copied under a new figid or under the same one; a table deleted; an organism file edited.
The seeds are fixed, so a failure repeats, and its message lists the edits that led to it.
"""
from __future__ import annotations

import pickle
import random
import re
import shutil
from pathlib import Path

import pytest

from bench.corpus import write_corpus
from site_gen import build as build_module
from site_gen.build import build
from site_gen.cache import ModelStore, cache_folder
from site_gen.serve import Preview
from tests.conftest import REPO, make_settings, run_build, snapshot

FIGURES = 24
PAGE_SIZE = 4  # every list paginated: an edit moves entries across pages
STEPS = 10


class Editor:
    def __init__(self, src: Path, seed: int):
        self.src = src
        self.rng = random.Random(seed)

    def _records(self) -> list[Path]:
        return sorted((self.src / "figures").iterdir())

    def _tables(self, kind: str) -> list[Path]:
        return sorted((self.src / "_data").glob(f"*-{kind}.tsv"))

    def field(self, name: str, *values: str) -> str:
        record, value = self.rng.choice(self._records()), self.rng.choice(values)
        text = record.read_text(encoding="utf-8")
        line = re.search(rf"^{name}: .*$", text, re.M)
        text = text[:line.start()] + f"{name}: {value}" + text[line.end():] if line else \
            text.replace("---\n", f"---\n{name}: {value}\n", 1)
        record.write_text(text, encoding="utf-8")
        return f"{record.name}: {name} {value}"

    def cell(self, kind: str, column: str, *values: str) -> str:
        tables = [t for t in self._tables(kind) if column in t.read_text(encoding="utf-8").split("\n", 1)[0].split("\t")]
        if not tables:
            return f"no {kind} table"
        table = self.rng.choice(tables)
        lines = table.read_text(encoding="utf-8").splitlines()
        if len(lines) < 2:
            return f"{table.name}: no row"
        row = self.rng.randrange(1, len(lines))
        cells = lines[row].split("\t")
        cells[lines[0].split("\t").index(column)] = value = self.rng.choice(values)
        lines[row] = "\t".join(cells)
        table.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return f"{table.name}:{row + 1}: {column} {value}"

    def delete_record(self) -> str:
        record = self.rng.choice(self._records())
        record.unlink()
        return f"{record.name} deleted"

    def copy_record(self, same_figid: bool) -> str:
        record = self.rng.choice(self._records())
        text = record.read_text(encoding="utf-8")
        if same_figid:
            copy = record.with_name(f"zz-copy-{self.rng.randrange(10**6)}{record.suffix}")
        else:
            figid = re.search(r"^figid: (.*)$", text, re.M).group(1)
            new = f"PMC{self.rng.randrange(9000000, 9999999)}__F1"
            text, copy = text.replace(figid, new), record.with_name(f"{new}.md")
        copy.write_text(text, encoding="utf-8")
        return f"{record.name} copied as {copy.name}"

    def delete_table(self) -> str:
        tables = self._tables(self.rng.choice(["genes", "chemicals", "diseases"]))
        if not tables:
            return "no table"
        table = self.rng.choice(tables)
        table.unlink()
        return f"{table.name} deleted"

    def organism_file(self) -> str:
        path = self.rng.choice(sorted((self.src / "_organisms").glob("*.md")))
        name = self.rng.choice(["Mouse", "Rat", "Cress"])
        path.write_text(re.sub(r"^common: .*$", f"common: {name}", path.read_text(encoding="utf-8"), flags=re.M),
                        encoding="utf-8")
        return f"{path.name}: common {name}"

    def body(self) -> str:
        record = self.rng.choice(self._records())
        text = record.read_text(encoding="utf-8")
        end = text.index("\n---", 3) + 4
        body = self.rng.choice(["", "Some *text*.", "# A heading\n\nA paragraph."])
        record.write_text(text[:end] + "\n" + body + "\n", encoding="utf-8")
        return f"{record.name}: body {body!r}"

    def used(self, column: str, count: int) -> list[str]:
        """Some values the gene tables hold in a column, so that an edit can make one more or less common."""
        found = set()
        for table in self._tables("genes")[:10]:
            lines = table.read_text(encoding="utf-8").splitlines()
            index = lines[0].split("\t").index(column)
            found |= {line.split("\t")[index] for line in lines[1:]}
        return sorted(found)[:count]

    def edit(self) -> str:
        choice = self.rng.randrange(16)
        edits = [
            lambda: self.field("year", "'1999'", "'2020'", "'2024'"),
            lambda: self.field("figtitle", "Alpha", "Zeta pathway"),
            lambda: self.field("organisms", "Homo sapiens", "Mus musculus", "[Rattus norvegicus, Homo sapiens]", "[]"),
            lambda: self.field("redirect_from", "/figures/old-a", "/figures/old-b", "[]"),
            lambda: self.field("keywords", "[wnt, notch]", ".na.character"),
            lambda: self.field("figid_alias", "PMC1__Fx", ".na.character"),
            lambda: self.cell("genes", "ncbigene_symbol", *self.used("ncbigene_symbol", 6), "AAAA", "ZZZZ"),
            lambda: self.cell("genes", "ncbigene_id", *self.used("ncbigene_id", 8)),
            lambda: self.cell("genes", "word", "W1", "W2"),
            lambda: self.cell("chemicals", "match", "Aaa", "Zzz", "ATP"),
            lambda: self.cell("chemicals", "chebi", "chebi:1", "chebi:2", ""),
            lambda: self.cell("diseases", "match", "Asthma", "Zzz disease"),
            self.delete_record,
            lambda: self.copy_record(same_figid=self.rng.random() < 0.5),
            self.delete_table,
            lambda: self.organism_file() if self.rng.random() < 0.5 else self.body(),
        ]
        return edits[choice]()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("sequences")
    write_corpus(root / "src", FIGURES, seed=5)
    return root / "src"


def _cold(src: Path, out: Path) -> dict[str, bytes]:
    shutil.rmtree(out, ignore_errors=True)
    build(make_settings(src, out, page_size=PAGE_SIZE), REPO, jobs=1, force=True, use_cache=False)
    return snapshot(out)


def _check(site: Path, cold: dict[str, bytes], done: list[str]) -> None:
    got = snapshot(site)
    differ = sorted(k for k in got.keys() | cold.keys() if got.get(k) != cold.get(k))
    assert not differ, f"after {done}: {len(differ)} file(s) differ from a cold build, such as {differ[:5]}"


def _tally_rows(output: Path) -> dict:
    store = ModelStore(cache_folder(output))
    try:
        return {(kind, key): pickle.loads(value) for kind, key, value in store.db().execute("SELECT * FROM tally")}
    finally:
        store.close()


@pytest.mark.parametrize("seed, saved_in_full", [(1, False), (3, True)])
def test_a_cached_rebuild_after_each_edit_is_a_cold_build(corpus, tmp_path, seed, saved_in_full, monkeypatch):
    """Also with the index saved in full by every build, from tallies read key by key: their rows are
    then those a cold build saves."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    if saved_in_full:
        monkeypatch.setattr(build_module, "PENDING_LIMIT", 0)
    src = tmp_path / "src"
    shutil.copytree(corpus, src)
    editor, done = Editor(src, seed), []
    run_build(src, tmp_path / "site", page_size=PAGE_SIZE)
    for _ in range(STEPS):
        done.append(editor.edit())
        again = run_build(src, tmp_path / "site", page_size=PAGE_SIZE)
        assert again.reused > 0  # an edit re-reads only what it changed
        _check(tmp_path / "site", _cold(src, tmp_path / "cold"), done)
    if saved_in_full:
        run_build(src, tmp_path / "fresh", page_size=PAGE_SIZE)
        assert _tally_rows(tmp_path / "site") == _tally_rows(tmp_path / "fresh"), done


@pytest.mark.parametrize("seed", [2])
def test_the_preview_after_each_edit_is_a_cold_build(corpus, tmp_path, seed, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    src = tmp_path / "src"
    shutil.copytree(corpus, src)
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    settings = make_settings(src, tmp_path / "site", templates=str(templates), page_size=PAGE_SIZE)
    live = Preview(settings, REPO, jobs=1)
    live.rebuild()
    editor, done = Editor(src, seed), []
    for _ in range(STEPS):
        done.append(editor.edit())
        live.on_change()
        live.flush_data()
        assert live.error is None, (done, live.error)
        _check(tmp_path / "site", _cold(src, tmp_path / "cold"), done)
    # the preview and the build are one engine: a build after the preview reads no record again and
    # renders no page but the fixed ones
    after = build(settings, REPO, jobs=1)
    assert after.parsed == 0 and after.rendered <= len(live.site.page_groups["fixed"]), done
    _check(tmp_path / "site", _cold(src, tmp_path / "cold"), done)
