"""parallel: work shared over forked processes, the parent doing the first share."""
from __future__ import annotations

import os

import pytest

from site_gen.parallel import run_shares


def _share(shared, index, jobs):
    return index, jobs, os.getpid(), shared


# scenario as it was in test_scale.py, so that `make test-fast` runs the same tests
@pytest.mark.scenario
def test_work_is_shared_with_the_parent_doing_the_first_share():
    results = run_shares(_share, "state", 3)
    assert [r[:2] for r in results] == [(0, 3), (1, 3), (2, 3)]
    assert results[0][2] == os.getpid() and os.getpid() not in {r[2] for r in results[1:]}
    assert all(r[3] == "state" for r in results)
    assert run_shares(_share, "state", 1) == [(0, 1, os.getpid(), "state")]
