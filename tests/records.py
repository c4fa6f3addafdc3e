"""Records and their sidecar tables read with nothing but yaml and csv, not with site_gen's own reading of them.

Tests compute what the site must hold from these, independently of the code they check.
"""
from __future__ import annotations

import csv
from pathlib import Path

import yaml


def front_matters(source: Path) -> dict[str, dict]:
    """figid → front matter of every record below `source` (data folders left out)."""
    out = {}
    for path in sorted(source.rglob("*")):
        if path.suffix not in (".md", ".txt") or any(p.startswith("_") for p in path.relative_to(source).parts[:-1]):
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        out[str(data["figid"]).strip()] = data
    return out


def table(source: Path, figid: str, kind: str) -> list[dict] | None:
    """The rows of a figure's sidecar table of that kind (genes, chemicals, diseases), or None without one."""
    found = list(source.rglob(f"{figid}-{kind}.tsv"))
    if not found:
        return None
    with open(found[0], encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
