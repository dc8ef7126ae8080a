"""`orchestrator search-result` on trial tables with a known best: what it prints and writes."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from orchestrator.cli.search_result import includable, render
from orchestrator.errors import UserError


def trials(feasible: bool, seeds=(1,)) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        for index, (beta, kept, accuracy) in enumerate(
            [(1e-5, 0.9, 0.99), (1e-3, 0.1 if feasible else 0.2, 0.98 if feasible else 0.6)]
        ):
            rows.append(
                {
                    "sweep": "s",
                    "experiment": "e",
                    "setting": "{}",
                    "seed": seed,
                    "train_job_id": f"train{seed}",
                    "search_job_id": f"search{seed}",
                    "target_function": "add",
                    "trial_id": f"trial_{index:04d}",
                    "values_json": json.dumps({"mask_fit.regularization_weight": beta}),
                    "steps": 100,
                    "stopped_early": False,
                    "kept_fraction": kept,
                    "masked_accuracy": accuracy,
                    "batch_accuracy": accuracy,
                    "base_accuracy": 1.0,
                    "within": 0.02 if feasible else 0.001,
                    "feasible": accuracy >= (0.98 if feasible else 0.999),
                    "best": index == 1 if feasible else index == 0,
                }
            )
    return pd.DataFrame(rows)


def runs(seeds=(1,)) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        train = {"task": {"name": "addmul"}, "model": {"name": "fnn"}, "training": {"steps": 5}}
        search = {"mask_fit": {"steps": 100, "regularization_weight": 1e-4, "before_masking": None}}
        rows += [
            {
                "job_id": f"train{seed}",
                "kind": "train",
                "config_json": json.dumps({**train, "seed": seed}),
            },
            {"job_id": f"search{seed}", "kind": "search", "config_json": json.dumps(search)},
        ]
    return pd.DataFrame(rows)


def test_prints_the_sparsest_trial_within_the_tolerance_as_a_mask_fit_block():
    text = render(trials(feasible=True))
    assert yaml.safe_load(text) == {"mask_fit": {"regularization_weight": 1e-3}}
    assert "trial_0001 of 2 trials" in text and "keeps 10.00%" in text and " within" in text


def test_says_plainly_when_no_trial_is_within_the_tolerance():
    text = render(trials(feasible=False))
    assert "NOT within" in text and "trial_0000" in text
    assert "stopped early" not in text.split("\n")[2]  # no trial was stopped: no advice


def test_names_the_trials_a_scheduler_stopped_while_they_were_within_the_tolerance():
    frame = trials(feasible=False)
    stopped = frame.iloc[0].to_dict() | {
        "trial_id": "trial_0002",
        "stopped_early": True,
        "masked_accuracy": 1.0,
        "feasible": None,
        "best": False,
        "kept_fraction": 0.5,
    }
    frame = pd.concat([frame, pd.DataFrame([stopped])], ignore_index=True)
    text = render(frame)
    assert "1 trial stopped early was within the tolerance when stopped (trial_0002)" in text
    assert "scheduler: {name: none}" in text
    assert yaml.safe_load(text)["mask_fit"] == {"regularization_weight": 1e-5}


def test_writes_one_experiment_per_search_with_a_seed_grid_when_asked():
    data = includable(trials(True, seeds=(1, 2)), runs((1, 2)), seeds=[1, 2, 3])
    names = [e["name"] for e in data["experiments"]]
    assert names == ["e_best_seed1", "e_best_seed2"]
    first = data["experiments"][0]
    assert first["mask_fit"] == {"steps": 100, "regularization_weight": 1e-3}
    assert first["grid"] == {"seed": [1, 2, 3]} and "seed" not in first
    assert includable(trials(True), runs())["experiments"][0]["seed"] == 1


def test_an_unknown_experiment_names_the_searched_ones():
    with pytest.raises(UserError, match="searched: e"):
        render(trials(True), "other")
