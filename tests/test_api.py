"""api: the reference site's JSON endpoints (`/json/*.json`), against the records read with plain yaml and csv."""
from __future__ import annotations

import json

from tests.records import front_matters as _records, table as _tsv


def test_json_endpoints_agree_with_the_records(mixed):
    source, output, _ = mixed
    records = _records(source)
    info = json.loads((output / "json" / "getFigureInfo.json").read_bytes())["figureInfo"]
    assert sorted(e["figid"] for e in info) == sorted(records)
    for entry in info:
        data = records[entry["figid"]]
        assert set(entry) == {"figid", "url", "pmcid", "number", "figtitle", "year", "organisms", "organisms_ner"}
        assert all(isinstance(v, str) for v in entry.values())
        assert entry["figtitle"] == " ".join(str(data.get("figtitle") or data.get("papertitle") or data["figid"]).split())
        alias = data.get("figid_alias")
        if alias:
            assert entry["url"] == f"https://pfocr.wikipathways.org/figures/{alias[0] if isinstance(alias, list) else alias}"
    by_alias = [e["url"].rsplit("/", 1)[-1] for e in info]
    assert by_alias == sorted(by_alias, key=lambda a: a.removesuffix(".html"))
    by_organism = json.loads((output / "json" / "listFiguresByOrganism.json").read_bytes())["organisms"]
    mouse = next(o for o in by_organism if o["latin"] == "Mus_musculus")
    assert {f["figid"] for f in mouse["figures"]} == {
        figid for figid, d in records.items()
        if "Mus musculus" in ([d.get("organisms")] if isinstance(d.get("organisms"), str) else d.get("organisms") or [])}
    organisms = json.loads((output / "json" / "listOrganisms.json").read_bytes())
    assert {"organism_id": "7227", "organism_name": "Drosophila melanogaster",
            "organism_group": "Invertebrates"} in organisms["organisms_by_ner"]
    assert "Homo sapiens" in organisms["organisms_by_annotation"]
    counts = json.loads((output / "json" / "getCounts.json").read_bytes())
    assert counts["figures"] == len(records)
    assert counts["papers"] == len({d.get("pmcid") or f for f, d in records.items()})
    distinct = set()
    for figid, data in records.items():
        rows = _tsv(source, figid, "genes")
        distinct |= ({r["ncbigene_id"] for r in rows if r["ncbigene_id"] not in ("", "NA")} if rows is not None
                     else {str(g["entrez"]) for g in data.get("genes") or [] if g.get("entrez")})
    assert counts["ncbigenes_unique"] == len(distinct)
