"""A done job whose outputs are gone is not done: submit reruns it, analyze refuses until then."""

from __future__ import annotations

import json

import pytest
from support.sweep_processes import write_sweep
from support.sweeps import tiny_sweep_data

from orchestrator.cli import main
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import load_sweep


@pytest.fixture
def finished(tmp_path, monkeypatch, capsys):
    """The tiny sweep with one seed, submitted through the CLI: (sweep file, plan, artifacts)."""
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", str(tmp_path / "ws"))
    sweep_file = write_sweep(tmp_path, tiny_sweep_data("lost", seeds=(1,)))
    assert main(["submit", str(sweep_file), "--executor", "local"]) == 0
    capsys.readouterr()
    return sweep_file, plan_sweep(load_sweep(sweep_file)), tmp_path / "ws" / "artifacts" / "lost"


def submit_again(sweep_file, capsys) -> str:
    assert main(["submit", str(sweep_file), "--executor", "local"]) == 0
    return capsys.readouterr().out.replace("\n", " ")


def test_a_deleted_part_stops_analyze_until_submit_recomputes_it(finished, capsys):
    sweep_file, plan, artifacts = finished
    evaluation = next(job for job in plan.jobs if job.kind == "evaluate")
    part = artifacts / "results" / "evaluations" / f"{evaluation.id}.parquet"
    part.unlink()

    assert main(["analyze", "lost"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and f"evaluate {evaluation.id} (evaluations)" in error
    assert "rows of 1 done job are missing" in error and "submit the sweep again" in error
    assert main(["status", "lost", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["pending"] == 1

    assert "1 done, 0 failed, 4 skipped" in submit_again(sweep_file, capsys)
    assert part.is_file()
    assert len(list((artifacts / "results" / "runs").iterdir())) == len(plan.jobs) == 5
    assert main(["analyze", "lost"]) == 0


@pytest.mark.slow
def test_a_corrupt_part_deleted_as_told_and_a_deleted_mask_are_recomputed(finished, capsys):
    sweep_file, plan, artifacts = finished
    fit, other_fit = [job for job in plan.jobs if job.kind == "fit"][:2]
    part = artifacts / "results" / "mask_layers" / f"{fit.id}.parquet"
    data = bytearray(part.read_bytes())
    data[len(data) // 4] ^= 0x01
    part.write_bytes(bytes(data))

    assert main(["analyze", "lost"]) == 2
    error = capsys.readouterr().err.strip()
    assert str(part) in error and "delete it and submit the sweep again" in error

    part.unlink()
    mask = artifacts / "jobs" / other_fit.id / "mask.safetensors"
    mask.unlink()
    assert "2 done, 0 failed, 3 skipped" in submit_again(sweep_file, capsys)
    assert part.is_file() and mask.is_file()
    assert main(["analyze", "lost"]) == 0
