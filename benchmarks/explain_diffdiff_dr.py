"""Why diff-diff's Callaway–Sant'Anna DR with covariates differs from impactlab / R did by ~1e-7.

Run with the peers' environment (diff-diff installed), on the benchmark's 100,000 × 20 file::

    python benchmarks/explain_diffdiff_dr.py WORKDIR/panel_small_100000x20.parquet

For two cells of the first cohort against the never-treated units (base period ``g - 1``) it prints

1. impactlab's ``dr_did_panel`` (Sant'Anna & Zhao 2020, eq. 3.1, as R ``DRDID::drdid_panel``: the
   comparison term ``sum(w_c r_c) / sum(w_c)`` with odds weights ``w = p / (1 - p)``);
2. diff-diff's 2x2 DR step (``CallawaySantAnna._doubly_robust``) as shipped, and again with its logit
   solved to 1e-14 in 200 iterations: identical, so the logit's tolerance is not the cause;
3. the same DR ATT with the comparison term divided by the number of treated units,
   ``mean(r_t) - sum(w_c r_c) / n_t`` (a Horvitz–Thompson form), from our own Newton logit and OLS fit, and
   the standard error from its influence function (derived here: plug-in terms plus the logit and OLS
   estimation effects). Both reproduce diff-diff's numbers to rounding.

The two forms estimate the same ATT: with a logit the odds weights only sum to ``n_t`` asymptotically, so
they differ by ``O(1/n)`` (``sum(w_c r_c)`` is ``O(sqrt(n))`` and ``sum(w_c) / n_t - 1`` is
``O(1/sqrt(n))``); no option of diff-diff's ``CallawaySantAnna`` selects the normalised form.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def _logit(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Maximum-likelihood logit by Newton's method to machine precision; fitted probabilities."""
    b = np.zeros(x.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-x @ b))
        step = np.linalg.solve(x.T @ (x * (p * (1 - p))[:, None]), x.T @ (d - p))
        b += step
        if np.max(np.abs(step)) < 1e-15:
            break
    return 1.0 / (1.0 + np.exp(-x @ b))


def ht_dr(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """DR ATT with the comparison term over the number treated, and its influence-function standard error."""
    tr, co = d == 1, d == 0
    n, nt = d.size, tr.sum()
    p = _logit(x, d)
    beta = np.linalg.lstsq(x[co], dy[co], rcond=None)[0]
    r = dy - x @ beta
    w = np.where(co, p / (1 - p), 0.0)
    att = r[tr].mean() - np.sum(w * r) / nt
    psi = np.where(tr, (r - att) / nt, -w * r / nt)
    hessian = x.T @ (x * (p * (1 - p))[:, None]) / n
    psi += ((d - p)[:, None] * x) @ np.linalg.solve(hessian, -(w * r) @ x / nt) / n  # logit effect
    d_beta = (-x[tr].sum(0) + (w[:, None] * x)[co].sum(0)) / nt
    psi[co] += (r[co][:, None] * x[co]) @ np.linalg.solve(x[co].T @ x[co], d_beta)  # OLS effect
    return float(att), float(np.sqrt(np.sum(psi**2)))


def main(path: str) -> None:
    import diff_diff.staggered as st
    from diff_diff import CallawaySantAnna

    from impactlab.estimators.drdid import dr_did_panel

    df = pd.read_parquet(path, columns=["id", "t", "g", "y", "x1", "x2"])
    g0 = int(df.loc[df["g"] > 0, "g"].min())
    sub = df[(df["g"] == g0) | (df["g"] == 0)]
    base = sub[sub["t"] == g0 - 1].set_index("id")
    X = base[["x1", "x2"]].to_numpy(dtype="float64")
    x = np.column_stack([np.ones(len(X)), X])
    d = (base["g"] == g0).to_numpy(dtype="float64")
    tr, co = d == 1, d == 0
    cs = CallawaySantAnna(estimation_method="dr")
    cs._safe_inv_tracker = []  # set by fit(); the 2x2 step is called on its own here
    shipped = st.solve_logit
    for t in (g0, g0 + 3):
        post = sub[sub["t"] == t].set_index("id").loc[base.index]
        dy = post["y"].to_numpy() - base["y"].to_numpy()
        il = dr_did_panel(post["y"].to_numpy(), base["y"].to_numpy(), d, x)
        dd, dd_se, _ = cs._doubly_robust(dy[tr], dy[co], X[tr], X[co])
        st.solve_logit = lambda *a, **k: shipped(*a, **{**k, "max_iter": 200, "tol": 1e-14})
        try:
            tight, tight_se, _ = cs._doubly_robust(dy[tr], dy[co], X[tr], X[co])
        finally:
            st.solve_logit = shipped
        ht, ht_se = ht_dr(dy, d, x)
        print(f"ATT({g0},{t}): {int(tr.sum())} treated, {int(co.sum())} never treated")
        print(f"  impactlab / R did (sum of weights)   {il.att:.15f}  se {il.std_error:.15f}")
        print(f"  diff-diff as shipped                 {dd:.15f}  se {dd_se:.15f}   "
              f"gap {abs(dd - il.att) / abs(il.att):.1e} / {abs(dd_se - il.std_error) / il.std_error:.1e}")
        print(f"  diff-diff, logit to 1e-14            {tight:.15f}  se {tight_se:.15f}   "
              f"vs shipped {abs(tight - dd):.1e} / {abs(tight_se - dd_se):.1e}")
        print(f"  own, comparison term over n_treated  {ht:.15f}  se {ht_se:.15f}   "
              f"vs diff-diff {abs(ht - dd):.1e} / {abs(ht_se - dd_se):.1e}")


if __name__ == "__main__":
    main(sys.argv[1])
