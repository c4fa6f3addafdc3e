"""Search over the whole catalogue on a static host.

Two parts, both built with the site:
- a Pagefind index of every figure page (title, caption, mentions, IDs; organism and year filters).
  Pagefind writes one fragment file per page into one folder, so past `GROUP_FIGURES` figures the
  figures are indexed in 16 groups (by the first hex digit of their shard folder), each its own
  bundle under `/pagefind/<group>/`; the search page merges them at query time (`mergeIndex`).
- a name lookup, `/search/names/<bucket>.json`: every gene, chemical, disease and organism name,
  OCR word, figure ID, alias, PMCID and DOI, normalised, so that a query naming one of them offers its
  own page first. Buckets are the first two characters of the normalised name, so a query fetches
  one small file.
"""
from __future__ import annotations

import asyncio
import json
import logging
import unicodedata
from collections import defaultdict
from pathlib import Path

from site_gen.errors import SiteError
from site_gen.index import ENTITY_SECTIONS, Site, figure_url, out_path_for

log = logging.getLogger(__name__)

GROUP_FIGURES = 20_000  # up to this many figures, one Pagefind bundle
PAGEFIND_FOLDER = "pagefind"
NAMES_FOLDER = "search/names"


def name_key(text: str) -> str:
    """Lower case, accents and punctuation dropped: `NF-κB` → `nfκb`, `PMC7988944` → `pmc7988944`."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text.lower() if c.isalnum())


def bucket_of(key: str) -> str:
    """The lookup file of a normalised name (the JavaScript computes the same)."""
    head = key[:2]
    return "".join(c if c.isascii() and c.isalnum() else "_" for c in head).ljust(2, "_")


def render_name_index(site: Site) -> dict[str, str]:
    """Lookup files: out_path → JSON {normalised name: [[label, url, kind], ...]}."""
    entries: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))

    def add(name: str | None, label: str, url: str, kind: str) -> None:
        key = name_key(name or "")
        if len(key) >= 2:
            entries[bucket_of(key)][key].add((label, url, kind))

    for kind, (_folder, _title, noun) in ENTITY_SECTIONS.items():
        for entity in site.entities(kind).values():
            label = f"{entity.name} ({noun}, {len(entity.figids)} figure{'s' if len(entity.figids) != 1 else ''})"
            add(entity.name, label, entity.url, kind)
            add(entity.key, label, entity.url, kind)
            for word in entity.words:
                add(word, label, entity.url, kind)
            if kind == "organism" and entity.info and entity.info.common:
                add(entity.info.common, label, entity.url, kind)
    for fig in site.figures.values():
        url = figure_url(fig.figid)
        label = f"{fig.title} (figure {fig.figid})"
        for name in (fig.figid, fig.pmcid, fig.doi, *(a.rsplit("/", 1)[-1] for a in fig.aliases)):
            add(name, label, url, "figure")
    out = {}
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_"
    for bucket in (a + b for a in alphabet for b in alphabet):  # every bucket, so a lookup never 404s
        out[f"{NAMES_FOLDER}/{bucket}.json"] = "{}\n"
    for bucket, names in entries.items():
        data = {key: sorted(hits, key=lambda h: (h[2] != "figure", h[0]))[:50] for key, hits in sorted(names.items())}
        # JSON that cannot break out of anything it is embedded in
        out[f"{NAMES_FOLDER}/{bucket}.json"] = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace(
            "<", "\\u003c") + "\n"
    return out


def pagefind_groups(site: Site) -> dict[str, list[str]]:
    """Bundle name → the figures it indexes (newest first)."""
    if not site.figures:
        return {}
    if len(site.figures) <= GROUP_FIGURES:
        return {"all": list(site.figures)}
    groups: dict[str, list[str]] = {}
    for figid in site.figures:  # by the first hex digit of the figure's shard folder
        groups.setdefault(out_path_for(figure_url(figid)).split("/")[2][0], []).append(figid)
    return dict(sorted(groups.items()))


async def _index_group(site_dir: Path, output: Path, figids: list[str]) -> None:
    from pagefind.index import PagefindIndex

    async with PagefindIndex() as index:
        for figid in figids:  # one fixed order, so that the same site gives the same bundle
            url = figure_url(figid)
            html = (site_dir / out_path_for(url)).read_text(encoding="utf-8")
            await index.add_html_file(content=html, url=url)
        await index.write_files(output_path=str(output))


def run_pagefind(site_dir: Path, site: Site, jobs: int) -> list[str]:
    """Index the figure pages of a built site (before it is swapped in); the bundle names.

    Pages are handed to Pagefind one by one, in the site's order and under their public URLs
    (`/figures/<figid>.html`, not the shard folder they live in).
    """
    groups = pagefind_groups(site)

    async def index_all():
        limit = asyncio.Semaphore(max(1, jobs))

        async def one(name, figids):
            async with limit:
                await _index_group(site_dir, site_dir / PAGEFIND_FOLDER / name, figids)

        await asyncio.gather(*(one(name, figids) for name, figids in groups.items()))

    try:
        asyncio.run(index_all())
    except Exception as exc:  # noqa: BLE001 - Pagefind's own errors, reported as a build error
        raise SiteError(f"search index: pagefind failed: {exc}") from exc
    names = sorted(groups)
    (site_dir / PAGEFIND_FOLDER).mkdir(exist_ok=True)
    (site_dir / PAGEFIND_FOLDER / "indexes.json").write_text(json.dumps(names) + "\n", encoding="utf-8")
    return names
