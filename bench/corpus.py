"""Write a PFOCR-shaped corpus of any size, deterministic from a seed.

    python -m bench.corpus OUT --figures 10000 [--seed 1]

Both record generations (inline mentions, and sidecar TSVs in `_data/`), organism files in
`_organisms/`, heavy-tailed mention counts (on average about 48 gene rows, 2.3 chemical rows and 0.3
disease rows per figure; a few genes in thousands of figures, most in a handful; up to 600 gene rows
on one figure), and titles and captions with non-ASCII text.
"""
from __future__ import annotations

import argparse
import math
import random
import shutil
import time
from pathlib import Path

import yaml

N_GENES = 150_000
N_CHEMICALS = 11_000
N_DISEASES = 1_200
NEW_GENERATION_SHARE = 0.6
# Most real genes tables mix organisms: beside human rows, a share of the newer records' gene rows
# belong to another organism, whose NCBI Gene IDs are its own.
OTHER_GENE_ORGANISMS = (("10090", "Mus musculus", "Rodents"), ("7227", "Drosophila melanogaster", "Invertebrates"),
                        ("7955", "Danio rerio", "Vertebrates"), ("10116", "Rattus norvegicus", "Rodents"))
MIXED_SHARE = 0.45

WORDS = (
    "signaling pathway regulation activation inhibition receptor kinase cascade apoptosis autophagy "
    "inflammation metabolism transcription expression proliferation differentiation mitochondrial "
    "oxidative stress response tumor immune cell cycle insulin glucose lipid hypoxia fibrosis "
    "neuronal synaptic vesicle membrane nuclear translocation phosphorylation ubiquitination "
    "degradation feedback loop crosstalk model mechanism proposed schematic overview network"
).split()
SPECIAL = ("NF-κB", "TGF-β", "IL-1β", "TNF-α", "Wnt/β-catenin", "Ca²⁺", "café", "naïve", "МАРК",
           "с-Мус", "PI3K–Akt", "“ER stress”", "p‑ERK", "−/−", "Smad2/3", "JAK‐STAT")
GROUPS = ("Primates", "Rodents", "Mammals", "Vertebrates", "Invetebrates", "Plants", "Fungi",
          "Bacteria", "Viruses", "Other")
GENUS = ("Homo", "Mus", "Rattus", "Danio", "Drosophila", "Caenorhabditis", "Arabidopsis", "Saccharomyces",
         "Escherichia", "Bos", "Sus", "Gallus", "Xenopus", "Oryza", "Zea", "Bacillus", "Pseudomonas",
         "Staphylococcus", "Mycobacterium", "Plasmodium")
SPECIES = ("sapiens", "musculus", "norvegicus", "rerio", "melanogaster", "elegans", "thaliana",
           "cerevisiae", "coli", "taurus", "scrofa", "gallus", "laevis", "sativa", "mays", "subtilis",
           "aeruginosa", "aureus", "tuberculosis", "falciparum", "alba", "minor", "major", "vulgaris")


def heavy_tail_index(rng: random.Random, n: int, skew: float) -> int:
    """An index in [0, n) where small indexes are far more likely (a power law)."""
    return min(n - 1, int(n * rng.random() ** skew))


def gene_row_count(rng: random.Random) -> int:
    """Log-normal around a mean of 48 gene rows, capped at 600."""
    return max(0, min(600, int(rng.lognormvariate(math.log(30), 0.95))))


def small_count(rng: random.Random, mean: float) -> int:
    """A geometric count with the given mean (many zeros, a long tail)."""
    p = 1 / (1 + mean)
    count = 0
    while rng.random() > p and count < 200:
        count += 1
    return count


def gene_symbol(i: int) -> str:
    letters = "ABCDEFGHIKLMNPRSTUVWXYZ"
    return letters[i % 23] + letters[(i // 23) % 23] + letters[(i // 529) % 23] + str(i % 97 + 1)


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    for _ in range(max(1, n // 8)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(SPECIAL))
    text = " ".join(words)
    return text[0].upper() + text[1:]


def organism_pool(rng: random.Random) -> list[tuple[str, str, str]]:
    """(latin name, taxon id, group), Homo sapiens first."""
    pool, seen = [("Homo sapiens", "9606", "Primates"), ("Mus musculus", "10090", "Rodents")], set()
    seen.update(p[0] for p in pool)
    while len(pool) < 220:
        name = f"{rng.choice(GENUS)} {rng.choice(SPECIES)}"
        if name not in seen:
            seen.add(name)
            pool.append((name, str(rng.randrange(1000, 3_000_000)), rng.choice(GROUPS)))
    return pool


def write_corpus(out: Path, figures: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "figures").mkdir(parents=True)
    (out / "_data").mkdir()
    (out / "_organisms").mkdir()
    organisms = organism_pool(rng)
    for latin, ncbi, group in organisms[:150]:
        slug = latin.lower().replace(" ", "_")
        doc = {"common": latin, "latin": latin, "ncbi": ncbi, "title": latin, "group": group,
               "image": ".na.character"}
        (out / "_organisms" / f"{slug}.md").write_text(
            "---\n" + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True) + "---\n", encoding="utf-8")
    totals = {"figures": figures, "gene_rows": 0, "chemical_rows": 0, "disease_rows": 0}
    for n in range(figures):
        pmc = 1_000_000 + n // 3
        figid = f"PMC{pmc}__fig{n % 3 + 1}.{n:06d}_ref"
        year = str(rng.choice(range(1995, 2025)) if rng.random() < 0.97 else "")
        orgs = sorted({organisms[heavy_tail_index(rng, len(organisms), 4)][0] for _ in range(1 + small_count(rng, 0.4))})
        title = sentence(rng, rng.randrange(5, 14))
        caption = " ".join(sentence(rng, rng.randrange(10, 30)) + "." for _ in range(rng.randrange(1, 6)))
        genes = []
        for _ in range(gene_row_count(rng)):
            g = heavy_tail_index(rng, N_GENES, 3.5)
            symbol = gene_symbol(g)
            word = symbol if rng.random() < 0.7 else rng.choice((symbol.lower(), symbol + "α", "p-" + symbol))
            genes.append((word, symbol, str(100 + g)))
        chemicals = []
        for _ in range(small_count(rng, 2.3)):
            c = heavy_tail_index(rng, N_CHEMICALS, 3)
            chemicals.append((f"chem{c}", f"D{c:06d}", f"Chemical {c}", f"{20000 + c}" if c % 3 else "NA"))
        diseases = []
        for _ in range(small_count(rng, 0.3)):
            d = heavy_tail_index(rng, N_DISEASES, 2)
            diseases.append((f"disease{d}", f"D{500000 + d:06d}", f"Disease {d} syndrome", f"DOID:{1000 + d}"))
        totals["gene_rows"] += len(genes)
        totals["chemical_rows"] += len(chemicals)
        totals["disease_rows"] += len(diseases)
        doc = {
            "figid": figid,
            "figtitle": title,
            "pmcid": f"PMC{pmc}",
            "filename": f"fig{n % 3 + 1}.{n:06d}.jpg",
            "figlink": f"/pmc/articles/PMC{pmc}/figure/F{n % 3 + 1}/",
            "number": f"F{n % 3 + 1}",
            "caption": caption,
            "papertitle": sentence(rng, 10) + ".",
            "reftext": f"A. Author, et al. J Biol. {year or 2000};{n % 50}:{n}.",
            "year": year,
            "figid_alias": f"PMC{pmc}__F{n % 3 + 1}.{n:06d}",
            "figtype": "Figure",
            "redirect_from": f"/figures/PMC{pmc}__F{n % 3 + 1}.{n:06d}",
            "ndex": "" if rng.random() < 0.9 else f"{n:08x}-0000-11ee-8000-000000000000",
            "seo": "CreativeWork",
        }
        stem = out / "figures" / figid
        if rng.random() < NEW_GENERATION_SHARE:
            doc.update({
                "organisms": ["NA"] if rng.random() < 0.5 else orgs,
                "organisms_ner": orgs,
                "doi": f"10.1000/j.{n}" if rng.random() < 0.8 else ".na.character",
                "journal_title": "Journal of Pathway Biology",
                "publisher_name": "Open Press",
                "keywords": " | ".join(rng.choice(WORDS) for _ in range(rng.randrange(0, 6))) or ".na.character",
            })
            if rng.random() < 0.05:
                doc["wpid"] = f"WP{n % 5000 + 1}"
            data = out / "_data" / figid
            if genes:
                rows = ["organism_id\torganism_name\torganism_group\tword\tmatch\tncbigene_symbol\tncbigene_id"
                        "\tsource\tcount_direct\tcount_synonym\tcount_match"]
                other = OTHER_GENE_ORGANISMS[n % len(OTHER_GENE_ORGANISMS)] if rng.random() < MIXED_SHARE else None
                for i, (w, s, e) in enumerate(genes):
                    taxon, name, group = ("9606", "Homo sapiens", "Primates")
                    if other and i % 3 == 1:  # a third of the rows: the same word, the other organism's gene
                        taxon, name, group = other
                        s, e = s.capitalize(), str(int(taxon) * 1_000_000 + int(e))
                    rows.append(f"{taxon}\t{name}\t{group}\t{w}\t{s}\t{s}\t{e}\tncbigene_symbol\t1\t1\t1")
                Path(f"{data}-genes.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
            if chemicals:
                rows = ["word\tmesh\tmatch\tname\tchebi"]
                rows += [f"{w}\tmesh:{m}\t{name}\t{name}\t{'chebi:' + c if c != 'NA' else 'NA'}" for w, m, name, c in chemicals]
                Path(f"{data}-chemicals.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
            if diseases:
                rows = ["word\tmesh\tmatch\tname\tdoid"]
                rows += [f"{w}\tmesh:{m}\t{name}\t{name}\t{doid}" for w, m, name, doid in diseases]
                Path(f"{data}-diseases.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
            path = Path(f"{stem}.md")
        else:
            doc.update({
                "organisms": orgs[0] if len(orgs) == 1 and rng.random() < 0.3 else orgs,
                "pathway_score": round(rng.random(), 6),
                "annotations": [],
                "genes": [{"word": w, "symbol": s, "source": "hgnc_symbol", "hgnc_symbol": s, "entrez": e}
                          for w, s, e in genes],
                "chemicals": [{"word": w, "source": "MESH", "identifier": m} for w, m, _name, _c in chemicals],
                "diseases": [{"word": w, "source": "MESH", "identifier": m} for w, m, _name, _d in diseases],
            })
            path = Path(f"{stem}.txt")
        body = "" if rng.random() < 0.9 else "\nCurator note: *see also* the " + rng.choice(SPECIAL) + " figures.\n"
        path.write_text("---\n" + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=88) + "---\n" + body,
                        encoding="utf-8")
    return totals


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--figures", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    totals = write_corpus(args.out, args.figures, args.seed)
    per = {k: round(v / max(1, args.figures), 2) for k, v in totals.items() if k != "figures"}
    print(f"wrote {args.figures} figures to {args.out} in {time.perf_counter() - start:.1f} s; rows per figure: {per}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
