"""`site-gen new DIR`: a new catalogue that builds and serves at once (as `hugo new site`, `mkdocs new`,
`zola init`): settings, the default templates and static files, and one real PFOCR record (CC0) with
its gene table and an organism file, to edit or replace."""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from site_gen.errors import SiteError

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "sample"

SETTINGS = '''\
# Settings of this catalogue: `site-gen build` and `site-gen serve` read the [tool.site_gen] table.
# Every setting is listed by `site-gen build --help`.
[tool.site_gen]
title = {title}
base_url = "https://example.org"
# where it is served: "netlify" (writes _redirects and _headers), "github-pages" (writes .nojekyll;
# put a project site's path in base_url), or "plain" (any static host, or opened from disk)
host = "netlify"
source = "records"
output = "_site"
'''

IGNORE = """\
/_site/
/._site.*
"""


def default_folder(name: str) -> Path:
    """The generator's own `templates` or `static`: inside the package when installed from a wheel,
    beside it in a source checkout."""
    for candidate in (HERE / name, HERE.parent / name):
        if candidate.is_dir():
            return candidate
    raise SiteError(f"the default {name} folder is missing from this installation of site-gen ({HERE})")


def new_site(target: Path) -> list[str]:
    """Write a new catalogue into `target` (made if missing; it must be empty); what it wrote."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise SiteError(f"{target} already exists and is not an empty folder; "
                        "site-gen new writes only into a new or empty one")
    templates, static = default_folder("templates"), default_folder("static")
    target.mkdir(parents=True, exist_ok=True)
    title = target.resolve().name.replace("-", " ").replace("_", " ").strip() or "Pathway figures"
    (target / "pyproject.toml").write_text(SETTINGS.format(title=json.dumps(title, ensure_ascii=False)), encoding="utf-8")
    (target / ".gitignore").write_text(IGNORE, encoding="utf-8")
    ignore = shutil.ignore_patterns("__pycache__", "*.py", "*.pyc")
    shutil.copytree(templates, target / "templates", ignore=ignore)
    shutil.copytree(static, target / "static", ignore=ignore)
    shutil.copytree(SAMPLE, target / "records", ignore=ignore)
    return sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
