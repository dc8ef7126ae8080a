from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.claims import check_claims
from analysis.claims.addmul import claim_c1, claim_c2, claim_c3, claim_c4
from analysis.claims.beta_sweep import BETA_KEY, beta_sensitivity, claim_c14
from analysis.claims.spanning import KEEP_PROBABILITY_MASS_TABLE, claim_c15, claim_c17
from analysis.schema import TABLES, EvaluationRow, MaskLayerRow, MaskOverlapRow, to_arrow

SEEDS = (1, 2, 3)
EXPERIMENT = "addmul_ff"

# Accuracy per (variant, mask target, evaluated function) of a modular add/mul network.
MODULAR = {
    ("none", None, "all"): 0.99,
    ("none", None, "add"): 0.99,
    ("none", None, "mul"): 0.985,
    ("mask", "all", "all"): 0.98,
    ("mask", "add", "add"): 0.97,
    ("mask", "add", "mul"): 0.02,
    ("mask", "mul", "mul"): 0.96,
    ("mask", "mul", "add"): 0.03,
    ("inverted", "add", "add"): 0.05,
    ("inverted", "add", "mul"): 0.90,
    ("inverted", "mul", "mul"): 0.04,
    ("inverted", "mul", "add"): 0.92,
}


def evaluations(
    accuracies: dict = MODULAR, seeds=SEEDS, setting: str = "{}", jitter: float = 0.002
) -> pd.DataFrame:
    rows = [
        EvaluationRow(
            sweep="s",
            experiment=EXPERIMENT,
            setting=setting,
            seed=seed,
            train_job_id=f"train{seed}",
            mask_job_id=None if target is None else f"fit-{target}-{seed}",
            mask_target=target,
            mask_variant=variant,
            evaluated_function=function,
            accuracy=accuracy + jitter * seed,
            loss=0.0,
            samples=100,
        ).model_dump()
        for seed in seeds
        for (variant, target, function), accuracy in accuracies.items()
    ]
    return pd.DataFrame(rows)


def overlaps(input_both: int, hidden_both: int, output_both: int, seeds=SEEDS) -> pd.DataFrame:
    """Five 1000-weight layers, every mask keeps 500; `both` per layer sets the IoU."""
    layer_both = [input_both, hidden_both, hidden_both, hidden_both, output_both]
    rows = [
        MaskOverlapRow(
            sweep="s",
            experiment=EXPERIMENT,
            setting="{}",
            seed=seed,
            train_job_id=f"train{seed}",
            function_a="add",
            function_b="mul",
            layer=f"{2 * index}.weight",
            layer_index=index,
            kept_a=500,
            kept_b=500,
            both=both + seed,
            total=1000,
        ).model_dump()
        for seed in seeds
        for index, both in enumerate(layer_both)
    ]
    return pd.DataFrame(rows)


def mask_layers(kept: dict[str, list[int]], setting: str = "{}") -> pd.DataFrame:
    """`kept[target][i]`: weights the target's mask keeps in each of two layers, seed SEEDS[i]."""
    rows = [
        MaskLayerRow(
            sweep="s",
            experiment=EXPERIMENT,
            setting=setting,
            seed=seed,
            train_job_id=f"train{seed}",
            mask_job_id=f"fit-{target}-{seed}",
            target_function=target,
            target_index=index,
            layer=f"{2 * layer}.weight",
            layer_index=layer,
            kept=per_seed[position] // 2,
            total=1000,
        ).model_dump()
        for index, (target, per_seed) in enumerate(kept.items())
        for position, seed in enumerate(SEEDS[: len(per_seed)])
        for layer in range(2)
    ]
    return pd.DataFrame(rows)


def test_c1_holds_when_each_mask_solves_only_its_op():
    verdict = claim_c1(evaluations())
    assert verdict.verdict == "holds", verdict.reason
    assert verdict.seeds == 3
    assert "add mask on add: 97.4 ± 0.2%" in verdict.numbers
    assert "[95% t-interval over 3 seeds]" in verdict.numbers


def test_c1_does_not_hold_when_add_mask_solves_mul():
    verdict = claim_c1(evaluations({**MODULAR, ("mask", "add", "mul"): 0.9}))
    assert verdict.verdict == "does not hold"
    assert "add mask on mul" in verdict.reason


def test_c1_unclear_when_seeds_disagree():
    frame = evaluations()
    spread = (frame["mask_target"] == "add") & (frame["evaluated_function"] == "mul")
    spread &= frame["mask_variant"] == "mask"
    frame.loc[spread, "accuracy"] = [0.05, 0.95, 0.05]
    assert claim_c1(frame).verdict == "unclear"


def test_c1_one_seed_gives_unclear_with_the_point_estimate():
    verdict = claim_c1(evaluations(seeds=(1,)))
    assert verdict.verdict == "unclear"
    assert verdict.seeds == 1
    assert verdict.reason.startswith("1 seed: spread unknown")
    assert "holds" in verdict.reason


def test_c1_not_run_without_the_mul_mask():
    frame = evaluations()
    verdict = claim_c1(frame[frame["mask_target"] != "mul"])
    assert verdict.verdict == "not run"
    assert "mul mask on mul" in verdict.reason


def test_c2_holds_when_each_inverse_breaks_its_own_op():
    assert claim_c2(evaluations()).verdict == "holds"


def test_c2_does_not_hold_when_not_add_breaks_mul_more():
    broken = {("inverted", "add", "add"): 0.9, ("inverted", "add", "mul"): 0.1}
    verdict = claim_c2(evaluations({**MODULAR, **broken}))
    assert verdict.verdict == "does not hold"
    assert "not-add: add drop minus mul drop" in verdict.reason


def test_c2_not_run_without_inverted_masks():
    frame = evaluations()
    verdict = claim_c2(frame[frame["mask_variant"] != "inverted"])
    assert verdict.verdict == "not run"
    assert "not-add on add" in verdict.reason


def test_c3_holds_when_overlap_sits_at_input_and_output():
    verdict = claim_c3(overlaps(input_both=400, hidden_both=50, output_both=350))
    assert verdict.verdict == "holds", verdict.reason
    # input IoU per seed: 401 / 599, 402 / 598, 403 / 597: mean 0.6722, std 0.0028;
    # t(2) = 4.303 gives a half width of 4.303 * 0.0028 / sqrt(3) = 0.0070.
    assert "input layer IoU: 0.672 ± 0.003 [0.665, 0.679]" in verdict.numbers


def test_c3_does_not_hold_when_hidden_layers_share_more_than_output():
    verdict = claim_c3(overlaps(input_both=400, hidden_both=300, output_both=100))
    assert verdict.verdict == "does not hold"
    assert "output minus hidden mean" in verdict.reason


def test_c3_not_run_with_two_layers_or_no_pair():
    two_layers = overlaps(400, 50, 350)
    assert claim_c3(two_layers[two_layers["layer_index"].isin([0, 4])]).verdict == "not run"
    assert claim_c3(two_layers.iloc[0:0]).verdict == "not run"


def test_c4_holds_when_mul_mask_is_larger():
    verdict = claim_c4(mask_layers({"all": [900] * 3, "add": [300] * 3, "mul": [600, 620, 580]}))
    assert verdict.verdict == "holds"
    assert "mul/add size ratio: 2.000" in verdict.numbers


def test_c4_does_not_hold_when_add_mask_is_larger():
    verdict = claim_c4(mask_layers({"add": [600, 620, 580], "mul": [300] * 3}))
    assert verdict.verdict == "does not hold"


def test_c4_unclear_when_sizes_swap_across_seeds():
    verdict = claim_c4(mask_layers({"add": [300, 500, 300], "mul": [400, 300, 400]}))
    assert verdict.verdict == "unclear"
    assert "contains 0" in verdict.reason


def test_c4_not_run_without_mul_mask():
    assert claim_c4(mask_layers({"add": [300] * 3})).verdict == "not run"


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


def masses(low: float, high: float, seeds=SEEDS) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "experiment": EXPERIMENT,
                "setting": "{}",
                "seed": seed,
                "mass_low": low + 0.01 * seed,
                "mass_high": high,
                "mass_middle": 1 - low - high - 0.01 * seed,
            }
            for seed in seeds
        ]
    )


def test_c15_holds_for_bimodal_keep_probabilities():
    assert claim_c15(masses(0.5, 0.4)).verdict == "holds"


def test_c15_does_not_hold_when_most_mass_is_in_the_middle():
    assert claim_c15(masses(0.1, 0.1)).verdict == "does not hold"


def test_c15_not_run_without_masses():
    verdict = claim_c15(masses(0.5, 0.4).iloc[0:0])
    assert verdict.verdict == "not run"
    assert KEEP_PROBABILITY_MASS_TABLE in verdict.reason


def test_c17_holds_for_accurate_base_model():
    verdict = claim_c17(evaluations())
    assert verdict.verdict == "holds"
    # 98.7, 98.9, 99.1 %: std 0.2, half width 4.303 * 0.2 / sqrt(3) = 0.5
    assert "base on mul: 98.9 ± 0.2% [98.4, 99.4]" in verdict.numbers


def test_c17_does_not_hold_for_base_model_near_chance():
    verdict = claim_c17(evaluations({**MODULAR, ("none", None, "mul"): 0.3}))
    assert verdict.verdict == "does not hold"
    assert "mul, nearer 100% than chance" in verdict.reason


def test_c17_not_run_without_base_evaluations():
    frame = evaluations()
    assert claim_c17(frame[frame["mask_variant"] != "none"]).verdict == "not run"


def addmul_tables(setting: str = "{}") -> dict[str, pd.DataFrame]:
    return {
        "evaluations": evaluations(setting=setting),
        "mask_overlaps": overlaps(400, 50, 350),
        "mask_layers": mask_layers({"all": [900] * 3, "add": [300] * 3, "mul": [600] * 3}),
    }


ADDMUL_ROLE = {EXPERIMENT: "addmul"}


def test_check_claims_runs_every_addmul_claim_per_setting():
    verdicts = {v.claim: v for v in check_claims(addmul_tables(), ADDMUL_ROLE)}
    assert set(verdicts) == {"C1", "C2", "C3", "C4", "C15", "C17"}
    for claim in ("C1", "C2", "C3", "C4", "C17"):
        assert verdicts[claim].verdict == "holds", (claim, verdicts[claim].reason)
        assert (verdicts[claim].experiment, verdicts[claim].setting) == (EXPERIMENT, "{}")
    assert verdicts["C15"].verdict == "not run"


def test_check_claims_uses_keep_probability_masses_when_present():
    tables = {**addmul_tables(), KEEP_PROBABILITY_MASS_TABLE: masses(0.5, 0.4)}
    verdicts = {v.claim: v for v in check_claims(tables, ADDMUL_ROLE)}
    assert verdicts["C15"].verdict == "holds"


def test_check_claims_judges_only_experiments_with_a_declared_role():
    """Add/mul rows alone make no claim: the role comes from the sweep file, not the data."""
    assert check_claims(addmul_tables(), roles={}) == []
    assert check_claims(addmul_tables(), roles={EXPERIMENT: "size_sweep"}) == []


def test_check_claims_not_run_for_a_declared_experiment_without_rows():
    frame = evaluations()
    tables = {"evaluations": frame[frame["experiment"] != EXPERIMENT]}
    verdicts = check_claims(tables, ADDMUL_ROLE)
    assert {v.verdict for v in verdicts} == {"not run"}
    assert {v.claim for v in verdicts} == {"C1", "C2", "C3", "C4", "C15", "C17"}
    assert {v.experiment for v in verdicts} == {EXPERIMENT}


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


def test_check_claims_reads_parquet_tables(tmp_path):
    """Tables as the orchestrator writes them: rows -> Arrow -> Parquet -> pandas."""
    tables = {}
    for name, frame in addmul_tables().items():
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        rows = [TABLES[name].model_validate(record) for record in records]
        pq.write_table(to_arrow(name, rows), tmp_path / f"{name}.parquet")
        tables[name] = pd.read_parquet(tmp_path / f"{name}.parquet")
    tables[KEEP_PROBABILITY_MASS_TABLE] = pd.DataFrame()
    verdicts = {v.claim: v.verdict for v in check_claims(tables, ADDMUL_ROLE)}
    assert verdicts == {
        "C1": "holds",
        "C2": "holds",
        "C3": "holds",
        "C4": "holds",
        "C15": "not run",
        "C17": "holds",
    }
