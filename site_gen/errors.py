"""Problems found in the input, reported as `file:line: field: problem`."""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input file. `line` is 1-based; 0 when unknown."""

    src_path: str
    line: int
    field: str
    message: str
    skipped: bool = False  # the whole record was left out of the site

    def __str__(self) -> str:
        where = f"{self.src_path}:{self.line}" if self.line else self.src_path
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class SiteError(Exception):
    """A failure that stops the build (bad settings, unwritable output, template error)."""


def summarize_problems(problems: list[Problem]) -> str:
    """One line: how many problems, in how many files, how many records skipped and why."""
    if not problems:
        return "no problems found"
    files = len({p.src_path for p in problems})
    skipped = [p for p in problems if p.skipped]
    text = f"{len(problems)} problem(s) in {files} file(s)"
    if skipped:
        reasons = Counter(p.message.split(":")[0] for p in skipped)
        why = "; ".join(f"{n} × {reason}" for reason, n in sorted(reasons.items()))
        text += f"; {len(skipped)} record(s) skipped ({why})"
    return text
