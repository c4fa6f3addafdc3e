"""jsonld: the schema.org data of the pages, and that it cannot close its <script> element."""
from __future__ import annotations

from tests.conftest import minimal_record, run_build, write_files
from tests.sitecheck import jsonld_blocks, site_file

BASE = "https://pfocr.wikipathways.org"


def test_figure_jsonld_names_the_figure_not_creativework(full_site):
    _src, site, _ = full_site
    page = site_file(site, "/figures/PMC7988944__13027_2021_359_Fig6_HTML.html")
    dataset = jsonld_blocks(page.read_text())[0]
    assert dataset["name"] == "HBV induces sorafenib resistance in liver cancer via upregulation of cIAP2 expression"
    assert dataset["@id"] == dataset["url"] == f"{BASE}/figures/PMC7988944__13027_2021_359_Fig6_HTML.html"
    assert dataset["citation"]["@type"] == "ScholarlyArticle"
    assert dataset["image"]["contentUrl"] == ("https://europepmc.org/api/fulltextRepo?pmcId=PMC7988944&type=FILE"
                                              "&fileName=13027_2021_359_Fig6_HTML.jpg")  # the reference site's
    assert {g["identifier"] for g in dataset["about"] if g["@type"] == "Gene"} == {
        "208", "10000", "207", "4792", "4790", "4791", "5966", "5970", "5971"}
    assert {c["identifier"] for c in dataset["mentions"]} == {"D019259", "C471405"}


def test_jsonld_cannot_close_its_script_element(tmp_path):
    record = minimal_record("PMC8__xss", figtitle="'</script><script>alert(1)</script><!--'")
    source = write_files(tmp_path / "src", {"a.md": record})
    run_build(source, tmp_path / "out")
    html = site_file(tmp_path / "out", "/figures/PMC8__xss.html").read_text()
    assert "<script>alert(1)" not in html
    assert html.count("</script>") == html.count("<script")
    assert jsonld_blocks(html)[0]["name"] == "</script><script>alert(1)</script><!--"
