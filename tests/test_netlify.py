"""The deployed configuration on Netlify, read with Netlify's own code (npm): `netlify.toml` by its config
resolver, the generated `_redirects` and `_headers` by its parsers, and request paths matched by its
redirect matcher, against the files the generator wrote."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

from site_gen import hosts
from site_gen.index import section_sizes
from tests.conftest import REPO, copy_full_source, minimal_record, run_build, write_files
from tests.sitecheck import internal, page_links

CHECKER = REPO / "tests" / "netlify"
BASE = "https://example.org"


def netlify_check(site: Path, paths=()) -> dict:
    if shutil.which("node") is None or not (CHECKER / "node_modules").is_dir():
        pytest.fail("Node.js and tests/netlify/node_modules are needed: run `make test`, which installs them")
    args = ["node", "check.mjs", str(REPO), str(site)]
    if paths:
        listing = site.parent / f"{site.name}-paths.json"
        listing.write_text(json.dumps(sorted(set(paths))), encoding="utf-8")
        args.append(str(listing))
    done = subprocess.run(args, cwd=CHECKER, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def served_file(site: Path, path: str, matches: dict) -> tuple[int, str | Path]:
    """What Netlify answers for a request path: a file there (its folder's index.html, or with .html
    as pretty URLs do) wins over an unforced rule; else the first matching rule, as its matcher
    found it: (301, location) or (200, the file the rewrite reaches); (404, "") when nothing does."""
    def file_at(p: str) -> Path | None:
        rel = unquote(p).lstrip("/")
        for candidate in ((rel + "index.html",) if rel.endswith("/") or not rel else (rel, rel + ".html")):
            if (site / candidate).is_file():
                return site / candidate
        return None

    rule = matches[path]
    if rule and rule["force"] and rule["status"] == 301:
        return 301, rule["to"]
    found = file_at(path)
    if found:
        return 200, found
    if rule and rule["status"] in (301, 302):
        return rule["status"], rule["to"]
    if rule and rule["status"] == 200:
        found = file_at(rule["to"])
        return (200, found) if found else (404, "")
    return 404, ""


def site_paths(site: Path, every: int = 1) -> set[str]:
    """The internal URL paths of the site: the sitemaps' URLs (every page), and the links and sources of
    every `every`-th page (and each page a section lists its pages on)."""
    paths = set()
    pages = sorted(p for p in site.rglob("*.html") if "pagefind" not in p.parts)
    for n, page in enumerate(pages):
        if n % every and page.name != "index.html":
            continue
        for url in page_links(page.read_text(encoding="utf-8")):
            if internal(url, BASE):
                paths.add(quote(unquote(urlsplit(url.removeprefix(BASE)).path), safe="/~"))
    for sitemap in (site / "sitemaps").glob("*.xml"):
        for loc in sitemap.read_text(encoding="utf-8").split("<loc>")[1:]:
            paths.add(quote(unquote(urlsplit(loc.split("</loc>")[0].replace("&amp;", "&")).path), safe="/~"))
    return paths


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("netlify")
    source = copy_full_source(tmp / "src")
    result = run_build(source, tmp / "_site", base_url=BASE)
    return tmp / "_site", result.site


def test_netlify_toml_builds_and_publishes_as_the_readme_does(built):
    site, _ = built
    config = netlify_check(site)
    assert config["build"]["command"] == "make build"
    assert config["build"]["publish"].endswith("_site")
    assert "make build" in (REPO / "README.md").read_text().split("\n\n")[1]
    assert not config.get("edge_functions")  # every URL is a file or a rule: nothing runs at the edge


def test_headers_file_parses_and_sets_the_security_headers(built):
    site, _ = built
    config = netlify_check(site)
    assert config["headerErrors"] == []
    headers = {h["for"]: h["values"] for h in config["headers"]}
    assert headers["/*"]["Content-Security-Policy"] == hosts.CONTENT_SECURITY_POLICY
    assert headers["/*"]["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in headers["/assets/*"]["Cache-Control"]
    assert "immutable" not in headers["/*"]["Cache-Control"]
    assert headers["/data/*"]["Access-Control-Allow-Origin"] == "*"


def test_small_site_has_plain_folders_and_a_forced_301_per_alias(built):
    site, model = built
    assert not (site / "figures" / "_").exists() and not (site / "genes" / "_").exists()
    config = netlify_check(site, [r.from_url for r in model.redirects])
    assert config["redirectErrors"] == []
    rules = [r for r in config["redirectRules"] if not r["from"].startswith("/browse/")]  # (the reference's pages)
    assert len(rules) == len(model.redirects) > 0
    assert all(r["status"] == 301 and r["force"] for r in config["redirectRules"])
    for redirect in model.redirects:
        assert served_file(site, quote(redirect.from_url, safe="/~"), config["matches"]) == (301, redirect.to_url)


def test_past_the_folder_limit_every_public_url_reaches_its_file_through_netlifys_rules(tmp_path):
    from bench.corpus import write_corpus

    write_corpus(tmp_path / "src", 250, seed=3)
    limit = 250  # the genes (8,800 files) need about 150 prefix folders
    result = run_build(tmp_path / "src", tmp_path / "_site", base_url=BASE, folder_limit=limit, page_size=50)
    site, model = tmp_path / "_site", result.site
    for folder in [site, *site.rglob("*")]:
        if folder.is_dir():
            assert len(list(folder.iterdir())) <= limit, folder
    assert (site / "figures" / "_").is_dir() and (site / "data" / "_").is_dir()  # the big sections were split
    aliases = [quote(r.from_url, safe="/~") for r in model.redirects]
    public = site_paths(site, every=10)
    config = netlify_check(site, public | set(aliases))
    assert config["redirectErrors"] == []
    rewrites = [r for r in config["redirectRules"] if r["status"] == 200]
    sizes = section_sizes(model)  # a short list of rules, not one per file: a few per folder's worth of files
    assert 0 < len(rewrites) <= sum(10 * -(-size // limit) for size in sizes.values() if size > limit) < sum(sizes.values()) // 10
    for path in sorted(public):
        status, found = served_file(site, path, config["matches"])
        assert status in (200, 301), path
        if status == 200:
            assert found.is_file(), path
    for redirect, path in zip(model.redirects, aliases):
        assert served_file(site, path, config["matches"]) == (301, redirect.to_url), path
    # the reference URL of every figure and of its data, linked or not
    reference = [quote(url, safe="/~") for figid in model.figures for url in (f"/figures/{figid}.html", f"/data/{figid}.json")]
    matches = netlify_check(site, reference)["matches"]
    for path in reference:
        status, found = served_file(site, path, matches)
        assert status == 200 and found.name == unquote(path).rsplit("/", 1)[1], path


def test_past_the_advised_rule_count_aliases_are_left_to_their_stubs(tmp_path, monkeypatch):
    monkeypatch.setattr(hosts, "MAX_REDIRECT_RULES", 6)  # 4 rules of the reference's pages, and 3 aliases
    source = write_files(tmp_path / "src", {
        f"f{i}.md": minimal_record(f"PMC{i}__A", figid_alias=f"PMC{i}__F1", redirect_from=f"/figures/PMC{i}__F1")
        for i in range(3)})
    run_build(source, tmp_path / "_site")
    config = netlify_check(tmp_path / "_site")
    assert [r for r in config["redirectRules"] if r["from"].startswith("/figures/")] == []
    assert config["redirectErrors"] == []
    assert (tmp_path / "_site" / "figures" / "PMC1__F1.html").is_file()
