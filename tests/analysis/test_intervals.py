"""The t interval of a mean over seeds, on values whose answer is known by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.intervals import interval_label, mean_interval, t_quantile
from analysis.summary import spread_caption


def test_t_quantiles_match_the_printed_table():
    # Student-t two-sided 95% quantiles for 1, 2, 4 and 9 degrees of freedom.
    assert [round(t_quantile(n), 3) for n in (2, 3, 5, 10)] == [12.706, 4.303, 2.776, 2.262]
    assert t_quantile(1) == math.inf


def test_two_seeds_give_a_wide_interval_not_their_min_and_max():
    interval = mean_interval([0.0, 1.0])
    # std sqrt(0.5); half width 12.706 * sqrt(0.5) / sqrt(2) = 6.353
    assert (interval.mean, interval.n) == (0.5, 2)
    assert interval.std == pytest.approx(math.sqrt(0.5))
    assert interval.low == pytest.approx(0.5 - 6.3531, abs=1e-3)
    assert interval.high == pytest.approx(0.5 + 6.3531, abs=1e-3)


def test_constant_values_give_a_point():
    interval = mean_interval([0.1, 0.1, 0.1, 0.1])
    assert interval.low == interval.mean == interval.high == pytest.approx(0.1)
    assert interval.std == 0 and interval.spread_known


def test_one_seed_gives_a_point_with_unknown_spread():
    interval = mean_interval([0.7])
    assert (interval.mean, interval.low, interval.high, interval.n) == (0.7, 0.7, 0.7, 1)
    assert math.isnan(interval.std) and not interval.spread_known


def test_no_values_gives_nan_and_nans_are_dropped():
    empty = mean_interval([float("nan")])
    assert empty.n == 0 and math.isnan(empty.mean) and math.isnan(empty.low)
    assert mean_interval([1.0, float("nan"), 3.0]).n == 2
    assert mean_interval([1.0, float("nan"), 3.0]).mean == 2.0


def test_interval_covers_the_true_mean_95_percent_of_the_time_at_three_seeds():
    generator = np.random.default_rng(11)
    covered = [
        interval.low <= 0 <= interval.high
        for interval in (mean_interval(generator.normal(0, 1, 3)) for _ in range(2000))
    ]
    assert 0.94 <= np.mean(covered) <= 0.96


def test_label_names_the_method_and_the_seed_counts():
    assert interval_label(3) == "95% t-interval over 3 seeds"
    assert interval_label([2, 3, 3]) == "95% t-interval over 2-3 seeds"
    assert interval_label([1]) == "95% t-interval over 1 seed"


def test_table_captions_name_the_interval_and_rows_without_one():
    assert spread_caption([3, 3]) == "mean ± std [95% t-interval over 3 seeds]"
    assert spread_caption([1, 3]) == (
        "mean ± std [95% t-interval over 3 seeds]; rows of 1 seed: the value alone"
    )
    assert spread_caption([1]) == "1 seed: the value alone, no spread"


def test_an_accuracy_interval_is_cut_to_the_range_an_accuracy_can_take():
    interval = mean_interval([0.998, 0.994], bounds=(0.0, 1.0))
    assert interval.high == 1.0 and interval.low == pytest.approx(0.996 - 0.0254, abs=1e-3)
    assert mean_interval([0.998, 0.994]).high > 1.0
