"""Readers of a built site for the tests: links, JSON-LD blocks, redirect rules, pages and the figures they list."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from site_gen.index import PLAIN
from site_gen.serve import read_redirect_rules

JSONLD_RE = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.urls.append(value)


def page_links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


def jsonld_blocks(html: str) -> list[dict]:
    return [json.loads(b) for b in JSONLD_RE.findall(html)]


def redirect_sources(site: Path) -> set[str]:
    rules = (site / "_redirects").read_text().splitlines()
    return {line.split()[0] for line in rules if line and not line.startswith("#")}


def _file_at(site: Path, path: str) -> Path | None:
    rel = path.lstrip("/")
    for candidate in ((rel + "index.html",) if rel.endswith("/") or not rel else (rel, rel + ".html")):
        if (site / candidate).is_file():
            return site / candidate
    return None


def site_file(site: Path, url: str) -> Path:
    """The file that answers a site URL: at its path (or with .html, as pretty URLs serve it), or where
    a rewrite rule of the site's `_redirects` sends it (a section spread over prefix folders)."""
    found = _file_at(site, url)
    if found is None:
        for source, target, status in read_redirect_rules(site):
            if status == 200 and source.endswith("*") and url.startswith(source[:-1]):
                found = _file_at(site, target.replace(":splat", url[len(source) - 1:]))
                break
    return found or site / PLAIN.out_path(url)


def resolve(site: Path, url: str, base_url: str) -> bool:
    """Does a site URL (root-relative or under base_url) reach a file or a redirect rule?"""
    if url.startswith(base_url):
        url = url[len(base_url):] or "/"
    path = unquote(urlsplit(url).path)
    return site_file(site, path).is_file() or path in redirect_sources(site)


def internal(url: str, base_url: str) -> bool:
    return url.startswith("/") and not url.startswith("//") or url.startswith(base_url)


def listed_figures(page: Path) -> set[str]:
    """The figures a page lists in its main content (figid of each link to a figure page)."""
    main = page.read_text(encoding="utf-8").split('<main id="main">')[1]
    return set(re.findall(r'href="/figures/([^"/]+)\.html"', main))


def section_page(output: Path, section: str, name: str) -> str:
    """The text of the one page of that name below a section folder (prefix folders or not)."""
    found = list((output / section).rglob(name))
    assert len(found) == 1, f"{section}/{name}"
    return found[0].read_text(encoding="utf-8")
