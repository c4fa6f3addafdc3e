"""Hypothesis strategies for hostile records, and the check that a build survives them.

Used by tests/test_fuzz.py (bounded) and bench/fuzz.py (long runs).
"""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import html5lib
import yaml
from hypothesis import strategies as st

from site_gen.build import build
from site_gen.settings import Settings
from tests.sitecheck import JSONLD_RE

REPO = Path(__file__).resolve().parent.parent
FIELDS = ["figid", "figtitle", "caption", "pmcid", "figlink", "filename", "number", "papertitle", "reftext", "year",
          "doi", "journal_title", "keywords", "organisms", "organisms_ner", "figid_alias", "redirect_from", "ndex",
          "wpid", "genes", "chemicals", "diseases", "schema-jsonld", "figtype", "publisher_name"]
NASTY = ["</script>", "<!--", "-->", "javascript:alert(1)", "data:text/html,x", "../../etc/passwd", "/", "\\", "..",
         "\u2028", "\u0000", "NA", ".na.character", "'On'", "<b onmouseover=x>", "&amp;", "%2e%2e", "PMC1__x",
         "/figures/PMC1__x", "https://evil.example/", "\ud7ff", "🧬", "МАРК"]

text = st.one_of(st.text(max_size=40), st.sampled_from(NASTY),
                 st.lists(st.sampled_from(NASTY) | st.text(max_size=8), max_size=4).map("".join))
scalar = st.one_of(text, st.integers(-10**6, 10**12), st.floats(allow_nan=False), st.booleans(), st.none())
value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
                     max_leaves=12)
mention = st.fixed_dictionaries({"word": text}, optional={"symbol": text, "entrez": text | st.integers(0, 10**7).map(str),
                                                          "source": text, "identifier": text, "hgnc_symbol": text})
record = st.fixed_dictionaries(
    {"figid": st.one_of(text, st.from_regex(r"PMC[0-9]{1,6}__[A-Za-z0-9._-]{1,12}", fullmatch=True))},
    optional={name: value for name in FIELDS if name != "figid"} | {
        "genes": st.lists(mention | value, max_size=5), "chemicals": st.lists(mention | value, max_size=3)},
)
raw_file = st.one_of(
    record.map(lambda r: "---\n" + yaml.safe_dump(r, allow_unicode=True) + "---\n"),
    st.tuples(record, text).map(lambda rt: "---\n" + yaml.safe_dump(rt[0], allow_unicode=True) + "---\n" + rt[1]),
    st.text(max_size=200),
    st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
)


def build_and_check(files: list[str]) -> None:
    """Build these record texts; the build must finish, every page parse, nothing land outside the output."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = root / "src"
        source.mkdir()
        for i, content in enumerate(files):
            (source / f"r{i}.md").write_text(content, encoding="utf-8", errors="surrogatepass")
        settings = Settings(source=str(source), output=str(root / "out"), templates=str(REPO / "templates"),
                            static=str(REPO / "static"), search_index="none")  # pages only: no search index
        result = build(settings, REPO, jobs=1, force=True)
        assert result.ok
        assert sorted(p.name for p in root.iterdir()) == [".out.cache", ".out.state", "out", "src"]
        parser = html5lib.HTMLParser(strict=True)
        for page in (root / "out").rglob("*.html"):
            html = page.read_text(encoding="utf-8")
            parser.parse(html)
            for block in JSONLD_RE.findall(html):
                assert "</" not in block and "<!--" not in block
                json.loads(block)
            assert not re.search(r'(?:href|src)="\s*(?:javascript|data|vbscript):', html, re.I), page
        for data in (root / "out").rglob("*.json"):
            json.loads(data.read_text(encoding="utf-8"))
