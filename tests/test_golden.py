"""The seeds build to exactly the reviewed output in tests/golden/site (regenerate: `make golden`)."""
from __future__ import annotations

from tests.golden import GOLDEN, NOT_GOLDEN, build_seeds


def test_seeds_build_matches_golden_output_file_by_file(tmp_path):
    result = build_seeds(tmp_path / "site")
    assert result.problems == []
    built = {p.relative_to(tmp_path / "site").as_posix(): p for p in (tmp_path / "site").rglob("*") if p.is_file()}
    built = {name: p for name, p in built.items() if not name.startswith(NOT_GOLDEN)}
    golden = {p.relative_to(GOLDEN).as_posix(): p for p in GOLDEN.rglob("*") if p.is_file()}
    assert sorted(built) == sorted(golden), "files added or removed: run `make golden` and review the diff"
    changed = [name for name in sorted(built) if built[name].read_bytes() != golden[name].read_bytes()]
    assert changed == [], "output changed: run `make golden` and review the diff"
