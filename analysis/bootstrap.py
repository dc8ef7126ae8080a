"""Percentile bootstrap interval of a mean over seeds: the spread behind every claim verdict.

Seeds are few (10 per setting in the paper, 1-2 in a smoke sweep), so the interval comes
from resampling the seeds themselves rather than from a normal approximation. The
generator is seeded, so a report is reproducible. With one seed nothing can be resampled:
the interval is the point and `spread_known` is False, which the verdicts must respect.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

RESAMPLES = 10_000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class MeanInterval:
    """Mean of the seeds' values, the bootstrap interval around it, and the seed count."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def spread_known(self) -> bool:
        """False for fewer than 2 seeds: the interval is then a point, not a measurement."""
        return self.n >= 2


def bootstrap_mean(
    values: Iterable[float],
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> MeanInterval:
    """Mean and percentile-bootstrap interval of `values`; NaNs are dropped first.

    No values gives NaN everywhere and n = 0. Identical values give the point itself,
    exactly, whatever the rounding of resampled means would say.
    """
    sample = np.asarray(list(values), dtype=float)
    sample = sample[~np.isnan(sample)]
    n = sample.size
    if n == 0:
        return MeanInterval(mean=float("nan"), low=float("nan"), high=float("nan"), n=0)
    mean = float(sample.mean())
    if n == 1 or np.ptp(sample) == 0:
        return MeanInterval(mean=mean, low=mean, high=mean, n=n)
    generator = np.random.default_rng(seed)
    picks = generator.integers(0, n, size=(resamples, n))  # [resamples, seeds]
    resampled_means = sample[picks].mean(axis=1)  # [resamples]
    tail = (1 - confidence) / 2
    low, high = np.quantile(resampled_means, [tail, 1 - tail])
    return MeanInterval(mean=mean, low=float(low), high=float(high), n=n)
