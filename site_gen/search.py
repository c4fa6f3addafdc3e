"""Search over the whole catalogue on a static host.

Two parts, both built with the site:
- a Pagefind index of every figure page (title, caption, mentions, IDs; organism and year filters).
  Pagefind writes one fragment file per page into one folder, so past `GROUP_FIGURES` figures the
  figures are indexed in a few groups (by runs of the first hex digit of their shard folder), each
  its own bundle under `/pagefind/<group>/`; the search page merges them at query time.
- a name lookup, `/search/names/<nn>/<bbbb>.json`: every gene, chemical, disease and organism name,
  OCR word, figure ID, alias, PMCID and DOI, normalised, so that a query naming one of them offers its
  own page first. The bucket is a hash of the normalised name, so a query fetches one small file.
"""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson

from site_gen.errors import SiteError
from site_gen.index import ENTITY_SECTIONS, SHARD_FOLDER, Site, figure_url, shard_of

log = logging.getLogger(__name__)

GROUP_FIGURES = 40_000  # most figures in one Pagefind bundle (its fragment folder stays under 50,000)
PAGEFIND_FOLDER = "pagefind"
NAMES_FOLDER = "search/names"


_NOT_ALNUM = re.compile(r"[\W_]+")  # \w is str.isalnum() plus "_"


def name_key(text: str) -> str:
    """Lower case, accents and punctuation dropped: `NF-κB` → `nfκb`, `PMC7988944` → `pmc7988944`."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", text).lower())


NAME_BUCKETS = 1024


def bucket_of(key: str) -> int:
    """The lookup file of a normalised name: FNV-1a of its UTF-8 bytes (the JavaScript computes the
    same). A hash, not a prefix: IDs share prefixes (every figure ID starts with `pmc`)."""
    h = 0x811C9DC5
    for byte in key.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h % NAME_BUCKETS


def names_path(bucket: int) -> str:
    """`search/names/07/0231.json`: 32 folders of 32 files."""
    return f"{NAMES_FOLDER}/{bucket // 32:02d}/{bucket:04d}.json"


def _hit_order(hit: tuple[str, str, str]) -> tuple:
    label, url, kind = hit
    return kind != "figure", label, url


def render_name_index(site: Site) -> dict[str, str]:
    """Lookup files: out_path → JSON {normalised name: [[label, url, kind], ...]}.

    Made to be small at catalogue scale (a million names): each page it points to is one
    (label, URL, kind) target, and a name holds the number of its target, or a list of them.
    """
    targets: list[tuple[str, str, str]] = []
    buckets: list[dict] = [{} for _ in range(NAME_BUCKETS)]  # normalised name → target number(s)

    def add(names, label: str, url: str, kind: str) -> None:
        target = len(targets)
        targets.append((label, url, kind))
        for key in {name_key(name) for name in names if name}:  # each target once per name
            if len(key) < 2:
                continue
            table = buckets[bucket_of(key)]
            hit = table.get(key)
            if hit is None:
                table[key] = target
            elif type(hit) is int:
                table[key] = [hit, target]
            else:
                hit.append(target)

    for kind, (_folder, _title, noun) in ENTITY_SECTIONS.items():
        for entity in site.entities(kind).values():
            count = len(entity.figids)
            names = [entity.name, entity.key, *entity.words]
            if kind == "organism" and entity.info and entity.info.common:
                names.append(entity.info.common)
            add(names, f"{entity.name} ({noun}, {count} figure{'s' if count != 1 else ''})", entity.url, kind)
    for fig in site.figures.values():
        add((fig.figid, fig.pmcid, fig.doi, *(a.rsplit("/", 1)[-1] for a in fig.aliases)),
            f"{fig.title} (figure {fig.figid})", figure_url(fig.figid), "figure")
    out = {}
    for bucket, table in enumerate(buckets):  # every bucket, even empty, so a lookup never 404s
        data = {}
        for key in sorted(table):
            hit = table[key]
            data[key] = [targets[hit]] if type(hit) is int else sorted((targets[i] for i in hit), key=_hit_order)[:50]
        # JSON that cannot break out of anything it is embedded in
        out[names_path(bucket)] = orjson.dumps(data).decode().replace("<", "\\u003c") + "\n"
    return out


def pagefind_groups(site: Site) -> dict[str, str]:
    """Bundle name → glob (relative to the site) of the figure pages it indexes.

    As few bundles as keep each under GROUP_FIGURES figures (every bundle a query merges costs its
    own metadata and filter files): the 16 first hex digits of the shard folders, split into runs.
    """
    if not site.figures:
        return {}
    if len(site.figures) <= GROUP_FIGURES:
        return {"all": f"figures/{SHARD_FOLDER}/*/*.html"}
    count = min(16, -(-len(site.figures) * 5 // (GROUP_FIGURES * 4)))  # 25% spare: shards are uneven
    digits = "0123456789abcdef"
    runs = [digits[i * 16 // count:(i + 1) * 16 // count] for i in range(count)]
    return {f"{run[0]}-{run[-1]}": f"figures/{SHARD_FOLDER}/[{run[0]}-{run[-1]}]?/*.html" for run in runs}


def group_of(figid: str, groups: dict[str, str]) -> str:
    """The bundle that indexes a figure's page."""
    if "all" in groups:
        return "all"
    digit = int(shard_of(f"{figid}.html")[0], 16)
    return next(name for name in groups if int(name[0], 16) <= digit <= int(name[-1], 16))


def _link_tree(source: Path, target: Path) -> None:
    for here, _dirs, files in os.walk(source):
        folder = target / Path(here).relative_to(source)
        folder.mkdir(parents=True, exist_ok=True)
        for name in files:
            os.link(os.path.join(here, name), folder / name)


def run_pagefind(site_dir: Path, site: Site, jobs: int, previous: Path | None = None,
                 changed: set[str] | None = None, into: Path | None = None) -> list[str]:
    """Index the figure pages of a built site (before it is swapped in); the bundle names.

    Alias stubs share the figures' folders; only pages marked `data-pagefind-body` are indexed.
    Result URLs are where the files live (`/figures/_/<shard>/...`); the search page links the
    public URL. Given the `previous` site and the figids whose pages `changed` since (the others'
    pages being the same), a bundle none of them falls in is linked from there instead of made again.
    The bundles go to `into`, by default the site's own `pagefind/` folder.
    """
    into = (into or site_dir / PAGEFIND_FOLDER).absolute()
    groups = pagefind_groups(site)
    todo = dict(groups)
    if previous is not None and changed is not None:
        try:
            before = json.loads((previous / PAGEFIND_FOLDER / "indexes.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            before = None
        if before == sorted(groups):
            dirty = {group_of(figid, groups) for figid in changed}
            for name in sorted(set(groups) - dirty):
                _link_tree(previous / PAGEFIND_FOLDER / name, into / name)
                del todo[name]
            log.debug("search index: %d of %d bundles made again", len(todo), len(groups))

    def index(item: tuple[str, str]) -> None:
        name, glob = item
        cmd = [sys.executable, "-m", "pagefind", "--site", str(site_dir), "--glob", glob,
               "--output-path", str(into / name), "--silent"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SiteError(f"search index {name}: pagefind failed: {(done.stderr or done.stdout).strip()[-500:]}")

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(index, todo.items()))
    names = sorted(groups)
    into.mkdir(exist_ok=True)
    (into / "indexes.json").write_text(json.dumps(names) + "\n", encoding="utf-8")
    return names
