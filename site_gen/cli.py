"""Command line: parse flags, then call build or serve. Nothing else."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from site_gen import __version__
from site_gen.errors import SiteError
from site_gen.settings import SETTING_FIELDS, load_settings

log = logging.getLogger("site_gen")
PATH_SETTINGS = ("source", "output", "templates", "static")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=Path("pyproject.toml"),
                        help="TOML file with a [tool.site_gen] table (default: pyproject.toml)")
    group = parser.add_argument_group("settings (override the config file)")
    for name, f in SETTING_FIELDS.items():
        group.add_argument(f"--{name.replace('_', '-')}", dest=f"setting_{name}", metavar=name.upper(),
                           type=int if f.type == "int" else str, default=None, help=f.metadata["help"])
    parser.add_argument("--strict", action="store_true", help="fail when any input problem was reported")
    parser.add_argument("--no-cache", action="store_true",
                        help="parse every record again instead of reusing the parse cache beside the output")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="processes to use (default: all cores)")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("-q", "--quiet", action="store_true", help="print only problems and errors")
    noise.add_argument("-v", "--verbose", action="store_true", help="also print the time of every stage")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="site-gen", description="Build the Pathway Figure OCR catalogue site.")
    parser.add_argument("--version", action="version", version=f"site-gen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the site into the output folder")
    _add_common(build)
    serve = commands.add_parser("serve", help="build, serve on loopback and rebuild on change")
    _add_common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    serve.add_argument("--open", action="store_true", help="open the site in a browser")
    return parser


def _setup_logging(quiet: bool, verbose: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("site_gen")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    _setup_logging(args.quiet, args.verbose)
    overrides = {name: getattr(args, f"setting_{name}") for name in SETTING_FIELDS}
    for name in PATH_SETTINGS:  # a folder named on the command line is relative to where it was typed
        if overrides[name] is not None:
            overrides[name] = str(Path(overrides[name]).resolve())
    try:
        settings, root = load_settings(args.config, overrides)
        if args.command == "serve":
            from site_gen import serve

            return serve.run(settings, root, host=args.host, port=args.port, open_browser=args.open, jobs=args.jobs,
                             use_cache=not args.no_cache, config=args.config, overrides=overrides)
        from site_gen import build, progress

        result = build.build(settings, root, strict=args.strict, jobs=args.jobs, use_cache=not args.no_cache,
                             progress=progress.wanted(args.quiet))
    except SiteError as exc:
        log.error("error: %s", exc)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0 if result.ok and not (args.strict and result.problems) else 1
