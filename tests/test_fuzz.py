"""Bounded fuzzing: hostile random records never crash a build or produce unsafe output."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz_records import build_and_check, raw_file


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(raw_file, min_size=1, max_size=3))
def test_random_records_never_break_the_build(files):
    build_and_check(files)
