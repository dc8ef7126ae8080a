"""The planted-modules sweep at tiny size: the mask method recovers structure built in."""

from __future__ import annotations

import yaml
from support.sweeps import REPO

from analysis.planted import planted_verdicts
from orchestrator.cli.analyze import load_tables
from orchestrator.execution.submit import submit
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import SweepSpec


def tiny_planted() -> SweepSpec:
    """configs/sweeps/planted.yaml with fewer steps, seeds and experiments."""
    data = yaml.safe_load((REPO / "configs" / "sweeps" / "planted.yaml").read_text())
    data["experiments"] = [e for e in data["experiments"] if e["name"] != "planted_nested"]
    for experiment in data["experiments"]:
        experiment["task"] = {**experiment["task"], "train_size": 8000, "validation_size": 1000}
        experiment["training"] = {**experiment["training"], "steps": 1000}
        experiment["mask_fit"] = {
            **experiment["mask_fit"],
            "target_functions": ["A", "B"],
            "steps": 300,
        }
        experiment["evaluation"] = {"random_removal_draws": 1, "io_kept_inverse": False}
        experiment["grid"] = {"seed": [1, 2]}
    return SweepSpec.model_validate(data)


def test_masks_recover_disjoint_towers_and_a_shared_trunk(settings):
    plan = plan_sweep(tiny_planted())
    assert submit(plan, settings, "local").ok
    overlaps = load_tables(settings, plan.sweep)["mask_overlaps"]
    verdicts = planted_verdicts(overlaps).set_index("planted")
    pairs = overlaps[(overlaps["function_a"] == "A") & (overlaps["function_b"] == "B")]
    for structure, prefixes, check in (
        ("disjoint", ("tower_a.", "tower_b."), lambda share: share < 0.1),
        ("shared_trunk", ("trunk.",), lambda share: share > 0.5),
    ):
        rows = pairs[pairs["layer"].str.startswith(prefixes)]
        per_seed = rows.groupby("seed")[["kept_a", "kept_b", "both"]].sum()
        shares = per_seed["both"] / (per_seed["kept_a"] + per_seed["kept_b"] - per_seed["both"])
        assert all(check(share) for share in shares), (structure, shares.tolist())
        assert verdicts.loc[structure, "verdict"] in ("recovered", "unclear"), verdicts
