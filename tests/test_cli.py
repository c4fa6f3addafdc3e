"""The command line: settings from the config file, flags that override them, exit codes."""
from __future__ import annotations

import subprocess
import sys

from site_gen.cli import main
from tests.conftest import REPO, minimal_record, write_config, write_files
from tests.sitecheck import site_file


def test_build_reads_config_and_flags_override_it(tmp_path, monkeypatch):
    write_files(tmp_path / "src", {"a.md": minimal_record("PMC1__cli")})
    config = write_config(tmp_path / "site.toml", "base_url = 'https://example.org/'\nsource = 'src'\noutput = 'out'")
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--config", str(config), "--quiet"]) == 0
    page = site_file(tmp_path / "out", "/figures/PMC1__cli.html").read_text()
    assert '<link rel="canonical" href="https://example.org/figures/PMC1__cli.html">' in page

    assert main(["build", "--config", str(config), "--quiet", "--base-url", "https://mirror.example.net",
                 "--output", "other", "--image-url", "pmc"]) == 0
    page = site_file(tmp_path / "other", "/figures/PMC1__cli.html").read_text()
    assert '<link rel="canonical" href="https://mirror.example.net/figures/PMC1__cli.html">' in page
    assert 'src="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1/bin/PMC1__cli.jpg"' in page


def test_base_url_with_a_path_prefixes_every_internal_link(tmp_path, monkeypatch):
    write_files(tmp_path / "src", {"a.md": minimal_record("PMC1__sub")})
    config = write_config(tmp_path / "site.toml", "base_url = 'https://example.org/pfocr'\nsource = 'src'\noutput = 'out'")
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--config", str(config), "--quiet"]) == 0
    page = site_file(tmp_path / "out", "/figures/PMC1__sub.html").read_text()
    assert 'href="/pfocr/organisms/homo_sapiens.html"' in page
    assert 'href="/organisms/' not in page


def test_strict_exit_code_and_summary(tmp_path, capfd):
    write_files(tmp_path / "src", {"a.md": minimal_record("PMC1__ok"), "b.md": "---\nfigid: [x]\n---\n"})
    cmd = [sys.executable, "-m", "site_gen", "build", "--config", str(REPO / "tests" / "empty.toml"),
           "--source", str(tmp_path / "src"), "--output", str(tmp_path / "out"),
           "--templates", str(REPO / "templates"), "--static", str(REPO / "static")]
    lenient = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert lenient.returncode == 0
    assert "src/b.md:2: figid: expected text, got a list" in lenient.stderr
    assert "1 problem(s) in 1 file(s); 1 record(s) skipped" in lenient.stderr
    # the command ends without freeing its model (`exit_now`): what it logged last still arrives
    assert lenient.stderr.splitlines()[-1].startswith("1 problem(s) in 1 file(s)"), lenient.stderr
    assert "built 1 figures" in lenient.stderr
    strict = subprocess.run(cmd + ["--strict"], capture_output=True, text=True, cwd=tmp_path)
    assert strict.returncode == 1
    assert "--strict: nothing written" in strict.stderr


def test_a_missing_config_file_or_folder_is_an_error_that_names_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--config", "nope.toml"]) == 1
    assert "error: --config nope.toml: no such file" in capsys.readouterr().err
    assert not (tmp_path / "_site").exists()
    write_files(tmp_path / "seeds", {"a.md": minimal_record("PMC1__x")})
    for command in ("build", "serve", "check"):  # run outside the site's folder: no templates here
        assert main([command]) == 1
        err = capsys.readouterr().err
        assert f"error: no templates folder at {tmp_path / 'templates'}; run in the site's folder or pass --templates" in err
    config = write_config(tmp_path / "site.toml", "source = 'elsewhere'")
    assert main(["build", "-c", str(config)]) == 1
    assert f"no source folder at {tmp_path / 'elsewhere'}" in capsys.readouterr().err


def test_short_flags_and_no_cache_builds_everything_again(tmp_path, monkeypatch, capsys):
    write_files(tmp_path / "src", {"a.md": minimal_record("PMC1__short")})
    config = write_config(tmp_path / "site.toml", "search_index = 'none'")
    monkeypatch.chdir(tmp_path)
    assert main(["build", "-c", str(config), "-s", "src", "-o", "public", "-b", "https://short.example.org", "-q"]) == 0
    page = site_file(tmp_path / "public", "/figures/PMC1__short.html")
    assert '<link rel="canonical" href="https://short.example.org/figures/PMC1__short.html">' in page.read_text()
    args = ["build", "-c", str(config), "-s", "src", "-d", "public", "-b", "https://short.example.org"]
    capsys.readouterr()
    assert main(args) == 0
    assert "is up to date" in capsys.readouterr().err
    assert main([*args, "--no-cache"]) == 0
    err = capsys.readouterr().err
    assert "is up to date" not in err and "1 records parsed, 0 cached" in err


def test_check_reports_every_problem_and_writes_nothing(tmp_path, monkeypatch, capsys):
    write_files(tmp_path / "src", {"a.md": minimal_record("PMC1__ok"), "b.md": "---\nfigid: [x]\n---\n",
                                   "c.md": minimal_record("PMC3__ok", year="'twenty'")})
    config = write_config(tmp_path / "site.toml", "source = 'src'")
    monkeypatch.chdir(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(["check", "-c", str(config)]) == 1
    err = capsys.readouterr().err
    assert "src/b.md:2: figid: expected text, got a list" in err and "src/c.md:" in err and "year" in err
    assert "2 problem(s) in 2 file(s)" in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing written
    (tmp_path / "src" / "b.md").unlink()
    (tmp_path / "src" / "c.md").unlink()
    assert main(["check", "-c", str(config)]) == 0


def test_clean_removes_the_output_and_what_is_kept_beside_it(tmp_path, monkeypatch):
    write_files(tmp_path / "src", {"a.md": minimal_record("PMC1__clean")})
    config = write_config(tmp_path / "site.toml", "source = 'src'\nsearch_index = 'none'")
    monkeypatch.chdir(tmp_path)
    assert main(["build", "-c", str(config), "-q"]) == 0
    beside = {p.name for p in tmp_path.iterdir()} - {"src", "site.toml"}
    assert "_site" in beside and any(name.startswith("._site.") for name in beside)
    assert main(["clean", "-c", str(config)]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"src", "site.toml"}
    assert main(["clean", "-c", str(config)]) == 0  # nothing left: still fine


def test_help_gives_examples_exit_codes_and_environment(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["build", "--help"])
    out = capsys.readouterr().out
    for words in ("site-gen serve -p 8080", "exit status:", "SOURCE_DATE_EPOCH", "-o OUTPUT, -d OUTPUT, --output OUTPUT"):
        assert words in out


def test_a_profiled_build_still_writes_its_profile(tmp_path):
    """The command ends without freeing its model (`exit_now`), but not under a profiler: it writes
    what it found at exit."""
    write_files(tmp_path / "src", {"a.md": minimal_record("PMC1__ok")})
    cmd = [sys.executable, "-m", "cProfile", "-o", str(tmp_path / "build.prof"), "-m", "site_gen", "build",
           "--config", str(REPO / "tests" / "empty.toml"), "--source", str(tmp_path / "src"),
           "--output", str(tmp_path / "out"), "--templates", str(REPO / "templates"),
           "--static", str(REPO / "static"), "--quiet"]
    assert subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path).returncode == 0
    assert (tmp_path / "build.prof").stat().st_size > 0 and (tmp_path / "out" / "index.html").is_file()
