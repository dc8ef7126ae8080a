"""The cost line of `orchestrator plan`: compute and wall time from steps and rates."""

from __future__ import annotations

import json

import pytest
import yaml
from support.sweeps import tiny_sweep_data

from orchestrator.cli import main
from orchestrator.planning.estimate import EVALUATION_S, JOB_OVERHEAD_S, THROUGHPUT, estimate
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import SweepSpec

FNN = THROUGHPUT["fnn"]
TRAIN_CPU_S = JOB_OVERHEAD_S + 40 / FNN.train_cpu  # tiny sweep: 40 training steps
FIT_CPU_S = JOB_OVERHEAD_S + 12 / FNN.fit_cpu  # 12 mask-fit steps, 3 target functions
EVALUATE_S = JOB_OVERHEAD_S + EVALUATION_S


def tiny_plan(seeds=(1,), fit_resources=None):
    data = tiny_sweep_data(seeds=seeds)
    if fit_resources:
        data["experiments"][0]["resources"] = {"fit": fit_resources}
    return plan_sweep(SweepSpec.model_validate(data))


def test_cpu_hours_add_up_every_job_and_wall_time_is_the_longest_chain():
    cost = estimate(tiny_plan(), cpus=64, gpus=0)
    assert cost.cpu_hours * 3600 == pytest.approx(TRAIN_CPU_S + 3 * FIT_CPU_S + EVALUATE_S)
    assert cost.gpu_hours == 0
    assert cost.wall_hours * 3600 == pytest.approx(TRAIN_CPU_S + FIT_CPU_S + EVALUATE_S)


def test_wall_time_is_bounded_by_the_cpus_of_a_small_cluster():
    cost = estimate(tiny_plan(seeds=(1, 2, 3, 4)), cpus=2, gpus=0)
    total = 4 * (TRAIN_CPU_S + 3 * FIT_CPU_S + EVALUATE_S)
    assert cost.wall_hours * 3600 == pytest.approx(total / 2)


def test_gpu_fits_hold_their_fraction_of_a_gpu_and_fall_back_to_cpu_without_gpus():
    plan = tiny_plan(fit_resources={"cpus": 1, "gpus": 0.25})
    on_gpus = estimate(plan, cpus=8, gpus=1)
    fit_gpu_s = JOB_OVERHEAD_S + 12 / FNN.fit_gpu
    assert on_gpus.gpu_hours * 3600 == pytest.approx(3 * fit_gpu_s * 0.25)
    on_cpus = estimate(plan, cpus=8, gpus=0)
    assert on_cpus.gpu_hours == 0
    assert on_cpus.cpu_hours * 3600 == pytest.approx(TRAIN_CPU_S + 3 * FIT_CPU_S + EVALUATE_S)


def test_plan_prints_the_cost_line_and_json_carries_it(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(tiny_sweep_data()))
    assert main(["plan", str(path), "--cpus", "4", "--gpus", "2"]) == 0
    out = capsys.readouterr().out.replace("\n", " ")
    assert "Estimated cost on 4 CPUs + 2 GPUs" in out and "GPU rates are assumptions" in out
    assert main(["plan", str(path), "--format", "json", "--cpus", "4"]) == 0
    cost = json.loads(capsys.readouterr().out)["estimate"]
    assert cost["cpus"] == 4 and cost["gpus"] == 0
    assert cost["cpu_hours"] * 3600 == pytest.approx(2 * (TRAIN_CPU_S + 3 * FIT_CPU_S + EVALUATE_S))
