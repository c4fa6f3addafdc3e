"""skeleton: `site-gen new DIR` writes a catalogue that builds at once, and only into an empty folder."""
from __future__ import annotations

from site_gen.cli import main
from tests.conftest import REPO
from tests.sitecheck import site_file


def test_new_writes_a_catalogue_that_builds_at_once_and_only_into_an_empty_folder(tmp_path, monkeypatch, capsys):
    target = tmp_path / "my-catalogue"
    assert main(["new", str(target)]) == 0
    assert "site-gen serve" in capsys.readouterr().err
    for name in ("templates", "static"):  # the generator's own, as they are
        mine = {p.relative_to(REPO / name): p.read_bytes() for p in (REPO / name).rglob("*") if p.is_file()}
        assert {p.relative_to(target / name): p.read_bytes() for p in (target / name).rglob("*") if p.is_file()} == mine
    monkeypatch.chdir(target)  # its own settings, nothing from this project
    assert main(["build", "-q", "--search-index", "none"]) == 0
    page = site_file(target / "_site", "/figures/PMC100003__mb2410470011.html").read_text()
    assert "<title>Summary of the signaling pathway that connects neuropeptides to the AR" in page
    assert '<link rel="canonical" href="https://example.org/figures/PMC100003__mb2410470011.html">' in page
    assert "my catalogue" in page  # the title it was given, from the folder's name
    assert site_file(target / "_site", "/genes/36384.html").is_file()  # from its gene table
    assert site_file(target / "_site", "/figures/PMC100003__F11").is_file()  # its alias
    assert main(["check"]) == 0  # no problems in it
    capsys.readouterr()
    assert main(["new", str(target)]) == 1  # not over an existing catalogue
    assert "not an empty folder" in capsys.readouterr().err
    assert main(["new", str(target / "records" / "figures" / "PMC100003__mb2410470011.md")]) == 1
