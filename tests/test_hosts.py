"""hosts: the `host` presets: plain and GitHub Pages sites served as those hosts serve them, and their limits."""
from __future__ import annotations

import functools
import re
import http.client
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

from site_gen import hosts
from site_gen.errors import SiteError
from tests.conftest import copy_full_source, minimal_record, run_build, snapshot, write_files
from tests.sitecheck import page_links

BASE = "https://example.org"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """Python's own static file server over a folder: no rewrites, no pretty URLs."""
    servers = []

    def start(folder: Path) -> int:
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def status_of(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("HEAD", path)
        return conn.getresponse().status
    finally:
        conn.close()


def internal_paths(site: Path, base: str) -> set[str]:
    """Every internal link and source of every page (root-relative, or absolute under `base`)."""
    prefix = urlsplit(base).path
    paths = set()
    for page in site.rglob("*.html"):
        for url in page_links(page.read_text(encoding="utf-8")):
            if url.startswith(base):
                url = url[len(base) - len(prefix):]
            if url.startswith("/") and not url.startswith("//"):
                paths.add(quote(unquote(urlsplit(url).path), safe="/~"))
    return paths


@pytest.fixture(scope="module")
def plain_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plain")
    source = copy_full_source(tmp / "src")
    result = run_build(source, tmp / "_site", base_url=BASE, host="plain")
    return tmp / "_site", result.site


def test_a_plain_site_answers_every_link_from_pythons_http_server(plain_site, http_server):
    site, model = plain_site
    port = http_server(site)
    paths = internal_paths(site, BASE)
    assert len(paths) > 500
    broken = sorted(p for p in paths if status_of(port, p) != 200)
    assert broken == []
    # the reference URLs, linked or not: every figure, organism and alias stub
    reference = [f"/figures/{figid}.html" for figid in model.figures]
    reference += [organism.url for organism in model.organisms.values()]
    reference += [f"{r.from_url}.html" for r in model.redirects]
    assert [p for p in reference if status_of(port, quote(p, safe="/~")) != 200] == []


def test_a_plain_site_has_plain_folders_and_nothing_for_another_host(plain_site):
    site, _ = plain_site
    assert (site / "figures" / "PMC7988944__13027_2021_359_Fig6_HTML.html").is_file()
    assert not any(p.name == "_" for p in site.rglob("_"))
    assert not (site / "_redirects").exists() and not (site / "_headers").exists() and not (site / ".nojekyll").exists()


def test_a_github_pages_project_site_answers_every_link_under_its_path(tmp_path, http_server):
    source = copy_full_source(tmp_path / "src")
    (tmp_path / "host").mkdir()
    run_build(source, tmp_path / "host" / "pfocr", base_url=f"{BASE}/pfocr", host="github-pages")
    site = tmp_path / "host" / "pfocr"
    assert (site / ".nojekyll").read_bytes() == b""  # GitHub's Jekyll step would drop `_` files and folders
    assert (site / "404.html").is_file() and not (site / "_redirects").exists()
    paths = internal_paths(site, f"{BASE}/pfocr")
    assert paths and all(p.startswith("/pfocr/") for p in paths)
    port = http_server(tmp_path / "host")  # the project site at /pfocr/, as GitHub serves it
    assert sorted(p for p in paths if status_of(port, p) != 200) == []


def _records(count: int) -> dict[str, str]:
    return {f"f{i}.md": minimal_record(f"PMC{i}__A", figid_alias=f"PMC{i}__F1") for i in range(count)}


def test_a_site_over_github_pages_size_is_refused_with_the_limit_and_by_how_much(tmp_path, monkeypatch):
    source = write_files(tmp_path / "src", _records(3))
    run_build(source, tmp_path / "probe", host="github-pages")
    files = [p for p in (tmp_path / "probe").rglob("*") if p.is_file()]
    total, largest = sum(p.stat().st_size for p in files), max(files, key=lambda p: p.stat().st_size)
    monkeypatch.setattr(hosts, "GITHUB_SITE_LIMIT", total - 1000)
    with pytest.raises(SiteError, match=r"the site is [\d,]+ bytes, 1,000 bytes over GitHub Pages' limit of [\d,]+ bytes"):
        run_build(source, tmp_path / "out", host="github-pages")
    assert not (tmp_path / "out").exists()  # nothing written
    monkeypatch.setattr(hosts, "GITHUB_SITE_LIMIT", 10**9)
    monkeypatch.setattr(hosts, "GITHUB_FILE_LIMIT", largest.stat().st_size - 1)
    name = largest.relative_to(tmp_path / "probe").as_posix()
    with pytest.raises(SiteError, match=rf"host github-pages: {re.escape(name)} is [\d,]+ bytes, 1 bytes over GitHub's limit"):
        run_build(source, tmp_path / "out", host="github-pages")
    assert not (tmp_path / "out").exists()


def test_an_update_in_place_that_would_pass_the_limit_is_refused_and_leaves_the_site(tmp_path, monkeypatch):
    source = write_files(tmp_path / "src", _records(6))
    run_build(source, tmp_path / "out", host="github-pages")
    before = snapshot(tmp_path / "out")
    size = sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file())
    monkeypatch.setattr(hosts, "GITHUB_SITE_LIMIT", size + 50)
    (source / "f1.md").write_text(minimal_record("PMC1__A", figid_alias="PMC1__F1", figtitle="A much longer title " * 20))
    with pytest.raises(SiteError, match="over GitHub Pages' limit"):
        run_build(source, tmp_path / "out", host="github-pages")
    assert snapshot(tmp_path / "out") == before
    monkeypatch.setattr(hosts, "GITHUB_SITE_LIMIT", 10**9)
    run_build(source, tmp_path / "out", host="github-pages")  # the same edit, within the limit
    assert "A much longer title" in (tmp_path / "out" / "figures" / "PMC1__A.html").read_text()


def test_more_rules_than_netlify_advises_are_refused(tmp_path, monkeypatch):
    source = write_files(tmp_path / "src", _records(3))
    monkeypatch.setattr(hosts, "MAX_REDIRECT_RULES", 3)  # the 3 aliases are left to their stubs; 4 browse pages
    with pytest.raises(SiteError, match=r"_redirects would hold 4 rules, 1 more than the 3 Netlify advises"):
        run_build(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()
