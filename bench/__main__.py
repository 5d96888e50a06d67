"""``make bench``: run every ``bench/bench_*.py`` and print each measured number beside its floor.

Each module has ``run() -> list[Measure]``. The exit code is non-zero when a floor is missed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

from bench.measure import Measure


def main(argv: list[str]) -> int:
    wanted = set(argv)
    package = importlib.import_module("bench")
    names = sorted(
        m.name
        for m in pkgutil.iter_modules(package.__path__)
        if m.name.startswith("bench_") and (not wanted or m.name.removeprefix("bench_") in wanted)
    )
    failed: list[Measure] = []
    for name in names:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        for measure in module.run():
            print(f"   {measure}", flush=True)
            if not measure.ok:
                failed.append(measure)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    if failed:
        print(f"{len(failed)} floor(s) missed: " + ", ".join(m.name for m in failed))
        return 1
    print("all floors met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
