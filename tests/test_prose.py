"""prose: the site's own Markdown pages (`_pages/`): read, reported when bad, rendered with the build's numbers."""
from __future__ import annotations

import re
import shutil

from site_gen.prose import load_prose, menu
from tests.conftest import REPO, SEEDS, run_build, write_files
from tests.sitecheck import jsonld_blocks


def test_the_seeds_pages_are_read_in_their_menu_order():
    problems: list = []
    pages = load_prose(SEEDS, REPO / "templates", problems)
    assert problems == []
    assert menu(pages) == (("/about.html", "About"), ("/help.html", "Help"), ("/cite.html", "How to cite"),
                           ("/stats.html", "Statistics"))


def test_a_bad_page_is_reported_with_its_file_line_and_field_and_left_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "src" / "_pages", {
        "good.md": "---\ntitle: Good\n---\nText.\n",
        "untitled.md": "---\nnav: 2\n---\nText.\n",
        "navy.md": "---\ntitle: Navy\nnav: first\n---\n",
        "templated.md": "---\ntitle: T\ntemplate: nowhere.html\n---\n",
        "search.md": "---\ntitle: Clash\n---\n",
        "Caps.md": "---\ntitle: Caps\n---\n",
    })
    problems: list = []
    pages = load_prose(tmp_path / "src", REPO / "templates", problems)
    assert [p.url for p in pages] == ["/good.html"]
    found = {(p.src_path, p.line, p.field) for p in problems}
    assert ("src/_pages/untitled.md", 1, "title") in found
    assert ("src/_pages/navy.md", 3, "nav") in found
    assert ("src/_pages/templated.md", 3, "template") in found
    assert {p.src_path for p in problems} == {f"src/_pages/{n}.md" for n in ("untitled", "navy", "templated", "search", "Caps")}


def test_the_built_pages_have_their_prose_menus_numbers_and_citation(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "src")
    result = run_build(tmp_path / "src", tmp_path / "out")
    site = result.site
    about = (tmp_path / "out" / "about.html").read_text()
    assert "<h1>About</h1>" in about and "optical character recognition" in about
    home = (tmp_path / "out" / "index.html").read_text()
    for url in ("/about.html", "/help.html", "/cite.html", "/stats.html"):
        assert home.count(f'href="{url}"') == 2  # in the header and in the footer
    stats = (tmp_path / "out" / "stats.html").read_text()
    numbers = dict(re.findall(r"<dt>(\w+)</dt><dd>([\d,]+)", stats))
    assert int(numbers["Figures"].replace(",", "")) == len(site.figures)
    assert int(numbers["Papers"].replace(",", "")) == len({f.pmcid for f in site.figures.values() if f.pmcid})
    rows = re.findall(r'<tr><th scope="row">(?:<a [^>]+>)?([^<]+)(?:</a>)?</th>\s*<td>(\d+)</td>', stats)
    by_year = {}
    for fig in site.figures.values():
        by_year[fig.year or "not known"] = by_year.get(fig.year or "not known", 0) + 1
    assert {year: int(n) for year, n in rows} == by_year
    article = next(b for b in jsonld_blocks((tmp_path / "out" / "cite.html").read_text())
                   if b.get("@type") == "ScholarlyArticle")
    assert article["sameAs"] == "https://doi.org/10.1186/s13059-020-02181-2"
    assert article["author"][0]["name"] == "Kristina Hanspers" and article["datePublished"] == "2020"
    assert any("/about.html</loc>" in p.read_text() for p in (tmp_path / "out" / "sitemaps").glob("*.xml"))


def test_an_edited_page_is_rendered_again_by_the_next_build(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "src")
    run_build(tmp_path / "src", tmp_path / "out")
    about = tmp_path / "src" / "_pages" / "about.md"
    about.write_text(about.read_text().replace("**Pathway Figure OCR**", "**Pathway Figure OCR**, edited,"))
    again = run_build(tmp_path / "src", tmp_path / "out")
    assert not again.up_to_date and "edited," in (tmp_path / "out" / "about.html").read_text()
    cold = run_build(tmp_path / "src", tmp_path / "cold")
    assert (tmp_path / "out" / "about.html").read_bytes() == (tmp_path / "cold" / "about.html").read_bytes()
