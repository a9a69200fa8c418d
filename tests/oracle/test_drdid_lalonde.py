"""Doubly robust DiD on LaLonde's observational evaluation (NSW units against CPS or PSID survey units),
against R DRDID's published outputs and the drdid port; see ``drdid_lalonde/PROVENANCE.md``.

The propensity logit of these samples (thousands of survey units, earnings in dollars next to 0/1
indicators, scores from 1e-9 to 0.98) is where a logit without step control or scaling fails; R's
``glm`` fits it, and so must :func:`impactlab.estimators._logit.fit_logit`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.estimators._logit import fit_logit

HERE = Path(__file__).resolve().parent / "drdid_lalonde"
#: The covariates of DRDID's README example, and a richer (Dehejia–Wahba style) score with squares and a
#: zero-earnings indicator that pushes scores towards 0 and 1.
README = ["age", "educ", "black", "married", "nodegree", "hisp", "re74"]
RICH = ["age", "age2", "educ", "educ2", "black", "married", "nodegree", "hisp", "re74", "re74k2", "u74"]
#: Tolerances of issue 14 (relative): ATT 1e-4, SE 1e-3. The printed R values are compared to their printed
#: digits (half a unit of the last digit, plus one unit for R's older logit covariance, see PROVENANCE.md).
ATT_RTOL, SE_RTOL = 1e-4, 1e-3


def _data() -> pd.DataFrame:
    d = pd.read_csv(HERE / "nsw_long.csv.gz")
    return d.assign(age2=d["age"] ** 2, educ2=d["educ"] ** 2, re74k2=(d["re74"] / 1000) ** 2,
                    u74=(d["re74"] == 0).astype(int))


def _sample(d: pd.DataFrame, name: str) -> pd.DataFrame:
    survey = {"cps": 2, "psid": 3}[name.split("_")[0]]
    nsw = 0 if "controls" in name else 1  # NSW experimental controls (evaluation bias) or trainees
    return d[(d["treated"] == nsw) | (d["sample"] == survey)]


def _panel(sub: pd.DataFrame, covs: list[str]) -> il.Panel:
    first = np.where(sub["experimental"] == 1, 1978, 0)
    return il.Panel.from_frame(sub.assign(first=first), unit="id", time="year", outcome="re", cohort="first",
                               covariates=covs)


class _RSample:
    """R's default generator (Mersenne-Twister seeded by ``set.seed``) and ``sample()`` without
    replacement (R ≥ 3.6, rejection sampling), to draw the sub-sample of DRDID's examples."""

    def __init__(self, seed: int) -> None:
        s = seed & 0xFFFFFFFF
        for _ in range(50):  # set.seed's initial scrambling
            s = (69069 * s + 1) & 0xFFFFFFFF
        state = []
        for _ in range(625):
            s = (69069 * s + 1) & 0xFFFFFFFF
            state.append(s)
        self.mt, self.pos = state[1:], 624

    def unif(self) -> float:
        mt = self.mt
        if self.pos >= 624:
            for k in range(624):
                y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7FFFFFFF)
                mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            self.pos = 0
        y = mt[self.pos]
        self.pos += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        u = y * 2.3283064365386963e-10  # R's fixup keeps it inside (0, 1)
        return 0.5 * 2.328306437080797e-10 if u <= 0 else min(u, 1 - 0.5 * 2.328306437080797e-10)

    def index(self, n: int) -> int:
        bits = math.ceil(math.log2(n))
        while True:
            v = 0
            for _ in range(0, bits + 1, 16):
                v = 65536 * v + math.floor(self.unif() * 65536)
            v &= (1 << bits) - 1
            if v < n:
                return v

    def sample(self, n: int, k: int) -> list[int]:
        pool, out = list(range(n)), []
        for _ in range(k):
            j = self.index(n)
            out.append(pool[j] + 1)
            n -= 1
            pool[j] = pool[n]
        return out


def test_r_generator_reproduces_r() -> None:
    # R: set.seed(42); runif(3) and set.seed(123); sample(10, 3)
    r = _RSample(42)
    assert [round(r.unif(), 7) for _ in range(3)] == [0.914806, 0.9370754, 0.2861395]
    assert _RSample(123).sample(10, 3) == [3, 10, 2]


def test_r_drdid_published_examples() -> None:
    """DRDID's examples: ``set.seed(123)``, 5,000 units of the CPS sample, ``drdid(..., estMethod="trad")``
    (= ``drdid_panel``), ``ipwdid`` and ``ordid`` with the README covariates."""
    ref = pd.read_csv(HERE / "reference.csv")
    ref = ref[ref["source"].str.startswith("R DRDID")].set_index("method")
    assert len(ref) == 3
    cps = _sample(_data(), "cps_controls")
    ids = pd.unique(cps["id"])
    chosen = ids[np.array(_RSample(123).sample(len(ids), 5000)) - 1]
    panel = _panel(cps[cps["id"].isin(chosen)], README)
    for method, row in ref.iterrows():
        half = 0.5 * 10.0 ** -int(row["digits"])
        res = il.drdid(panel, method=method, covariates=README)
        assert res.n_units == 5000
        assert abs(res.estimate - row["att"]) <= half, (method, res.estimate)
        # DRDID 1.0.7 printed sd(psi) / sqrt(n): the n - 1 denominator of R's sd, the mean of psi removed
        psi = res.influence
        r_se = float(np.std(psi, ddof=1) / np.sqrt(psi.size))
        assert abs(r_se - row["se"]) <= 3 * half, (method, r_se)
        assert res.std_error == pytest.approx(row["se"], rel=SE_RTOL)
        if method != "reg":
            cs = il.callaway_santanna(panel, method=method, covariates=README)
            cell = cs.att_gt.iloc[0]
            assert abs(cell["estimate"] - row["att"]) <= half
            assert cell["std_error"] == pytest.approx(res.std_error, rel=1e-10)


@pytest.mark.parametrize("name", ["cps_controls", "psid_controls", "psid_trainees"])
def test_drdid_port_on_the_full_samples(name: str) -> None:
    ref = pd.read_csv(HERE / "reference.csv")
    ref = ref[ref["source"].str.startswith("drdid") & (ref["sample"] == name)].set_index("method")
    assert len(ref) == 3
    covs = README if ref["covariates"].iloc[0] == "readme" else RICH
    panel = _panel(_sample(_data(), name), covs)
    for method, row in ref.iterrows():
        res = il.drdid(panel, method=method, covariates=covs)
        assert res.n_units == row["n_units"]
        assert res.estimate == pytest.approx(row["att"], rel=ATT_RTOL), method
        assert res.std_error == pytest.approx(row["se"], rel=SE_RTOL), method
        cs = il.callaway_santanna(panel, method=method, covariates=covs)
        cell = cs.att_gt.iloc[0]
        assert cell["estimate"] == pytest.approx(row["att"], rel=ATT_RTOL), method
        assert cell["std_error"] == pytest.approx(row["se"], rel=SE_RTOL), method


def test_the_cps_logit_is_r_glm() -> None:
    """The score of the README example: converged, no fitted value at 0 or 1, the largest score of a
    comparison unit below DRDID's trimming level (nobody trimmed), several iterations of R's rule."""
    cps = _sample(_data(), "cps_controls")
    base = cps[cps["year"] == 1975]
    x = np.column_stack([np.ones(len(base)), base[README].to_numpy(dtype="float64")])
    d = base["experimental"].to_numpy(dtype="float64")
    fit = fit_logit(x, d)
    assert fit.converged and fit.separated == 0 and 3 <= fit.iterations <= 25
    assert fit.fitted[d == 0].max() < 0.995
    # the score equation holds at the fitted coefficients (the maximum of the likelihood)
    score = x.T @ (d - fit.fitted) / np.abs(x).max(axis=0)
    assert np.max(np.abs(score)) < 1e-3
