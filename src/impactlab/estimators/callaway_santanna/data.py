"""The arrays of a Callaway–Sant'Anna fit: :func:`prepare` turns a :class:`~impactlab.panel.panel.Panel`
into :class:`CsData`, one row per id (a unit, or an observation for repeated cross-sections), and writes the
ledger of what it leaves out (unbalanced units, units treated from the start, periods without a comparison
group) with its warnings (also for singleton and small cohorts, which are kept as R ``did`` keeps them)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, PanelError, StatisticalWarning
from impactlab.estimators._blocked import _tmm
from impactlab.estimators.callaway_santanna.cells import Ledger
from impactlab.panel.panel import Panel

#: Overlap check of R ``did``: a cell whose largest propensity score reaches this is not estimated.
OVERLAP_MAX = 0.999
#: Fewer clusters than this triggers a warning that cluster-robust inference is unreliable.
FEW_CLUSTERS = 20


@dataclass(frozen=True)
class CsData:
    """Arrays of one fit: ``ids`` (units, or observations for repeated cross-sections), their cohort ``gp``
    (1-based period index, 0 = never treated); ``y`` (ids × periods) and ``xs`` (ids × periods × k) in
    ``mode`` "balanced", else ``obs_*`` one entry per observation (``obs_id`` indexes ids)."""

    ids: np.ndarray
    gp: np.ndarray
    weights: np.ndarray | None
    cluster: np.ndarray | None
    n_periods: int
    glist: np.ndarray
    mode: str
    y: np.ndarray | None = None
    xs: np.ndarray | None = None
    obs_id: np.ndarray | None = None
    obs_t: np.ndarray | None = None
    obs_y: np.ndarray | None = None
    obs_x: np.ndarray | None = None
    obs_w: np.ndarray | None = None
    #: "balanced", "unbalanced" (ids are units observed in some periods) or "rcs" (ids are observations)
    kind: str = "balanced"

    @property
    def n(self) -> int:
        return len(self.ids)

    def subset(self, keep: np.ndarray) -> CsData:
        """The same data restricted to the ids where ``keep`` is true (for segments)."""
        new_index = np.cumsum(keep) - 1
        kw: dict[str, Any] = {
            "ids": self.ids[keep], "gp": self.gp[keep],
            "weights": None if self.weights is None else self.weights[keep],
            "cluster": None if self.cluster is None else self.cluster[keep],
            "glist": np.unique(self.gp[keep][self.gp[keep] > 0]),
        }
        if self.mode == "balanced":
            kw.update(y=self.y[keep] if self.y is not None else None,
                      xs=None if self.xs is None else self.xs[keep])
        else:
            assert self.obs_id is not None  # noqa: S101 - internal invariant of the rcs path
            rows = keep[self.obs_id]
            kw.update(obs_id=new_index[self.obs_id[rows]], obs_t=self.obs_t[rows],  # type: ignore[index]
                      obs_y=self.obs_y[rows],  # type: ignore[index]
                      obs_x=None if self.obs_x is None else self.obs_x[rows],
                      obs_w=None if self.obs_w is None else self.obs_w[rows])
        kw["glist"] = kw["glist"][np.isin(kw["glist"], self.glist)]
        return replace(self, **kw)


def panel_column(panel: Panel, name: str, what: str) -> str:
    """Column of :meth:`Panel.long` holding the panel column ``name`` (a covariate or the cluster)."""
    if name in panel.covariates:
        return name
    if panel.cluster is not None and name == panel.cluster:
        return "cluster"
    raise PanelError(f"The {what} column {name!r} is not in the panel. Its covariates are "
                     f"{list(panel.covariates)} and its cluster column is {panel.cluster!r}. Add the column "
                     "with covariates=[...] when building the panel (it is not used as a covariate unless "
                     "you pass it to covariates=).")


def collinear(x: np.ndarray, names: tuple[str, ...]) -> list[str]:
    """Names of the columns of ``x`` that are constant or collinear with the intercept and earlier ones."""
    if clearly_full_rank(x):  # the Gram matrix settles it in one pass (no SVD of n rows)
        return []
    full = np.column_stack([np.ones(len(x)), x])
    bad: list[str] = []
    kept = full[:, :1]
    for j, name in enumerate(names):
        trial = np.column_stack([kept, full[:, j + 1]])
        if np.linalg.matrix_rank(trial) < trial.shape[1]:
            bad.append(name)
        else:
            kept = trial
    return bad


@dataclass(frozen=True)
class Layout:
    """Ids grouped by cohort: the distinct ``cohorts``, each id's row ``h_of``, the ``sizes``, the ids in
    cohort order (stable) and the ``bounds`` of each cohort in that order."""

    cohorts: np.ndarray
    h_of: np.ndarray
    sizes: np.ndarray
    order: np.ndarray
    bounds: np.ndarray


def cohort_rows(gp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct cohorts of ``gp`` (small non-negative integers: counted, not sorted), each id's row
    among them (int16 when there are few) and their sizes."""
    counts = np.bincount(gp)
    cohorts = np.flatnonzero(counts)
    lookup = np.zeros(counts.size, dtype="int16" if cohorts.size < 2**15 else "int64")
    lookup[cohorts] = np.arange(cohorts.size)
    return cohorts, lookup[gp], counts[cohorts]


def cohort_layout(gp: np.ndarray) -> Layout:
    """:class:`Layout` of the cohorts ``gp``."""
    cohorts, h_of, sizes = cohort_rows(np.asarray(gp, dtype="int64"))
    return Layout(cohorts, h_of.astype("intp"), sizes, np.argsort(h_of, kind="stable"),
                  np.concatenate([[0], np.cumsum(sizes)]))


def clearly_full_rank(x: np.ndarray, *, margin: float = 1e-6) -> bool:
    """True when ``[1, x]`` has full column rank by a wide margin, from its Gram matrix's eigenvalues (a
    quick check before :func:`collinear`'s SVDs; False means "not sure")."""
    x = np.asarray(x, dtype="float64")
    n, k = x.shape
    if n <= k or not np.all(np.isfinite(x)):
        return False
    gram = np.empty((k + 1, k + 1))
    gram[0, 0] = n
    gram[0, 1:] = gram[1:, 0] = x.sum(axis=0)
    gram[1:, 1:] = _tmm(x, x)
    ev = np.linalg.eigvalsh(gram)
    return bool(ev[0] > margin * ev[-1] and margin * n * np.finfo(float).eps < 1e-3)


def _labels(values: list[Any]) -> str:
    """Period labels for a message: ``[2004, 2006]``, without numpy's type names."""
    return "[" + ", ".join(str(v.item() if isinstance(v, np.generic) else v) for v in values) + "]"


def _warn(msg: str, notes: list[str], stacklevel: int) -> None:
    warnings.warn(msg, StatisticalWarning, stacklevel=stacklevel)
    notes.append(msg)


def _per_unit(long: pd.DataFrame, unit_codes: Callable[[], np.ndarray], n: int, col: str, what: str,
              name: str, block: int = 0) -> np.ndarray:
    """The value of ``col`` per unit; a PanelError when it changes within a unit (``block`` = T: a panel
    stored in blocks, checked on the reshaped column)."""
    values = long[col].to_numpy()
    if block and isinstance(values.dtype, np.dtype) and values.dtype.kind in "iufbM":
        grid = values.reshape(n, block)
        first = grid[:, 0]
        same = grid == first[:, None]
        if values.dtype.kind in "fM":
            same |= pd.isna(grid) & pd.isna(first)[:, None]
        if same.all():
            return first.copy()
    codes = unit_codes()
    per_unit = long.groupby(codes)[col].nunique()
    if (per_unit > 1).any():
        bad = list(pd.unique(long["unit"].to_numpy()[np.isin(codes, per_unit.index[per_unit > 1])])[:10])
        raise PanelError(f"The {what} column {name!r} changes over time within units {bad}; it must hold "
                         f"one value per unit.")
    vals = np.empty(n, dtype=object)
    vals[codes] = long[col].to_numpy()
    return vals


def _in_blocks(long: pd.DataFrame, n_per: int) -> bool:
    """Whether a balanced panel's long frame holds each unit's periods 1..T in consecutive rows (as
    :class:`~impactlab.Panel` stores it: sorted by unit, then period)."""
    period = long["period"].to_numpy()
    if n_per == 0 or len(period) % n_per:
        return False
    return bool((period.reshape(-1, n_per) == np.arange(1, n_per + 1)).all())


def _unit_codes(units: pd.Series, block: int) -> tuple[np.ndarray, Any]:
    """``pd.factorize(units, sort=True)``, without hashing when integer ids come in blocks of ``block``
    rows in increasing order (as ``Panel`` stores a balanced panel)."""
    if block > 0 and len(units) % block == 0 and pd.api.types.is_integer_dtype(units.dtype):
        values = units.to_numpy()
        first = values[::block]
        if (np.all(first[1:] > first[:-1])
                and np.array_equal(values.reshape(-1, block), np.broadcast_to(first[:, None],
                                                                               (first.size, block)))):
            return np.repeat(np.arange(first.size, dtype="intp"), block), pd.Index(units.iloc[::block])
    return pd.factorize(units, sort=True)


def prepare(panel: Panel, *, covs: tuple[str, ...], weights: str | None, anticipation: int, control: str,
            mode: str, excluded: Ledger, notes: list[str], stacklevel: int = 4) -> CsData:
    """The arrays of a fit; ``mode``: "balanced" (units not observed in every period are dropped),
    "unbalanced" (kept) or "rcs" (every row is its own id)."""
    long = panel._long  # read only: a copy would double the memory at a million units
    periods = tuple(panel.periods)
    n_per = len(periods)
    wcol = panel_column(panel, weights, "weights") if weights is not None else None
    if wcol is not None:
        wv = long[wcol].to_numpy(dtype="float64")
        if not np.all(np.isfinite(wv)) or np.any(wv < 0) or not wv.sum() > 0:
            raise PanelError(f"The weights column {weights!r} must hold finite, non-negative numbers with a "
                             f"positive sum; it has min {np.nanmin(wv):g} and "
                             f"{int((~np.isfinite(wv)).sum())} missing or infinite values.")
    # A balanced panel is stored in blocks (rows sorted by unit, then period): unit i's rows are
    # i*T .. i*T+T-1, so nothing needs hashing, counting or scattering (codes are made only if needed).
    blocks = mode != "rcs" and panel.is_balanced and _in_blocks(long, n_per)
    codes: np.ndarray | None
    if blocks:
        codes = None
        uniq = pd.Index(long["unit"].iloc[::n_per])
        short = np.zeros(len(uniq), dtype=bool)
    else:
        codes, uniq = _unit_codes(long["unit"], n_per if panel.is_balanced and mode != "rcs" else 0)
        counts = np.bincount(codes, minlength=len(uniq))
        short = counts < n_per
    if mode == "unbalanced" and not short.any():
        mode = "balanced"
        notes.append("allow_unbalanced=True but the panel is balanced: the panel estimators were used")
    if mode == "balanced" and short.any():
        for u, c in zip(uniq[short], counts[short], strict=True):
            excluded.append(("unit", u, f"unbalanced: observed in {c} of {n_per} periods"))
        _warn(f"{int(short.sum())} of {len(uniq)} units are not observed in every period and were dropped "
              "(Callaway–Sant'Anna on a balanced panel, as R did; see .excluded); the estimate speaks for "
              "the units observed throughout", notes, stacklevel)
        assert codes is not None  # noqa: S101 - a panel stored in blocks has no short units
        long = long.loc[~short[codes]]
        if long.empty:
            raise EstimationError(f"No unit is observed in all {n_per} periods, so no balanced panel "
                                  "remains. Restrict the panel to the periods in which its units are "
                                  "observed throughout.")
    if mode == "rcs":
        codes = np.arange(len(long))
        uniq = np.asarray(long.index)
    elif mode == "balanced" and short.any():  # renumber the units that remain (no second factorize)
        assert codes is not None  # noqa: S101 - see above
        codes = (np.cumsum(~short) - 1)[codes[~short[codes]]]
        uniq = uniq[~short]
    n_all = len(uniq)

    def unit_codes() -> np.ndarray:
        nonlocal codes
        if codes is None:
            codes = np.repeat(np.arange(n_all, dtype="intp"), n_per)
        return codes

    if blocks:
        gp = long["cohort_period"].to_numpy()[::n_per].astype("int64")
    else:
        gp = np.zeros(n_all, dtype="int64")
        gp[unit_codes()] = long["cohort_period"].to_numpy()
    if covs:
        xmat = long[list(covs)].to_numpy(dtype="float64")
        bad = collinear(xmat, covs)
        if bad:
            raise EstimationError(
                f"Covariates {bad} are constant or collinear with the intercept and the other covariates "
                f"{[c for c in covs if c not in bad]}, so the propensity-score and outcome regressions are "
                "singular. Drop them from covariates=.")
    clus = None
    if panel.cluster is not None:
        cv = (long["cluster"].to_numpy() if mode == "rcs"
              else _per_unit(long, unit_codes, n_all, "cluster", "cluster", panel.cluster,
                             n_per if blocks else 0))
        clus = pd.factorize(cv)[0]
    wts = None
    if wcol is not None:
        wts = (long[wcol].to_numpy(dtype="float64") if mode == "rcs"
               else _per_unit(long, unit_codes, n_all, wcol, "weights", str(weights),
                              n_per if blocks else 0).astype("float64"))

    # --- ids with no pre-treatment period
    if blocks:
        late_raw = long["cohort"].iloc[::n_per].notna().to_numpy() & (gp == 0)
    else:
        late_raw = np.zeros(n_all, dtype=bool)
        late_raw[unit_codes()] = long["cohort"].notna().to_numpy()
        late_raw &= gp == 0
    if anticipation > 0 and late_raw.any():
        notes.append(f"{int(late_raw.sum())} units are first treated after the last period and count as "
                     "never treated; with anticipation they may already react within the data")
    always = (gp > 0) & (gp <= 1 + anticipation)
    if always.any():
        why = "treated in the first observed period" + (
            f" or within anticipation={anticipation} periods of it" if anticipation else "")
        excluded.extend(("unit", u, f"{why}: no pre-treatment period") for u in uniq[always])
        _warn(f"{int(always.sum())} units already treated at the start have no pre-treatment period and were "
              "dropped", notes, stacklevel)
    keep = ~always
    gp, uniq = gp[keep], np.asarray(uniq)[keep]
    if clus is not None:
        clus = pd.factorize(clus[keep])[0]
    if wts is not None:
        wts = wts[keep]
        if not wts.sum() > 0:
            raise EstimationError("Every remaining unit has weight zero.")
        wts = wts / wts.mean()
    if len(uniq) == 0 or not (gp > 0).any():
        raise EstimationError("No treated units with a pre-treatment period remain; Callaway–Sant'Anna needs "
                              "units first treated after the first observed period.")
    glist = np.unique(gp[gp > 0])
    if mode != "rcs":
        sizes = {int(g): int((gp == g).sum()) for g in glist}
        single = [periods[g - 1] for g, s in sizes.items() if s == 1]
        if single:
            _warn(f"cohorts {_labels(single)} have a single unit: kept, as R did keeps them, but each of "
                  "their ATT(g,t) is one unit's change against the comparison group and its standard error "
                  "leaves out that unit's own variability (one unit cannot show it): unreliable", notes,
                  stacklevel)
        small = [periods[g - 1] for g, s in sizes.items() if 1 < s < 5]
        if small:
            _warn(f"cohorts {_labels(small)} have fewer than 5 units: their ATT(g,t) and standard errors are "
                  "unreliable", notes, stacklevel)

    # --- comparison group availability
    last_t = n_per
    if not (gp == 0).any():
        if control == "never_treated":
            raise EstimationError(
                "There are no never-treated units to compare with (control='never_treated'). Use "
                "control='not_yet_treated' to compare each cohort with units treated later.")
        g_last = int(np.max(gp))
        last_t = g_last - anticipation - 1
        if last_t < 2:
            raise EstimationError("No never-treated units and too few periods before the last cohort is "
                                  "treated to use it as comparison; there is nothing to estimate.")
        for p in periods[last_t:]:
            excluded.append(("period", p, "no never-treated units: periods from the last cohort's "
                             "treatment on have no comparison group"))
        notes.append(f"no never-treated units: the last cohort ({periods[g_last - 1]}) serves only as "
                     f"comparison and periods after {periods[last_t - 1]} are not used")
        glist = glist[glist < g_last]
    if clus is not None:
        n_cl = int(clus.max()) + 1
        if n_cl < 2:
            raise EstimationError(f"The cluster column {panel.cluster!r} has a single cluster: "
                                  "cluster-robust standard errors are impossible. Build the panel without "
                                  "cluster= (units become the clusters) or with a finer cluster column.")
        if n_cl < FEW_CLUSTERS:
            _warn(f"only {n_cl} clusters: cluster-robust standard errors are unreliable with few clusters; "
                  "consider a wild cluster bootstrap", notes, stacklevel)

    base = CsData(ids=uniq, gp=gp, weights=wts, cluster=clus, n_periods=last_t, glist=glist,
                  mode="balanced" if mode == "balanced" else "rcs", kind=mode)
    if mode == "balanced":
        xs = None
        if blocks:
            # views of the stored columns (read only: they may be shared with the caller's frame)
            y = long["outcome"].to_numpy().reshape(n_all, n_per)
            if covs:
                xs = xmat.reshape(n_all, n_per, len(covs))  # the matrix the rank check read
        else:
            pidx = long["period"].to_numpy() - 1
            y = np.full((len(keep), n_per), np.nan)
            y[unit_codes(), pidx] = long["outcome"].to_numpy()
            if covs:
                xs = np.zeros((len(keep), n_per, len(covs)))
                xs[unit_codes(), pidx, :] = long[list(covs)].to_numpy(dtype="float64")
        if not keep.all():
            y = y[keep]
            xs = None if xs is None else xs[keep]
        if last_t < n_per:
            y = y[:, :last_t]
            xs = None if xs is None else xs[:, :last_t]
        y = y.view()
        y.flags.writeable = False
        if xs is not None:
            xs = xs.view()
            xs.flags.writeable = False
        return replace(base, y=y, xs=xs)
    codes = unit_codes()
    t_obs = long["period"].to_numpy()
    if keep.all() and last_t >= n_per:
        # nothing left out: the observation arrays are the stored columns (read-only views, no copies)
        obs_id, obs_y = codes, long["outcome"].to_numpy()
        obs_x = long[list(covs)].to_numpy(dtype="float64") if covs else None
        obs_w = None if wts is None else wts[codes]
    else:
        new_index = np.cumsum(keep) - 1
        rows = keep[codes] & (t_obs <= last_t)
        t_obs = t_obs[rows]
        obs_id = new_index[codes[rows]]
        obs_y = long["outcome"].to_numpy()[rows]
        obs_x = long[list(covs)].to_numpy(dtype="float64")[rows] if covs else None
        obs_w = None if wts is None else wts[obs_id]
    return replace(base, obs_id=obs_id, obs_t=t_obs, obs_y=obs_y, obs_x=obs_x, obs_w=obs_w)
