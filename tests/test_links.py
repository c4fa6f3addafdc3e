"""links: the URLs of other sites a page links to (PMC figures, Drugstone)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from site_gen import links
from tests.sitecheck import site_file


def test_drugstone_takes_at_most_a_hundred_distinct_genes():
    url = links.drugstone([str(n) for n in range(150)] + ["1", "2"])
    assert parse_qs(urlsplit(url).query)["nodes"][0].split(",") == [f"ncbigene:{n}" for n in range(100)]
    assert links.drugstone([]) is None


def test_figlink_with_or_without_leading_slash(full_site):
    _src, site, _ = full_site
    with_slash = site_file(site, "/figures/PMC5400654__oncotarget-08-22145-g003.html").read_text()
    without = site_file(site, "/figures/PMC7988944__13027_2021_359_Fig6_HTML.html").read_text()
    assert 'href="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5400654/figure/F3/"' in with_slash
    assert 'href="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC7988944/figure/Fig6/"' in without
    assert "gov//" not in with_slash + without
