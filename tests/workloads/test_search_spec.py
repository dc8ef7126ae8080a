"""The `search:` section: what a user may search and the one-line errors for what not."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from workloads.fit import MaskFitConfig
from workloads.search.objective import TrialResult, best_trial, trial_score
from workloads.search.spec import SearchSpec

BETA = {"mask_fit.regularization_weight": {"loguniform": [1e-5, 1e-3]}}


def error_of(data: dict) -> str:
    with pytest.raises(ValidationError) as raised:
        SearchSpec.model_validate(data)
    return str(raised.value)


def test_a_search_over_beta_and_the_learning_rate_validates():
    spec = SearchSpec.model_validate(
        {"space": {**BETA, "mask_fit.learning_rate": {"uniform": [0.003, 0.03]}}, "trials": 6}
    )
    assert spec.scheduler.name == "asha" and spec.objective.within == 0.02
    spec.check_against(MaskFitConfig(), ("all", "add", "mul"))


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({}, "search.space is empty"),
        ({"mask_fit.betaa": {"loguniform": [1e-5, 1e-3]}}, "not a searchable field"),
        ({"training.steps": {"choice": [1, 2]}}, "not a searchable field"),
        ({"mask_fit.regularization_weight": {"loguniform": [0, 1e-3]}}, "0 < low < high"),
        ({"mask_fit.learning_rate": {"uniform": [0.1, 0.01]}}, "low < high"),
        ({"mask_fit.steps": {"choice": []}}, "at least 1 item"),
    ],
)
def test_bad_spaces_name_the_field_and_the_fix(space, message):
    assert message in error_of({"space": space})


def test_an_objective_naming_an_unknown_metric_lists_the_valid_ones():
    text = error_of({"space": BETA, "objective": {"keep": "f1_score"}})
    assert "unknown metric 'f1_score'" in text and "masked_accuracy" in text


def test_values_the_space_can_draw_must_make_a_valid_fit():
    spec = SearchSpec.model_validate({"space": {"mask_fit.steps": {"choice": [100, 0]}}})
    with pytest.raises(ValueError, match=r"search.space.mask_fit.steps: value 0"):
        spec.check_against(MaskFitConfig(), ("all",))
    spec = SearchSpec.model_validate({"space": BETA, "target_function": "div"})
    with pytest.raises(ValueError, match="unknown target function 'div'"):
        spec.check_against(MaskFitConfig(), ("all", "add", "mul"))


def trial(
    name: str, kept: float, accuracy: float, stopped: bool = False, error: str | None = None
) -> TrialResult:
    return TrialResult(name, {}, kept, accuracy, accuracy, 100, stopped, error)


def test_any_feasible_trial_beats_every_infeasible_one_and_sparser_wins():
    assert trial_score(0.9, 0.99, 1.0, 0.02) > trial_score(0.01, 0.97, 1.0, 0.02)
    assert trial_score(0.2, 0.99, 1.0, 0.02) > trial_score(0.3, 1.0, 1.0, 0.02)
    trials = [trial("a", 0.3, 1.0), trial("b", 0.1, 0.5), trial("c", 0.2, 0.99)]
    assert best_trial(trials, 1.0, 0.02) == (trials[2], True)


def test_early_stopped_and_failed_trials_are_never_chosen_and_no_feasible_trial_is_said():
    trials = [
        trial("a", 0.01, 1.0, stopped=True),
        trial("b", 0.5, 0.6),
        trial("c", 0.2, 0.4),
        trial("d", 0.01, 1.0, error="NonFiniteLoss: loss is nan at step 40"),
    ]
    best, feasible = best_trial(trials, 1.0, 0.02)
    assert best.trial_id == "b" and not feasible
    with pytest.raises(ValueError, match="no finished trials"):
        best_trial([trials[0]], 1.0, 0.02)
