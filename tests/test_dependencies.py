"""What site_gen relies on in its pinned libraries: an upgrade that breaks it fails here, naming the library."""
from __future__ import annotations

import markupsafe
import pytest

from site_gen import fastyaml, render


def test_markupsafe_has_the_c_escaping_fast_escape_calls():
    assert callable(getattr(markupsafe, "_escape_inner", None)), \
        f"MarkupSafe {markupsafe.__version__}: _escape_inner is gone; render.fast_escape relies on it"
    for text in ("<a href='x'>&\"", "plain", ""):
        assert render.fast_escape(text) == markupsafe.escape(text), f"MarkupSafe {markupsafe.__version__}"


def test_jinja_templates_call_escape_through_their_module_globals(tmp_path):
    import jinja2

    (tmp_path / "t.html").write_text("{{ value }}")
    template = render.make_environment(tmp_path).get_template("t.html")
    assert template.root_render_func.__globals__.get("escape") is render.fast_escape, \
        f"Jinja2 {jinja2.__version__}: compiled templates no longer look `escape` up in their globals"
    assert template.render(value="<b>") == "&lt;b&gt;"


@pytest.mark.skipif(fastyaml.yaml_rs is None, reason="yaml-rs not installed")
def test_yaml_rs_reads_yaml_1_2_as_fastyaml_expects():
    # what fastyaml's checks are made for: yaml-rs reads these the YAML 1.2 way, PyYAML the 1.1 way
    data = fastyaml.yaml_rs.loads("a: on\nb: 010\nc: 2020\nd: '7'\n")
    assert data == {"a": "on", "b": 10, "c": 2020, "d": "7"}, f"yaml-rs: {data}"
    assert fastyaml.load("a: on\nb: 010\n") == {"a": True, "b": 8}  # and fastyaml gives PyYAML's meaning


def test_pagefind_reads_inline_filters_sorts_and_meta(tmp_path):
    import gzip
    import json
    import subprocess
    import sys

    page = tmp_path / "site" / "figures" / "a.html"
    page.parent.mkdir(parents=True)
    page.write_text('<html><body data-pagefind-body><h1>T</h1><p>text</p>'
                    '<span data-pagefind-filter="year:2020" data-pagefind-sort="year:2020"></span>'
                    '<span data-pagefind-meta="image:https://x.org/i.jpg"></span></body></html>')
    subprocess.run([sys.executable, "-m", "pagefind", "--site", str(tmp_path / "site"), "--output-path",
                    str(tmp_path / "pf"), "--silent"], check=True)
    fragment = next((tmp_path / "pf" / "fragment").iterdir()).read_bytes()
    data = json.loads(b"{" + gzip.decompress(fragment).split(b"{", 1)[1])  # after Pagefind's signature
    assert data["filters"] == {"year": ["2020"]} and data["meta"]["image"] == "https://x.org/i.jpg", \
        f"Pagefind: inline attributes read as {data['filters']}, {data['meta']}"


def test_pagefind_writes_the_data_files_canonical_bundle_rewrites(tmp_path):
    """search.canonical_bundle decodes and re-encodes Pagefind's files with cbor2 and names them as
    Pagefind does: cbor2 must give Pagefind's own bytes back, and the layout must be the one it knows."""
    import gzip
    import json
    import subprocess
    import sys

    import cbor2

    from site_gen import search

    for n, (year, organism) in enumerate([("2020", "Homo sapiens"), ("2019", "Mus musculus"), ("2021", "Homo sapiens")]):
        page = tmp_path / "site" / f"{n}.html"
        page.parent.mkdir(exist_ok=True)
        page.write_text(f'<html lang="en"><body data-pagefind-body><h1>T{n}</h1><p>text {n}</p>'
                        f'<span data-pagefind-filter="year:{year}" data-pagefind-sort="year:{year}"></span>'
                        f'<span data-pagefind-filter="organism:{organism}"></span></body></html>')
    subprocess.run([sys.executable, "-m", "pagefind", "--site", str(tmp_path / "site"), "--output-path",
                    str(tmp_path / "pf"), "--silent"], check=True)
    files = [*(tmp_path / "pf" / "index").iterdir(), *(tmp_path / "pf" / "filter").iterdir()]
    for path in files:
        raw = gzip.decompress(path.read_bytes())
        assert raw.startswith(search.PF_SIGNATURE), f"Pagefind: {path.name} has no {search.PF_SIGNATURE!r} signature"
        payload = raw[len(search.PF_SIGNATURE):]
        assert cbor2.dumps(cbor2.loads(payload)) == payload, f"cbor2: re-encodes Pagefind's {path.name} differently"
        assert path.stem == "en_" + search._pf_hash(payload)[:7], f"Pagefind: {path.name} is not named by its SHA-1"
    entry = json.loads((tmp_path / "pf" / "pagefind-entry.json").read_text())
    meta = search.read_pf(tmp_path / "pf" / f"pagefind.{entry['languages']['en']['hash']}.pf_meta")
    assert len(meta) == 6 and meta[0] == entry["version"] and len(meta[1]) == 3, f"Pagefind: metadata laid out as {meta}"
    assert sorted(name for name, _hash in meta[3]) == ["organism", "year"], f"Pagefind: filters listed as {meta[3]}"
    assert [key for key, _pages in meta[4]] == ["year"], f"Pagefind: sorts listed as {meta[4]}"
    before = {p.name for p in (tmp_path / "pf").rglob("*") if p.is_file()}
    search.canonical_bundle(tmp_path / "pf")
    after = {p.name for p in (tmp_path / "pf").rglob("*") if p.is_file()}
    assert len(after) == len(before) and {p.name for p in (tmp_path / "pf" / "index").iterdir()} <= after
    for path in (tmp_path / "pf" / "filter").iterdir():
        values = [value for value, _pages in search.read_pf(path)[1]]
        assert values == sorted(values)
