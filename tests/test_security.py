"""What the deployed pages must never contain, and the headers that protect them."""
from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser

from site_gen import hosts
from tests.conftest import minimal_record, run_build, write_files
from tests.sitecheck import jsonld_blocks, site_file


def csp() -> dict[str, list[str]]:
    """The policy the site's `_headers` sets on every page (tests/test_netlify.py reads it with Netlify's parser)."""
    policy = {}
    for directive in hosts.CONTENT_SECURITY_POLICY.split(";"):
        name, *sources = directive.split()
        policy[name] = sources
    return policy


class _Audit(HTMLParser):
    """Everything in a page that a strict policy would block, or that could run script."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.in_script: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"event handler {name}")
            if name == "style":
                self.problems.append("inline style attribute")
            if name in ("href", "src", "action", "formaction", "poster") and value:
                scheme = re.match(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):", value)
                if scheme and scheme.group(1).lower() not in ("http", "https", "mailto"):
                    self.problems.append(f"{name}={value[:40]!r}")
        if tag == "style":
            self.problems.append("inline <style>")
        if tag == "script":
            if attrs.get("src"):
                if not attrs["src"].startswith("/") or attrs["src"].startswith("//"):
                    self.problems.append(f"script from elsewhere: {attrs['src']}")
            elif attrs.get("type") != "application/ld+json":
                self.problems.append("inline script")
        if tag == "img" and attrs.get("src") and not attrs["src"].startswith(("https://", "/")):
            self.problems.append(f"image not over https: {attrs['src']}")


def audit(html: str) -> list[str]:
    parser = _Audit()
    parser.feed(html)
    return parser.problems


def test_policy_allows_no_inline_or_foreign_script():
    policy = csp()
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"]  # the search's WebAssembly, no inline script
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in sum(policy.values(), [])


def test_every_page_satisfies_the_policy(full_site):
    _src, site, _ = full_site
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 100
    for page in pages:
        assert audit(page.read_text(encoding="utf-8")) == [], page.relative_to(site)


HOSTILE = '</script><script>alert(1)</script><!-- "\' <img src=x onerror=alert(2)> javascript:alert(3)'


def test_markup_in_every_field_reaches_no_page_unescaped(tmp_path):
    """Hostile text in every text field of both generations, in HTML, attributes, JSON-LD and JSON."""
    evil = json.dumps(HOSTILE)
    fields = dict(figtitle=evil, caption=evil, papertitle=evil, reftext=evil, journal_title=evil,
                  publisher_name=evil, keywords=evil, number=evil, figtype=evil, organisms_ner=f"[{evil}]")
    genes = (f"\n- {{word: {evil}, symbol: {evil}, entrez: '7157'}}\n- {{word: X, symbol: {evil}, entrez: '7158'}}")
    chemicals = f"\n- {{word: {evil}, source: MESH, identifier: D000001}}"
    diseases = f"\n- {{word: {evil}, source: MESH, identifier: D000002}}"
    source = write_files(tmp_path / "src", {
        "a.md": minimal_record("PMC1__evil", **fields),
        "b.txt": minimal_record("PMC2__evil", genes=genes, chemicals=chemicals, diseases=diseases, figtitle=evil) +
                 "\n" + HOSTILE + "\n[x](javascript:alert(4)) <script>alert(5)</script>\n",
        "_data/PMC1__evil-genes.tsv": "word\tmatch\tncbigene_symbol\tncbigene_id\n" + f"{HOSTILE}\t{HOSTILE}\t{HOSTILE}\t7159\n",
    })
    run_build(source, tmp_path / "out")
    out = tmp_path / "out"
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert audit(html) == [], page.relative_to(out)
        markup = re.sub(r'<script type="application/ld\+json">.*?</script>', "", html, flags=re.S)
        for raw in ("<script>alert", "</script><script>", "<img src=x", '<!-- "'):
            # each piece of the hostile text, on this page, only ever escaped (or as JSON-LD data)
            assert raw not in markup, (page.relative_to(out), raw)
        for block in jsonld_blocks(html):  # parses, and the hostile text is data inside it
            assert isinstance(block, dict)
        for raw in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, flags=re.S):
            assert "</" not in raw and "<!--" not in raw
    page = site_file(out, "/figures/PMC1__evil.html").read_text(encoding="utf-8")
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in site_file(out, "/figures/PMC2__evil.html").read_text(encoding="utf-8")
    for data in [out / "search.json", *out.rglob("*.json")]:
        text = data.read_text(encoding="utf-8")
        json.loads(text)
        if data.name == "search.json":
            assert "</script" not in text and "<" not in text  # safe even if inlined into a page
    for line in gzip.decompress((out / "downloads/pfocr-figures.jsonl.gz").read_bytes()).decode().splitlines():
        json.loads(line)
