"""Regenerate the sample data shipped in ``data/sample/``.

Usage::

    python -m impactlab.datasets.make_sample data/sample            # the shipped draw (seed 7)
    python -m impactlab.datasets.make_sample OUT --seed 11 --employees 500 --periods 24

The shipped sample is exactly ``simulate_org(n_employees=2000, n_periods=24, seed=7).to_csv(OUT)``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from impactlab.datasets._sample_readme import sample_readme
from impactlab.datasets.simulate import simulate_org

#: The arguments of the shipped sample; tests regenerate it from these.
SAMPLE_ARGS = {"n_employees": 2000, "n_periods": 24, "seed": 7}


def main(argv: Sequence[str] | None = None) -> int:
    """Write one seeded draw of :func:`simulate_org` as CSV files, ``truth.json`` and a ``README.md``."""
    parser = argparse.ArgumentParser(prog="python -m impactlab.datasets.make_sample",
                                     description="Write a simulated organisation as CSV files.")
    parser.add_argument("out", help="output directory (created if missing)")
    parser.add_argument("--seed", type=int, default=SAMPLE_ARGS["seed"])
    parser.add_argument("--employees", type=int, default=SAMPLE_ARGS["n_employees"])
    parser.add_argument("--periods", type=int, default=SAMPLE_ARGS["n_periods"])
    args = parser.parse_args(argv)
    org = simulate_org(n_employees=args.employees, n_periods=args.periods, seed=args.seed)
    paths = org.to_csv(args.out)
    readme = Path(args.out) / "README.md"
    readme.write_text(sample_readme(org), encoding="utf-8")
    paths["readme"] = readme
    print(f"Wrote {len(paths)} files to {args.out}")
    print(f"True overall ATT on {org.outcome!r}: {org.truth.overall:.2f} per employee-month "
          f"(anticipation/dip periods: {org.truth.dip_periods})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
