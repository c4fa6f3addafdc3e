"""index: figures → Site (entities, their order, pages)."""
from __future__ import annotations

import json

from site_gen.index import natural_key
from tests.conftest import minimal_record, run_build, write_files


def test_names_sort_as_a_person_reads_them():
    names = ["MAPK10", "MAPK1", "mapk2", "MAPK11", "AKT1", "Akt", "MAPK"]
    assert sorted(names, key=natural_key) == ["Akt", "AKT1", "MAPK", "MAPK1", "mapk2", "MAPK10", "MAPK11"]


def test_gene_lists_and_search_data_are_in_natural_order(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    symbols = {"MAPK10": "5602", "MAPK1": "5594", "MAPK2": "9000001", "MAPK11": "5600", "MAPK3": "5595"}
    genes = "".join(f"\n- {{word: {s}, symbol: {s}, entrez: '{e}'}}" for s, e in symbols.items())
    src = write_files(tmp_path / "src", {"a.md": minimal_record("PMC1__a", genes=genes)})
    site = run_build(src, tmp_path / "out").site
    assert [g.name for g in site.entity_lists["gene"]] == ["MAPK1", "MAPK2", "MAPK3", "MAPK10", "MAPK11"]
    entry = json.loads((tmp_path / "out" / "search.json").read_text())
    entries = entry if isinstance(entry, list) else entry.get("figures", entry)
    assert [e["g"] for e in entries] == [["MAPK1", "MAPK2", "MAPK3", "MAPK10", "MAPK11"]]
