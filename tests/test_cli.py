"""The command line: settings from the config file, flags that override them, exit codes."""
from __future__ import annotations

import os
import subprocess
import sys

from site_gen.cli import main
from tests.conftest import REPO, minimal_record, write_files
from tests.sitecheck import site_file


def write_config(path, body: str):
    path.write_text(f"[tool.site_gen]\n{body}\ntemplates = '{REPO / 'templates'}'\nstatic = '{REPO / 'static'}'\n")
    return path


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


def test_strict_exit_code_and_summary(tmp_path, capfd):
    write_files(tmp_path / "src", {"a.md": minimal_record("PMC1__ok"), "b.md": "---\nfigid: [x]\n---\n"})
    cmd = [sys.executable, "-m", "site_gen", "build", "--config", str(tmp_path / "none.toml"),
           "--source", str(tmp_path / "src"), "--output", str(tmp_path / "out"),
           "--templates", str(REPO / "templates"), "--static", str(REPO / "static")]
    lenient = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert lenient.returncode == 0
    assert "src/b.md:2: figid: expected text, got a list" in lenient.stderr
    assert "1 problem(s) in 1 file(s); 1 record(s) skipped" in lenient.stderr
    strict = subprocess.run(cmd + ["--strict"], capture_output=True, text=True, cwd=tmp_path)
    assert strict.returncode == 1
    assert "--strict: nothing written" in strict.stderr


def _build_on_a_terminal(output, *flags: str, env_extra: dict | None = None) -> bytes:
    """Run `site-gen build` with its stderr on a pseudo-terminal of 100 columns; what it drew."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "CI"} | (env_extra or {})
    cmd = [sys.executable, "-m", "site_gen", "build", "--source", str(REPO / "seeds"), "--output",
           str(output), "--templates", str(REPO / "templates"), "--static", str(REPO / "static"),
           "--search-index", "none", "--jobs", "1", *flags]
    proc = subprocess.Popen(cmd, stdin=follower, stdout=follower, stderr=follower, env=env, cwd=REPO)
    os.close(follower)
    drawn = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    return drawn


def test_a_progress_bar_on_a_terminal_only(tmp_path):
    drawn = _build_on_a_terminal(tmp_path / "a")
    assert b"render  :" in drawn and b"items" in drawn and b"%|" in drawn
    assert b"built 5 figures" in drawn
    quiet = _build_on_a_terminal(tmp_path / "b", "--quiet")
    assert b"%|" not in quiet
    in_ci = _build_on_a_terminal(tmp_path / "c", env_extra={"CI": "true"})
    assert b"%|" not in in_ci and b"built 5 figures" in in_ci
    piped = subprocess.run([sys.executable, "-m", "site_gen", "build", "--source", str(REPO / "seeds"), "--output",
                            str(tmp_path / "d"), "--search-index", "none"],
                           capture_output=True, cwd=REPO, env={k: v for k, v in os.environ.items() if k != "CI"})
    assert piped.returncode == 0 and b"%|" not in piped.stderr
