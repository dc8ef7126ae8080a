"""Typed job configs: plain data as before, ids that hash that data, one check per kind."""

from __future__ import annotations

import hashlib
import json

import pytest
from support.sweeps import tiny_sweep_data

from orchestrator import CODE_VERSION
from orchestrator.job_types.configs import (
    EvaluateJobConfig,
    FitJobConfig,
    TrainJobConfig,
    job_config,
)
from orchestrator.job_types.job import canonical
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import SweepSpec


def plan_of(data: dict):
    return plan_sweep(SweepSpec.model_validate(data))


def test_job_id_is_the_hash_of_kind_config_data_and_code_version():
    for job in plan_of(tiny_sweep_data(seeds=(1,))).jobs:
        payload = {"code_version": CODE_VERSION, "config": job.config.as_data(), "kind": job.kind}
        assert job.id == hashlib.sha256(canonical(payload).encode()).hexdigest()[:16]


def test_fit_config_data_leaves_out_planner_fields_and_unset_keys():
    fit = next(job for job in plan_of(tiny_sweep_data(seeds=(1,))).jobs if job.kind == "fit")
    data = fit.config.as_data()
    assert set(data) == {"train_job", "task", "model", "mask_fit", "target_function", "seed"}
    assert not {"target_functions", "data_order_seeds", "before_masking"} & set(data["mask_fit"])
    assert json.loads(canonical(data)) == data


def test_optional_keys_appear_once_set():
    data = tiny_sweep_data(seeds=(1,))
    data["experiments"][0]["mask_fit"]["data_order_seeds"] = [7]
    fit = next(job for job in plan_of(data).jobs if job.kind == "fit")
    assert fit.config.as_data()["data_order_seed"] == 7 == fit.config.data_order_seed


def test_evaluation_defaults_reach_the_evaluate_job():
    evaluate = next(j for j in plan_of(tiny_sweep_data(seeds=(1,))).jobs if j.kind == "evaluate")
    config = job_config(evaluate, EvaluateJobConfig)
    assert config.evaluation.io_kept_inverse is True  # the spec's default, not the old False
    assert config.evaluation.random_removal_draws == 3
    assert set(config.fit_jobs) == set(config.task.target_functions())


def test_a_runner_refuses_a_config_of_another_kind():
    train = next(j for j in plan_of(tiny_sweep_data(seeds=(1,))).jobs if j.kind == "train")
    assert isinstance(job_config(train, TrainJobConfig), TrainJobConfig)
    with pytest.raises(TypeError, match="not a FitJobConfig"):
        job_config(train, FitJobConfig)


def test_plan_json_keeps_config_data_and_reads_back_as_typed_configs():
    plan = plan_of(tiny_sweep_data(seeds=(1,)))
    stored = json.loads(plan.model_dump_json())
    assert [job["config"] for job in stored["jobs"]] == [job.config.as_data() for job in plan.jobs]
    again = type(plan).model_validate_json(plan.model_dump_json())
    assert [job.config for job in again.jobs] == [job.config for job in plan.jobs]
