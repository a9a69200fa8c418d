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
    H2 = G - Atb                        # row i: the change of g when x moves to e_i
    H2.flat[::k + 1] += eta             # + eta on the diagonal, without a k x k identity
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
    """The same Frank–Wolfe iterations as :func:`simplex_weights` without the weights × weights matrix
    (memory O(rows × weights), for many weights).

    With few rows (the pre-training periods) and many weights (the untrained units), a step's cost is the
    half-gradient ``Aᵀr + eta·x``, r = Ax − b. x is kept as ``c·x̃`` (a step scales it and moves one entry),
    so the half-gradient is one matrix-vector product of the stacked ``[A; x̃]`` with ``[r; eta·c]``, and
    ``gᵀx = rᵀ(Ax) + eta·||x||²`` needs no pass over the weights.
    """
    n, k = A.shape
    eta = n * zeta**2
    z2 = zeta**2
    M = np.empty((n + 1, k))
    M[:n] = A
    M[n] = x
    c = 1.0
    Ax = A @ x
    xx = float(x @ x)
    v = np.empty(n + 1)
    tol = min_decrease**2
    prev = cur = np.inf
    it = 0
    while it < max_iter and (it < 2 or prev - cur > tol):
        it += 1
        r = Ax - b
        v[:n] = r
        v[n] = eta * c
        hg = v @ M
        i = int(np.argmin(hg))
        xi = c * float(M[n, i])
        if not (xi == 1.0 and xx == 1.0):
            d_err = M[:n, i] - Ax
            hx = float(r @ Ax) + eta * xx
            step = -(float(hg[i]) - hx) / (float(d_err @ d_err) + eta * (1.0 - 2 * xi + xx))
            s = min(1.0, max(0.0, step))
            if s > 0.0:
                q = 1.0 - s
                xx = q * q * xx + 2 * s * q * xi + s * s
                if q == 0.0:            # a full step: x is the vertex e_i
                    M[n] = 0.0
                    M[n, i] = 1.0
                    c = 1.0
                else:
                    c *= q
                    M[n, i] += s / c
                    if c < 1e-150:      # keep x̃ finite
                        M[n] *= c
                        c = 1.0
                Ax = Ax + s * d_err
        err = Ax - b
        prev, cur = cur, z2 * xx + float(err @ err) / n
    return c * M[n]


def _gram_start(Y: np.ndarray, zeta: float, intercept: bool, init: np.ndarray | None) -> dict:
    """The Gram-matrix form of one problem of :func:`simplex_weights` and the running sums at its start."""
    n, k = Y.shape[0], Y.shape[1] - 1
    x = np.full(k, 1.0 / k) if init is None else np.asarray(init, dtype="float64").copy()
    if intercept:
        Y = Y - Y.mean(axis=0)
    A, b = Y[:, :k], Y[:, k]
    G = A.T @ A
    Atb = A.T @ b
    eta = n * zeta**2
    H2 = G - Atb
    H2.flat[::k + 1] += eta
    r = A @ x - b
    hg = A.T @ r + eta * x
    return {"x": x, "H2": H2, "diag": np.diag(G), "atb": Atb, "bb": float(b @ b), "hg": hg,
            "xx": float(x @ x), "br": float(b @ r), "rr": float(r @ r), "p": float(hg @ x),
            "atbx": float(Atb @ x), "n": n, "eta": eta}


#: Memory for the stacked weights × weights matrices of the problems solved together (bytes).
BATCH_BYTES = 64 * 2**20
#: Fewest problems per batch for side-by-side steps to pay: a step costs some fifty array operations
#: whatever the batch, so with many weights (and so few problems per batch) one at a time is faster.
MIN_BATCH = 64


def simplex_weights_many(Ys: list[np.ndarray], zeta: float, intercept: bool, inits: list[np.ndarray | None],
                         min_decrease: float, max_iter: int) -> list[np.ndarray]:
    """:func:`simplex_weights` for several problems of the same shape (the placebo draws), their
    Frank–Wolfe steps taken side by side: the same arithmetic on arrays with one entry per problem, so
    each problem's iterates and weights are those :func:`simplex_weights` gives it alone, while a step of
    all of them costs a few array operations instead of one Python loop pass each. A problem stops when
    its own rule says so; the stopped ones are dropped from the arrays as they pile up."""
    if not Ys:
        return []
    k = Ys[0].shape[1] - 1
    chunk = BATCH_BYTES // (8 * k * k) if k <= GRAM_LIMIT else 0
    if chunk < MIN_BATCH or len(Ys) == 1:
        return [simplex_weights(Y, zeta, intercept, x0, min_decrease, max_iter)
                for Y, x0 in zip(Ys, inits, strict=True)]
    out: list[np.ndarray] = []
    for s in range(0, len(Ys), chunk):
        out += _batch(Ys[s:s + chunk], zeta, intercept, inits[s:s + chunk], min_decrease, max_iter)
    return out


def _batch(Ys: list[np.ndarray], zeta: float, intercept: bool, inits: list[np.ndarray | None],
           min_decrease: float, max_iter: int) -> list[np.ndarray]:
    starts = [_gram_start(Y, zeta, intercept, x0) for Y, x0 in zip(Ys, inits, strict=True)]
    D = len(starts)
    n, eta = starts[0]["n"], starts[0]["eta"]
    X = np.array([st["x"] for st in starts])
    H2 = np.array([st["H2"] for st in starts])
    hg = np.array([st["hg"] for st in starts])
    bb, xx, br, rr, p, atbx = (np.array([st[key] for st in starts])
                               for key in ("bb", "xx", "br", "rr", "p", "atbx"))
    # per problem and weight i: Atb_i, G_ii, G_ii - 2 Atb_i + bᵀb and H2_ii, gathered together at each step
    atb = np.array([st["atb"] for st in starts])
    diag = np.array([st["diag"] for st in starts])
    per = np.stack([atb, diag, diag - 2 * atb + bb[:, None], np.diagonal(H2, axis1=1, axis2=2)], axis=2)
    z2 = zeta**2
    tol = min_decrease**2
    done = np.empty_like(X)
    ids = np.arange(D)                       # the problem of each row of the arrays
    live = np.ones(D, dtype=bool)            # problems not stopped (a stopped one takes zero steps)
    prev = np.full(D, np.inf)
    cur = np.full(D, np.inf)
    it = 0
    # A zero step leaves every running sum as it is (q = 1, s = 0: each update adds exact zeros), so all
    # rows are updated alike; the arithmetic is simplex_weights' operation for operation.
    with np.errstate(divide="ignore", invalid="ignore"):
        while len(ids) and it < max_iter:
            it += 1
            rows = np.arange(len(ids))
            i = hg.argmin(axis=1)
            xi = X[rows, i]
            gi = hg[rows, i]
            at, dg, c1, h2ii = per[rows, i].T
            ri = gi - eta * xi
            d_err2 = dg - 2 * (ri + at) + (rr + 2 * br + bb)
            step = -(gi - p) / (d_err2 + eta * (1.0 - 2 * xi + xx))
            s = np.minimum(1.0, np.fmax(0.0, step))       # Python's min(1, max(0, step)); NaN -> 0
            s[((xi == 1.0) & (xx == 1.0)) | ~live] = 0.0
            q = 1.0 - s
            p = q * q * p + q * s * gi + s * q * (gi + at - atbx) + s * s * h2ii
            rr = q * q * rr + 2 * s * q * (ri - br) + s * s * c1
            br = q * br + s * (at - bb)
            xx = q * q * xx + 2 * s * q * xi + s * s
            atbx = q * atbx + s * at
            X *= q[:, None]
            X[rows, i] += s
            hg *= q[:, None]
            hg += s[:, None] * H2[rows, i]
            prev, cur = cur, z2 * xx + rr / n
            if it >= 2:
                live &= prev - cur > tol
                if live.sum() * 2 <= len(ids):       # drop the stopped problems from the arrays
                    done[ids[~live]] = X[~live]
                    k_ = live
                    ids, X, H2, per, hg = ids[k_], X[k_], H2[k_], per[k_], hg[k_]
                    bb, xx, br, rr, p, atbx = bb[k_], xx[k_], br[k_], rr[k_], p[k_], atbx[k_]
                    prev, cur, live = prev[k_], cur[k_], live[k_]
    done[ids] = X
    return list(done)


def _sparsify(v: np.ndarray) -> np.ndarray:
    v = np.where(v <= v.max() / 4, 0.0, v)
    return v / v.sum()


def _two_pass(Y: np.ndarray, zeta: float, intercept: bool, init: np.ndarray | None,
              min_decrease: float) -> np.ndarray:
    first = simplex_weights(Y, zeta, intercept, init, min_decrease, FIRST_PASS)
    return simplex_weights(Y, zeta, intercept, _sparsify(first), min_decrease, MAX_ITER)


def _two_pass_many(Ys: list[np.ndarray], zeta: float, intercept: bool, inits: list[np.ndarray | None],
                   min_decrease: float) -> list[np.ndarray]:
    first = simplex_weights_many(Ys, zeta, intercept, inits, min_decrease, FIRST_PASS)
    return simplex_weights_many(Ys, zeta, intercept, [_sparsify(f) for f in first], min_decrease, MAX_ITER)


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
    perms = [rng.permutation(n0) for _ in range(n_draws)]
    return fit_many([Y[perm] for perm in perms], m, t0, tuning,
                    [sum_normalize(base.omega[perm[:m]]) for perm in perms], base.lam)


def fit_many(Ys: list[np.ndarray], n0: int, t0: int, tuning: Tuning, omega_inits: list[np.ndarray],
             lam_init: np.ndarray) -> np.ndarray:
    """The estimates :func:`fit` gives each of several matrices of the same shape (the placebo draws), the
    weights of all of them found side by side (:func:`simplex_weights_many`)."""
    Ycs = [collapsed(Y, n0, t0) for Y in Ys]
    if tuning.update_lambda:
        lams = _two_pass_many([Yc[:n0, :] for Yc in Ycs], tuning.zeta_lambda, True, [lam_init] * len(Ys),
                              tuning.min_decrease)
    else:
        lams = [np.zeros(t0)] * len(Ys)
    omegas = _two_pass_many([Yc[:, :t0].T for Yc in Ycs], tuning.zeta_omega, tuning.omega_intercept,
                            list(omega_inits), tuning.min_decrease)
    return np.array([contrast(Y, n0, t0, om, lam) for Y, om, lam in zip(Ys, omegas, lams, strict=True)])


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
