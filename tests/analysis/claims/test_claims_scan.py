"""E3's claims C7, C8, C9 and C17 on the IID split (analysis/claims/scan.py) on hand-made SCAN
rows, and `check_claims` finding the only scan_baseline experiment without runs."""

from __future__ import annotations

import json

import pandas as pd
from support.claim_rows import SEEDS, by_claim, evaluations

from analysis.claims import check_claims
from analysis.claims.scan import claim_c7, claim_c8, claim_c9, claim_c17_scan
from analysis.schema import MaskRowRow

SPLITS = ("addprim_jump", "length", "addprim_turn_left")


SCAN = {
    ("none", None, "simple"): 0.99,
    ("none", None, "addprim_jump"): 0.98,
    ("none", None, "length"): 0.05,  # not an IID test set: C17 must not look at it
    ("mask", "simple", "simple"): 0.98,
    ("mask", "simple", "addprim_jump"): 0.97,
    ("mask", "simple", "length"): 0.90,
    ("mask", "simple", "addprim_turn_left"): 0.96,
    ("mask", "addprim_jump", "addprim_jump"): 0.02,
    ("mask", "length", "length"): 0.50,
    ("mask", "addprim_turn_left", "addprim_turn_left"): 0.80,
}


def test_c7_holds_when_split_masks_fail_and_jump_fails_most():
    verdict = claim_c7(evaluations(SCAN))
    assert verdict.verdict == "holds", verdict.reason
    assert "drop on addprim_jump minus drop on length: +55.0 ± " in verdict.numbers


def test_c7_does_not_hold_when_length_drops_more_than_jump():
    verdict = claim_c7(evaluations({**SCAN, ("mask", "addprim_jump", "addprim_jump"): 0.9}))
    assert verdict.verdict == "does not hold"
    assert "drop on addprim_jump minus drop on length" in verdict.reason


def test_c7_not_run_without_the_jump_mask():
    frame = evaluations(SCAN)
    assert claim_c7(frame[frame["mask_target"] != "addprim_jump"]).verdict == "not run"


def mask_rows(jump_kept_and_control: dict[str, int]) -> pd.DataFrame:
    """The control (simple) keeps 10 weights of each token's row; the jump mask keeps
    `jump_kept_and_control[token]` (- seed for I_JUMP) of them."""
    return pd.DataFrame(
        [
            MaskRowRow(
                sweep="s",
                experiment="e",
                setting="{}",
                seed=seed,
                train_job_id=f"train{seed}",
                mask_job_id=f"fit-{target}-{seed}",
                mask_target=target,
                layer="output.weight",
                row=row,
                token=token,
                kept=both,
                kept_and_control=both,
                total=20,
            ).model_dump()
            for seed in SEEDS
            for row, (token, kept) in enumerate(jump_kept_and_control.items())
            for target, both in (
                ("simple", 10),
                ("addprim_jump", kept - seed if token == "I_JUMP" else kept),
            )
        ]
    )


def test_c8_holds_when_jump_mask_removes_most_of_i_jump():
    verdict = claim_c8(mask_rows({"I_JUMP": 5, "I_WALK": 9, "I_RUN": 8}))
    assert verdict.verdict == "holds"
    # seed 2: I_JUMP keeps 3 of 10 (70% removed), I_RUN 8 (20%): +50 points
    assert "I_JUMP minus largest other: +50.0 ± " in verdict.numbers
    assert "mostly I_RUN" in verdict.numbers


def test_c8_does_not_hold_when_another_token_loses_more():
    assert claim_c8(mask_rows({"I_JUMP": 9, "I_WALK": 2, "I_RUN": 8})).verdict == "does not hold"


def test_c8_counts_only_the_actions_and_eos_never_pad_or_sos():
    # the jump mask removes all of PAD's and SOS's rows: neither is ever a target
    rows = mask_rows({"<pad>": 0, "<sos>": 0, "I_JUMP": 5, "I_WALK": 9, "<eos>": 8})
    verdict = claim_c8(rows)
    assert verdict.verdict == "holds"
    assert "mostly <eos>" in verdict.numbers


def test_c8_not_run_without_jump_mask_rows():
    rows = mask_rows({"I_JUMP": 5, "I_WALK": 9})
    assert claim_c8(rows[rows["mask_target"] == "simple"]).verdict == "not run"


def baseline(accuracy_on_jump: float) -> dict[str, pd.DataFrame]:
    return {"addprim_jump": evaluations({("none", None, "addprim_jump"): accuracy_on_jump})}


def test_c9_holds_when_split_mask_accuracy_is_near_the_split_trained_baseline():
    verdict = claim_c9(evaluations(SCAN), baseline(0.01))
    assert verdict.verdict == "holds"
    assert "no baseline for length" in verdict.reason


def test_c9_does_not_hold_when_split_mask_accuracy_is_near_the_iid_mask():
    verdict = claim_c9(
        evaluations({**SCAN, ("mask", "addprim_jump", "addprim_jump"): 0.8}), baseline(0.01)
    )
    assert verdict.verdict == "does not hold"


def test_c9_not_run_without_baselines():
    assert claim_c9(evaluations(SCAN), {}).verdict == "not run"


def test_c17_on_scan_judges_the_iid_test_set_only():
    verdict = claim_c17_scan(evaluations(SCAN))
    assert verdict.verdict == "holds"
    assert "length" not in verdict.numbers
    low = claim_c17_scan(evaluations({**SCAN, ("none", None, "simple"): 0.3}))
    assert low.verdict == "does not hold"  # 30% is nearer chance (0) than 100%
    assert claim_c17_scan(evaluations(SCAN).iloc[0:0]).verdict == "not run"


def test_check_claims_finds_the_only_scan_baseline_experiment_without_runs():
    trained_on_jump = json.dumps({"training.target_function": "addprim_jump"})
    base = {("none", None, f): 0.01 if f == "addprim_jump" else 0.9 for f in ("simple", *SPLITS)}
    tables = {
        "evaluations": pd.concat(
            [
                evaluations(SCAN, "scan_lstm"),
                evaluations(base, "scan_lstm_baselines", trained_on_jump),
            ],
            ignore_index=True,
        )
    }
    roles = {"scan_lstm": "scan", "scan_lstm_baselines": "scan_baseline"}
    scan = by_claim(check_claims(tables, roles), "scan_lstm")
    assert {claim: v.verdict for claim, v in scan.items()} == {
        "C7": "holds",
        "C8": "not run",
        "C9": "holds",
        "C17": "holds",
    }
    assert not by_claim(check_claims(tables, roles), "scan_lstm_baselines")
