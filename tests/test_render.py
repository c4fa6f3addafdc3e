"""Pages and files rendered from a small site held in memory (`render.Renderer` on the index of the
seeds), without building a whole site: the figure page's actions, the feed, the reference site's
browse URLs."""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from site_gen import links, render
from site_gen.build import gather
from site_gen.hosts import CONTENT_SECURITY_POLICY, render_redirects_file
from site_gen.render import Renderer, make_environment
from tests.conftest import REPO, SEEDS, make_settings

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


def test_drugstone_takes_at_most_a_hundred_distinct_genes():
    url = links.drugstone([str(n) for n in range(150)] + ["1", "2"])
    assert parse_qs(urlsplit(url).query)["nodes"][0].split(",") == [f"ncbigene:{n}" for n in range(100)]
    assert links.drugstone([]) is None


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
