"""E1's claims C1-C4 (analysis/claims/addmul.py) on a hand-made modular add/mul network,
and `check_claims` judging an `addmul` experiment per setting."""

from __future__ import annotations

from support.addmul_rows import (
    ADDMUL_ROLE,
    EXPERIMENT,
    MODULAR,
    addmul_tables,
    evaluations,
    mask_layers,
    masses,
    overlaps,
)

from analysis.claims import check_claims
from analysis.claims.addmul import claim_c1, claim_c2, claim_c3, claim_c4
from analysis.claims.spanning import KEEP_PROBABILITY_MASS_TABLE


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
