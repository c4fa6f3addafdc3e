"""progress: the build's progress bar, drawn on a terminal only (not with --quiet, in CI or into a pipe)."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


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
