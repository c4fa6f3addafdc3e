"""Correctness at scale on a generated corpus: counts, parallel and cached builds, folder limits, edits."""
from __future__ import annotations

import csv
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bench.corpus import write_corpus
from site_gen.errors import SiteError
from site_gen.index import slugify_organism
from site_gen.render import FEED_ENTRIES
from tests.conftest import EPOCH, run_build, snapshot
from tests.sitecheck import site_file

FIGURES = 300
PAGE_SIZE = 50  # small pages, so that long lists are paginated at this size


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale")
    write_corpus(root / "src", FIGURES, seed=11)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        result = run_build(root / "src", root / "one", jobs=1, page_size=PAGE_SIZE)
    # a build ends with its figures light, read from its model store when used: read now, while that is
    # the store they read from (the other tests here build sites of their own)
    for fig in result.site.figures.values():
        assert fig.genes is not None
    return root, result


def independent_mentions(source: Path) -> dict[str, dict[str, set[str]]]:
    """kind → key → figids, read with plain yaml and csv, not with site_gen."""
    found: dict[str, dict[str, set[str]]] = {"gene": defaultdict(set), "chemical": defaultdict(set),
                                             "organism": defaultdict(set)}
    for path in sorted((source / "figures").iterdir()):
        data = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
        figid = data["figid"]
        for g in data.get("genes") or []:
            found["gene"][g["entrez"]].add(figid)
        for c in data.get("chemicals") or []:
            found["chemical"][c["identifier"]].add(figid)
        for kind, column, strip in (("gene", "ncbigene_id", ""), ("chemical", "mesh", "mesh:")):
            table = source / "_data" / f"{figid}-{kind}s.tsv"
            if table.exists():
                for row in csv.DictReader(table.open(encoding="utf-8"), delimiter="\t"):
                    found[kind][row[column].removeprefix(strip)].add(figid)
        organisms = data.get("organisms")
        names = [organisms] if isinstance(organisms, str) else list(organisms or [])
        for name in names + list(data.get("organisms_ner") or []):
            if name != "NA":
                found["organism"][slugify_organism(name)].add(figid)
    return found


def listed(site: Path, first_url: str) -> tuple[set[str], int]:
    """Figures listed over every page of an entity, and the total its page states."""
    page = site_file(site, first_url).read_text(encoding="utf-8")
    total = int(re.search(r'<meta name="description" content="(\d+) pathway figure', page).group(1))
    figids, url = set(), first_url
    while url:
        text = site_file(site, url).read_text(encoding="utf-8")
        main = text.split('<main id="main">')[1]
        figids |= set(re.findall(r'href="/figures/([^"/]+)\.html"', main))
        nxt = re.search(r'rel="next" href="([^"]+)"', text)
        url = nxt.group(1) if nxt else None
    return figids, total


def test_every_entity_page_lists_exactly_its_figures(corpus):
    root, result = corpus
    expected = independent_mentions(root / "src")
    site = result.site
    assert set(site.genes) == set(expected["gene"])
    assert set(site.chemicals) == set(expected["chemical"])
    files = {p.stem for p in (root / "src" / "_organisms").glob("*.md")}  # every organism file has its page
    assert set(site.organisms) == set(expected["organism"]) | files
    assert all(not site.organisms[key].figids for key in files - set(expected["organism"]))
    assert len(site.figures) == FIGURES
    assert any(len(figids) > 2 * PAGE_SIZE for figids in expected["gene"].values())  # some lists are paginated
    for kind, folder in (("gene", "genes"), ("chemical", "chemicals"), ("organism", "organisms")):
        for key, figids in expected[kind].items():
            got, total = listed(root / "one", f"/{folder}/{key}.html")
            assert (got, total) == (figids, len(figids)), (kind, key)


def test_one_job_and_two_jobs_and_a_cached_rebuild_give_the_same_bytes(corpus):
    root, _ = corpus
    run_build(root / "src", root / "two", jobs=2, page_size=PAGE_SIZE)
    assert snapshot(root / "one") == snapshot(root / "two")
    again = run_build(root / "src", root / "two", jobs=2, page_size=PAGE_SIZE)
    assert again.up_to_date
    forced = run_build(root / "src", root / "two", jobs=2, page_size=PAGE_SIZE, force=True)
    assert forced.written == 0 and snapshot(root / "one") == snapshot(root / "two")


def test_no_folder_exceeds_the_limit_and_a_build_that_would_is_refused(corpus, tmp_path):
    root, _ = corpus
    run_build(root / "src", tmp_path / "ok", folder_limit=300, page_size=PAGE_SIZE)
    fullest = max(len(list(p.iterdir())) for p in (tmp_path / "ok").rglob("*") if p.is_dir())
    assert 0 < fullest <= 300
    before = snapshot(tmp_path / "ok")
    with pytest.raises(SiteError, match=r"output folder .+ would hold \d+ entries, \d+ more than folder_limit \(20\)"):
        run_build(root / "src", tmp_path / "ok", folder_limit=20, page_size=PAGE_SIZE, force=True)
    assert snapshot(tmp_path / "ok") == before


def test_an_edited_title_changes_exactly_the_pages_that_show_it(corpus, tmp_path):
    root, result = corpus
    site = result.site
    figid = list(site.figures)[FIGURES // 2]
    fig = site.figures[figid]
    shutil.copytree(root / "src", tmp_path / "src")
    shutil.copytree(root / "one", tmp_path / "out")
    record = next((tmp_path / "src" / "figures").glob(f"{figid}.*"))
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace(f"figtitle: {fig.title.split()[0]}", "figtitle: Edited", 1), encoding="utf-8")
    before = snapshot(tmp_path / "out")
    run_build(tmp_path / "src", tmp_path / "out", jobs=2, page_size=PAGE_SIZE)
    after = snapshot(tmp_path / "out")
    changed = {k for k in after if after[k] != before.get(k)}
    expected = {"figures/" + p.split("figures/", 1)[1] for p in changed if p.startswith("figures/")}
    # what must change: the figure page and its data, every entity page listing it, the figure list page
    size = site.settings.page_size
    must = {site_file(Path(""), f"/figures/{figid}.html").as_posix(), site_file(Path(""), f"/data/{figid}.json").as_posix(),
            "search.json", "downloads/pfocr-figures.jsonl.gz", "json/getFigureInfo.json"}
    for kind in ("gene", "chemical", "disease", "organism"):
        for entity in site.entities(kind).values():
            if figid in entity.figids:
                number = entity.figids.index(figid) // size + 1
                url = entity.url if number == 1 else entity.url.removesuffix(".html") + f"-p{number}.html"
                must.add(site_file(Path(""), url).as_posix())
    year = fig.year or "unknown"  # the figure's year page, and the name lookups that show its title
    number = site.collections["years"][year].index(figid) // size + 1
    must.add(site_file(Path(""), f"/years/{year}.html" if number == 1 else f"/years/{year}-p{number}.html").as_posix())
    from site_gen.search import bucket_of, name_key, names_path
    for name in (fig.figid, fig.pmcid, fig.doi, *(a.rsplit("/", 1)[-1] for a in fig.aliases)):
        if name and len(name_key(name)) >= 2:
            must.add(names_path(bucket_of(name_key(name))))
    position = list(site.figures).index(figid) // size + 1
    must.add("figures/index.html" if position == 1 else f"figures/page-{position}.html")
    if list(site.figures).index(figid) < 12:
        must.add("index.html")
    if list(site.figures).index(figid) < FEED_ENTRIES:
        must.add("feed.xml")
    if fig.genes or fig.chemicals:  # its pathway for PathVisio is named after it
        must.add(site_file(Path(""), f"/data/{figid}.gpml").as_posix())
    from site_gen.index import gene_sets
    from site_gen.render import gmt_name
    for organism in gene_sets(fig):  # a gene set names its figure's title
        must.add(gmt_name(site, organism).lstrip("/"))
        if any(m.chebi for m in fig.chemicals):
            must.add(gmt_name(site, organism, "chemical-gmt").lstrip("/"))
    if must & {f for f in changed if f.startswith("downloads/")}:
        must.add("downloads.html")  # which gives every bulk file's size
    assert must <= changed
    assert changed - must <= {"index.html"}, sorted(changed - must)
    assert expected  # the figure folder did change


def test_a_gene_named_in_many_figures_holds_its_strings_once(corpus):
    """Mentions share their strings (the model's memory at 100,000 figures depends on it), and a
    build's site does not keep the tallies only the preview's edits need."""
    _root, result = corpus
    site = result.site
    by_value: dict[str, set[int]] = defaultdict(set)
    for fig in site.figures.values():
        for mention in fig.genes:
            by_value[mention.entrez].add(id(mention.entrez))
        for name in fig.organisms:
            by_value[name].add(id(name))
    repeated = [v for v in by_value if v is not None and len(v) > 1]
    assert repeated, "the corpus should name some gene or organism in several figures"
    assert all(len(by_value[v]) == 1 for v in repeated)
    assert site.tallies == {}
