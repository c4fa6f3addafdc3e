"""How much index data a search downloads, on a cold cache, at catalogue scale.

    python -m bench.search_bench --figures 100000 [--jobs 2]

Builds the generated corpus (with its Pagefind bundles) if needed, serves it as `site-gen serve` does,
and runs queries in Debian's Chromium (Playwright) with the cache disabled: a gene symbol, a rare
gene, title words, an organism filter, a figure ID. For each it prints the bytes fetched from
/pagefind/ and /search/ and the number of results. The target is 500 KB per query.
"""
from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, make_server

from bench.build_bench import REPO, timed_build
from bench.corpus import gene_symbol, write_corpus
from site_gen.serve import Preview, read_redirect_rules
from site_gen.settings import Settings
from tests.test_serve import free_port


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, default=100000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out")
    parser.add_argument("--reindex", action="store_true", help="remake only the Pagefind bundles of a built site")
    parser.add_argument("--refresh-names", action="store_true",
                        help="remake only the name lookup and the search script of a built site")
    args = parser.parse_args(argv)
    corpus, site = args.work / f"corpus-{args.figures}", args.work / f"site-{args.figures}"
    if not (corpus / ".complete").exists():
        write_corpus(corpus, args.figures)
        (corpus / ".complete").write_text("")
    if args.reindex and (site / "pagefind").exists():
        import shutil

        from site_gen.build import gather
        from site_gen.search import run_pagefind
        shutil.rmtree(site / "pagefind")
        start = time.perf_counter()
        model = gather(Settings(source=str(corpus), output=str(site)), REPO, args.jobs).site
        run_pagefind(site, model, args.jobs)
        print(f"pagefind bundles remade in {time.perf_counter() - start:.0f} s")
    if args.refresh_names and (site / "search").exists():
        import shutil

        from site_gen.build import gather
        from site_gen.search import render_name_index
        start = time.perf_counter()
        model = gather(Settings(source=str(corpus), output=str(site)), REPO, args.jobs).site
        shutil.rmtree(site / "search")
        for out_path, text in render_name_index(model).items():
            (site / out_path).parent.mkdir(parents=True, exist_ok=True)
            (site / out_path).write_text(text, encoding="utf-8")
        for script in (site / "assets").glob("search.*.js"):
            shutil.copyfile(REPO / "static" / "search.js", script)
        print(f"name lookup and search script remade in {time.perf_counter() - start:.0f} s")
    if not (site / "pagefind" / "indexes.json").exists():
        wall, peak, detail = timed_build(corpus, site, args.jobs)
        print(f"built in {wall:.0f} s, peak {peak / 2**20:.0f} MB\n    {detail}")
    bundles = (site / "pagefind" / "indexes.json").read_text().strip()
    fullest = max((len(list(p.iterdir())), p) for p in (site / "pagefind").rglob("*") if p.is_dir())
    print(f"bundles {bundles}; fullest folder: {fullest[0]} entries ({fullest[1].relative_to(site)})")
    figid = sorted((corpus / "figures").iterdir())[args.figures // 3].stem
    queries = {"common gene": {"q": gene_symbol(0)}, "rare gene": {"q": gene_symbol(120_000)},
               "title words": {"q": "insulin signaling feedback"}, "figure ID": {"q": figid},
               "gene + organism filter": {"q": gene_symbol(3), "organism": "Mus musculus"}}
    # the built site, served as `site-gen serve` serves it (its `_redirects` rules), without building it again
    port = free_port()
    preview = Preview(Settings(source=str(corpus), output=str(site)), REPO)
    preview.rules = read_redirect_rules(site)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", port, preview, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            for label, params in queries.items():
                context = browser.new_context()
                page = context.new_page()
                sizes = []
                def size_of(response, sizes=sizes):
                    if ("/pagefind/" in response.url or "/search/" in response.url) and response.ok:
                        try:
                            sizes.append((response.url, len(response.body())))
                        except Exception:  # noqa: BLE001 - a body the browser already dropped: use its header
                            sizes.append((response.url, int(response.headers.get("content-length", 0))))
                page.on("response", size_of)
                context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                    f"http://127.0.0.1:{port}") else route.fulfill(status=204, body=b""))
                start = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/search.html?{urlencode(params)}")
                page.wait_for_selector("#results[data-state=done]", timeout=120_000)
                took = time.perf_counter() - start
                summary = page.query_selector("#results .summary")
                results = summary.text_content() if summary else (
                    f"{len(page.query_selector_all('#results .names a'))} page(s) named")
                index_bytes = sum(n for url, n in sizes if "wasm" not in url and not url.endswith(".js"))
                code_bytes = sum(n for url, n in sizes if "wasm" in url or url.endswith(".js"))
                verdict = "within" if index_bytes <= 500_000 else "OVER"
                print(f"{label:<24} {index_bytes / 1000:7.0f} KB index data ({verdict} 500 KB), "
                      f"{code_bytes / 1000:5.0f} KB code, {len(sizes)} files, {took:5.1f} s: {results}")
                context.close()
            browser.close()
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
