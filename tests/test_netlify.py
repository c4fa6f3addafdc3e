"""The deployed configuration, checked with Netlify's own parsers (npm), and the shard rewrite with
the edge function's own code, against the generator's file layout."""
from __future__ import annotations

import json
import shutil
import subprocess
from urllib.parse import quote

import pytest

from site_gen import render
from site_gen.index import SHARDED_SECTIONS, out_path_for
from tests.conftest import REPO, copy_full_source, minimal_record, run_build, write_files

CHECKER = REPO / "tests" / "netlify"


def netlify_check(site, paths=()) -> dict:
    if shutil.which("node") is None or not (CHECKER / "node_modules").is_dir():
        pytest.fail("Node.js and tests/netlify/node_modules are needed: run `make test`, which installs them")
    done = subprocess.run(["node", "check.mjs", str(REPO), str(site), *paths], cwd=CHECKER,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("netlify")
    source = copy_full_source(tmp / "src")
    result = run_build(source, tmp / "_site")
    return tmp / "_site", result.site


def test_netlify_toml_builds_and_publishes_as_the_readme_does(built):
    site, _ = built
    config = netlify_check(site)
    assert config["build"]["command"] == "make build"
    assert config["build"]["publish"].endswith("_site")
    assert "make build" in (REPO / "README.md").read_text().split("\n\n")[1]
    headers = {h["for"]: h["values"] for h in config["headers"]}
    assert headers["/*"]["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in headers["/assets/*"]["Cache-Control"]
    assert "immutable" not in headers["/*"]["Cache-Control"]
    declared = {e["path"]: e["function"] for e in config["edge_functions"]}
    assert declared == {f"/{section}/*": "shards" for section in SHARDED_SECTIONS}


def test_redirects_file_parses_with_one_rule_per_alias(built):
    site, model = built
    config = netlify_check(site)
    assert config["redirectErrors"] == []
    assert config["redirects"] == len(model.redirects) > 0
    rule = config["redirectSample"][0]
    assert rule["status"] == 301 and rule["from"].startswith("/figures/") and rule["to"].endswith(".html")


def test_edge_function_finds_every_file_the_generator_sharded(built):
    site, model = built
    urls = [p.url for p in model.pages if p.url.count("/") == 2 and not p.url.endswith("/")]
    urls += [r.from_url for r in model.redirects]
    urls += [f"/data/{figid}.json" for figid in model.figures]
    urls += ["/figures/PMC2864807__09_173_.de_ref2", "/genes/page-3.html", "/genes/", "/figures/Ünïcode+~x"]
    shards = netlify_check(site, urls)["shards"]
    for url in urls:
        expected = "/" + out_path_for(url)
        if expected.count("/_/") == 0:  # not sharded: Netlify serves it as it is
            assert shards[url] is None, url
        else:
            assert shards[url] == quote(expected, safe="/~"), url
    for url in urls[:200]:
        if shards[url]:
            assert (site / out_path_for(url)).is_file(), url


def test_past_the_advised_rule_count_aliases_are_left_to_their_stubs(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "MAX_REDIRECT_RULES", 2)
    source = write_files(tmp_path / "src", {
        f"f{i}.md": minimal_record(f"PMC{i}__A", figid_alias=f"PMC{i}__F1", redirect_from=f"/figures/PMC{i}__F1")
        for i in range(3)})
    run_build(source, tmp_path / "_site")
    config = netlify_check(tmp_path / "_site")
    assert config["redirects"] == 0 and config["redirectErrors"] == []
    assert (tmp_path / "_site" / out_path_for("/figures/PMC1__F1")).is_file()
