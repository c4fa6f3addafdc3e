"""Long fuzzing run: python -m bench.fuzz [--examples 2000]. Prints how many sites were built."""
from __future__ import annotations

import argparse
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz_records import build_and_check, raw_file


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=2000)
    args = parser.parse_args(argv)
    count = 0

    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(raw_file, min_size=1, max_size=6))
    def run(files):
        nonlocal count
        count += 1
        build_and_check(files)

    start = time.perf_counter()
    run()
    print(f"{count} random sites built and checked in {time.perf_counter() - start:.0f} s: no failure")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
