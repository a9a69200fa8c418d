"""Gardner's two-stage difference-in-differences (Gardner 2022; R ``did2s``, Butts & Gardner 2022).

Stage 1 fits unit and period effects (and covariates) by least squares on the untreated observations:
never-trained employees, employees not yet trained, and trained employees before their period of training
minus ``anticipation``. Stage 2 regresses the outcome net of those effects on training: one indicator for
the overall effect, one per event time for the event study, one per cohort. The point estimates are those
of the imputation estimator (Borusyak, Jaravel & Spiess 2024), and the first stage is the same fit
(:mod:`impactlab.estimators.imputation`); what differs is the variance. Gardner's GMM sandwich carries the
first stage's estimation error into the second: per cluster, the score is the first stage's moments
mapped through the cross-moment of the two designs, less the second stage's own moments. In the weights
of the imputation estimator this is the same sum over clusters of ``v × residual``, with each trained
observation's residual taken about the second stage's fit (the target's average) instead of its cohort ×
event-time mean, and no small-sample factor (as in R ``did2s``).

References
----------
J. Gardner (2022), "Two-stage differences in differences", arXiv:2207.05943, section 4 (the GMM
variance). K. Butts and J. Gardner (2022), "did2s: Two-Stage Difference-in-Differences", *The R Journal*
14(3), 162-173.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from impactlab.estimators.imputation import ImputationResult, _estimate
from impactlab.panel import Panel

__all__ = ["TwoStageResult", "two_stage"]


@dataclass(frozen=True, repr=False, eq=False)
class TwoStageResult(ImputationResult):
    """Gardner's two-stage result: the overall effect, by event time and by cohort.

    The fields are those of :class:`~impactlab.estimators.ImputationResult` (``elements`` by event time
    from ``-anticipation`` on, ``by_cohort``, ``cells``, ``excluded``); the standard errors are Gardner's
    GMM ones. ``pretrend`` and ``leads`` are Test 1 of Borusyak, Jaravel & Spiess on the untreated
    observations stage 1 is fitted on (the same test as the imputation estimator's).
    """

    def __repr__(self) -> str:
        return (f"TwoStageResult(estimate={self.estimate:.6g}, std_error={self.std_error:.6g}, "
                f"event_times={self._event_times()}, n_units={self.n_units})")


def two_stage(panel: Panel, *, anticipation: int = 0,
              covariates: Sequence[str] | None = None) -> TwoStageResult:
    """Gardner's two-stage difference-in-differences for staggered roll-outs.

    Stage 1 fits unit and period effects (and ``covariates``) on every untreated observation; stage 2
    regresses the outcome net of them on training, overall, by event time and by cohort. Unbalanced panels
    are used as they are: hires and leavers keep every row.

    Parameters
    ----------
    panel : Panel
        The employee × period panel; it is not modified. Standard errors are clustered by its cluster (the
        employee by default).
    anticipation : int
        Number of periods before training in which its effect may already show. Those observations are left
        out of stage 1; their effects are reported as event times ``-anticipation .. -1`` and are not in the
        headline.
    covariates : sequence of str, optional
        Time-varying panel covariates added to stage 1.

    Returns
    -------
    TwoStageResult
        The average effect over trained observations from training on (``estimate``), by event time
        (``elements``) and by cohort (``by_cohort``), with Gardner's GMM standard errors, the pre-trend test
        on the untreated observations (``pretrend``, Test 1 of the imputation estimator) and ``excluded``:
        employees with no untreated observation (trained from their first observed period) and periods
        without one leave their trained observations out, as in the imputation estimator. A new result; the
        panel is not modified.

    Notes
    -----
    The estimates equal the imputation estimator's, to rounding. The variance is Gardner's: with ``v`` the
    weight each observation carries in a target (``1/N`` on its trained observations, and what stage 1
    passes on to them on the untreated ones), it is the sum over clusters of the squared sums of ``v ×
    residual``, the residual of an untreated observation being stage 1's and of a trained one its effect
    minus the target's estimate (stage 2's residual). It equals diff-diff's ``TwoStageDiD`` and R
    ``did2s``. With ``anticipation > 0`` diff-diff's overall effect also averages the anticipation window;
    here the headline starts at training, as the imputation estimator's does.

    Examples
    --------
    >>> import impactlab as il
    >>> panel = il.datasets.example_panel()
    >>> res = il.two_stage(panel)
    >>> abs(res.estimate - il.imputation(panel).estimate) < 1e-9
    True
    """
    result: TwoStageResult = _estimate(panel, anticipation, covariates, name="two_stage",
                                       result_cls=TwoStageResult, label="Two-stage DiD (Gardner)",
                                       gardner=True)
    return result
