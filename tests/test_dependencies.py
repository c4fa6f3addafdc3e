"""What site_gen relies on inside the libraries it pins (pyproject.toml): each check names the library
whose upgrade broke it, so an upgrade fails here, loudly, and not as slower or wrong pages."""
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
