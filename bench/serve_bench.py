"""Preview benchmark: how fast `site-gen serve` follows an edit on a large corpus.

    python -m bench.serve_bench --figures 10000 [--jobs 2] [--work bench/out]

Builds the corpus once the way the server does, then times, in the server's own code path: an edit of
one record (re-parse, index update, re-render of every page it touches, files replaced on disk),
an added and a deleted record, and an edit of each page template, against the cold build divided by
the number of templates. A template edit is timed twice: to the reload (the pages a browser was
showing re-rendered: a figure page and a gene page are requested first) and to every page that uses
the template re-rendered on disk. Prints the server's peak memory.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from pathlib import Path

from bench.corpus import write_corpus
from site_gen.serve import Preview
from site_gen.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def timed(label: str, preview: Preview, change, path: Path) -> tuple[float, float]:
    """Make a change, then time the server's handling of the watcher's event for that path: to the
    reload, and to every page written (pages a template edit left for after the reload)."""
    change()
    start = time.perf_counter()
    assert preview.on_change({str(path)}, defer=True), f"{label}: no change seen"
    took = time.perf_counter() - start  # the server sends the reload here
    later = preview.render_pending()
    pages = time.perf_counter() - start
    reindex, search = preview.reindex, []

    def timed_reindex():  # the full-text index is made outside the lock: edits do not wait for it
        begin = time.perf_counter()
        reindex()
        search.append(time.perf_counter() - begin)

    preview.reindex = timed_reindex
    preview.flush_data()
    del preview.reindex
    after = time.perf_counter() - start
    assert preview.error is None, preview.error
    every = f", {pages:7.3f} s every page ({later:,} after the reload)" if later else ""
    outside = f" ({sum(search):.3f} s of it the search index, outside the lock)" if sum(search) > 0.01 else ""
    print(f"{label:<34} {took:7.3f} s to reload{every}, {after:7.3f} s with the catalogue-wide files{outside}")
    return took, pages


def view(preview: Preview, url: str) -> None:
    """Request a page as a browser showing it would."""
    preview({"PATH_INFO": url}, lambda status, headers: None)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, default=10000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args(argv)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    source, output = args.work / f"corpus-{args.figures}", args.work / f"serve-site-{args.figures}"
    templates = args.work / "serve-templates"
    if not (source / ".complete").exists():
        write_corpus(source, args.figures)
        (source / ".complete").write_text("")
    shutil.rmtree(templates, ignore_errors=True)
    shutil.copytree(REPO / "templates", templates)
    shutil.rmtree(output, ignore_errors=True)
    settings = Settings(source=str(source), output=str(output), templates=str(templates), static=str(REPO / "static"))
    preview = Preview(settings, REPO, jobs=args.jobs)
    start = time.perf_counter()
    preview.rebuild()
    cold = time.perf_counter() - start
    print(f"== {args.figures:,} figures, {args.jobs} jobs")
    print(f"{'cold build':<34} {cold:7.3f} s  ({len(preview.site.pages):,} pages)")

    records = sorted((source / "figures").iterdir())
    record = records[len(records) // 2]
    original = record.read_text(encoding="utf-8")
    try:
        timed("edit one record (title)", preview,
              lambda: record.write_text(original.replace("figtitle: ", "figtitle: Edited ", 1), encoding="utf-8"), record)
        timed("edit it back", preview, lambda: record.write_text(original, encoding="utf-8"), record)
        extra = source / "figures" / "PMC9999999__added.md"
        timed("add a record", preview, lambda: extra.write_text(
            original.replace(record.stem, "PMC9999999__added"), encoding="utf-8"), extra)
        timed("delete it", preview, extra.unlink, extra)
    finally:
        record.write_text(original, encoding="utf-8")
    page_templates = sorted(p.name for p in templates.glob("*.html") if p.name not in ("macros.html",))
    budget = cold / len(page_templates)
    figure_pages, genes = list(preview.site.figure_pages()), list(preview.site.genes.values())
    view(preview, figure_pages[len(figure_pages) // 2].url)
    view(preview, genes[len(genes) // 2].url)
    for name in ("figure.html", "gene.html", "overview.html", "base.html"):
        path = templates / name
        text = path.read_text(encoding="utf-8")
        took, pages = timed(f"edit template {name}", preview,
                            lambda: path.write_text(text + "\n{# edited #}\n", encoding="utf-8"), path)
        print(f"{'':<34} budget {budget:.3f} s (cold / {len(page_templates)} templates): reload "
              f"{'within' if took <= budget else 'OVER'}, every page {'within' if pages <= budget else 'OVER'}")
        path.write_text(text, encoding="utf-8")
        preview.on_change({str(path)})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'server peak memory':<34} {peak:7.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
