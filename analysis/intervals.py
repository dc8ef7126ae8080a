"""Student-t interval of a mean over seeds: the spread behind every number and verdict.

Seeds are few (10 per setting in the paper, 2-3 in a smoke sweep). A percentile bootstrap
of the mean is no good there: with 2 or 3 seeds its "95%" interval is the seeds' [min, max]
and covers the true mean about half or three quarters of the time. The t interval
mean ± t(n-1) · std / sqrt(n) (std with n-1) has its stated coverage at every n >= 2 when
the seeds' values scatter normally around the mean, and is the test the verdicts use: an
interval above 0 is a one-sided test at the 2.5% level. With one seed there is no spread:
the interval is the point and `spread_known` is False, which the verdicts must respect.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

CONFIDENCE = 0.95
SHARE = (0.0, 1.0)  # bounds of an accuracy, density or share of weights
ArrayOrFloat = float | np.ndarray


@dataclass(frozen=True)
class MeanInterval:
    """Mean of the seeds' values, their sample std (n-1), the t interval and the seed count."""

    mean: float
    std: float
    low: float
    high: float
    n: int

    @property
    def spread_known(self) -> bool:
        """False for fewer than 2 seeds: the interval is then a point, not a measurement."""
        return self.n >= 2


def t_quantile(seeds: int, confidence: float = CONFIDENCE) -> float:
    """The two-sided t quantile with seeds - 1 degrees of freedom (inf for one seed)."""
    if seeds < 2:
        return math.inf
    return float(student_t.ppf(0.5 + confidence / 2, seeds - 1))


def t_bounds(
    mean: ArrayOrFloat, std: ArrayOrFloat, seeds: int, confidence: float = CONFIDENCE
) -> tuple[ArrayOrFloat, ArrayOrFloat]:
    """(low, high) of the t interval from seed means and stds (arrays work: one per sweep)."""
    half_width = t_quantile(seeds, confidence) * std / math.sqrt(seeds)
    return mean - half_width, mean + half_width


def mean_interval(
    values: Iterable[float],
    confidence: float = CONFIDENCE,
    bounds: tuple[float, float] | None = None,
) -> MeanInterval:
    """Mean, std and t interval of `values`; NaNs are dropped first.

    No values gives NaN everywhere and n = 0; one value gives the point with std NaN;
    identical values give the point itself (std 0). `bounds`: the range the quantity can
    take (an accuracy: 0 to 1); the interval is cut to it, which keeps its coverage (the
    true mean lies in the range) and spares the reader an accuracy of 101%.
    """
    sample = np.asarray(list(values), dtype=float)
    sample = sample[~np.isnan(sample)]
    n = sample.size
    if n == 0:
        nan = float("nan")
        return MeanInterval(mean=nan, std=nan, low=nan, high=nan, n=0)
    mean = float(sample.mean())
    if n == 1:
        return MeanInterval(mean=mean, std=float("nan"), low=mean, high=mean, n=1)
    std = float(sample.std(ddof=1))
    low, high = map(float, t_bounds(mean, std, n, confidence))
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return MeanInterval(mean=mean, std=std, low=low, high=high, n=n)


def interval_label(seeds: Iterable[int] | int, confidence: float = CONFIDENCE) -> str:
    """How an interval was computed, for captions: "95% t-interval over 3 seeds" (or over
    "2-3 seeds" when rows differ)."""
    counts = sorted({int(s) for s in ([seeds] if isinstance(seeds, int) else seeds)})
    level = f"{confidence:.0%} t-interval"
    if not counts:
        return f"{level} over seeds"
    span = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f"{level} over {span} seed{'' if counts == [1] else 's'}"
