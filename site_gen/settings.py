"""Site settings: one dataclass, read from `[tool.site_gen]` of a TOML file, each overridable by a flag."""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from site_gen.errors import SiteError

# Figure images are hot-linked. PMC's own figure links broke in 2024; the reference site has since
# served Europe PMC's file API (`europepmc`, the default). The others stay as settings.
IMAGE_URL_PATTERNS = {
    "europepmc": "https://europepmc.org/api/fulltextRepo?pmcId={pmcid}&type=FILE&fileName={filename}",
    "europepmc-articles": "https://europepmc.org/articles/{pmcid}/bin/{filename}",
    "pmc": "https://www.ncbi.nlm.nih.gov/pmc/articles/{pmcid}/bin/{filename}",
}


HOSTS = ("netlify", "github-pages", "plain")


def _setting(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    title: str = _setting("Pathway Figure OCR", "site title shown on every page")
    description: str = _setting(
        "Pathway figures mined from open-access papers, with the genes, chemicals, "
        "diseases and organisms found in each.",
        "one-sentence description of the catalogue",
    )
    base_url: str = _setting("https://pfocr.wikipathways.org", "absolute URL the site is deployed at")
    image_url: str = _setting(
        "europepmc",
        "figure image URL: 'europepmc' (its file API, as the reference site), 'europepmc-articles', 'pmc', "
        "or a pattern with {pmcid} and {filename}",
    )
    source: str = _setting("seeds", "folder of figure records")
    output: str = _setting("_site", "folder the site is written to")
    templates: str = _setting("templates", "folder of Jinja2 templates")
    static: str = _setting("static", "folder of static assets")
    page_size: int = _setting(200, "entries per page of overview and entity lists")
    sitemap_size: int = _setting(45000, "URLs per sitemap file (at most 50,000)")
    host: str = _setting("netlify", "where the site is served: netlify, github-pages or plain (any static host); "
                                    "what is written for it and the limits it is checked against")
    folder_limit: int = _setting(50000, "on Netlify, most entries an output folder may hold (Netlify refuses 54,000); "
                                        "a section with more is spread over prefix folders")
    search_index: str = _setting("pagefind", "full-text search index: pagefind, or none")
    edit_url: str = _setting("", "an 'edit this record' link on each figure page: a URL pattern with {src_path} "
                                 "(the record's path in the source folder) and {figid}; none when empty")
    report_url: str = _setting("", "a 'report a problem' link on each figure page: a URL pattern with {figid} "
                                   "and {src_path}; none when empty")
    license_url: str = _setting(
        "https://creativecommons.org/publicdomain/zero/1.0/", "license of the catalogue data"
    )
    publisher: str = _setting("WikiPathways", "organisation publishing the catalogue")

    @property
    def base_path(self) -> str:
        """The path of `base_url` (`/pfocr` for a project site), without the trailing slash; "" at the root."""
        return urlsplit(self.base_url).path.rstrip("/")

    @property
    def image_url_pattern(self) -> str:
        return IMAGE_URL_PATTERNS.get(self.image_url, self.image_url)

    def resolve(self, root: Path, name: str) -> Path:
        """A folder setting as a path, relative to the folder holding the settings file."""
        return (root / getattr(self, name)).resolve()


SETTING_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _check_type(name: str, value) -> str | None:
    expected = SETTING_FIELDS[name].type
    if expected == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name}: expected an integer, got {value!r}"
        if value < 1:
            return f"{name}: must be at least 1, got {value}"
    elif not isinstance(value, str):
        return f"{name}: expected text, got {type(value).__name__}"
    return None


def _check_values(s: Settings) -> list[str]:
    problems = []
    parts = urlsplit(s.base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(f"base_url: expected an absolute http(s) URL, got {s.base_url!r}")
    elif parts.query or parts.fragment:
        problems.append(f"base_url: must not have a query or fragment, got {s.base_url!r}")
    pattern = s.image_url_pattern
    if "{filename}" not in pattern or not pattern.startswith(("http://", "https://")):
        problems.append(
            f"image_url: expected one of {sorted(IMAGE_URL_PATTERNS)} or an http(s) pattern "
            f"with {{pmcid}} and {{filename}}, got {s.image_url!r}"
        )
    else:
        try:
            pattern.format(pmcid="PMC1", filename="f.jpg")
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"image_url: bad pattern {pattern!r}: {exc}")
    for name in ("edit_url", "report_url"):
        pattern = getattr(s, name)
        if not pattern:
            continue
        if not pattern.startswith(("http://", "https://")):
            problems.append(f"{name}: expected an http(s) URL pattern, got {pattern!r}")
            continue
        try:
            pattern.format(src_path="seeds/a.md", figid="PMC1__F1")
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"{name}: bad pattern {pattern!r} (it may use {{src_path}} and {{figid}}): {exc!r}")
    if s.sitemap_size > 50000:
        problems.append(f"sitemap_size: sitemaps hold at most 50,000 URLs, got {s.sitemap_size}")
    if s.search_index not in ("pagefind", "none"):
        problems.append(f"search_index: expected pagefind or none, got {s.search_index!r}")
    if s.host not in HOSTS:
        problems.append(f"host: expected one of {', '.join(HOSTS)}, got {s.host!r}")
    if s.folder_limit < 1:
        problems.append(f"folder_limit: expected a positive number, got {s.folder_limit}")
    return problems


def load_settings(config_path: Path | None, overrides: dict) -> tuple[Settings, Path]:
    """Settings from `[tool.site_gen]` of `config_path` (if it exists), then `overrides`.

    Returns the settings and the root folder that relative paths are resolved against.
    Every problem is reported at once in one SiteError.
    """
    values: dict = {}
    root = Path.cwd()
    problems: list[str] = []
    where = "settings"
    if config_path is not None and config_path.exists():
        root = config_path.resolve().parent
        where = str(config_path)
        try:
            table = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SiteError(f"{config_path}: {exc}") from exc
        values = dict(table.get("tool", {}).get("site_gen", {}))
    for name in sorted(values):
        if name not in SETTING_FIELDS:
            problems.append(f"{name}: unknown setting (known: {', '.join(SETTING_FIELDS)})")
            del values[name]
    values.update({k: v for k, v in overrides.items() if v is not None})
    for name in sorted(values):
        problem = _check_type(name, values[name])
        if problem:
            problems.append(problem)
            del values[name]  # checked no further, but the other settings still are
    if "base_url" in values:
        values["base_url"] = values["base_url"].rstrip("/")
    settings = Settings(**values)
    problems.extend(_check_values(settings))
    if problems:
        raise SiteError(f"{where}: bad settings:\n  " + "\n  ".join(problems))
    return settings, root
