"""Influence functions of the ATT(g, t) and what is computed from them: the :class:`Influence`
interface every route returns (:class:`Dense`, :class:`CohortAffine`, :class:`Blocks`), the one rule from
influence to standard errors (:func:`standard_errors`), covariances and the multiplier bootstrap."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from scipy import stats

from impactlab._progress import progress
from impactlab.estimators._blocked import _tmm

#: Standard errors at or below this are reported as missing (R ``did``: ``sqrt(.Machine$double.eps) * 10``).
SE_ZERO = float(np.sqrt(np.finfo(float).eps) * 10)


class Influence(Protocol):
    """The (n units, K cells) influence functions ψ, scaled so that ``se = sqrt(Σ_i ψ_ik²) / n``.

    ``sum_squares``: Σ_i ψ_ik² per column; ``cross_products(cols)``: Σ_i ψ_ik ψ_il for k, l in ``cols``;
    ``combine(w)``: ``dense() @ w`` (w: K × J); ``transform(w, c)``: the form of ``dense() @ w`` plus
    ``c[h]`` for the units of cohort h, when the form can hold it (else None); ``multiplier_draws``:
    ``Σ_i v_i ψ_ik / n`` per draw, Rademacher signs given cohort by cohort (``groups``); ``cohorts``: the
    cohort of each coefficient row of a form affine within cohorts (else None).
    """

    shape: tuple[int, int]
    cohorts: np.ndarray | None

    def sum_squares(self) -> np.ndarray: ...
    def cross_products(self, cols: np.ndarray) -> np.ndarray: ...
    def combine(self, weights: np.ndarray) -> np.ndarray: ...
    def transform(self, weights: np.ndarray, const: np.ndarray) -> Influence | None: ...
    def dense(self, order: str = "C") -> np.ndarray: ...
    def nonzero_columns(self) -> np.ndarray: ...
    def multiplier_draws(self, iters: int, seed: int, groups: np.ndarray) -> np.ndarray: ...


def _floor(se: np.ndarray) -> np.ndarray:
    return np.where(se <= SE_ZERO, np.nan, se)


def cluster_sums(psi: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Influence functions summed within clusters (rows); unit level when ``cluster`` is None."""
    if cluster is None:
        return psi
    out = np.zeros((int(cluster.max()) + 1,) + psi.shape[1:])
    np.add.at(out, cluster, psi)
    return out


def standard_errors(inf: Influence, cluster: np.ndarray | None = None) -> np.ndarray:
    """``sqrt(Σ_c (Σ_{i∈c} ψ_i)²) / n`` per column, clustered by unit or by ``cluster``; NaN at or below
    :data:`SE_ZERO` (as R ``did``)."""
    if cluster is None:
        ss = inf.sum_squares()
    else:
        ss = np.sum(cluster_sums(inf.dense(), cluster) ** 2, axis=0)
    return _floor(np.sqrt(np.maximum(ss, 0.0)) / inf.shape[0])


def covariance(inf: Influence, cols: np.ndarray, cluster: np.ndarray | None = None) -> np.ndarray:
    """Covariance ``Σ_c s_c s_c' / n²`` of the columns ``cols`` (cluster sums ``s_c``, as the SEs)."""
    if cluster is None:
        return np.asarray(inf.cross_products(cols)) / inf.shape[0] ** 2
    s = cluster_sums(np.nan_to_num(inf.dense()[:, cols]), cluster)
    return np.asarray(s.T @ s / inf.shape[0] ** 2)


class Dense:
    """A plain (n, K) matrix behind the :class:`Influence` interface."""

    cohorts: np.ndarray | None = None

    def __init__(self, matrix: np.ndarray) -> None:
        self.m = matrix
        self.shape = (int(matrix.shape[0]), int(matrix.shape[1]))

    def sum_squares(self) -> np.ndarray:
        return np.sum(self.m**2, axis=0)

    def cross_products(self, cols: np.ndarray) -> np.ndarray:
        sub = np.nan_to_num(self.m[:, cols])
        return sub.T @ sub

    def combine(self, weights: np.ndarray) -> np.ndarray:
        out = np.empty((self.shape[0], weights.shape[1]), order="F")
        for j in range(weights.shape[1]):  # only the cells a column uses (a NaN elsewhere does not leak in)
            nz = np.flatnonzero(weights[:, j])
            out[:, j] = self.m[:, nz] @ weights[nz, j] if nz.size else 0.0
        return out

    def transform(self, weights: np.ndarray, const: np.ndarray) -> None:
        return None

    def dense(self, order: str = "C") -> np.ndarray:
        return self.m

    def nonzero_columns(self) -> np.ndarray:
        return np.asarray(self.m.any(axis=0))

    def multiplier_draws(self, iters: int, seed: int, groups: np.ndarray) -> np.ndarray:
        _, counts = np.unique(groups, return_counts=True)
        order = np.argsort(groups, kind="stable")
        draws = rademacher_products(np.nan_to_num(self.m[order]), iters, seed,
                                np.concatenate([[0], np.cumsum(counts)])).sum(axis=1)
        draws /= self.shape[0]
        return draws


def with_columns(inf: Influence, columns: dict[int, np.ndarray]) -> Influence:
    """``inf`` with the columns in ``columns`` replaced (the cells a route left to the 2×2 estimator)."""
    if not columns:
        return inf
    out = np.array(inf.dense())
    for k, psi in columns.items():
        out[:, k] = psi
    return Dense(out)


class Features:
    """The per-unit vectors ``z_i`` of an affine form, stored by cohort, and their cohort moments.

    Units sorted by cohort (``order``, or None when already so) fill rows ``bounds[h]:bounds[h+1]``. ``z``
    is an explicit (n, W) array, or ``make(h, rows)`` builds the vectors of some units of cohort h on
    demand (centred outcomes, nothing unit-level kept). ``ones``: the last entry of every ``z_i`` is 1.
    """

    def __init__(self, cohorts: np.ndarray, bounds: np.ndarray, order: np.ndarray | None,
                 moments: np.ndarray | None = None, *, z: np.ndarray | None = None,
                 make: Callable[[int, Any], np.ndarray] | None = None, ones: bool = True) -> None:
        self.cohorts, self.bounds, self.order = cohorts, bounds, order
        self.z, self.make, self.ones, self.n = z, make, ones, int(bounds[-1])
        self.sums: dict[tuple[int, int], np.ndarray] = {}
        self.moments = moments if moments is not None else np.stack(
            [_tmm(b, b) for b in (self.block(h, int(s), int(e)) for h, (s, e)
                                  in enumerate(zip(bounds[:-1], bounds[1:], strict=True)))])

    def block(self, h: int, s: int, e: int) -> np.ndarray:
        """``z`` of the sorted rows ``s:e`` (all in cohort h)."""
        if self.z is not None:
            return self.z[s:e]
        assert self.make is not None  # noqa: S101 - one of z and make is set
        return self.make(h, slice(s, e) if self.order is None else self.order[s:e])

    def rows(self, s: int, e: int) -> Any:
        return slice(s, e) if self.order is None else self.order[s:e]

    def multiplier_sums(self, iters: int, seed: int) -> np.ndarray:
        """``Σ_{i∈h} v_i z_i`` per draw and cohort (iters, H, W), Rademacher signs; kept for reuse."""
        if (iters, seed) not in self.sums:
            z = self.z
            if z is None:
                z = np.concatenate([self.block(h, int(s), int(e)) for h, (s, e)
                                    in enumerate(zip(self.bounds[:-1], self.bounds[1:], strict=True))])
            self.sums[(iters, seed)] = rademacher_products(z, iters, seed, self.bounds)
        return self.sums[(iters, seed)]


class CohortAffine:
    """Influence functions affine within cohorts: ``ψ_ik = coef[k, h] · z_i`` for unit i of cohort h.

    Sums of squares and cross-products come from the cohort moments ``Σ_{i∈h} z_i z_i'``, bootstrap draws
    from per-cohort multiplier sums, linear combinations (every aggregation) from one product per cohort;
    nothing of size units × cells is built unless :meth:`dense` is called.
    """

    def __init__(self, features: Features, coef: np.ndarray) -> None:
        self.f, self.coef, self.shape = features, coef, (features.n, int(coef.shape[0]))
        self.cohorts: np.ndarray | None = features.cohorts

    def sum_squares(self) -> np.ndarray:
        return np.einsum("khs,hst,kht->k", self.coef, self.f.moments, self.coef, optimize=True)

    def cross_products(self, cols: np.ndarray) -> np.ndarray:
        c = self.coef[np.asarray(cols, dtype="intp")]
        return np.einsum("khs,hst,lht->kl", c, self.f.moments, c, optimize=True)

    def _fill(self, out: np.ndarray, coef: np.ndarray) -> np.ndarray:
        # blocks of units small enough for cache, so small BLAS calls stay single-threaded on a busy machine
        step = max(8, (1 << 17) // max(1, coef.shape[2] * coef.shape[0]))
        for h in range(len(self.f.cohorts)):
            a = np.ascontiguousarray(coef[:, h, :].T)
            for s in range(int(self.f.bounds[h]), int(self.f.bounds[h + 1]), step):
                e = min(s + step, int(self.f.bounds[h + 1]))
                out[self.f.rows(s, e)] = self.f.block(h, s, e) @ a
        return out

    def combine(self, weights: np.ndarray) -> np.ndarray:
        coef = np.tensordot(weights, self.coef, axes=(0, 0))
        return self._fill(np.empty((self.shape[0], weights.shape[1])), coef)

    def transform(self, weights: np.ndarray, const: np.ndarray) -> CohortAffine | None:
        if not self.f.ones:
            return None
        coef = np.tensordot(np.asarray(weights, dtype="float64"), self.coef, axes=(0, 0))
        coef[:, :, -1] += np.asarray(const, dtype="float64").T
        return CohortAffine(self.f, coef)

    def dense(self, order: str = "C") -> np.ndarray:
        return self._fill(np.empty(self.shape, order=order), self.coef)  # type: ignore[call-overload]

    def nonzero_columns(self) -> np.ndarray:
        return np.asarray(self.coef.any(axis=(1, 2)))

    def multiplier_draws(self, iters: int, seed: int, groups: np.ndarray) -> np.ndarray:
        sums = self.f.multiplier_sums(iters, seed)
        B, H, W = sums.shape
        return (sums.reshape(B, H * W) @ self.coef.reshape(-1, H * W).T) / self.shape[0]


class Blocks:
    """Influence functions kept as blocks ``(rows, cols, values)`` of the units that take part in some cells;
    every other entry is zero and no entry belongs to two blocks."""

    cohorts: np.ndarray | None = None

    def __init__(self, n: int, n_cells: int, blocks: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]
                 ) -> None:
        self.shape = (int(n), int(n_cells))
        self.blocks = list(blocks)

    def sum_squares(self) -> np.ndarray:
        out = np.zeros(self.shape[1])
        for _, cols, vals in self.blocks:
            out[cols] += np.einsum("ij,ij->j", vals, vals)
        return out

    def _columns(self, cols: np.ndarray) -> np.ndarray:
        pos = np.full(self.shape[1], -1, dtype="intp")
        pos[cols] = np.arange(cols.size)
        out = np.zeros((self.shape[0], cols.size))
        for rows, bcols, vals in self.blocks:
            at = pos[bcols]
            use = at >= 0
            if use.any():
                out[np.ix_(rows, at[use])] = vals[:, use]
        return out

    def cross_products(self, cols: np.ndarray) -> np.ndarray:
        sub = self._columns(np.asarray(cols, dtype="intp"))
        return sub.T @ sub

    def combine(self, weights: np.ndarray) -> np.ndarray:
        out = np.zeros((self.shape[0], weights.shape[1]))
        for rows, cols, vals in self.blocks:
            if weights[cols].any():
                out[rows] += vals @ weights[cols]
        return out

    def transform(self, weights: np.ndarray, const: np.ndarray) -> None:
        return None

    def dense(self, order: str = "C") -> np.ndarray:
        return self._columns(np.arange(self.shape[1]))

    def nonzero_columns(self) -> np.ndarray:
        out = np.zeros(self.shape[1], dtype=bool)
        for _, cols, vals in self.blocks:
            out[cols] |= vals.any(axis=0)
        return out

    def multiplier_draws(self, iters: int, seed: int, groups: np.ndarray) -> np.ndarray:
        return Dense(self.dense()).multiplier_draws(iters, seed, groups)


# ------------------------------------------------------------------------------ multiplier bootstrap
#: Draws of the multiplier bootstrap per block (a 32 MB buffer of weights, reused).
_BLOCK = 1 << 22


class SignStream:
    """Rademacher signs (−1 or +1, probability ½ each: the weights of R ``did``'s multiplier bootstrap,
    BMisc ``multiplier_bootstrap``) read bit by bit from the raw 64-bit outputs of ``default_rng(seed)``;
    the bits left over from one request open the next, so the signs do not depend on how they are asked
    for."""

    def __init__(self, seed: int) -> None:
        self._gen = np.random.default_rng(seed).bit_generator
        self._left = np.empty(0, dtype=np.uint8)

    def bits(self, count: int) -> np.ndarray:
        """The next ``count`` bits (uint8 0/1); a sign is ``2·bit − 1``."""
        need = count - self._left.size
        if need <= 0:
            out, self._left = self._left[:count], self._left[count:]
            return out
        raw = self._gen.random_raw((need + 63) // 64).astype("<u8", copy=False).view(np.uint8)
        fresh = np.unpackbits(raw, bitorder="little")
        out = np.concatenate([self._left, fresh[:need]])
        self._left = fresh[need:]
        return out

    def signs(self, size: tuple[int, int]) -> np.ndarray:
        """A ``size`` matrix of signs, row-major from the stream."""
        return 2.0 * self.bits(size[0] * size[1]).reshape(size) - 1.0


def rademacher_products(z: np.ndarray, iters: int, seed: int, bounds: np.ndarray | None = None
                        ) -> np.ndarray:
    """``V_s @ z[s:e]`` (iters, segments, m) for each segment of rows ``bounds`` (default one), ``V_s`` the
    (iters, e − s) signs drawn segment after segment from ``SignStream(seed)``, in blocks through one buffer
    (a sign is ``2·bit − 1``: one product ``bits @ z`` per block)."""
    n, m = z.shape
    edges = np.array([0, n]) if bounds is None else np.asarray(bounds, dtype="int64")
    segs = list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))
    out = np.zeros((iters, len(segs), m))
    stream = SignStream(seed)
    widest = max((e - s for s, e in segs), default=0)
    buf = np.empty(max(min(_BLOCK, iters * widest), widest))
    with progress(total=iters * len(segs), desc="Multiplier bootstrap", unit=" draws") as bar:
        for j, (s, e) in enumerate(segs):
            width = e - s
            step = max(1, min(iters, buf.size // max(1, width)))
            for start in range(0, iters, step):
                rows = min(step, iters - start)
                u = buf[: rows * width].reshape(rows, width)
                np.copyto(u, stream.bits(rows * width).reshape(rows, width))
                out[start:start + rows, j] = u @ z[s:e]
                bar.update(rows)
            out[:, j] *= 2.0
            out[:, j] -= z[s:e].sum(axis=0)
    return out


def bootstrap_summary(draws: np.ndarray, level: float, band: np.ndarray | None = None
                      ) -> tuple[np.ndarray, float]:
    """Standard errors (interquartile range of the draws over that of the normal, quantiles of type 1: order
    statistics ``ceil(B·p)``) and the uniform (sup-t) critical value over the columns ``band`` selects with a
    finite standard error (R ``did`` ``mboot``)."""
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    se = _floor((q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25)))
    ok = np.isfinite(se) if band is None else np.isfinite(se) & band
    if not ok.any():
        return se, float("nan")
    t_max = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
    return se, float(np.quantile(t_max, level, method="inverted_cdf"))


def bootstrap(inf: Influence, iters: int, seed: int, level: float, *, groups: np.ndarray,
              cluster: np.ndarray | None = None, band: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Multiplier bootstrap (Callaway & Sant'Anna 2021, Algorithm 1, as R ``did``'s ``mboot``): standard
    errors and the uniform critical value, one Rademacher sign per unit (cohort by cohort, ``groups``) or per
    cluster (applied to the cluster sums of the influence functions)."""
    if cluster is None:
        draws = inf.multiplier_draws(iters, seed, groups)
    else:
        sums = cluster_sums(np.nan_to_num(inf.dense()), cluster)
        draws = rademacher_products(sums, iters, seed).sum(axis=1)
        draws /= inf.shape[0]
    return bootstrap_summary(draws, level, band)
