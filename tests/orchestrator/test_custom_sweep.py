"""The own-model example sweep plans and runs end to end (local executor, tiny settings)."""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestrator.cli.analyze import load_tables
from orchestrator.execution.submit import submit
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import SweepSpec

REPO = Path(__file__).resolve().parents[2]


def test_example_custom_sweep_runs_end_to_end(settings, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "examples" / "my_model"))
    data = yaml.safe_load((REPO / "configs" / "sweeps" / "example_custom.yaml").read_text())
    experiment = data["experiments"][0]
    experiment["task"]["options"] = {"train_size": 400, "test_size": 100}
    experiment["training"].update(steps=20, log_every=10)
    experiment["mask_fit"].update(steps=8, log_every=4, batch_size=32)
    experiment["grid"] = {"seed": [1]}
    plan = plan_sweep(SweepSpec.model_validate(data))
    assert plan.counts() == {"two_rules": {"train": 1, "fit": 3, "evaluate": 1}}

    summary = submit(plan, settings, "local")

    assert summary.ok and summary.done == 5
    tables = load_tables(settings, "example_custom")
    layers = tables["mask_layers"]
    assert set(layers["layer"]) == {"hidden.weight", "readout.weight"}
    evaluations = tables["evaluations"]
    assert set(evaluations["evaluated_function"]) == {"all", "first_pair", "last_pair"}
    assert set(evaluations["mask_target"].dropna()) == {"all", "first_pair", "last_pair"}
