"""settings: every bad setting reported in one run, flags that mend some of them, and the `host` values allowed."""
from __future__ import annotations

import pytest

from site_gen.cli import main
from site_gen.errors import SiteError
from site_gen.settings import load_settings
from tests.conftest import write_config


def test_all_bad_settings_are_reported_in_one_run(tmp_path, monkeypatch, capsys):
    config = write_config(tmp_path / "site.toml",
                          "base_url = 'ftp://nope'\npage_size = 0\ncolour = 'blue'\nimage_url = 'https://x.org/{nothing}'")
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {config}: bad settings:")
    for words in ("colour: unknown setting", "page_size: must be at least 1",
                  "base_url: expected an absolute http(s) URL", "image_url: expected one of"):
        assert words in err
    assert main(["build", "--config", str(config), "--page-size", "5", "--image-url", "pmc"]) == 1
    err = capsys.readouterr().err
    assert "page_size: must" not in err and "image_url: expected" not in err and "base_url: expected" in err


def test_an_unknown_host_is_a_settings_error(tmp_path):
    with pytest.raises(SiteError, match=r"host: expected one of netlify, github-pages, plain, got 'vercel'"):
        load_settings(None, {"host": "vercel"})
