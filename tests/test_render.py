"""render: pages and files rendered, from a small site held in memory where a test can, else from a built site."""
from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, strategies as st
from markupsafe import Markup, escape

from site_gen import links, render
from site_gen.build import gather
from site_gen.errors import SiteError
from site_gen.hosts import CONTENT_SECURITY_POLICY, render_redirects_file
from site_gen.render import Renderer, fast_escape, make_environment
from tests.conftest import REPO, SEEDS, copy_full_source, make_settings, minimal_record, run_build, write_files
from tests.records import front_matters as _records, table as _tsv
from tests.sitecheck import listed_figures as _listed_figures, section_page as _page, site_file

FIGID = "PMC7988944__13027_2021_359_Fig6_HTML"  # human genes and chemicals, a long caption
BASE = "https://example.org"


def small_site(tmp_path, **settings):
    source = tmp_path / "src"
    shutil.copytree(SEEDS, source)
    (source / "_organisms").mkdir()
    (source / "_organisms" / "danio_rerio.md").write_text(
        "---\nlatin: Danio rerio\ncommon: zebrafish\nncbi: '7955'\ngroup: Fishes\n---\n", encoding="utf-8")
    site = gather(make_settings(source, tmp_path / "out", base_url=BASE, **settings), REPO, use_cache=False).site
    renderer = Renderer(site, make_environment(REPO / "templates"),
                        {name: f"/assets/{name}" for name in ("style.css", "figure.js", "search.js", "redirect.js",
                                                              "favicon.svg")},
                        source=source)
    return site, renderer


def page_of(site, renderer, url: str) -> str:
    page = next(p for p in site.pages if p.url == url)
    return renderer.render_page(page)


@pytest.fixture
def figure_page(tmp_path):
    site, renderer = small_site(tmp_path, edit_url="https://github.com/org/repo/blob/main/{src_path}",
                                report_url="https://github.com/org/repo/issues/new?title={figid}")
    return site, page_of(site, renderer, f"/figures/{FIGID}.html")


def test_the_figure_page_links_its_permalink_paper_image_and_curators(figure_page):
    site, html = figure_page
    fig = site.figures[FIGID]
    actions = re.search(r'<nav class="actions".*?</nav>', html, re.S).group(0)
    assert f'href="{BASE}/figures/{FIGID}.html" data-copy="{BASE}/figures/{FIGID}.html"' in actions
    assert f'href="{links.pmc_article(fig.pmcid)}"' in actions and "View the figure at PMC" in actions
    image = links.figure_image(fig, site.settings.image_url_pattern)
    assert image.startswith("https://europepmc.org/api/fulltextRepo?pmcId=PMC7988944&type=FILE&fileName=")
    assert f'<img src="{image.replace("&", "&amp;")}" alt=' in html and 'class="capped"' in html
    record = Path(fig.src_path).name  # the record's path in the source folder
    assert f'href="https://github.com/org/repo/blob/main/{record}">Edit this record<' in actions
    assert f'href="https://github.com/org/repo/issues/new?title={FIGID}">Report a problem<' in actions


def test_curator_links_are_left_out_unless_set(tmp_path):
    site, renderer = small_site(tmp_path)
    html = page_of(site, renderer, f"/figures/{FIGID}.html")
    assert "Edit this record" not in html and "Report a problem" not in html


def test_a_long_caption_folds_into_details_and_a_short_one_does_not(figure_page, tmp_path):
    site, html = figure_page
    fig = site.figures[FIGID]
    assert len(fig.caption) > render.CAPTION_SHOWN * 5 // 4
    folded = re.search(r'<details class="caption"><summary><span class="head">(.*?)… </span>.*?</summary>(.*?) </details>',
                       html, re.S)
    assert folded and fig.caption.startswith(unescape(folded.group(1)))
    assert unescape(folded.group(2)) == fig.caption  # the whole caption, readable without JavaScript
    assert render.caption_head("A short caption.") is None


def test_the_genes_go_to_pathvisio_enrichr_and_drugstone(figure_page):
    site, html = figure_page
    fig = site.figures[FIGID]
    human = [m for m in fig.genes if m.organism == "Homo sapiens" and m.entrez]
    assert human
    tools = re.search(r'<section aria-labelledby="tools">.*?</section>', html, re.S).group(0)
    assert f'href="/data/{FIGID}.gpml" download' in tools and f'data-copy-from="/data/{FIGID}.gpml"' in tools
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', tools, re.S)
    assert form.group(1) == links.ENRICHR_FORM
    listed = unescape(re.search(r'name="list" value="([^"]*)"', form.group(2)).group(1)).split("\n")
    assert listed == list(dict.fromkeys(m.symbol for m in human if m.symbol))
    drugstone = unescape(re.search(r'<a href="(https://drugst\.one/[^"]+)"', tools).group(1))
    nodes = parse_qs(urlsplit(drugstone).query)["nodes"][0].split(",")
    assert nodes == [f"ncbigene:{e}" for e in dict.fromkeys(m.entrez for m in human)][:links.DRUGSTONE_MOST]
    # the one form that leaves the site is allowed by the policy, and nothing else is
    form_action = next(d for d in CONTENT_SECURITY_POLICY.split(";") if d.split()[0] == "form-action").split()[1:]
    assert form_action == ["'self'", f"{urlsplit(links.ENRICHR_FORM).scheme}://{urlsplit(links.ENRICHR_FORM).netloc}"]


def test_the_feed_is_atom_of_the_newest_figures(tmp_path):
    site, _ = small_site(tmp_path)
    feed = ET.fromstring(render.render_feed(site)["feed.xml"])
    atom = "{http://www.w3.org/2005/Atom}"
    assert feed.tag == f"{atom}feed" and feed.find(f"{atom}id").text == f"{BASE}/feed.xml"
    entries = feed.findall(f"{atom}entry")
    assert [e.find(f"{atom}id").text for e in entries] == [f"{BASE}/figures/{f}.html" for f in list(site.figures)[:50]]
    assert all(e.find(f"{atom}updated").text.endswith("Z") for e in entries)


def test_the_reference_sites_browse_urls_redirect(tmp_path):
    site, renderer = small_site(tmp_path)
    stubs = renderer.render_reference_redirects()
    assert set(stubs) == {"browse/organisms.html", "browse/wikipathways.html", "browse/ndex.html", "browse/table.html"}
    assert '<meta http-equiv="refresh" content="0; url=/organisms/">' in stubs["browse/organisms.html"]
    rules = render_redirects_file(site)
    assert "/browse/table.html /figures/ 301!" in rules.splitlines()


def test_every_organism_file_has_its_page_even_without_figures(tmp_path):
    site, renderer = small_site(tmp_path)
    zebrafish = site.organisms["danio_rerio"]
    assert zebrafish.figids == () and zebrafish.name == "Danio rerio"
    html = page_of(site, renderer, "/organisms/danio_rerio.html")
    assert "<i>Danio rerio</i>" in html and "No figure of the catalogue mentions it yet." in html
    assert "/organisms/danio_rerio.html" in page_of(site, renderer, "/organisms/")


def test_figure_without_mentions_shows_its_keywords(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/figures/PMC8714735__fonc-11-760971-g003.html").read_text()
    assert "Terms found in this figure" in page and "<code>RNaseMRP:RNA</code>" in page


def test_markdown_body_is_rendered_without_raw_html(tmp_path):
    record = minimal_record("PMC4__body") + "Some *notes* with <b onclick=x>html</b> and [a link](javascript:alert(1)).\n"
    source = write_files(tmp_path / "src", {"a.md": record})
    run_build(source, tmp_path / "out")
    page = site_file(tmp_path / "out", "/figures/PMC4__body.html").read_text()
    assert "<em>notes</em>" in page
    assert "<b onclick" not in page and 'href="javascript:' not in page


def test_text_mined_organisms_are_marked(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/organisms/drosophila_melanogaster.html").read_text()
    # every figure naming the fly does so only through text mining
    assert page.count('<span class="tag" title="Organism found by text mining only">') == len(_listed_figures(
        site_file(site, "/organisms/drosophila_melanogaster.html")))
    human = site_file(site, "/organisms/homo_sapiens.html").read_text()
    assert '<a href="https://www.ncbi.nlm.nih.gov/Taxonomy/Browser/wwwtax.cgi?id=9606">9606</a>' in human
    assert "<dt>Group</dt><dd>Primates</dd>" in human


def test_gene_page_shows_symbol_words_links_and_companions(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/genes/5594.html").read_text()  # MAPK1: found as MAPK and as Cyrillic МАРК
    assert "<code>MAPK</code>" in page and "<code>МАРК</code>" in page
    assert 'href="https://www.ncbi.nlm.nih.gov/gene/5594"' in page
    years = re.findall(r'<span class="meta">(\d{4})', page)
    assert years == sorted(years, reverse=True)


def test_download_columns_are_the_mention_fields_in_order():
    """The JSON download pairs each column name with the mention field at the same place."""
    from site_gen.model import ChemicalMention, DiseaseMention, GeneMention
    from site_gen.render import CHEMICAL_COLUMNS, DISEASE_COLUMNS, GENE_COLUMNS

    assert GENE_COLUMNS == GeneMention._fields
    assert CHEMICAL_COLUMNS == ChemicalMention._fields
    assert DISEASE_COLUMNS == DiseaseMention._fields


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_template_failing_at_run_time_is_reported_with_its_file_and_line(tmp_path, jobs):
    source = copy_full_source(tmp_path / "src")
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    figure = templates / "figure.html"
    lines = figure.read_text().splitlines(keepends=True)
    line = next(n for n, text in enumerate(lines, 1) if "{{ fig.title }}</h1>" in text)
    lines[line - 1] = lines[line - 1].replace("{{ fig.title }}", "{{ fig.title + 1 }}")  # str + int: a TypeError
    figure.write_text("".join(lines))
    with pytest.raises(SiteError) as failed:
        run_build(source, tmp_path / "out", templates=str(templates), jobs=jobs)
    assert re.fullmatch(rf".*figure\.html:{line}: template error while rendering /figures/\S+\.html: TypeError: .*str.*",
                        str(failed.value))
    assert not (tmp_path / "out").exists()


def test_a_failure_outside_the_templates_is_not_called_a_template_error(tmp_path, monkeypatch):
    from site_gen.render import Renderer

    def broken(self, page):
        return 1 / 0

    monkeypatch.setattr(Renderer, "_context_figure", broken)
    with pytest.raises(ZeroDivisionError):  # a bug of the generator keeps its own traceback
        run_build(copy_full_source(tmp_path / "src"), tmp_path / "out")


# --- the data products: gene and chemical sets (GMT), the compressed catalogue, the downloads page ---
# (expectations computed from the records and their TSVs with nothing but yaml and csv: tests/records.py)

DATE = "20231114"  # the day of EPOCH
HUMAN = "Homo sapiens"


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


class _Html:
    def __init__(self, text: str):
        self.text = text

    def __html__(self) -> str:
        return self.text


@given(st.one_of(st.text(), st.text().map(Markup), st.integers(), st.none(), st.text().map(_Html)))
def test_templates_escape_exactly_as_markupsafe(value):
    # the build's templates call render.fast_escape for every {{ value }}: it must agree with markupsafe
    out = fast_escape(value)
    assert type(out) is Markup
    assert out == escape(value)
    assert (out is value) == (type(value) is Markup)  # safe text as it is, not copied
    template = make_environment(REPO / "templates").from_string("<p title='{{ v }}'>{{ v }}</p>")
    assert template.render(v=value) == f"<p title='{escape(value)}'>{escape(value)}</p>"
