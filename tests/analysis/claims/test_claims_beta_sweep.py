"""E8's claim C14 and its input (analysis/claims/beta_sweep.py) on hand-made beta grids."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from support.addmul_rows import EXPERIMENT, evaluations, mask_layers
from support.claim_rows import SEEDS

from analysis.claims import check_claims
from analysis.claims.beta_sweep import BETA_KEY, beta_sensitivity, claim_c14


def per_beta(densities: list[float], control: float = 0.98) -> pd.DataFrame:
    betas = [1e-5, 1e-4, 1e-3]
    return pd.DataFrame(
        [
            {
                "beta": beta,
                "seed": seed,
                "control_accuracy": control + 0.001 * seed,
                "base_accuracy": 0.99,
                "density": density + 0.01 * seed,
            }
            for seed in SEEDS
            for beta, density in zip(betas, densities, strict=True)
        ]
    )


def test_c14_holds_when_accuracy_stays_and_density_falls():
    verdict = claim_c14(per_beta([0.6, 0.3, 0.1]))
    assert verdict.verdict == "holds", verdict.reason
    assert "rank correlation of density with beta: -1.000" in verdict.numbers


def test_c14_does_not_hold_when_density_grows():
    assert claim_c14(per_beta([0.1, 0.3, 0.6])).verdict == "does not hold"


def test_c14_does_not_hold_when_control_accuracy_falls_to_chance():
    verdict = claim_c14(per_beta([0.6, 0.3, 0.1], control=0.02))
    assert verdict.verdict == "does not hold"
    assert "beta 1e-05, control nearer base than chance" in verdict.reason


def test_c14_not_run_with_one_beta():
    frame = per_beta([0.6, 0.3, 0.1])
    assert claim_c14(frame[frame["beta"] == 1e-4]).verdict == "not run"


def beta_tables(densities: dict[float, int]) -> dict[str, pd.DataFrame]:
    """One setting per beta (and a fixed model size); control mask keeps densities[beta]."""
    frames, layers = [], []
    for beta, kept in densities.items():
        setting = json.dumps({BETA_KEY: beta, "model.hidden_sizes": [8, 8]}, sort_keys=True)
        frames.append(evaluations(setting=setting))
        layers.append(mask_layers({"all": [kept - s for s in SEEDS], "add": [300] * 3}, setting))
    return {"evaluations": pd.concat(frames), "mask_layers": pd.concat(layers)}


def test_beta_sensitivity_reads_control_mask_per_beta():
    frame = beta_sensitivity(**beta_tables({1e-5: 900, 1e-4: 600}))
    assert sorted(frame["beta"].unique()) == [1e-5, 1e-4]
    assert set(frame["group"]) == {'{"model.hidden_sizes":[8,8]}'}
    row = frame[(frame["beta"] == 1e-5) & (frame["seed"] == 1)].iloc[0]
    # seed 1 keeps (899 // 2) * 2 = 898 of 2000 weights; control accuracy 0.98 + 0.002.
    assert row["density"] == pytest.approx(898 / 2000)
    assert row["control_accuracy"] == pytest.approx(0.982)
    assert row["base_accuracy"] == pytest.approx(0.992)


def test_check_claims_runs_c14_on_a_beta_grid():
    tables = beta_tables({1e-5: 900, 1e-4: 600, 1e-3: 200})
    verdicts = check_claims(tables, {EXPERIMENT: "beta_sweep"})
    assert {v.claim for v in verdicts} == {"C14"}  # add/mul claims: not this role's scope
    c14 = [v for v in verdicts if v.claim == "C14"]
    assert len(c14) == 1
    assert c14[0].verdict == "holds", c14[0].reason
    assert c14[0].setting == '{"model.hidden_sizes":[8,8]}'
