"""The weights of synthetic difference-in-differences and synthetic control, on an outcome matrix.

``Y`` is units × periods with the ``n0`` control units first and the ``t0`` pre-training periods first.
The unit weights ω and time weights λ solve the regularised least-squares problems of Arkhangelsky,
Athey, Hirshberg, Imbens & Wager (2021, AER, eqs. 2.2–2.3) over the unit simplex, by Frank–Wolfe with
exact line search, a first pass of at most 100 iterations, a sparsifying step (weights at most a quarter
of the largest set to zero) and a second pass, stopping when an iteration lowers the penalised error by
less than ``min_decrease²`` — the algorithm and defaults of R ``synthdid`` 0.0.9
(``synthdid_estimate``, ``sc.weight.fw``), so that estimates agree with it to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Iterations of the first Frank–Wolfe pass (before sparsifying) and of the second (R synthdid's).
FIRST_PASS = 100
MAX_ITER = 10_000
#: Above this many weights the k × k matrix AᵀA is not formed (3,000 weights: 72 MB) and each step
#: recomputes the gradient from the residuals instead, in O(rows × weights).
GRAM_LIMIT = 3_000


@dataclass(frozen=True)
class Fit:
    """One fit on a matrix: the estimate and the weights that made it."""

    estimate: float
    omega: np.ndarray
    lam: np.ndarray


@dataclass(frozen=True)
class Tuning:
    """The fit-time tuning, kept for the placebo, bootstrap and jackknife refits."""

    zeta_omega: float
    zeta_lambda: float
    min_decrease: float
    omega_intercept: bool
    update_lambda: bool


def noise_level(Y: np.ndarray, n0: int, t0: int) -> float:
    """σ̂: the standard deviation of the period-to-period changes of the control units before training."""
    d = np.diff(Y[:n0, :t0], axis=1)
    return float(np.std(d, ddof=1)) if d.size > 1 else float("nan")


def collapsed(Y: np.ndarray, n0: int, t0: int) -> np.ndarray:
    """The (n0 + 1) × (t0 + 1) matrix: treated units averaged into the last row, post periods into the
    last column."""
    top = np.column_stack([Y[:n0, :t0], Y[:n0, t0:].mean(axis=1)])
    bottom = np.append(Y[n0:, :t0].mean(axis=0), Y[n0:, t0:].mean())
    return np.vstack([top, bottom])


def simplex_weights(Y: np.ndarray, zeta: float, intercept: bool, init: np.ndarray | None,
                    min_decrease: float, max_iter: int) -> np.ndarray:
    """Weights x on the simplex fitting the last column of ``Y`` by its other columns (rows are the
    observations), penalised by ``zeta² · rows · ||x||²``; with ``intercept`` the columns are centred.

    Frank–Wolfe with exact line search: each step moves x towards the vertex e_i of the smallest
    half-gradient ``g = Aᵀ(Ax − b) + eta·x`` by the step that minimises the objective on that segment.
    The step is ``x ← (1 − s)·x + s·e_i``, so ``g``, ``gᵀx``, ``||x||²``, ``(Aᵀb)ᵀx``, ``bᵀ(Ax − b)``
    and ``||Ax − b||²`` follow from their previous values and one row of ``AᵀA``: a step costs O(columns),
    which is what makes thousands of steps per fit (and a fit per placebo draw) affordable. The iterates
    are R synthdid's (``fw.step``) up to rounding.
    """
    n, k = Y.shape[0], Y.shape[1] - 1
    x = np.full(k, 1.0 / k) if init is None else np.asarray(init, dtype="float64").copy()
    if intercept:
        Y = Y - Y.mean(axis=0)
    A, b = Y[:, :k], Y[:, k]
    if k > GRAM_LIMIT:
        return _direct(A, b, zeta, x, min_decrease, max_iter)
    G = A.T @ A
    Atb = A.T @ b
    eta = n * zeta**2
    H2 = G - Atb + eta * np.eye(k)      # row i: the change of g when x moves to e_i
    diag = np.diag(G).tolist()
    atb = Atb.tolist()
    bb = float(b @ b)
    z2 = zeta**2
    r = A @ x - b
    hg = A.T @ r + eta * x              # the half-gradient
    xx = float(x @ x)
    br = float(b @ r)
    rr = float(r @ r)
    p = float(hg @ x)
    atbx = float(Atb @ x)
    tol = min_decrease**2
    prev = cur = np.inf
    it = 0
    while it < max_iter and (it < 2 or prev - cur > tol):
        it += 1
        i = int(hg.argmin())
        xi = float(x[i])
        if not (xi == 1.0 and xx == 1.0):
            gi = float(hg[i])
            ri = gi - eta * xi                       # (A e_i)ᵀ r
            ax_ax = rr + 2 * br + bb
            d_err2 = diag[i] - 2 * (ri + atb[i]) + ax_ax
            d_x2 = 1.0 - 2 * xi + xx
            step = -(gi - p) / (d_err2 + eta * d_x2)
            s = min(1.0, max(0.0, step))
            if s > 0.0:
                q = 1.0 - s
                h2x = gi + atb[i] - atbx                 # H2_i · x
                p = q * q * p + q * s * gi + s * q * h2x + s * s * float(H2[i, i])
                rr = q * q * rr + 2 * s * q * (ri - br) + s * s * (diag[i] - 2 * atb[i] + bb)
                br = q * br + s * (atb[i] - bb)
                xx = q * q * xx + 2 * s * q * xi + s * s
                atbx = q * atbx + s * atb[i]
                x *= q
                x[i] += s
                hg *= q
                hg += s * H2[i]
        prev, cur = cur, z2 * xx + rr / n
    return x


def _direct(A: np.ndarray, b: np.ndarray, zeta: float, x: np.ndarray, min_decrease: float,
            max_iter: int) -> np.ndarray:
    """The same Frank–Wolfe iterations as :func:`simplex_weights`, the gradient recomputed at each step
    (memory O(rows × weights), for many weights)."""
    n = A.shape[0]
    eta = n * zeta**2
    Ax = A @ x
    tol = min_decrease**2
    prev = cur = np.inf
    it = 0
    while it < max_iter and (it < 2 or prev - cur > tol):
        it += 1
        half_grad = (Ax - b) @ A + eta * x
        i = int(np.argmin(half_grad))
        d_x = -x
        d_x[i] += 1.0
        if d_x.any():
            d_err = A[:, i] - Ax
            step = -float(half_grad @ d_x) / (float(d_err @ d_err) + eta * float(d_x @ d_x))
            s = min(1.0, max(0.0, step))
            x = x + s * d_x
            Ax = Ax + s * d_err
        err = Ax - b
        prev, cur = cur, zeta**2 * float(x @ x) + float(err @ err) / n
    return x


def _sparsify(v: np.ndarray) -> np.ndarray:
    v = np.where(v <= v.max() / 4, 0.0, v)
    return v / v.sum()


def _two_pass(Y: np.ndarray, zeta: float, intercept: bool, init: np.ndarray | None,
              min_decrease: float) -> np.ndarray:
    first = simplex_weights(Y, zeta, intercept, init, min_decrease, FIRST_PASS)
    return simplex_weights(Y, zeta, intercept, _sparsify(first), min_decrease, MAX_ITER)


def sum_normalize(x: np.ndarray) -> np.ndarray:
    """``x`` scaled to sum to one; equal weights when it sums to zero (a starting point only)."""
    s = x.sum()
    return x / s if s != 0 else np.full(len(x), 1.0 / len(x))


def fit(Y: np.ndarray, n0: int, t0: int, tuning: Tuning, omega_init: np.ndarray | None = None,
        lam_init: np.ndarray | None = None) -> Fit:
    """Estimate ω (and λ unless the tuning fixes it at zero, synthetic control) and the effect."""
    Yc = collapsed(Y, n0, t0)
    if tuning.update_lambda:
        lam = _two_pass(Yc[:n0, :], tuning.zeta_lambda, True, lam_init, tuning.min_decrease)
    else:
        lam = np.zeros(t0)
    omega = _two_pass(Yc[:, :t0].T, tuning.zeta_omega, tuning.omega_intercept, omega_init,
                      tuning.min_decrease)
    return Fit(estimate=contrast(Y, n0, t0, omega, lam), omega=omega, lam=lam)


def contrast(Y: np.ndarray, n0: int, t0: int, omega: np.ndarray, lam: np.ndarray) -> float:
    """τ̂ = (treated − ω-weighted controls) post-period mean minus the same, λ-weighted, before."""
    n1, t1 = Y.shape[0] - n0, Y.shape[1] - t0
    u = np.concatenate([-omega, np.full(n1, 1.0 / n1)])
    t = np.concatenate([-lam, np.full(t1, 1.0 / t1)])
    return float(u @ Y @ t)


def placebo_draws(Y: np.ndarray, n0: int, t0: int, tuning: Tuning, base: Fit, n_draws: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Algorithm 4: controls permuted, the last n1 of them acting as treated, weights refitted (warm-started
    from the fit's, as R synthdid ``placebo_se``)."""
    n1 = Y.shape[0] - n0
    m = n0 - n1
    out = np.empty(n_draws)
    for r in range(n_draws):
        perm = rng.permutation(n0)
        out[r] = fit(Y[perm], m, t0, tuning, sum_normalize(base.omega[perm[:m]]), base.lam).estimate
    return out


def bootstrap_draws(Y: np.ndarray, n0: int, t0: int, tuning: Tuning, base: Fit, n_draws: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Algorithm 2: units resampled with replacement (draws with no control or no treated unit redrawn),
    weights refitted from the fit's."""
    n = Y.shape[0]
    out = np.empty(n_draws)
    r = 0
    while r < n_draws:
        ind = np.sort(rng.integers(0, n, n))
        ctrl = ind[ind < n0]
        if len(ctrl) == 0 or len(ctrl) == n:
            continue
        out[r] = fit(Y[ind], len(ctrl), t0, tuning, sum_normalize(base.omega[ctrl]), base.lam).estimate
        r += 1
    return out


def jackknife_values(Y: np.ndarray, n0: int, t0: int, base: Fit) -> np.ndarray:
    """Algorithm 3 (fixed weights): the estimate with each unit left out in turn, ω renormalised."""
    n = Y.shape[0]
    out = np.empty(n)
    for i in range(n):
        keep = np.delete(np.arange(n), i)
        ctrl = keep[keep < n0]
        omega = sum_normalize(base.omega[ctrl])
        out[i] = contrast(Y[keep], len(ctrl), t0, omega, base.lam)
    return out


def draws_se(draws: np.ndarray) -> float:
    """sqrt((r − 1)/r) · sd of the draws (R synthdid's scaling of placebo and bootstrap draws)."""
    r = len(draws)
    return float(np.sqrt((r - 1) / r) * np.std(draws, ddof=1))


def jackknife_se(values: np.ndarray) -> float:
    n = len(values)
    return float(np.sqrt((n - 1) / n * (n - 1) * np.var(values, ddof=1)))
