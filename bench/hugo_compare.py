"""The same corpus built by site_gen and by Hugo (Debian's hugo 0.111), side by side.

    python -m bench.hugo_compare --figures 1000 10000 [--jobs 2]

Hugo gets equivalent content and templates: one page per figure (title, caption, image, gene, chemical
and disease tables) and gene, chemical and organism taxonomies (a page per term listing its figures,
paginated by 200, and an overview per taxonomy). Both builds run cold, one after the other, on the same
machine; the script prints wall time, pages per second and peak memory of each, and the ratio. Hugo
makes no full-text index, so the ratio is taken with site_gen's `--search-index none`; site_gen's
time with its Pagefind index is printed after it.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from bench.build_bench import REPO, clear_site, count_pages, run_sampled, timed_build
from bench.corpus import write_corpus

LAYOUTS = {
    "_default/baseof.html": """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} · PFOCR</title>
<link rel="canonical" href="{{ .Permalink }}"></head>
<body><header><a href="/">PFOCR</a> <a href="/figures/">Figures</a> <a href="/genes/">Genes</a>
<a href="/chemicals/">Chemicals</a> <a href="/organisms/">Organisms</a></header>
<main>{{ block "main" . }}{{ end }}</main></body></html>
""",
    "_default/single.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<img src="https://europepmc.org/articles/{{ .Params.pmcid }}/bin/{{ .Params.filename }}" alt="{{ .Title }}">
<p>{{ .Params.caption }}</p>
<table>{{ range .Params.generows }}<tr><td>{{ .word }}</td><td><a href="/genes/{{ .symbol | urlize }}/">{{ .symbol }}</a></td>
<td><a href="https://www.ncbi.nlm.nih.gov/gene/{{ .entrez }}">{{ .entrez }}</a></td></tr>{{ end }}</table>
<ul>{{ range .Params.chemicals }}<li><a href="/chemicals/{{ . | urlize }}/">{{ . }}</a></li>{{ end }}</ul>
<ul>{{ range .Params.organisms }}<li><a href="/organisms/{{ . | urlize }}/">{{ . }}</a></li>{{ end }}</ul>
{{ end }}
""",
    "_default/list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<ol>{{ range (.Paginate .Pages 200).Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Params.year }}</li>{{ end }}</ol>
{{ template "_internal/pagination.html" . }}{{ end }}
""",
    "_default/terms.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<ol>{{ range (.Paginate .Pages.ByTitle 200).Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ len .Pages }}</li>{{ end }}</ol>
{{ template "_internal/pagination.html" . }}{{ end }}
""",
    "index.html": """{{ define "main" }}<h1>PFOCR</h1><p>{{ len .Site.RegularPages }} figures</p>{{ end }}
""",
}
CONFIG = """baseURL = "https://pfocr.example.org/"
title = "PFOCR"
disableKinds = ["RSS"]
paginate = 200
[taxonomies]
  gene = "genes"
  chemical = "chemicals"
  organism = "organisms"
"""


def hugo_site(corpus: Path, out: Path) -> None:
    """Hugo content for every figure of a generated corpus: front matter with its taxonomy terms."""
    if out.exists():
        shutil.rmtree(out)
    content = out / "content" / "figures"
    content.mkdir(parents=True)
    for name, text in LAYOUTS.items():
        path = out / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (out / "config.toml").write_text(CONFIG)
    data = corpus / "_data"
    for record in sorted((corpus / "figures").iterdir()):
        doc = yaml.load(record.read_text(encoding="utf-8").split("---\n")[1], Loader=yaml.CSafeLoader)
        figid = doc["figid"]
        rows = [{"word": g["word"], "symbol": g["symbol"], "entrez": g["entrez"]} for g in doc.get("genes") or []]
        chems = [c["identifier"] for c in doc.get("chemicals") or []]
        table = data / f"{figid}-genes.tsv"
        if table.exists():
            rows += [{"word": r["word"], "symbol": r["ncbigene_symbol"], "entrez": r["ncbigene_id"]}
                     for r in csv.DictReader(table.open(encoding="utf-8"), delimiter="\t")]
        table = data / f"{figid}-chemicals.tsv"
        if table.exists():
            chems += [r["mesh"].removeprefix("mesh:") for r in csv.DictReader(table.open(encoding="utf-8"), delimiter="\t")]
        organisms = doc.get("organisms")
        organisms = [organisms] if isinstance(organisms, str) else [o for o in organisms or [] if o != "NA"]
        front = {"title": doc["figtitle"], "pmcid": doc.get("pmcid"), "filename": doc.get("filename"),
                 "caption": doc.get("caption"), "year": doc.get("year"), "generows": rows,
                 "genes": sorted({r["symbol"] for r in rows}), "chemicals": sorted(set(chems)),
                 "organisms": sorted(set(organisms) | set(doc.get("organisms_ner") or []))}
        (content / f"{figid.replace('.', '_')}.md").write_text(json.dumps(front, ensure_ascii=False) + "\n",
                                                                 encoding="utf-8")


def timed_hugo(site: Path) -> tuple[float, int]:
    out = site / "public"
    shutil.rmtree(out, ignore_errors=True)
    wall, peak, status, output = run_sampled(["hugo", "--quiet", "-s", str(site), "-d", str(out)])
    if status != 0:
        raise SystemExit(f"hugo failed:\n{output}")
    return wall, peak


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args(argv)
    if shutil.which("hugo") is None:
        print("hugo is not installed (Debian package `hugo`): `make bench` installs it", file=sys.stderr)
        return 1
    version = subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.strip()
    print(version)
    for n in args.figures:
        corpus = args.work / f"corpus-{n}"
        if not (corpus / ".complete").exists():
            write_corpus(corpus, n)
            (corpus / ".complete").write_text("")
        site = args.work / f"hugo-{n}"
        hugo_site(corpus, site)
        output = args.work / f"site-{n}"
        # Hugo makes no full-text index: site_gen is timed without one (the same work), then with Pagefind
        clear_site(output)
        ours, our_peak, _ = timed_build(corpus, output, args.jobs, "none")
        our_pages = count_pages(output)
        clear_site(output)
        searched, searched_peak, _ = timed_build(corpus, output, args.jobs, "pagefind")
        hugo, hugo_peak = timed_hugo(site)
        hugo_pages = count_pages(site / "public")
        print(f"== {n:,} figures")
        print(f"site_gen  {ours:7.1f} s  {our_pages / ours:7.0f} pages/s  peak {our_peak / 2**20:6.0f} MB  ({our_pages:,} pages)")
        print(f"hugo      {hugo:7.1f} s  {hugo_pages / hugo:7.0f} pages/s  peak {hugo_peak / 2**20:6.0f} MB  ({hugo_pages:,} pages)")
        print(f"ratio     hugo time / site_gen time = {hugo / ours:.2f}; "
              f"pages per second, site_gen / hugo = {(our_pages / ours) / (hugo_pages / hugo):.2f}")
        print(f"site_gen with its Pagefind index: {searched:7.1f} s  peak {searched_peak / 2**20:6.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
