"""The site in a real browser: Debian's Chromium driven by Playwright, against `site-gen serve`.

Screenshots of each page type are kept in test-artifacts/.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, copy_full_source
from tests.test_serve import running_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = REPO / "tests" / "netlify" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "test-artifacts"

PAGES = {
    "home": "/",
    "figure": "/figures/PMC7048131__12964_2020_527_Fig5_HTML.html",
    "figure-mixed-organisms": "/figures/PMC10030510__fimmu-14-1140749-g002.html",
    "gene": "/genes/6774.html",
    "chemical": "/chemicals/D019259.html",
    "organism": "/organisms/homo_sapiens.html",
    "genes-overview": "/genes/",
    "figures-overview": "/figures/",
    "search": "/search.html?q=STAT3",
    "downloads": "/downloads.html",
    "about": "/about.html",
    "stats": "/stats.html",
    "not-found": "/no/such/page.html",
}


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    if not Path(CHROMIUM).exists() or not AXE.exists():
        pytest.fail("Chromium (Debian package `chromium`) and tests/netlify/node_modules are needed: run `make test`")
    root = tmp_path_factory.mktemp("browser")
    with running_server(root, copy_full_source(root / "src"), seconds=60) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


# A 1×1 transparent PNG: figure images are hot-linked from PMC, but a test never reaches the network.
PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082")


def _offline(route):
    if route.request.url.startswith("http://127.0.0.1:"):
        route.continue_()
    elif route.request.resource_type == "image":
        route.fulfill(status=200, content_type="image/png", body=PIXEL)
    else:
        route.fulfill(status=204, body=b"")


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.route("**/*", _offline)
    tab = context.new_page()
    tab.errors = []
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    yield tab
    context.close()


def search(page, site_url: str, query: str = "", **params) -> list[str]:
    from urllib.parse import urlencode

    page.goto(f"{site_url}/search.html?{urlencode({'q': query, **params})}")
    page.wait_for_selector("#results[data-state=done]")
    return [a.get_attribute("href") for a in page.query_selector_all("#results a")]


def figure_links(links: list[str]) -> set[str]:
    return {link.rsplit("/", 1)[-1].removesuffix(".html") for link in links if "/figures/" in link}


def test_a_gene_symbol_offers_its_page_first_then_its_figures(page, site_url):
    links = search(page, site_url, "STAT3")
    assert links[0] == "/genes/6774.html"
    assert {"PMC7048131__12964_2020_527_Fig5_HTML", "PMC8714735__fonc-11-760971-g003"} <= figure_links(links)
    assert page.errors == []


def test_a_chemical_an_organism_and_a_pmcid_lead_to_their_pages(page, site_url):
    assert search(page, site_url, "sorafenib")[0].startswith("/chemicals/")
    assert search(page, site_url, "homo sapiens")[0] == "/organisms/homo_sapiens.html"
    assert search(page, site_url, "PMC7988944")[0] == "/figures/PMC7988944__13027_2021_359_Fig6_HTML.html"
    assert page.errors == []


def test_title_words_find_the_figure_and_filters_narrow_results(page, site_url):
    links = search(page, site_url, "breast cancer chemoresistance")
    assert "PMC7048131__12964_2020_527_Fig5_HTML" in figure_links(links)
    everything = figure_links(search(page, site_url, "signaling"))
    mouse = figure_links(search(page, site_url, "signaling", organism="Mus musculus"))
    assert mouse and mouse != everything  # (the first page of results each: a filter may reach further)
    assert all("Mus musculus" in _organisms(figid) for figid in mouse)
    recent = figure_links(search(page, site_url, "signaling", **{"from": "2020", "to": "2030"}))
    assert recent and recent != everything and "PMC5400654__oncotarget-08-22145-g003" not in recent  # 2017
    assert all(2020 <= int(_record(figid)["year"]) <= 2030 for figid in recent)
    assert page.errors == []


def _record(figid: str) -> dict:
    """The front matter of a record of the seeds or the test corpus."""
    import yaml

    for path in [*(REPO / "seeds").glob("*.txt"), *(REPO / "tests/corpus/figures").glob("*.md")]:
        data = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        if data["figid"] == figid:
            return data
    raise KeyError(figid)


def _organisms(figid: str) -> set[str]:
    """The organisms, curated and text-mined, of a record."""
    data, names = _record(figid), set()
    for key in ("organisms", "organisms_ner"):
        value = data.get(key) or []
        names |= {value} if isinstance(value, str) else set(value)
    return names


def test_the_reference_query_parameter_and_an_empty_year_range(page, site_url):
    page.goto(f"{site_url}/search.html?query=STAT3")  # the reference site's parameter
    page.wait_for_selector("#results[data-state=done]")
    assert page.query_selector_all("#results a")[0].get_attribute("href") == "/genes/6774.html"
    assert figure_links(search(page, site_url, "signaling", **{"from": "2030"})) == set()  # after the catalogue
    assert figure_links(search(page, site_url, "signaling", **{"from": "2020", "to": "2010"})) == set()
    assert page.errors == []


def test_result_excerpts_are_the_figures_title_and_caption(page, site_url):
    search(page, site_url, "Kupffer")
    hit = page.locator("li.hit", has=page.locator('a[href="/figures/PMC5400654__oncotarget-08-22145-g003.html"]'))
    excerpt = hit.locator(".excerpt").inner_text()
    assert [m.inner_text() for m in hit.locator(".excerpt mark").all()] == ["Kupffer"]  # the matched word, marked
    data = _record("PMC5400654__oncotarget-08-22145-g003")
    text = " ".join(str(data.get(k) or "") for k in ("figtitle", "caption"))
    words = re.findall(r"\w+", excerpt)
    assert "Kupffer" in words and len(words) >= 10
    assert all(w in text for w in words), excerpt  # not the cells of the gene table
    assert page.errors == []


def test_the_form_puts_the_query_in_the_url_and_works_by_keyboard(page, site_url):
    page.goto(site_url + "/")
    for _ in range(20):  # Tab from the top of the page reaches the search box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "site-search":
            break
    assert page.evaluate("document.activeElement.id") == "site-search"
    page.keyboard.type("STAT3")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search.html?q=STAT3")
    page.wait_for_selector("#results[data-state=done]")
    for _ in range(30):  # and Tab then reaches the first result
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == "/genes/6774.html":
            break
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/genes/6774.html"


def test_figure_page_shows_its_image_tables_and_links(page, site_url):
    page.goto(site_url + PAGES["figure"])
    image = page.query_selector("article.figure img")
    assert image and image.get_attribute("src").startswith("https://") and image.get_attribute("alt")
    assert len(page.query_selector_all("section[aria-labelledby=genes] tbody tr")) > 5
    hrefs = [a.get_attribute("href") for a in page.query_selector_all("a")]
    assert any(h.startswith("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC7048131") for h in hrefs)
    assert any(h.startswith("https://www.ncbi.nlm.nih.gov/gene/") for h in hrefs)
    assert any(h.startswith("/data/") and h.endswith("-genes.tsv") for h in hrefs)


def test_the_organism_filter_narrows_the_gene_table(page, site_url):
    page.goto(site_url + PAGES["figure-mixed-organisms"])
    rows = "table.genes tbody:not([hidden]) tr:not(.group)"
    every = len(page.query_selector_all(rows))
    organism_cells = lambda: {c.inner_text() for c in page.query_selector_all(f"{rows} td:nth-child(5)")}  # noqa: E731
    assert {"Homo sapiens", "Mus musculus", "Drosophila melanogaster"} <= organism_cells()
    select = page.locator("#gene-organism")
    assert select.is_visible()
    fly = next(o.get_attribute("value") for o in page.query_selector_all("#gene-organism option")
               if o.inner_text().startswith("Drosophila melanogaster"))
    select.select_option(fly)
    assert organism_cells() == {"Drosophila melanogaster"}
    assert 0 < len(page.query_selector_all(rows)) < every
    select.select_option("")
    assert len(page.query_selector_all(rows)) == every
    assert page.errors == []


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_every_page_type_loads_without_errors_and_passes_axe(page, site_url, kind):
    response = page.goto(site_url + PAGES[kind])
    assert response.status == (404 if kind == "not-found" else 200)
    if kind == "search":
        page.wait_for_selector("#results[data-state=done]")
    page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{kind}.png"), full_page=False)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == [], kind
    expected = ["Failed to load resource: the server responded with a status of 404 (Not Found)"] * (kind == "not-found")
    assert page.errors == expected, kind


@pytest.mark.parametrize("kind", ["search", "figure", "figure-mixed-organisms", "genes-overview", "stats", "home"])
def test_nothing_is_wider_than_a_phone(browser, site_url, kind):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.route("**/*", _offline)
    tab = context.new_page()
    try:
        tab.goto(site_url + PAGES[kind])
        if kind == "search":
            tab.wait_for_selector("#results[data-state=done]")
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390, kind
        for box in tab.query_selector_all(".scroll"):  # a wide table scrolls inside its own box
            assert box.evaluate("b => b.getBoundingClientRect().right") <= 390
    finally:
        context.close()


def test_a_long_caption_opens_and_closes_without_javascript(browser, site_url):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, java_script_enabled=False)
    context.route("**/*", _offline)
    tab = context.new_page()
    try:
        tab.goto(site_url + "/figures/PMC7988944__13027_2021_359_Fig6_HTML.html")
        caption = tab.locator("details.caption")
        assert caption.locator("summary .more").is_visible() and not caption.locator("summary .less").is_visible()
        caption.locator("summary").click()
        assert caption.evaluate("d => d.open") and caption.locator("summary .less").is_visible()
        assert "restore cancer cell sensitivity to sorafenib" in caption.inner_text()
    finally:
        context.close()
