"""The preview server, started for real on a free loopback port, fetched over HTTP."""
from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

from tests.conftest import EPOCH, REPO, SEEDS
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
