"""Gene data per organism and the data products PFOCR's users consume: GMT gene and chemical sets, the
reference site's JSON endpoints, the compressed catalogue and its description in the pages.

Expectations are computed here from the records and their TSVs with nothing but yaml and csv, not with
site_gen's own reading of them.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import html
import json
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import build_full_source

DATE = "20231114"  # the day of EPOCH
HUMAN = "Homo sapiens"


def _records(source: Path) -> dict[str, dict]:
    """figid → front matter of every record below `source` (data folders left out)."""
    out = {}
    for path in sorted(source.rglob("*")):
        if path.suffix not in (".md", ".txt") or any(p.startswith("_") for p in path.relative_to(source).parts[:-1]):
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        out[str(data["figid"]).strip()] = data
    return out


def _tsv(source: Path, figid: str, kind: str) -> list[dict] | None:
    found = list(source.rglob(f"{figid}-{kind}.tsv"))
    if not found:
        return None
    with open(found[0], encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def expected_gene_sets(source: Path) -> dict[str, dict[str, set[str]]]:
    """Latin name → {figure short ID: NCBI Gene IDs of that organism}, for figures naming at least 3
    distinct genes of it: newer records' rows say their organism, older records' genes are human."""
    sets: dict[str, dict[str, set[str]]] = {}
    for figid, data in _records(source).items():
        rows = _tsv(source, figid, "genes")
        if rows is not None:
            pairs = [(r["organism_name"], r["ncbigene_id"]) for r in rows if r["ncbigene_id"] not in ("", "NA")]
        else:
            pairs = [(HUMAN, str(g["entrez"])) for g in data.get("genes") or [] if g.get("entrez") not in (None, "")]
        alias = data.get("figid_alias")
        short = (alias[0] if isinstance(alias, list) else alias) or figid
        by_organism: dict[str, set[str]] = {}
        for organism, gene in pairs:
            by_organism.setdefault(organism, set()).add(gene)
        for organism, genes in by_organism.items():
            if len(genes) >= 3:
                sets.setdefault(organism, {})[short] = genes
    return sets


def read_gmt(path: Path) -> dict[str, tuple[str, set[str], int]]:
    """A GMT file as a GMT parser reads it: set name → (description, members, member count)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, description, *members = line.split("\t")
        assert name not in out, f"{path.name}: set {name} twice"
        out[name] = (description, set(members), len(members))
    return out


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


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return build_full_source(tmp_path_factory.mktemp("mixed"), MIXED)


def _gmt_files(output: Path, kind: str = "gmt") -> dict[str, Path]:
    pattern = re.compile(rf"^pfocr-{DATE}-{kind}-(.+)\.gmt$")
    return {m.group(1).replace("_", " "): p for p in (output / "downloads" / "gmt").iterdir()
            if (m := pattern.match(p.name))}


def test_each_organisms_gene_sets_hold_exactly_its_genes_of_figures_with_three_or_more(mixed):
    source, output, _ = mixed
    expected = expected_gene_sets(source)
    files = _gmt_files(output)
    assert set(files) == set(expected)
    assert {"Homo sapiens", "Mus musculus", "Drosophila melanogaster"} <= set(files)
    records = _records(source)
    titles = {}
    for figid, data in records.items():
        alias = data.get("figid_alias")
        titles[(alias[0] if isinstance(alias, list) else alias) or figid] = " ".join(str(data.get("figtitle")).split())
    for organism, path in files.items():
        sets = read_gmt(path)
        assert {name: members for name, (_d, members, _n) in sets.items()} == expected[organism], organism
        for name, (description, members, count) in sets.items():
            assert count == len(members) >= 3  # no gene twice in a set
            assert description == titles[name]
    human = read_gmt(files["Homo sapiens"])
    assert human["PMC1__F1"][1] == {"207", "208", "1432"}  # not the mouse or fly genes of the figure
    assert human["PMC3__c"][1] == {"3716", "3717", "3718"}  # older records' genes are human
    fly = read_gmt(files["Drosophila melanogaster"])
    assert fly["PMC1__F1"][1] == {"45338", "36897", "41957"}  # the gene found as the word NA included
    assert fly["PMC2__F3"][1] == {"32062", "34904", "31938"}
    assert "PMC1__F1" not in read_gmt(files["Mus musculus"])  # two mouse genes only


def test_chemical_sets_hold_chebi_ids_of_the_same_figures(mixed):
    _source, output, _ = mixed
    genes, chemicals = _gmt_files(output), _gmt_files(output, "chemical-gmt")
    assert set(chemicals) == set(genes)
    fly = read_gmt(chemicals["Drosophila melanogaster"])
    assert fly["PMC2__F3"][1] == {"chebi:15422", "chebi:17234"}
    for organism, path in chemicals.items():
        gene_sets = read_gmt(genes[organism])
        for name, (_d, members, _n) in read_gmt(path).items():
            assert name in gene_sets and members and all(re.fullmatch(r"chebi:\d+", m) for m in members)


def test_real_tables_no_longer_dropped(full_site):
    source, output, result = full_site
    said = "\n".join(str(p) for p in result.problems)
    assert "PMC5409774__1415-4757-gmb-1678-4685-GMB-2016-0133-gf06-diseases.tsv" not in said
    assert "PMC10030510__fimmu-14-1140749-g002-genes.tsv" not in said
    figure = _page(output, "figures", "PMC10030510__fimmu-14-1140749-g002.html")
    assert re.search(r'<td>NA</td><td></td>\s*<td><a href="/genes/45338.html">na</a></td>', figure)
    old_layout = _page(output, "figures", "PMC5409774__1415-4757-gmb-1678-4685-GMB-2016-0133-gf06.html")
    assert '<h2 id="diseases">Diseases' in old_layout and "Noonan syndrome" in old_layout


def _page(output: Path, section: str, name: str) -> str:
    found = list((output / section).rglob(name))
    assert len(found) == 1, f"{section}/{name}"
    return found[0].read_text(encoding="utf-8")


def test_figure_and_gene_pages_show_each_genes_organism(mixed):
    _source, output, _ = mixed
    figure = _page(output, "figures", "PMC1__a.html")
    head = re.search(r"<thead>(.*?)</thead>", figure.split('id="genes"')[1], re.S).group(1)
    assert [html.unescape(h) for h in re.findall(r'<th scope="col">(.*?)</th>', head)][-3:] == ["Organism", "Group", "Source"]
    assert '<h2 id="genes">Genes (8)</h2>' in figure  # distinct genes, not rows
    groups = re.findall(r'<tbody id="(genes-\d+)">\s*<tr class="group"><th scope="rowgroup" colspan="7">(.*?)</th>', figure)
    assert [re.sub(r"<.*?>", "", label) for _id, label in groups] == [
        "Homo sapiens · Primates · 3 genes", "Drosophila melanogaster · Invertebrates · 3 genes",
        "Mus musculus · Rodents · 2 genes"]
    fly_rows = figure.split('id="genes-2"')[1].split("</tbody>")[0]
    assert "inaC" in fly_rows and "AKT2" not in fly_rows and fly_rows.count("<i>Drosophila melanogaster</i>") == 4
    assert '<script src="/assets/figure.' in figure
    human_akt1, fly_akt1 = _page(output, "genes", "207.html"), _page(output, "genes", "41957.html")
    assert "A gene of <a href=\"/organisms/homo_sapiens.html\"><i>Homo sapiens</i></a> (NCBI Taxonomy 9606)" in human_akt1
    assert ('A gene of <a href="/organisms/drosophila_melanogaster.html"><i>Drosophila melanogaster</i></a> '
            "(NCBI Taxonomy 7227)") in fly_akt1
    one_organism = _page(output, "figures", "PMC3__c.html")
    assert "data-gene-filter" not in one_organism  # no menu for one organism


def test_organism_pages_link_their_gene_set_only_when_they_have_one(mixed):
    _source, output, _ = mixed
    human = _page(output, "organisms", "homo_sapiens.html")
    assert f'href="/downloads/gmt/pfocr-{DATE}-gmt-Homo_sapiens.gmt"' in human
    for page in (output / "organisms").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for url in re.findall(r'href="(/downloads/gmt/[^"]+)"', text):
            assert (output / url.lstrip("/")).is_file(), (page.name, url)
    e_coli = _page(output, "organisms", "escherichia_coli.html")  # its figures' genes are not its own
    assert "/downloads/gmt/" not in e_coli


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


def test_the_compressed_catalogue_is_one_object_per_figure_with_urls_and_gene_organisms(mixed):
    source, output, _ = mixed
    assert not (output / "downloads" / "pfocr-figures.jsonl").exists()
    lines = gzip.decompress((output / "downloads" / "pfocr-figures.jsonl.gz").read_bytes()).decode().splitlines()
    objects = [json.loads(line) for line in lines]
    assert sorted(o["figid"] for o in objects) == sorted(_records(source))
    first = next(o for o in objects if o["figid"] == "PMC1__a")
    assert first["pfocrUrl"] == "https://pfocr.wikipathways.org/figures/PMC1__a.html"
    assert {(g["entrez"], g["organism"], g["taxon"]) for g in first["genes"]} >= {
        ("207", "Homo sapiens", "9606"), ("45338", "Drosophila melanogaster", "7227"), ("11651", "Mus musculus", "10090")}
    older = next(o for o in objects if o["figid"] == "PMC3__c")
    assert {g["organism"] for g in older["genes"]} == {"Homo sapiens"}
    with_image = next(o for o in objects if o["figid"] == "PMC10030510__fimmu-14-1140749-g002")
    assert with_image["figureUrl"].startswith("https://") and "fimmu-14-1140749-g002.jpg" in with_image["figureUrl"]


def test_downloads_page_and_dataset_jsonld_describe_every_bulk_file(mixed):
    _source, output, _ = mixed
    downloads = (output / "downloads.html").read_text(encoding="utf-8")
    data = (output / "downloads" / "pfocr-figures.jsonl.gz").read_bytes()
    assert f"<code class=\"checksum\">{hashlib.sha256(data).hexdigest()}</code>" in downloads
    home = (output / "index.html").read_text(encoding="utf-8")
    blocks = [json.loads(b) for b in re.findall(r'<script type="application/ld\+json">(.*?)</script>', home, re.S)]
    dataset = next(b for b in blocks if b.get("@type") == "Dataset")
    bulk = {d["contentUrl"]: d for d in dataset["distribution"]}
    made = [p for p in (output / "downloads").rglob("*") if p.is_file()] + list((output / "json").glob("*.json"))
    assert {"https://pfocr.wikipathways.org/" + p.relative_to(output).as_posix() for p in made} == set(bulk)
    for path in made:
        entry = bulk["https://pfocr.wikipathways.org/" + path.relative_to(output).as_posix()]
        assert entry["@type"] == "DataDownload" and entry["encodingFormat"]
        assert entry["contentSize"] == f"{path.stat().st_size} B"
        assert f'href="/{path.relative_to(output).as_posix()}"' in downloads
