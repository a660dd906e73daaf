"""Run every benchmark module (``make bench``), or those named: ``python -m benchmarks engine``."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def main(names: list[str]) -> None:
    modules = pkgutil.iter_modules(benchmarks.__path__)
    found = sorted(m.name for m in modules if m.name.startswith("bench_"))
    chosen = [n for n in found if not names or n.removeprefix("bench_") in names]
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"benchmarks.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
