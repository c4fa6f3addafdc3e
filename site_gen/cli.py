"""Command line: parse flags, then call build, serve, check, clean or new. Nothing else."""
from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import shutil
import sys
from pathlib import Path

from site_gen import __version__
from site_gen.errors import SiteError
from site_gen.settings import SETTING_FIELDS, load_settings

log = logging.getLogger("site_gen")
PATH_SETTINGS = ("source", "output", "templates", "static")
# The short flags Hugo, Zola and MkDocs users reach for.
SHORT_FLAGS = {"source": ["-s"], "output": ["-o", "-d"], "base_url": ["-b"]}
DEFAULT_CONFIG = Path("pyproject.toml")

EPILOG = """\
examples:
  site-gen new my-catalogue            a new catalogue (settings, templates, one record) to build at once
  site-gen build                       build seeds/ into _site/ (settings: [tool.site_gen] of pyproject.toml)
  site-gen build -b https://example.org/pfocr -o public
  site-gen serve -p 8080 --open        preview with live reload
  site-gen check                       report every input and settings problem, write nothing
  site-gen clean                       remove the output and what the generator keeps beside it

exit status: 0 done; 1 a build or check failed, or found problems with --strict; 2 bad command line;
130 interrupted.

environment: SOURCE_DATE_EPOCH fixes the build date (reproducible builds); CI set (or an output that
is not a terminal) turns the progress bars off.
"""


def _add_common(parser: argparse.ArgumentParser, cache: bool = True) -> None:
    parser.add_argument("-c", "--config", type=Path, default=None,
                        help="TOML file with a [tool.site_gen] table (default: pyproject.toml, if there is one)")
    group = parser.add_argument_group("settings (override the config file)")
    for name, f in SETTING_FIELDS.items():
        group.add_argument(*SHORT_FLAGS.get(name, []), f"--{name.replace('_', '-')}", dest=f"setting_{name}",
                           metavar=name.upper(), type=int if f.type == "int" else str, default=None,
                           help=f.metadata["help"])
    if cache:
        parser.add_argument("--no-cache", action="store_true",
                            help="build everything again: parse every record, render every page")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="processes to use (default: all cores)")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("-q", "--quiet", action="store_true", help="print only problems and errors")
    noise.add_argument("-v", "--verbose", action="store_true", help="also print the time of every stage")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="site-gen", description="Build the Pathway Figure OCR catalogue site.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"site-gen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the site into the output folder", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(build)
    build.add_argument("--strict", action="store_true", help="fail, writing nothing, when any input problem is found")
    serve = commands.add_parser("serve", help="build, serve on loopback and rebuild on change", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(serve)
    serve.add_argument("--bind", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("-p", "--port", type=int, default=8000, help="port to listen on (default: 8000)")
    serve.add_argument("--open", action="store_true", help="open the site in a browser")
    serve.add_argument("--no-livereload", action="store_true",
                       help="serve the pages as built: no reload script, no reload on change")
    check = commands.add_parser("check", help="report every input and settings problem; write nothing; "
                                              "exit status 1 if there is any")
    _add_common(check, cache=False)
    new = commands.add_parser("new", help="write a new catalogue (settings, templates, static files, one "
                                          "sample record) into a new or empty folder")
    new.add_argument("folder", type=Path, help="where to write it")
    noise = new.add_mutually_exclusive_group()
    noise.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    noise.add_argument("-v", "--verbose", action="store_true", help="list every file written")
    clean = commands.add_parser("clean", help="remove the output folder and everything the generator keeps beside it")
    _add_common(clean, cache=False)
    return parser


def _setup_logging(quiet: bool, verbose: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("site_gen")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def run() -> None:
    """The `site-gen` command (under a profiler, a coverage tool or a debugger, which write their
    findings at exit, it ends as a caller of `main` would)."""
    sys.exit(main(exit_when_built=sys.getprofile() is None and sys.gettrace() is None))


def exit_now(code: int) -> None:
    """End the process without taking its objects apart one by one: a build's model of 100,000 figures
    takes seconds to free, and the system reclaims the memory at once. Called when everything is
    written and closed (the output committed, the model store closed); the logs and streams are flushed."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def main(argv: list[str] | None = None, exit_when_built: bool = False) -> int:
    """The command line; with `exit_when_built` (the command itself, not a caller in Python), the
    process ends as soon as a build is done (`exit_now`)."""
    args = make_parser().parse_args(argv)
    _setup_logging(args.quiet, args.verbose)
    if args.command == "new":
        return new(args.folder)
    overrides = {name: getattr(args, f"setting_{name}") for name in SETTING_FIELDS}
    for name in PATH_SETTINGS:  # a folder named on the command line is relative to where it was typed
        if overrides[name] is not None:
            overrides[name] = str(Path(overrides[name]).resolve())
    try:
        if args.config is not None and not args.config.is_file():
            raise SiteError(f"--config {args.config}: no such file")
        config = args.config or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
        settings, root = load_settings(config, overrides)
        if args.command == "clean":
            return clean(settings, root)
        from site_gen import build, progress

        build.check_folders(settings, root)
        if args.command == "check":
            return check(settings, root, args.jobs)
        if args.command == "serve":
            from site_gen import serve

            return serve.run(settings, root, host=args.bind, port=args.port, open_browser=args.open, jobs=args.jobs,
                             use_cache=not args.no_cache, config=config, overrides=overrides,
                             livereload=not args.no_livereload)
        if exit_when_built:  # the collector, enabled again after the build, would first pass over its whole model
            gc.disable()
        result = build.build(settings, root, strict=args.strict, jobs=args.jobs, use_cache=not args.no_cache,
                             force=args.no_cache, progress=progress.wanted(args.quiet))
    except SiteError as exc:
        log.error("error: %s", exc)
        return 1
    except KeyboardInterrupt:
        return 130
    code = 0 if result.ok and not (args.strict and result.problems) else 1
    if exit_when_built:
        exit_now(code)
    return code


def check(settings, root: Path, jobs: int | None) -> int:
    """`site-gen check`: read and index every record (without the model store, so nothing is written),
    report every problem, and say how many."""
    from site_gen.build import gather
    from site_gen.errors import summarize_problems

    gathered = gather(settings, root, jobs or 1, use_cache=False)
    for problem in sorted(gathered.problems, key=lambda p: (p.src_path, p.line, p.field)):
        log.warning("%s", problem)
    if gathered.problems:
        log.error("%s", summarize_problems(gathered.problems))
        return 1
    log.info("no problems in %d figures", len(gathered.site.figures))
    return 0


def new(folder: Path) -> int:
    """`site-gen new DIR`: a catalogue that builds and serves at once."""
    from site_gen.skeleton import new_site

    try:
        written = new_site(folder)
    except SiteError as exc:
        log.error("error: %s", exc)
        return 1
    for name in written:
        log.debug("wrote %s", name)
    log.info("wrote a new catalogue into %s (%d files: pyproject.toml with its settings, templates/, static/, "
             "records/ with one sample record)\nnext: cd %s && site-gen serve", folder, len(written), folder)
    return 0


def clean(settings, root: Path) -> int:
    """`site-gen clean`: the output folder and what the generator keeps beside it (caches, build state,
    the preview's search index being made), as `make clean` would."""
    output = settings.resolve(root, "output")
    removed = []
    for path in [output, *sorted(output.parent.glob(f".{output.name}.*"))]:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(path.name)
    log.info("removed %s", ", ".join(removed) if removed else "nothing (no output yet)")
    return 0
