"""Confidence sets for relative magnitudes, ``Δ^RM(M̄)``, by the conditional-least-favourable hybrid test.

Rambachan & Roth (2023, sec. 5.3) recommend for ``Δ^RM`` the moment-inequality test of Andrews, Roth &
Pakes (2023, "Inference for linear conditional moment inequalities", Review of Economic Studies 90(6)),
inverted over a grid of values of ``θ = l'τ_post``; R's HonestDiD computes it this way by default. Here it
is written from the papers and checked against HonestDiD's printed outputs (``tests/published/``).

``Δ^RM(M̄)`` is a union: for each pre-period first difference ``s`` and sign ``±``, the polyhedron where
that difference is the largest pre-period move and every post-period move is at most ``M̄`` times it. A
value of ``θ`` is in the confidence set when the test accepts it for at least one piece. Within a piece,
``A δ ≤ 0`` with ``δ = β − (0, τ)`` and ``τ = Γ⁻¹ (θ, ν)`` (``Γ`` has ``l'`` as first row) gives moments
``Y(θ) − X ν ≤ 0`` with a nuisance ``ν``. The statistic is ``η = min_ν max_j (Y_j − X_j ν) / σ_j``, a linear
programme; its critical value conditions on the optimal vertex (the distribution of ``η`` given the
vertex is normal truncated to ``[v_lo, v_up]``). The hybrid first rejects when ``η`` exceeds the
least-favourable ``1 − κ`` quantile of ``η`` at ``Y = 0`` (``κ = α/10``), simulated from 1,000 normal
draws, and then runs the conditional test at size ``(α − κ)/(1 − κ)`` with ``v_up`` capped at that
quantile. Only the moments that involve post-period coefficients enter the test, as in HonestDiD.

The simulation uses R's generator (Mersenne-Twister seeded as ``set.seed``, normals by inversion, the
symmetric square root of the covariance) so that a given seed reproduces HonestDiD's draws exactly.

Speed: the linear programme is solved by ``scipy.optimize.linprog`` only when no vertex found so far is
optimal; a vertex (a basis of ``k + 1`` binding moments) is optimal wherever its primal solution is
feasible, which is checked for all draws or all grid values at once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats
from scipy.special import ndtr, ndtri

_TOL_LAMBDA = 1e-6        # a dual weight above this marks a binding moment (as HonestDiD)
_TOL_FEAS = 1e-10         # primal feasibility slack when certifying a cached vertex
_N_SIMS = 1000            # draws for the least-favourable critical value (as HonestDiD)


# ------------------------------------------------------------------------------ R's normal draws
@functools.lru_cache(maxsize=8)
def r_normals(seed: int, n: int) -> np.ndarray:
    """``n`` standard normals as R's ``set.seed(seed); rnorm(n)`` (Mersenne-Twister, inversion).

    Cached (read-only): every piece of ``Δ^RM`` restarts the generator from the same seed, as HonestDiD.
    """
    s = int(seed) & 0xFFFFFFFF
    for _ in range(50):                      # R's initial scrambling of the seed
        s = (69069 * s + 1) & 0xFFFFFFFF
    key = np.empty(625, dtype=np.uint32)
    for j in range(625):
        s = (69069 * s + 1) & 0xFFFFFFFF
        key[j] = s
    bg = np.random.MT19937()
    bg.state = {"bit_generator": "MT19937", "state": {"key": key[1:], "pos": 624}}
    u = bg.random_raw(2 * n).astype(np.float64) * 2.3283064365386963e-10
    u = np.clip(u, 0.5 * 2.328306437080797e-10, 1 - 0.5 * 2.328306437080797e-10)
    big = 134217728.0
    z = ndtri((np.floor(big * u[0::2]) + u[1::2]) / big)
    z.flags.writeable = False
    return z


def r_mvnorm(seed: int, n: int, sigma: np.ndarray) -> np.ndarray:
    """``n`` draws of ``N(0, sigma)`` as R's ``mvtnorm::rmvnorm`` after ``set.seed(seed)``."""
    k = sigma.shape[0]
    w, v = np.linalg.eigh((sigma + sigma.T) / 2)
    root = (v * np.sqrt(np.maximum(w, 0.0))) @ v.T
    return r_normals(seed, n * k).reshape(n, k) @ root


# ------------------------------------------------------------------------------ the η programme
@dataclass
class _Vertex:
    rows: np.ndarray          # the k + 1 binding moments
    inv: np.ndarray           # inverse of W_B = [σ_B, X_B]
    lam: np.ndarray           # dual weights on all moments (zero off the basis)


@dataclass
class EtaProgram:
    """``η(y) = min_{η, ν} η`` subject to ``y − X ν ≤ σ η`` for many ``y`` at once, caching vertices."""

    X: np.ndarray
    sd: np.ndarray
    vertices: list[_Vertex] = field(default_factory=list)

    @property
    def W(self) -> np.ndarray:
        return np.column_stack([self.sd, self.X])

    def _solve_one(self, y: np.ndarray) -> tuple[float, np.ndarray, _Vertex | None, np.ndarray] | None:
        W = self.W
        c = np.r_[1.0, np.zeros(W.shape[1] - 1)]
        res = optimize.linprog(c, A_ub=-W, b_ub=-y, bounds=[(None, None)] * W.shape[1], method="highs")
        if res.status != 0:
            return None
        lam = np.maximum(-np.asarray(res.ineqlin.marginals, dtype="float64"), 0.0)
        vertex = self._vertex(np.asarray(res.ineqlin.residual, dtype="float64"), y)
        return float(res.fun), lam, vertex, np.asarray(res.x[1:], dtype="float64")

    def _vertex(self, slack: np.ndarray, y: np.ndarray) -> _Vertex | None:
        """The basis of the ``k + 1`` tight moments, when exactly that many are tight (a primal-degenerate
        optimum is solved afresh each time)."""
        W = self.W
        rows = np.flatnonzero(slack <= 1e-9 * (1.0 + np.abs(y).max()))
        if len(rows) != W.shape[1]:
            return None
        WB = W[rows]
        if np.linalg.matrix_rank(WB) < len(rows):
            return None
        inv = np.linalg.inv(WB)
        lam_b = inv[0]
        if lam_b.min() < -1e-9:
            return None
        lam = np.zeros(W.shape[0])
        lam[rows] = np.maximum(lam_b, 0.0)
        return _Vertex(rows=rows, inv=inv, lam=lam)

    def solve(self, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """η, the dual weights and the index of the vertex (−1 when degenerate) for each row of ``Y``."""
        n, m = Y.shape
        eta = np.full(n, np.nan)
        lam = np.zeros((n, m))
        which = np.full(n, -2)
        W = self.W
        todo = np.ones(n, dtype=bool)
        for vi, vx in enumerate(self.vertices):
            if not todo.any():
                break
            self._certify(Y, todo, vi, vx, eta, lam, which, W)
        while todo.any():
            i = int(np.flatnonzero(todo)[0])
            sol = self._solve_one(Y[i])
            todo[i] = False
            if sol is None:
                continue
            eta[i], lam[i], new, _ = sol
            if new is None:
                which[i] = -1
                continue
            self.vertices.append(new)
            which[i] = len(self.vertices) - 1
            self._certify(Y, todo, which[i], new, eta, lam, which, W)
        return eta, lam, which

    @staticmethod
    def _certify(Y: np.ndarray, todo: np.ndarray, vi: int, vx: _Vertex, eta: np.ndarray, lam: np.ndarray,
                 which: np.ndarray, W: np.ndarray) -> None:
        idx = np.flatnonzero(todo)
        sol = Y[np.ix_(idx, vx.rows)] @ vx.inv.T                  # (η, ν) on the basis
        slack = sol @ W.T - Y[idx]                                # σ η + X ν − y ≥ 0 when feasible
        scale = 1.0 + np.abs(Y[idx]).max(axis=1)
        ok = slack.min(axis=1) >= -_TOL_FEAS * scale
        hit = idx[ok]
        eta[hit] = sol[ok, 0]
        lam[hit] = vx.lam
        which[hit] = vi
        todo[hit] = False


def least_favourable_cv(xi: np.ndarray, prog: EtaProgram, kappa: float) -> float:
    """The ``1 − κ`` quantile of ``η`` over the draws ``xi`` of ``Y ~ N(0, Σ)`` (the least-favourable null).

    Only the draws that can be the two order statistics of the quantile are solved: any ``ν`` bounds a
    draw's ``η`` from above and any dual solution met so far from below, and a cached vertex gives ``η``
    exactly wherever its primal solution is feasible, so the other draws are ranked without a programme.
    """
    n = xi.shape[0]
    h = (n - 1) * (1 - kappa)
    ranks = (int(np.floor(h)), min(int(np.floor(h)) + 1, n - 1))
    eta = np.full(n, np.nan)
    known = np.zeros(n, dtype=bool)
    upper = np.max(xi / prog.sd, axis=1)
    lower = np.full(n, -np.inf)
    scratch_lam, scratch_which = np.zeros((n, xi.shape[1])), np.zeros(n, dtype=int)
    W = prog.W
    for vi, vx in enumerate(prog.vertices):
        prog._certify(xi, ~known, vi, vx, eta, scratch_lam, scratch_which, W)
        known = np.isfinite(eta)
    while True:
        up, lo = np.where(known, eta, upper), np.where(known, eta, lower)
        q_lo, q_hi = np.sort(lo)[ranks[0]], np.sort(up)[ranks[1]]
        open_ = ~known & (up >= q_lo) & (lo <= q_hi)
        if not open_.any():
            vals = np.where(known, eta, np.where(up < q_lo, up, lo))
            return float(np.quantile(vals, 1 - kappa))
        cand = np.flatnonzero(open_)
        mid = (np.minimum(up[cand], q_hi) + np.maximum(lo[cand], q_lo)) / 2
        with np.errstate(invalid="ignore"):
            dist = np.nan_to_num(np.abs(mid - (q_lo + q_hi) / 2), nan=0.0)
        for i in cand[np.argsort(dist)[:3]]:
            if known[i]:
                continue
            sol = prog._solve_one(xi[i])
            known[i] = True
            if sol is None:
                eta[i] = -np.inf  # a failed programme falls out of the quantile, as in HonestDiD
                continue
            eta[i], lam, vertex, nu = sol
            upper = np.minimum(upper, np.max((xi - prog.X @ nu) / prog.sd, axis=1))
            lower = np.maximum(lower, xi @ lam)
            if vertex is not None:
                prog.vertices.append(vertex)
                prog._certify(xi, ~known, len(prog.vertices) - 1, vertex, eta, scratch_lam, scratch_which, W)
                known = np.isfinite(eta) | known


# ------------------------------------------------------------------------------ the conditional test
def _truncnorm_ppf(p: float, lo: float, hi: float) -> float:
    """Quantile ``p`` of the standard normal truncated to ``[lo, hi]`` (upper tails through the survival
    function; scipy's ``truncnorm`` where both are lost to underflow)."""
    if lo > 0:
        s_lo, s_hi = ndtr(-lo), ndtr(-hi)
        q = s_lo - p * (s_lo - s_hi)
        if s_lo > 1e-300 and q > 0:
            return float(-ndtri(q))
    else:
        c_lo, c_hi = ndtr(lo), ndtr(hi)
        q = c_lo + p * (c_hi - c_lo)
        if c_hi - c_lo > 1e-12 and q < 1:
            return float(ndtri(q))
    return float(stats.truncnorm.ppf(p, lo, hi))


def _dual_bounds(y: np.ndarray, prog: EtaProgram, sigma: np.ndarray, eta: float,
                 gamma: np.ndarray) -> tuple[float, float]:
    """Truncation points ``[v_lo, v_up]`` of η given the dual vertex ``γ`` (ARP 2023, appendix).

    Along the line ``y(c) = s + b c`` that keeps the part of ``y`` independent of ``γ'y`` fixed, the
    optimum ``η(y(c))`` is convex and piecewise linear with ``η(y(c)) ≥ c``; the truncation points are the
    ends of the interval where equality holds. From a far point each end is reached by Newton steps
    (exact on a piecewise-linear function), each one η programme.
    """
    sg = sigma @ gamma
    var = float(gamma @ sg)
    b = sg / var
    s_t = y - b * float(gamma @ y)
    tol = 1e-6

    def gap(c: float) -> tuple[float, np.ndarray]:
        e, lam, _ = prog.solve((s_t + b * c)[None, :])
        return float(e[0]) - c, lam[0]

    if not abs(gap(eta)[0]) <= tol:
        return eta, float("inf")
    ends = []
    for direction in (1.0, -1.0):
        c = eta + direction * max(100.0, 20 * np.sqrt(var))
        g, lam = gap(c)
        if abs(g) <= tol:
            ends.append(direction * float("inf"))
            continue
        for _ in range(100):
            slope = float(lam @ b) - 1.0
            if slope == 0 or not np.isfinite(g):
                break
            c = c - g / slope
            g, lam = gap(c)
            if abs(g) <= tol:
                break
        ends.append(c)
    return ends[1], ends[0]


def conditional_test(y: np.ndarray, prog: EtaProgram, sigma: np.ndarray, alpha: float, kappa: float,
                     lf_cv: float, eta: float, lam: np.ndarray) -> bool:
    """True when the C-LF hybrid test rejects ``E[y − X ν] ≤ 0`` for some ν (one value of θ).

    ``eta`` and ``lam`` are the optimum and dual weights of the η programme at ``y``. With exactly
    ``k + 1`` binding moments of full rank the truncation points are closed forms in the binding set
    (the primal route); otherwise they are found along the conditioning line of the dual vertex.
    """
    if not np.isfinite(eta):
        return False
    if eta > lf_cv:
        return True
    size = (alpha - kappa) / (1 - kappa)
    W = prog.W
    k = prog.X.shape[1]
    B = np.flatnonzero(lam > _TOL_LAMBDA)
    full_rank = k > 0 and len(B) > 0 and np.linalg.matrix_rank(prog.X[B]) == min(len(B), k)
    if len(B) != k + 1 or not full_rank:
        var = float(lam @ sigma @ lam)
        if abs(var) < np.finfo(float).eps:
            return eta > 0
        vlo, vup = _dual_bounds(y, prog, sigma, eta, lam)
        sd_b = np.sqrt(var)
    else:
        m = len(y)
        Bc = np.setdiff1d(np.arange(m), B)
        inv = np.linalg.inv(W[B])
        SB = np.eye(m)[B]
        gam = W[Bc] @ inv @ SB - np.eye(m)[Bc]
        v_b = inv[0] @ SB
        var = float(v_b @ sigma @ v_b)
        sd_b = np.sqrt(var)
        rho = gam @ sigma @ v_b / var
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = (-gam @ y) / rho + float(v_b @ y)
        vlo = float(bound[rho > 0].max()) if np.any(rho > 0) else -np.inf
        vup = float(bound[rho < 0].min()) if np.any(rho < 0) else np.inf
    zlo, zup = vlo / sd_b, min(vup, lf_cv) / sd_b
    stat = eta / sd_b
    if not (zlo <= stat <= zup):
        return False
    return bool(stat > max(0.0, _truncnorm_ppf(1 - size, zlo, zup)))


# ------------------------------------------------------------------------------ Δ^RM pieces
def rm_constraints(n_pre: int, n_post: int, mbar: float, s: int, positive: bool) -> np.ndarray:
    """Rows of ``A`` with ``δ ∈ Δ^RM_{s,±}(M̄)`` iff ``A δ ≤ 0`` (δ without the reference period).

    ``s`` ∈ {−(n_pre − 1), …, 0} names the pre-period first difference ``δ_s − δ_{s−1}`` taken as the
    largest (``s = 0`` is the move into the reference period); ``positive`` its sign.
    """
    T = n_pre + n_post
    diff = np.zeros((T, T + 1))
    diff[np.arange(T), np.arange(T)] = -1.0
    diff[np.arange(T), np.arange(T) + 1] = 1.0
    v = np.zeros(T + 1)
    v[n_pre + s - 1], v[n_pre + s] = -1.0, 1.0
    if not positive:
        v = -v
    ub = np.vstack([np.tile(v, (n_pre, 1)), np.tile(mbar * v, (n_post, 1))])
    A = np.vstack([diff - ub, -diff - ub])
    A = A[(A * A).sum(axis=1) > 1e-10]
    return np.delete(A, n_pre, axis=1)


def _gamma(l_vec: np.ndarray) -> np.ndarray:
    """An invertible matrix with ``l'`` as its first row (``l`` and the unit vectors but the last it
    needs)."""
    last = int(np.flatnonzero(l_vec)[-1])
    rows = [l_vec] + [np.eye(len(l_vec))[i] for i in range(len(l_vec)) if i != last]
    return np.vstack(rows)


@dataclass
class _Piece:
    """One polyhedron of ``Δ^RM``: its moments in θ and ν, and its least-favourable critical value.

    The critical value is computed when first needed: a statistic above the ``1 − κ`` quantile of the
    draws' bound at ``ν = 0`` (which is at least the critical value) is rejected without it.
    """

    Y: np.ndarray
    a_one: np.ndarray
    sigma: np.ndarray
    prog: EtaProgram
    alpha: float
    kappa: float
    xi: np.ndarray
    lf_upper: float
    _lf_cv: float | None = None
    _eta_lower: np.ndarray | None = None

    @classmethod
    def build(cls, beta: np.ndarray, sigma: np.ndarray, n_pre: int, n_post: int, l_vec: np.ndarray,
              A: np.ndarray, alpha: float, seed: int) -> _Piece:
        post = slice(n_pre, n_pre + n_post)
        rows = np.flatnonzero(np.any(A[:, post] != 0, axis=1))   # post-period moments only
        A = A[rows]
        ag = A[:, post] @ np.linalg.inv(_gamma(l_vec))
        sig_y = A @ sigma @ A.T
        sd = np.sqrt(np.diag(sig_y))
        prog = EtaProgram(X=ag[:, 1:], sd=sd)
        kappa = alpha / 10
        xi = r_mvnorm(seed, _N_SIMS, sig_y)
        lf_upper = float(np.quantile(np.max(xi / sd, axis=1), 1 - kappa))
        return cls(Y=A @ beta, a_one=ag[:, 0], sigma=sig_y, prog=prog, alpha=alpha, kappa=kappa, xi=xi,
                   lf_upper=lf_upper)

    @property
    def lf_cv(self) -> float:
        if self._lf_cv is None:
            self._lf_cv = least_favourable_cv(self.xi, self.prog, self.kappa)
        return self._lf_cv

    def accepts(self, thetas: np.ndarray) -> np.ndarray:
        """Whether the test accepts each θ. The test accepts more as the critical value grows, so a
        decision reached at a bound of the critical value (from the draws' bounds at ``ν = 0`` above and at
        the dual solutions met so far below) holds at its exact value, computed only when they disagree."""
        Yt = self.Y[None, :] - np.outer(thetas, self.a_one)
        eta, lam, _ = self.prog.solve(Yt)
        out = np.zeros(len(thetas), dtype=bool)
        for j in range(len(thetas)):
            if eta[j] > self.lf_upper:
                continue
            args = (Yt[j], self.prog, self.sigma, self.alpha, self.kappa)
            if self._lf_cv is None:
                bound = self.xi @ lam[j]
                self._eta_lower = bound if self._eta_lower is None else np.maximum(self._eta_lower, bound)
                lower = float(np.quantile(self._eta_lower, 1 - self.kappa))
                if not conditional_test(*args, lower, eta[j], lam[j]):
                    out[j] = True
                    continue
                if conditional_test(*args, self.lf_upper, eta[j], lam[j]):
                    continue
            out[j] = not conditional_test(*args, self.lf_cv, eta[j], lam[j])
        return out


def _gallop(piece: _Piece, thetas: np.ndarray, inside: int, direction: int) -> int:
    """From an accepted index, the last accepted one before the first rejection in ``direction``: steps
    of 1, 2, 4, ... outwards, then bisection."""
    n, step, outside = len(thetas), 1, None
    while True:
        nxt = inside + direction * step
        if not 0 <= nxt < n:
            nxt = 0 if direction < 0 else n - 1
            if nxt == inside or piece.accepts(thetas[[nxt]])[0]:
                return nxt
            outside = nxt
            break
        if piece.accepts(thetas[[nxt]])[0]:
            inside, step = nxt, 2 * step
        else:
            outside = nxt
            break
    while abs(outside - inside) > 1:
        mid = (inside + outside) // 2
        if piece.accepts(thetas[[mid]])[0]:
            inside = mid
        else:
            outside = mid
    return inside


def _accepted_ends(piece: _Piece, thetas: np.ndarray, known: tuple[int, int] | None,
                   centre: int) -> tuple[int, int] | None:
    """First and last accepted grid index of one piece, as far as they widen the range ``known`` that
    earlier pieces accepted.

    Every non-empty piece of ``Δ^RM`` allows ``δ_post = 0``, so its accepted values surround the estimate
    and the union is one interval: a later piece widens it only if it accepts the value just outside, from
    where each end is found by doubling steps and bisection. The first piece starts at the estimate
    (``centre``), or, if it rejects there, scans every fiftieth value.
    """
    n = len(thetas)
    if known is not None:
        ends = list(known)
        for side, direction in ((0, -1), (1, 1)):
            nxt = known[side] + direction
            if 0 <= nxt < n and piece.accepts(thetas[[nxt]])[0]:
                ends[side] = _gallop(piece, thetas, nxt, direction)
        return (ends[0], ends[1]) if tuple(ends) != known else None
    if piece.accepts(thetas[[centre]])[0]:
        return _gallop(piece, thetas, centre, -1), _gallop(piece, thetas, centre, 1)
    tested = np.unique(np.r_[np.arange(0, n, max(1, n // 50)), n - 1])
    acc = piece.accepts(thetas[tested])
    if not acc.any():
        return None
    hits = tested[np.flatnonzero(acc)]
    return _gallop(piece, thetas, int(hits[0]), -1), _gallop(piece, thetas, int(hits[-1]), 1)


def rm_interval(beta: np.ndarray, sigma: np.ndarray, n_pre: int, n_post: int, l_vec: np.ndarray,
                mbar: float, thetas: np.ndarray, alpha: float, seed: int = 0) -> tuple[float, float, bool]:
    """The C-LF confidence set for ``l'τ`` under ``Δ^RM(M̄)`` over the grid ``thetas``.

    Returns the smallest and largest accepted grid value over all pieces (NaN when none; gaps are not
    reported, as in HonestDiD) and whether an end of the grid is accepted (the set may extend beyond).
    """
    known: tuple[int, int] | None = None
    centre = int(np.argmin(np.abs(thetas - float(l_vec @ beta[n_pre:n_pre + n_post]))))
    for positive in (True, False):
        for s in range(-(n_pre - 1), 1):
            A = rm_constraints(n_pre, n_post, mbar, s, positive)
            ends = _accepted_ends(_Piece.build(beta, sigma, n_pre, n_post, l_vec, A, alpha, seed), thetas,
                                  known, centre)
            if ends is not None:
                known = ends if known is None else (min(known[0], ends[0]), max(known[1], ends[1]))
    if known is None:
        return float("nan"), float("nan"), False
    lo, hi = known
    return float(thetas[lo]), float(thetas[hi]), bool(lo == 0 or hi == len(thetas) - 1)


def rm_accepts_value(beta: np.ndarray, sigma: np.ndarray, n_pre: int, n_post: int, l_vec: np.ndarray,
                     mbar: float, theta: float, alpha: float, seed: int = 0) -> bool:
    """Whether the C-LF test accepts one value of θ under ``Δ^RM(M̄)`` (for breakdown values)."""
    th = np.array([float(theta)])
    for positive in (True, False):
        for s in range(-(n_pre - 1), 1):
            A = rm_constraints(n_pre, n_post, mbar, s, positive)
            if _Piece.build(beta, sigma, n_pre, n_post, l_vec, A, alpha, seed).accepts(th)[0]:
                return True
    return False
