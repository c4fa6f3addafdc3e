"""Golden output: the site built from seeds/, kept in tests/golden/site/.

Regenerate with `make golden` (or `python -m tests.golden`) and review the diff like code.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "site"
# The 1,369 name-lookup files: search data, checked by tests/test_search.py. (The Pagefind index is
# not made for the golden site: the pages do not depend on it.)
NOT_GOLDEN = ("search/names/",)
EPOCH = "1700000000"


def build_seeds(output: Path):
    from site_gen.build import build
    from site_gen.settings import Settings

    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    settings = Settings(source=str(REPO / "seeds"), output=str(output),
                        templates=str(REPO / "templates"), static=str(REPO / "static"), search_index="none")
    return build(settings, REPO, force=True)


def main() -> int:
    shutil.rmtree(GOLDEN, ignore_errors=True)
    result = build_seeds(GOLDEN)
    for folder in NOT_GOLDEN:
        shutil.rmtree(GOLDEN / folder, ignore_errors=True)
    count = sum(1 for p in GOLDEN.rglob("*") if p.is_file())
    print(f"wrote {count} golden files to {GOLDEN.relative_to(REPO)}")
    return 0 if result.ok and not result.problems else 1


if __name__ == "__main__":
    sys.exit(main())
