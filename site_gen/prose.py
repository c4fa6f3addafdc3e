"""The site's own pages written in Markdown: About, Help, How to cite, Statistics.

Each is a file of the source's `_pages/` folder (as Jekyll keeps pages beside its collections), with
front matter and a Markdown body, rendered with markdown-it-py through a page template, at
`/<file name>.html` (`about.md` → `/about.html`, the reference site's URLs). A curator edits the
prose without touching templates. Front matter:

- `title` (required): the page's title, and its name in the header and footer;
- `template`: the page template (default `page.html`; `stats.html` adds the catalogue's numbers,
  counted by the build);
- `nav`: its place in the header and footer (a number, lower first; `false` keeps it out);
- `citation`: a publication to cite (`authors`, `title`, `journal`, `volume`, `pages`, `year`,
  `doi`), given as schema.org `ScholarlyArticle` JSON-LD too.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from site_gen.errors import Problem
from site_gen.load import display_path, find_field_line, parse_front_matter

PAGES_FOLDER = "_pages"
CITATION_FIELDS = ("authors", "title", "journal", "volume", "pages", "year", "doi")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
RESERVED = {"index", "search", "downloads", "404", "sitemap", "feed", "robots"}  # the site's own pages and files


class ProsePage(NamedTuple):
    url: str
    title: str
    template: str
    body: str
    nav: int | None  # place in the header and footer; None: not listed
    citation: dict | None
    src_path: str


def load_prose(source: Path, templates: Path | None, problems: list[Problem]) -> tuple[ProsePage, ...]:
    """The pages of `source/_pages/`, by URL; a bad one is reported (file, line, field) and left out."""
    folder = source / PAGES_FOLDER
    if not folder.is_dir():
        return ()
    pages = []
    for path in sorted(folder.glob("*.md")):
        shown = display_path(path)
        parsed = parse_front_matter(path, problems)
        if parsed is None:
            continue
        front, body = parsed

        def problem(field: str, message: str) -> None:
            line = (find_field_line(shown, (field,)) or 1) if field in front else 1
            problems.append(Problem(shown, line, field, message, skipped=True))

        name = path.stem
        if not _NAME.match(name) or name in RESERVED:
            problem("", f"page file name {path.name!r}: use lower-case letters, digits, '-' and '_' (it is the URL), "
                        f"and none of {', '.join(sorted(RESERVED))}")
            continue
        title = front.get("title")
        if not isinstance(title, str) or not title.strip():
            problem("title", "a page needs a title")
            continue
        template = front.get("template", "page.html")
        if not isinstance(template, str) or (templates is not None and not (templates / template).is_file()):
            problem("template", f"no template {template!r} in the templates folder")
            continue
        nav = front.get("nav", 100)
        if nav is False:
            nav = None
        elif isinstance(nav, bool) or not isinstance(nav, int):
            problem("nav", f"expected a number (its place in the menus) or false, got {nav!r}")
            continue
        citation = front.get("citation")
        if citation is not None and (not isinstance(citation, dict) or set(citation) - set(CITATION_FIELDS)):
            problem("citation", f"expected a mapping of {', '.join(CITATION_FIELDS)}")
            continue
        pages.append(ProsePage(f"/{name}.html", title.strip(), template, body, nav, citation, shown))
    return tuple(pages)


def outline(pages) -> tuple[tuple[str, str, int | None], ...]:
    """(URL, title, menu place) of each page: what every page of the site shows of them (the menus)."""
    return tuple((p.url, p.title, p.nav) for p in pages)


def menu(pages) -> tuple[tuple[str, str], ...]:
    """(URL, title) of the pages listed in the header and footer, in their order."""
    listed = sorted((p for p in pages if p.nav is not None), key=lambda p: (p.nav, p.url))
    return tuple((p.url, p.title) for p in listed)
