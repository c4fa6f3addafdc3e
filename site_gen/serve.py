"""Local preview: build, serve the output as Netlify would, rebuild on change, reload the browser."""
from __future__ import annotations

import html
import logging
import mimetypes
import threading
import time
import webbrowser
from pathlib import Path
from urllib.parse import unquote

from site_gen.build import build
from site_gen.errors import Problem, SiteError
from site_gen.index import out_path_for
from site_gen.settings import Settings

log = logging.getLogger(__name__)

HTML_TYPE = "text/html; charset=utf-8"


def read_redirect_rules(output: Path) -> dict[str, tuple[str, int]]:
    """Exact-path rules of a Netlify `_redirects` file: from → (to, status)."""
    rules: dict[str, tuple[str, int]] = {}
    try:
        lines = (output / "_redirects").read_text(encoding="utf-8").splitlines()
    except OSError:
        return rules
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#"):
            status = int(parts[2].rstrip("!")) if len(parts) > 2 and parts[2].rstrip("!").isdigit() else 301
            rules.setdefault(parts[0], (parts[1], status))
    return rules


def safe_path(output: Path, url_path: str) -> Path | None:
    """The file a request path names inside `output`, or None if the path tries to leave it."""
    parts = [p for p in url_path.split("/") if p]
    if any(p in (".", "..") or "\\" in p or "\0" in p for p in parts):
        return None
    candidate = output.joinpath(*parts) if parts else output
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError):
        return None
    return resolved if resolved == output or resolved.is_relative_to(output) else None


class Preview:
    """The served site: the output folder, its redirect rules, and the state of the last build."""

    def __init__(self, settings: Settings, root: Path):
        self.settings = settings
        self.root = root
        self.output = settings.resolve(root, "output")
        self.error: str | None = None
        self.problems: list[Problem] = []
        self.rules: dict[str, tuple[str, int]] = {}
        self.lock = threading.Lock()

    def rebuild(self) -> None:
        start = time.perf_counter()
        with self.lock:
            try:
                result = build(self.settings, self.root)
            except SiteError as exc:
                self.error = str(exc)
                log.error("build failed: %s", exc)
                return
            except Exception as exc:  # keep serving whatever goes wrong; say what it was
                self.error = f"{type(exc).__name__}: {exc}"
                log.exception("build failed")
                return
            self.error = None
            self.problems = result.problems
            self.rules = read_redirect_rules(self.output)
        log.info("rebuilt in %.2f s", time.perf_counter() - start)

    # --- WSGI ---------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        raw = environ.get("PATH_INFO", "/")
        try:
            path = unquote(raw.encode("latin-1").decode("utf-8"))
        except UnicodeError:
            return self._respond(start_response, "400 Bad Request", b"bad request path\n", "text/plain")
        if self.error is not None:
            return self._respond(start_response, "500 Build Failed", self._error_page(), HTML_TYPE)
        if "\0" in path or "\\" in path:
            return self._not_found(start_response)
        directory = safe_path(self.output, path)
        if directory is not None and directory.is_dir() and not path.endswith("/"):
            return self._redirect(start_response, path + "/", 301)
        # as Netlify does: a file at the very path, then a redirect rule, then the pretty or sharded file
        if directory is not None and directory.is_file():
            return self._file(start_response, directory, "200 OK")
        rule = self.rules.get(path)
        if rule:
            return self._redirect(start_response, rule[0], rule[1])
        target = safe_path(self.output, out_path_for(path))
        if target is not None and target.is_file():
            return self._file(start_response, target, "200 OK")
        return self._not_found(start_response)

    def _file(self, start_response, target: Path, status: str):
        body = target.read_bytes()
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind == "text/html":
            kind = HTML_TYPE
            body = self._with_problems(body)
        elif kind.startswith("text/") or kind in ("application/json", "application/xml"):
            kind += "; charset=utf-8"
        return self._respond(start_response, status, body, kind)

    def _not_found(self, start_response):
        page = self.output / "404.html"
        if page.is_file():
            return self._file(start_response, page, "404 Not Found")
        return self._respond(start_response, "404 Not Found", b"not found\n", "text/plain")

    def _redirect(self, start_response, location: str, status: int):
        reason = {301: "Moved Permanently", 302: "Found", 200: "OK"}.get(status, "Moved Permanently")
        start_response(f"{status} {reason}", [("Location", location), ("Content-Type", "text/plain"),
                                              ("Cache-Control", "no-store")])
        return [f"redirect to {location}\n".encode()]

    @staticmethod
    def _respond(start_response, status: str, body: bytes, kind: str):
        start_response(status, [("Content-Type", kind), ("Cache-Control", "no-store"),
                                ("X-Content-Type-Options", "nosniff")])
        return [body]

    def _error_page(self) -> bytes:
        message = html.escape(self.error or "")
        return (
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Build failed</title></head>"
            f"<body><h1>Build failed</h1><pre>{message}</pre><p>Fix the file and save it: this page reloads "
            "by itself.</p></body></html>"
        ).encode()

    def _with_problems(self, body: bytes) -> bytes:
        """Show the last build's input problems on top of every page while there are any."""
        if not self.problems:
            return body
        items = "".join(f"<li>{html.escape(str(p))}</li>" for p in self.problems[:50])
        more = f"<li>… and {len(self.problems) - 50} more</li>" if len(self.problems) > 50 else ""
        banner = (f'<aside role="alert" style="background:#fff3cd;border-bottom:2px solid #d39e00;padding:.5rem 1rem">'
                  f"<strong>{len(self.problems)} input problem(s) in the last build</strong><ul>{items}{more}</ul></aside>")
        return body.replace(b"<body>", b"<body>" + banner.encode(), 1)


def run(settings: Settings, root: Path, host: str = "127.0.0.1", port: int = 8000,
        open_browser: bool = False, jobs: int | None = None) -> int:
    from livereload import Server

    preview = Preview(settings, root)
    preview.rebuild()
    server = Server(preview)
    watched = [settings.resolve(root, name) for name in ("source", "templates", "static")]
    config = root / "pyproject.toml"
    for path in watched + ([config] if config.exists() else []):
        server.watch(str(path), preview.rebuild, delay=0.2)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, [f"http://{host}:{port}/"]).start()
    log.info("serving %s on http://%s:%d/ (Ctrl-C stops)", settings.output, host, port)
    try:
        server.serve(host=host, port=port, restart_delay=0, debug=False)
    except KeyboardInterrupt:
        log.info("stopped")
    return 0
