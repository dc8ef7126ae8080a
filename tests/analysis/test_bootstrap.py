from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.bootstrap import bootstrap_mean


def test_two_values_span_both_extremes():
    # Resampled means of [0, 1] are 0, 0.5, 1 with chances 1/4, 1/2, 1/4.
    interval = bootstrap_mean([0.0, 1.0])
    assert interval.mean == 0.5
    assert (interval.low, interval.high) == (0.0, 1.0)
    assert interval.n == 2
    assert interval.spread_known


def test_constant_values_give_a_point():
    interval = bootstrap_mean([0.1, 0.1, 0.1, 0.1])
    assert interval.low == interval.mean == interval.high == pytest.approx(0.1)
    assert interval.n == 4
    assert interval.spread_known


def test_one_seed_gives_a_point_with_unknown_spread():
    interval = bootstrap_mean([0.7])
    assert (interval.mean, interval.low, interval.high, interval.n) == (0.7, 0.7, 0.7, 1)
    assert not interval.spread_known


def test_no_values_gives_nan():
    interval = bootstrap_mean([float("nan")])
    assert interval.n == 0
    assert math.isnan(interval.mean) and math.isnan(interval.low) and math.isnan(interval.high)


def test_nans_are_dropped():
    assert bootstrap_mean([1.0, float("nan"), 3.0]).n == 2
    assert bootstrap_mean([1.0, float("nan"), 3.0]).mean == 2.0


def test_interval_matches_normal_approximation_for_many_seeds():
    values = np.random.default_rng(1).normal(10.0, 2.0, size=400)
    interval = bootstrap_mean(values)
    half_width = 1.96 * values.std(ddof=1) / math.sqrt(values.size)
    assert interval.low == pytest.approx(values.mean() - half_width, abs=0.05)
    assert interval.high == pytest.approx(values.mean() + half_width, abs=0.05)


def test_same_seed_repeats_and_lower_confidence_narrows():
    values = [0.2, 0.5, 0.9, 0.4, 0.6]
    assert bootstrap_mean(values, seed=5) == bootstrap_mean(values, seed=5)
    wide = bootstrap_mean(values, confidence=0.95)
    narrow = bootstrap_mean(values, confidence=0.5)
    assert wide.low < narrow.low < narrow.high < wide.high
    assert wide.low >= min(values) and wide.high <= max(values)
