"""serve: the preview server fetched over HTTP, and its incremental rebuilds, each the same as a full build."""
from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

from site_gen import serve
from site_gen.build import build
from site_gen.engine import Engine
from site_gen import build as build_module
from site_gen.index import PLAIN
from site_gen.serve import Preview
from site_gen.settings import load_settings
from tests.conftest import EPOCH, REPO, SEEDS, copy_full_source, make_settings, minimal_record, snapshot, write_files
from tests.sitecheck import page_links, site_file

TITLE_LINE = "figtitle: Advances of the STAT3 signaling pathways involving breast cancer chemoresistance"
SEED = "003_00dc568588f0f9ad.txt"
FIGURE = "/figures/PMC7048131__12964_2020_527_Fig5_HTML.html"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(port: int, path: str) -> tuple[int, dict, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def wait_for(predicate, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the server")


@contextlib.contextmanager
def running_server(root: Path, source: Path, seconds: float = 20.0, *flags: str):
    """`site-gen serve` of `source` into root/out on a free loopback port: yields the port; always stopped."""
    port = free_port()
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    cmd = [sys.executable, "-m", "site_gen", "serve", "--config", str(REPO / "tests" / "empty.toml"),
           "--source", str(source), "--output", str(root / "out"), "--port", str(port),
           "--templates", str(REPO / "templates"), "--static", str(REPO / "static"), *flags]
    log = (root / "serve.log").open("wb")  # a file, not a pipe: a full pipe would stall the server
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def up():
            try:
                return fetch(port, "/")[0] in (200, 302)  # (302: to the base URL's path)
            except OSError:
                assert proc.poll() is None, (root / "serve.log").read_text()
                return False
        wait_for(up, seconds)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def server(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(SEEDS, source)
    with running_server(tmp_path, source) as port:
        yield port, source, tmp_path / "out"


def test_serves_reference_urls_redirects_and_404(server):
    port, _source, out = server
    status, _h, body = fetch(port, FIGURE)
    assert status == 200 and "Advances of the STAT3 signaling" in body
    assert "livereload.js" in body  # injected into the served page...
    assert "livereload" not in site_file(out, FIGURE).read_text()  # ...never into the built file
    status, headers, _ = fetch(port, "/figures/PMC7988944__F6")
    assert status == 301 and headers["Location"] == "/figures/PMC7988944__13027_2021_359_Fig6_HTML.html"
    assert fetch(port, "/organisms/homo_sapiens.html")[0] == 200
    status, _h, body = fetch(port, "/no/such/page.html")
    assert status == 404 and "Page not found" in body


def test_with_a_base_path_the_preview_answers_every_link_of_its_pages_under_it(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(SEEDS, source)
    with running_server(tmp_path, source, 20.0, "--base-url", "https://example.org/pfocr") as port:
        status, headers, _ = fetch(port, "/")
        assert status == 302 and headers["Location"] == "/pfocr/"
        assert fetch(port, "/figures/PMC7988944__F6")[0] == 404  # only under the base path, as deployed
        status, headers, _ = fetch(port, "/pfocr/figures/PMC7988944__F6")
        assert status == 301 and headers["Location"] == "/pfocr/figures/PMC7988944__13027_2021_359_Fig6_HTML.html"
        links = set()
        for page in ("/pfocr/", "/pfocr" + FIGURE, "/pfocr/genes/", "/pfocr/organisms/homo_sapiens.html"):
            status, _h, body = fetch(port, page)
            assert status == 200, page
            links |= {quote(unquote(urlsplit(u.removeprefix("https://example.org")).path), safe="/~")
                      for u in page_links(body) if u.startswith(("/", "https://example.org/"))
                      and not u.startswith(("//", "/livereload.js"))}  # (the reload script: livereload's own)
        assert len(links) > 50 and all(link.startswith("/pfocr/") for link in links)
        assert [link for link in sorted(links) if fetch(port, link)[0] != 200] == []


def test_head_answers_like_get_without_a_body(server):
    port, _source, _out = server
    for path, status in ((FIGURE, 200), ("/figures/PMC7988944__F6", 301), ("/no/such/page.html", 404),
                         ("/search.json", 200)):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("HEAD", path)
            response = conn.getresponse()
            assert (response.status, response.read()) == (status, b""), path
            assert response.getheader("Content-Type") == fetch(port, path)[1]["Content-Type"]
        finally:
            conn.close()


def test_without_livereload_pages_are_served_as_built_and_still_rebuilt(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(SEEDS, source)
    with running_server(tmp_path, source, 20.0, "--no-livereload") as port:
        status, _h, body = fetch(port, FIGURE)
        assert status == 200 and "livereload" not in body
        assert body.encode() == site_file(tmp_path / "out", FIGURE).read_bytes()
        seed = source / SEED
        seed.write_text(seed.read_text().replace(TITLE_LINE, "figtitle: Rebuilt without live reload"))
        wait_for(lambda: "Rebuilt without live reload" in fetch(port, FIGURE)[2])


def test_a_busy_port_moves_to_the_next_free_one():
    from site_gen.errors import SiteError
    from site_gen.serve import available_port

    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        assert available_port("127.0.0.1", port) > port
        with pytest.raises(SiteError, match=f"ports {port} to {port} on 127.0.0.1 are all in use"):
            available_port("127.0.0.1", port, tries=1)
    assert available_port("127.0.0.1", port) == port


@pytest.mark.parametrize("path", ["/../pyproject.toml", "/%2e%2e/pyproject.toml", "/figures/..%2f..%2fpyproject.toml",
                                  "//etc/passwd", "/%2fetc%2fpasswd", "/figures/%00.html"])
def test_no_request_path_reads_outside_the_site(server, path):
    port, _source, _out = server
    status, _h, body = fetch(port, path)
    assert status in (400, 404)
    assert "[build-system]" not in body and "root:" not in body


def test_edited_record_is_rebuilt_and_served(server):
    port, source, _out = server
    seed = source / SEED
    seed.write_text(seed.read_text().replace(TITLE_LINE, "figtitle: An edited title for the preview test"))
    wait_for(lambda: "An edited title for the preview test" in fetch(port, FIGURE)[2])


def test_broken_record_shows_its_problem_and_recovers(server):
    port, source, _out = server
    seed = source / SEED
    good = seed.read_text()
    seed.write_text(good.replace("figtitle:", "figtitle: [unclosed", 1))
    def home_with_problem():
        body = fetch(port, "/")[2]
        return body if "input problem(s)" in body else None

    body = wait_for(home_with_problem)
    assert f"{SEED}:" in body and "invalid YAML" in body
    banner = re.search(r"<aside[^>]*>.*?</aside>", body, re.S).group(0)  # a landmark holding an alert (ARIA
    assert 'aria-label="Input problems"' in banner and '<div role="alert">' in banner  # allows no alert role on it)
    seed.write_text(good)
    wait_for(lambda: "input problem(s)" not in fetch(port, "/")[2] and fetch(port, FIGURE)[0] == 200)


def test_livereload_handshake_then_reload_after_an_edit(server):
    """The browser side of the protocol: hello, info, then a reload message once a record changes."""
    import asyncio
    import json

    from tornado.websocket import websocket_connect

    port, source, _out = server

    async def talk():
        ws = await websocket_connect(f"ws://127.0.0.1:{port}/livereload")
        await ws.write_message(json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}))
        hello = json.loads(await asyncio.wait_for(ws.read_message(), 10))
        await ws.write_message(json.dumps({"command": "info", "url": f"http://127.0.0.1:{port}/", "plugins": {}}))
        await asyncio.sleep(0.5)
        seed = source / SEED
        seed.write_text(seed.read_text().replace(TITLE_LINE, "figtitle: Reloaded title"))
        reload = json.loads(await asyncio.wait_for(ws.read_message(), 20))
        ws.close()
        return hello, reload

    hello, reload = asyncio.run(talk())
    assert hello["command"] == "hello" and "http://livereload.com/protocols/official-7" in hello["protocols"]
    assert reload["command"] == "reload"
    assert "Reloaded title" in fetch(port, FIGURE)[2]  # the page was rebuilt before the reload was sent


def test_added_and_deleted_records_update_gene_pages(server):
    port, source, _out = server
    (source / "new.md").write_text(
        "---\nfigid: PMC42__new\nfigtitle: A figure added while serving\npmcid: PMC42\nfilename: f.jpg\n"
        "year: '2024'\norganisms: Homo sapiens\ngenes:\n- {word: STAT3, symbol: STAT3, entrez: '6774'}\n"
        "- {word: ZZZ1, symbol: ZZZ1, entrez: '987654'}\n---\n")
    wait_for(lambda: fetch(port, "/genes/987654.html")[0] == 200)
    assert "A figure added while serving" in fetch(port, "/genes/6774.html")[2]
    assert fetch(port, "/figures/PMC42__new.html")[0] == 200
    (source / "new.md").unlink()
    wait_for(lambda: fetch(port, "/genes/987654.html")[0] == 404)
    assert "A figure added while serving" not in fetch(port, "/genes/6774.html")[2]
    assert fetch(port, "/figures/PMC42__new.html")[0] == 404


def test_ctrl_c_stops_the_server_cleanly(tmp_path):
    import signal

    port = free_port()
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH, PYTHONFAULTHANDLER="1")  # SIGABRT: every thread's stack
    proc = subprocess.Popen([sys.executable, "-m", "site_gen", "serve", "--config", str(REPO / "tests" / "empty.toml"),
                             "--source", str(SEEDS), "--output", str(tmp_path / "out"), "--port", str(port),
                             "--templates", str(REPO / "templates"), "--static", str(REPO / "static")],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def up():
            try:
                return fetch(port, "/")[0] in (200, 302)  # (302: to the base URL's path)
            except OSError:
                return False
        wait_for(up)
        proc.send_signal(signal.SIGINT)
        try:
            status = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # where it is stuck, for the failure message
            proc.wait(timeout=10)
            pytest.fail("still running 10 s after Ctrl-C:\n" + proc.stdout.read().decode(errors="replace")[-6000:])
        assert status == 0
        assert b"stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_binds_loopback_only(server):
    port, _source, _out = server
    listening = set()
    for line in open("/proc/net/tcp").read().splitlines()[1:] + open("/proc/net/tcp6").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
            listening.add(local.rsplit(":", 1)[0])
    assert listening and listening <= {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1


def test_malformed_requests_are_refused_and_the_server_keeps_serving(server):
    port, _source, _out = server
    garbage = [b"\x00\xff\xfe garbage\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
               b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
               b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"b" * 200000 + b"\r\n\r\n",
               b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\nabc", b"GET /%ZZ%00 HTTP/1.1\r\nHost: x\r\n\r\n"]
    for raw in garbage:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            try:
                sock.sendall(raw)
                sock.shutdown(socket.SHUT_WR)
                reply = sock.recv(200)
            except OSError:
                reply = b""
            assert not reply.startswith(b"HTTP/1.1 200"), raw[:30]
        assert fetch(port, "/")[0] == 200  # still up


def test_500_concurrent_requests_and_sustained_load_while_rebuilding(server):
    from tests.load import burst, run, sustained

    port, source, _out = server
    paths = ["/", FIGURE, "/genes/", "/organisms/homo_sapiens.html", "/figures/PMC7988944__F6", "/nope.html",
             "/search.json", "/sitemap.xml"]
    seed = source / SEED
    seed.write_text(seed.read_text().replace(TITLE_LINE, "figtitle: Rebuilt during the load"))  # a rebuild runs
    statuses = run(burst(port, [paths[i % len(paths)] for i in range(500)]))
    assert [s for s in statuses if s not in (200, 301, 404)] == []
    done, failures = run(sustained(port, paths, seconds=5))
    assert failures == [] and done > 100


# --- the preview's incremental rebuild writes exactly what a full build of the same input writes ---

PAGE_SIZE = 7  # small pages, so that every list is paginated and an edit shifts later pages


@pytest.fixture
def preview(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    source = copy_full_source(tmp_path / "src")
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    settings = make_settings(source, tmp_path / "out", templates=str(templates), search_index="pagefind",
                             page_size=PAGE_SIZE)
    live = Preview(settings, REPO, jobs=1)
    live.rebuild()
    assert live.error is None
    return live


def assert_same_as_full_build(live: Preview, tmp_path: Path):
    settings = make_settings(live.source, tmp_path / "fresh", templates=str(live.templates), search_index="pagefind",
                             page_size=PAGE_SIZE)
    full = build(settings, REPO, jobs=1, force=True)
    got, want = snapshot(live.output), snapshot(tmp_path / "fresh")
    # Pagefind numbers pages in the order the folder lists them, which differs between a folder written
    # at once and one edited in place; its per-page fragments (named by their content) must match.
    fragments = {k for k in want if k.startswith("pagefind/") and "/fragment/" in k}
    assert fragments and fragments == {k for k in got if k.startswith("pagefind/") and "/fragment/" in k}
    got = {k: v for k, v in got.items() if not k.startswith("pagefind/")}
    want = {k: v for k, v in want.items() if not k.startswith("pagefind/")}
    assert sorted(got) == sorted(want)
    assert [k for k in want if got[k] != want[k]] == []
    assert sorted(map(str, live.problems)) == sorted(map(str, full.problems))


def test_edit_add_delete_records_and_tables(preview, tmp_path):
    source = preview.source
    seed = source / "seeds/003_00dc568588f0f9ad.txt"
    seed.write_text(seed.read_text().replace("figtitle: Advances", "figtitle: Edited advances"))
    preview.on_change()
    assert preview.error is None
    assert_same_as_full_build(preview, tmp_path)

    # a new figure that mentions a gene nobody mentioned, and one more figure for a known gene
    write_files(source, {"new.md": minimal_record(
        "PMC77__new", genes="\n- {word: NEWG, symbol: NEWG, entrez: '999999'}\n- {word: STAT3, symbol: STAT3, entrez: '6774'}")})
    preview.on_change()
    assert (preview.output / "genes").exists() and "999999" in preview.site.genes
    assert_same_as_full_build(preview, tmp_path)

    # a sidecar table edited: genes of that figure change
    table = source / "_data/PMC10030845__fimmu-14-1150879-g001-genes.tsv"
    lines = table.read_text().splitlines()
    table.write_text("\n".join(lines[:1] + lines[3:]) + "\n")
    preview.on_change()
    assert_same_as_full_build(preview, tmp_path)

    # the new record deleted: its gene goes away with it
    (source / "new.md").unlink()
    preview.on_change()
    assert "999999" not in preview.site.genes
    assert_same_as_full_build(preview, tmp_path)


def test_an_edit_that_renames_an_entity_rerenders_the_pages_of_every_figure_that_mentions_it(preview, tmp_path):
    """Figure pages name the entities they mention in their JSON-LD, by the name most figures use."""
    gene = "\n- {{word: {0}, symbol: {0}, entrez: '999998'}}".format
    write_files(preview.source, {"one.md": minimal_record("PMC71__one", genes=gene("ZZZ1")),
                                 "two.md": minimal_record("PMC72__two", genes=gene("ZZZ1"))})
    preview.on_change()
    page = preview.output / PLAIN.out_path("/figures/PMC72__two.html")
    assert b'"name":"ZZZ1"' in page.read_bytes()
    write_files(preview.source, {"one.md": minimal_record("PMC71__one", genes=gene("AAA1"))})  # a tie: A-Z first
    preview.on_change()
    assert preview.site.genes["999998"].name == "AAA1" and b'"name":"AAA1"' in page.read_bytes()
    assert_same_as_full_build(preview, tmp_path)


def test_template_edit_rerenders_only_its_pages(preview, tmp_path):
    before = snapshot(preview.output)
    chemical = preview.templates / "chemical.html"
    chemical.write_text(chemical.read_text().replace("{% block header %}", "{% block header %}<p>Edited chemical</p>"))
    preview.on_change()
    after = snapshot(preview.output)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed and all(k.startswith("chemicals/C") or k.startswith("chemicals/D") for k in changed)  # no overview
    assert_same_as_full_build(preview, tmp_path)


def test_broken_record_then_fixed(preview, tmp_path):
    seed = preview.source / "seeds/003_00dc568588f0f9ad.txt"
    good = seed.read_text()
    seed.write_text(good.replace("figtitle:", "figtitle: [unclosed", 1))
    preview.on_change()
    assert any("invalid YAML" in str(p) for p in preview.problems)
    assert_same_as_full_build(preview, tmp_path)
    seed.write_text(good)
    preview.on_change()
    assert not any("invalid YAML" in str(p) for p in preview.problems)
    assert_same_as_full_build(preview, tmp_path)


def test_template_error_is_shown_then_recovers(preview, tmp_path):
    figure = preview.templates / "figure.html"
    good = figure.read_text()
    figure.write_text(good.replace("{% block main %}", "{% block main %}{{ oops( }}", 1))
    seed = preview.source / "seeds/003_00dc568588f0f9ad.txt"
    seed.write_text(seed.read_text().replace("figtitle: Advances", "figtitle: Edited advances"))
    preview.on_change()
    assert preview.error and "figure.html" in preview.error and "template error" in preview.error
    figure.write_text(good)
    preview.on_change()
    assert preview.error is None
    assert_same_as_full_build(preview, tmp_path)


def request(live: Preview, path: str) -> tuple[str, str]:
    """(status, body) of one request to the preview's WSGI app."""
    got = {}
    body = b"".join(live({"PATH_INFO": path}, lambda status, headers: got.update(status=status)))
    return got["status"], body.decode("utf-8")


def test_template_edit_renders_the_pages_shown_before_the_reload_and_the_rest_after(preview, tmp_path):
    genes = [e.url for e in preview.site.genes.values()]
    shown, asked, untouched = genes[3], genes[1], genes[2]  # (genes[0] is the probe of gene.html)
    assert request(preview, shown)[0] == "200 OK"
    gene = preview.templates / "gene.html"
    gene.write_text(gene.read_text().replace("{% block header %}", "{% block header %}<p>Edited gene</p>", 1))
    assert preview.on_change(defer=True)  # the server sends the reload here
    on_disk = lambda url: (preview.output / PLAIN.out_path(url)).read_text(encoding="utf-8")  # noqa: E731
    assert "Edited gene" in on_disk(shown)
    assert "Edited gene" not in on_disk(asked)
    # the other pages of the template are listed after the reload, not walked for before it
    assert preview.unlisted == {"gene.html"} and not preview.pending
    # the page shown, asked for again at the reload, is current: served without waiting for the listing
    listing = threading.Thread(target=lambda: preview.lock.acquire() and (time.sleep(3), preview.lock.release()))
    listing.start()
    time.sleep(0.2)  # (the lock taken, as the background's listing takes it)
    begin = time.monotonic()
    status, body = request(preview, shown)
    waited = time.monotonic() - begin
    listing.join()
    assert status == "200 OK" and "Edited gene" in body and waited < 2.5
    assert preview.unlisted == {"gene.html"}
    status, body = request(preview, asked)  # asked for before the background reaches it: made for the request
    assert status == "200 OK" and "Edited gene" in body and "Edited gene" in on_disk(asked)
    assert "Edited gene" not in on_disk(untouched)
    preview.flush_data()  # the background's turn
    assert not preview.pending and "Edited gene" in on_disk(untouched)
    assert_same_as_full_build(preview, tmp_path)


def test_a_second_template_edit_before_the_pages_are_listed_renders_them_again(preview, tmp_path):
    """A page rendered after a first template edit (its request lists the pages) is re-rendered for a
    second edit that came before the background rendered the rest."""
    asked = [e.url for e in preview.site.genes.values()][2]
    gene, base = preview.templates / "gene.html", preview.templates / "base.html"
    gene.write_text(gene.read_text().replace("{% block header %}", "{% block header %}<p>Edited gene</p>", 1))
    assert preview.on_change(defer=True)
    assert "Edited gene" in request(preview, asked)[1] and not preview.unlisted
    base.write_text(base.read_text().replace("</body>", "<p>Edited base</p></body>", 1))
    assert preview.on_change(defer=True)
    assert preview.unlisted == {"base.html"}
    body = request(preview, asked)[1]
    assert "Edited gene" in body and "Edited base" in body
    preview.flush_data()
    assert not preview.pending and not preview.unlisted
    assert_same_as_full_build(preview, tmp_path)


def test_a_template_error_found_after_the_reload_is_shown(preview):
    gene = preview.templates / "gene.html"
    last = list(preview.site.genes)[-1]
    gene.write_text(gene.read_text().replace(
        "{% block header %}", "{% block header %}{% if entity.key == '" + last + "' %}{{ entity.nope() }}{% endif %}", 1))
    assert preview.on_change(defer=True)
    assert preview.error is None  # the page rendered before the reload is fine
    preview.flush_data()
    assert preview.error and "template error" in preview.error
    assert request(preview, "/")[0] == "500 Build Failed"


def test_the_search_index_is_made_outside_the_lock_and_dropped_if_an_edit_came(preview, tmp_path, monkeypatch):
    """Pagefind takes seconds a bundle: an edit meanwhile goes through at once, the
    site keeps its old index until a new one is complete, and an index an edit overtook is not used."""

    real, started, release, bundles = serve.run_pagefind, threading.Event(), threading.Event(), []

    def slow_pagefind(*args, **kwargs):
        bundles.append(kwargs.get("into"))
        started.set()
        assert release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(serve, "run_pagefind", slow_pagefind)
    seed = preview.source / "seeds/003_00dc568588f0f9ad.txt"
    text = seed.read_text()
    seed.write_text(text.replace("figtitle: Advances", "figtitle: First edit of"))
    assert preview.on_change(defer=True)
    before = snapshot(preview.output / "pagefind")
    flushing = threading.Thread(target=preview.flush_data)
    flushing.start()
    try:
        assert started.wait(60)
        seed.write_text(text.replace("figtitle: Advances", "figtitle: Second edit of"))
        editing = threading.Thread(target=preview.on_change, kwargs={"defer": True})
        editing.start()
        editing.join(20)
        assert not editing.is_alive()  # the lock was free while Pagefind ran
        figid = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("figid:"))
        assert "Second edit of" in (preview.output / PLAIN.out_path(f"/figures/{figid}.html")).read_text()
        assert snapshot(preview.output / "pagefind") == before  # the old index is served meanwhile
    finally:
        release.set()
        flushing.join(120)
    assert snapshot(preview.output / "pagefind") == before  # made before the second edit: dropped
    assert bundles and not bundles[0].exists()
    monkeypatch.setattr(serve, "run_pagefind", real)
    preview.flush_data()
    assert_same_as_full_build(preview, tmp_path)


def _assert_search_index_as_a_full_builds(live: Preview, tmp_path: Path) -> None:
    """The preview's search bundles index the same pages as a full build's of its source."""
    full = make_settings(live.source, tmp_path / "fresh", search_index="pagefind", page_size=PAGE_SIZE)
    build(full, REPO, jobs=1, force=True)
    got, want = snapshot(live.output / "pagefind"), snapshot(tmp_path / "fresh" / "pagefind")
    assert sorted(k for k in got if "/fragment/" in k) == sorted(k for k in want if "/fragment/" in k)
    assert got["indexes.json"] == want["indexes.json"]


def test_the_preview_makes_again_only_the_search_bundle_of_an_edited_figure(tmp_path, monkeypatch):
    """Each bundle made again replaces its old self; the others stay the very same files, and all
    index what a full build's do."""
    from site_gen import search

    monkeypatch.setattr(search, "GROUP_FIGURES", 8)
    monkeypatch.chdir(tmp_path)
    source = copy_full_source(tmp_path / "src")
    settings = make_settings(source, tmp_path / "out", search_index="pagefind", page_size=PAGE_SIZE)
    live = Preview(settings, REPO, jobs=1)
    live.rebuild()
    live.flush_data()
    names = search.pagefind_groups(live.site)
    assert len(names) >= 3
    seed = source / "seeds/003_00dc568588f0f9ad.txt"
    figid = next(line.split(":", 1)[1].strip() for line in seed.read_text().splitlines() if line.startswith("figid:"))
    dirty = search.group_of(figid, names)

    def inodes(name):
        folder = live.output / "pagefind" / name
        return {p.relative_to(folder): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}

    before = {name: inodes(name) for name in names}
    seed.write_text(seed.read_text().replace("figtitle: Advances", "figtitle: Zyxwvut advances"))
    assert live.on_change()
    for name in names:
        assert (inodes(name) == before[name]) == (name != dirty), name
    import gzip
    fragments = (live.output / "pagefind" / dirty / "fragment").iterdir()
    assert any(b"Zyxwvut" in gzip.decompress(p.read_bytes()) for p in fragments)
    assert not search.UNUSED_FILES[0] in {p.name for p in (live.output / "pagefind" / dirty).iterdir()}
    _assert_search_index_as_a_full_builds(live, tmp_path)


def test_the_preview_remakes_search_bundles_one_at_a_time_and_lets_go_of_what_it_read(tmp_path, monkeypatch):
    """Two records edited in two bundles: the preview (two jobs) runs one Pagefind process at a time
    beside the model it keeps, and the figures whose documents it wrote hold no more of the store's
    heavy fields than before (they are read again when a page needs them)."""
    from site_gen import search
    from site_gen.model import holds_heavy

    monkeypatch.setattr(search, "GROUP_FIGURES", 8)
    monkeypatch.chdir(tmp_path)
    source = copy_full_source(tmp_path / "src")
    settings = make_settings(source, tmp_path / "out", search_index="pagefind", page_size=PAGE_SIZE)
    build(settings, REPO, jobs=1)
    live = Preview(settings, REPO, jobs=2)
    live.rebuild()  # up to date: the model is read from the store
    names = search.pagefind_groups(live.site)
    figures = sorted(live.site.figures.values(), key=lambda f: f.figid)
    first = figures[0]
    second = next(f for f in figures if search.group_of(f.figid, names) != search.group_of(first.figid, names))
    loaded = {f.figid for f in live.site.figures.values() if holds_heavy(f)}
    assert len(loaded) < len(figures) // 2  # (the model read holds the light fields only)
    running, most, real = [0], [0], subprocess.run

    def pagefind(cmd, *args, **kwargs):
        if "pagefind" not in cmd:
            return real(cmd, *args, **kwargs)
        running[0] += 1
        most[0] = max(most[0], running[0])
        try:
            time.sleep(0.3)  # (long enough for a second one to start beside it)
            return real(cmd, *args, **kwargs)
        finally:
            running[0] -= 1

    monkeypatch.setattr(search.subprocess, "run", pagefind)
    for fig in (first, second):
        record = Path(fig.src_path)
        text = record.read_text()
        record.write_text(text.replace("figtitle: ", "figtitle: Zyxwvut ", 1) if "figtitle: " in text
                          else text.replace("title: ", "title: Zyxwvut ", 1))
    assert live.on_change()
    assert live.error is None and not live.engine.unindexed  # both bundles made again
    assert most[0] == 1
    now = {f.figid for f in live.site.figures.values() if holds_heavy(f)}
    assert now - loaded <= {first.figid, second.figid}  # (the edited figures: read from their files)
    monkeypatch.setattr(search.subprocess, "run", real)
    _assert_search_index_as_a_full_builds(live, tmp_path)


def test_a_page_that_cannot_be_written_when_asked_for_shows_why(preview, monkeypatch):
    """A page left for later by a template edit, then asked for, that cannot be written (a full disk):
    the browser gets the reason on the error page instead of a failed request, and the server goes on."""
    asked = [e.url for e in preview.site.genes.values()][1]
    gene = preview.templates / "gene.html"
    good = gene.read_text()
    gene.write_text(good.replace("{% block header %}", "{% block header %}<p>Edited gene</p>", 1))
    assert preview.on_change(defer=True)
    assert "Edited gene" not in (preview.output / PLAIN.out_path(asked)).read_text()

    def disk_full(*_args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(serve, "_replace", disk_full)
    status, body = request(preview, asked)
    assert status == "500 Build Failed" and "No space left on device" in body
    monkeypatch.undo()
    gene.write_text(good)
    preview.on_change()  # the next change builds again
    assert preview.error is None and request(preview, asked)[0] == "200 OK"


def test_the_preview_reads_its_settings_file_again_and_only_the_one_it_was_given(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    source = copy_full_source(tmp_path / "src")
    config = tmp_path / "site.toml"
    table = (f'[tool.site_gen]\nsource = "src"\noutput = "out"\ntemplates = "{REPO / "templates"}"\n'
             f'static = "{REPO / "static"}"\nsearch_index = "none"\n')
    config.write_text(table + 'title = "First title"\n')
    (tmp_path / "pyproject.toml").write_text('[tool.site_gen]\ntitle = "Not this one"\n')
    settings, root = load_settings(config, {})
    live = Preview(settings, root, jobs=1, config=config, overrides={})
    live.rebuild()
    home = tmp_path / "out" / "index.html"
    assert "<title>First title</title>" in home.read_text()

    (tmp_path / "pyproject.toml").write_text('[tool.site_gen]\ntitle = "Still not this one"\n')
    assert not live.on_change()  # another settings file than --config's: nothing to do

    config.write_text(table + 'title = "Second title"\n')
    assert live.on_change() and live.error is None
    assert "<title>Second title</title>" in home.read_text()

    config.write_text(table + 'title = "Third"\npage_size = "many"\n')  # bad settings: said, site kept
    live.on_change()
    assert live.error and "page_size" in live.error and "<title>Second title</title>" in home.read_text()
    (source / "seeds" / "new.md").write_text(minimal_record("PMC5__new"))  # still said, whatever changes
    live.on_change()
    assert live.error and "page_size" in live.error

    config.write_text(table + 'title = "Third"\npage_size = 5\n')
    live.on_change()
    assert live.error is None and "<title>Third</title>" in home.read_text()
    assert live.settings.page_size == 5 and (tmp_path / "out" / "genes" / "page-2.html").exists()


def test_a_record_edit_prints_its_problems_and_one_short_line(preview, caplog):
    seed = preview.source / "seeds/003_00dc568588f0f9ad.txt"
    with caplog.at_level("INFO", logger="site_gen"):
        seed.write_text(seed.read_text().replace("year: '2020'", "year: 'soon'", 1))
        preview.on_change()
    problems = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("003_00dc568588f0f9ad.txt" in p and "year" in p for p in problems), problems
    assert all(len(r.getMessage()) < 300 for r in caplog.records if r.levelname == "INFO")


def test_an_edited_site_page_alone_is_rendered_again_and_a_new_one_builds_the_menus(preview, tmp_path):
    about = preview.source / "_pages" / "about.md"
    before = snapshot(preview.output)
    about.write_text(about.read_text().replace("**Pathway Figure OCR**", "**Pathway Figure OCR**, edited,"))
    preview.on_change()
    after = snapshot(preview.output)
    assert {k for k in after if after[k] != before.get(k)} == {"about.html"}
    assert_same_as_full_build(preview, tmp_path)
    (preview.source / "_pages" / "news.md").write_text("---\ntitle: News\n---\nNothing yet.\n")
    preview.on_change()  # a page more is in the menus of every page: everything again
    assert 'href="/news.html"' in (preview.output / "index.html").read_text()
    assert_same_as_full_build(preview, tmp_path)


def test_the_preview_and_the_build_are_one_engine(tmp_path, monkeypatch):
    """Started on a built site, the preview serves it as it is and reads its model; a build after a
    preview edit updates the output in place from what the preview stored: no record read again, no
    page rendered but the fixed ones, and the output a cold build's."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    source = copy_full_source(tmp_path / "src")
    settings = make_settings(source, tmp_path / "out", page_size=PAGE_SIZE)
    first = build(settings, REPO, jobs=1)
    live = Preview(settings, REPO, jobs=1)
    with live.lock:
        live.full_build(force=False)
    assert live.site is None and live.error is None  # nothing built: the output is served as it is
    live.load()
    assert live.site is not None and live.site.figures.keys() == first.site.figures.keys()
    seed = source / "seeds/003_00dc568588f0f9ad.txt"
    seed.write_text(seed.read_text().replace("figtitle: Advances", "figtitle: Edited advances"))
    assert live.on_change() and live.error is None
    assert "Edited advances" in (live.output / FIGURE.lstrip("/")).read_text()
    after = build(settings, REPO, jobs=1)
    assert not after.up_to_date and after.parsed == 0
    assert 0 < after.rendered <= len(live.site.page_groups["fixed"])
    build(make_settings(source, tmp_path / "cold", page_size=PAGE_SIZE), REPO, jobs=1, force=True, use_cache=False)
    assert snapshot(tmp_path / "out") == snapshot(tmp_path / "cold")


def test_a_build_after_a_preview_stopped_before_its_search_index_indexes_the_edit(preview, tmp_path, monkeypatch):
    monkeypatch.setattr(preview, "reindex", lambda: None)  # stopped before the index was made again
    seed = preview.source / "seeds/003_00dc568588f0f9ad.txt"
    seed.write_text(seed.read_text().replace("figtitle: Advances", "figtitle: Reindexed advances"))
    assert preview.on_change() and preview.error is None
    after = build(preview.settings, REPO, jobs=1)
    assert after.parsed == 0 and after.rendered <= len(preview.site.page_groups["fixed"])
    assert_same_as_full_build(preview, tmp_path)  # the edited figure's search fragment included


def test_a_model_store_saved_by_another_build_makes_the_preview_build_again(preview, tmp_path, monkeypatch):
    """The kept model reads the tally rows of the entities an edit touches from the store: once another
    build saved its index in full, those rows are not the model's, and the edit builds all again."""
    preview = Preview(preview.settings, REPO, jobs=1)  # started on the built site: its model read from the store
    preview.rebuild()
    model = preview.site
    assert preview.error is None and all(tally.rows is not None for tally in model.tallies.values())
    seed = preview.source / "seeds/003_00dc568588f0f9ad.txt"
    seed.write_text(seed.read_text().replace("figtitle: Advances", "figtitle: Quickly advances"))
    monkeypatch.setattr(build_module, "PENDING_LIMIT", 0)  # (any edit: the index saved in full)
    build(preview.settings, REPO, jobs=1)
    assert preview.on_change() and preview.error is None
    assert preview.site is not model  # built again from the inputs
    assert "Quickly advances" in site_file(preview.output, FIGURE).read_text()
    assert_same_as_full_build(preview, tmp_path)


def test_a_record_edit_renders_its_figure_and_the_pages_shown_before_the_reload_and_the_rest_after(preview, tmp_path):
    """Hugo's fast render for a record edit: its figure page and the pages a browser shows are current
    at the reload; every other page it changes is current when requested, and all of them after."""
    seed = preview.source / "seeds/003_00dc568588f0f9ad.txt"
    figid = FIGURE.rsplit("/", 1)[1].removesuffix(".html")
    genes = [e.url for e in preview.site.genes.values() if figid in e.figids]
    shown, asked = genes[0], genes[1]
    assert request(preview, shown)[0] == "200 OK"
    seed.write_text(seed.read_text().replace("figtitle: Advances", "figtitle: Quickly advances"))
    assert preview.on_change(defer=True) and preview.error is None
    on_disk = {url: site_file(preview.output, url).read_text() for url in (FIGURE, shown, asked)}
    assert "Quickly advances" in on_disk[FIGURE] and "Quickly advances" in on_disk[shown]
    assert "Quickly advances" not in on_disk[asked]  # after the reload ...
    assert "Quickly advances" in request(preview, asked)[1]  # ... or when asked for
    preview.flush_data()
    assert not preview.pending
    assert_same_as_full_build(preview, tmp_path)


def test_an_output_up_to_date_is_served_through_its_rewrites_before_its_model_is_read(tmp_path, monkeypatch):
    from bench.corpus import write_corpus

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path / "src", 60, seed=5)
    settings = make_settings(tmp_path / "src", tmp_path / "out", folder_limit=40)
    site = build(settings, REPO, jobs=1).site
    figid = next(iter(site.figures))
    assert site.out_path(f"/figures/{figid}.html") != f"figures/{figid}.html"  # (its folder was split)
    live = Preview(settings, REPO, jobs=1)
    with live.lock:
        live.full_build(force=False)  # up to date: the model is not read yet
    assert live.site is None
    status, body = request(live, f"/figures/{figid}.html")
    assert status.startswith("200") and f'<link rel="canonical" href="' in body and f"/figures/{figid}.html" in body


def _started_on_a_built_site(tmp_path, monkeypatch, snapshots: bool) -> tuple[Preview, Path]:
    """A preview started on a built site (served as it is, its model not yet read), and a record
    saved then: (the preview, that record)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    source = copy_full_source(tmp_path / "src")
    settings = make_settings(source, tmp_path / "out", search_index="pagefind", page_size=PAGE_SIZE)
    build(settings, REPO, jobs=1)
    live = Preview(settings, REPO, jobs=1, snapshots=snapshots)
    with live.lock:
        live.full_build(force=False)  # up to date: served as it is
    assert live.site is None
    seed = (source / "seeds/003_00dc568588f0f9ad.txt").absolute()  # saved while the model is being read
    seed.write_text(seed.read_text().replace("figtitle: Advances", "figtitle: Edited advances"))
    return live, seed


def test_a_record_edited_while_the_preview_reads_its_model_updates_the_output_in_place(tmp_path, monkeypatch):
    live, seed = _started_on_a_built_site(tmp_path, monkeypatch, snapshots=True)
    writes = []  # a build's second half (every catalogue-wide file, the search index) is not run before the reload
    monkeypatch.setattr(Engine, "_write", lambda self, *args, **kwargs: writes.append(args))
    live.load()
    assert writes == [] and live.error is None and live.engine.shape is not None
    figid = next(f.figid for f in live.site.figures.values() if f.src_path.endswith("003_00dc568588f0f9ad.txt"))
    assert "Edited advances" in (live.output / live.site.out_path(f"/figures/{figid}.html")).read_text()
    assert not live.engine.shape_saved and live.pending_data and live.dirty.is_set()  # the rest after it
    live.flush_data()
    assert live.engine.shape_saved and not live.engine.unindexed  # catalogue-wide files and search index made
    assert "Edited advances" in (live.output / "search.json").read_text()
    full_builds = []
    monkeypatch.setattr(Preview, "full_build", lambda self, force=True: full_builds.append(force))
    seed.write_text(seed.read_text().replace("Edited advances", "Edited again advances"))
    live.on_change()  # the next edit is applied to the model, not a reason to build everything
    assert full_builds == [] and live.error is None
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert_same_as_full_build(live, tmp_path)


def test_the_watchers_echo_of_an_edit_the_model_read_applied_renders_nothing(tmp_path, monkeypatch):
    live, seed = _started_on_a_built_site(tmp_path, monkeypatch, snapshots=False)
    live.load()  # the edit is applied as the model is read
    renders, real = [], Engine._render_edit
    monkeypatch.setattr(Engine, "_render_edit", lambda self, *args: renders.append(args) or real(self, *args))
    assert live.on_change([seed], defer=True)  # then the watcher reports that save
    assert renders == [] and live.error is None
    assert live.engine._deferred is not None and live.engine._deferred.edit is not None  # kept whole
    other = live.source / "seeds/002_a94d5953932083ca.txt"
    other.write_text(other.read_text().replace("figtitle: ", "figtitle: Other ", 1))
    assert live.on_change([other.absolute()], defer=True)  # a real edit is still applied
    assert len(renders) == 1
    live.flush_data()
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert_same_as_full_build(live, tmp_path)
