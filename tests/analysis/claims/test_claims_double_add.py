"""E2's claims C5 and C6 (analysis/claims/double_add.py) on hand-made double-addition rows,
and `check_claims` matching a copyweight experiment to the plain one by task and model."""

from __future__ import annotations

import pandas as pd
from support.claim_rows import by_claim, evaluations, overlaps, runs

from analysis.claims import check_claims
from analysis.claims.double_add import claim_c5, claim_c6

DOUBLE = {
    ("none", None, "all"): 0.98,
    ("none", None, "pair1"): 0.99,
    ("none", None, "pair2"): 0.99,
    ("mask", "pair1", "pair1"): 0.97,
    ("mask", "pair2", "pair2"): 0.97,
    **{
        (variant, k, f): 0.05 if k == f else 0.9
        for variant in ("inverted", "first_full_inverted")
        for k in ("pair1", "pair2")
        for f in ("pair1", "pair2")
    },
}


PLAIN_IOU = [400, 50, 50, 50, 400]  # hidden IoU (50 + seed) / (950 - seed): about 0.055


COPIED_IOU = [400, 300, 300, 300, 400]  # hidden IoU about 0.43


def test_c5_holds_when_each_inverse_breaks_its_own_pair_and_copyweight_shares_more():
    verdict = claim_c5(
        evaluations(DOUBLE),
        overlaps("pair1", "pair2", PLAIN_IOU),
        overlaps("pair1", "pair2", COPIED_IOU),
    )
    assert verdict.verdict == "holds", verdict.reason
    assert "first_full_mask not-pair1: pair1 drop minus pair2 drop: +85.0 ± " in verdict.numbers
    assert "pair masks' hidden-layer IoU: 0.055" in verdict.numbers


def test_c5_does_not_hold_when_first_full_inverse_of_pair1_breaks_pair2_more():
    broken = {
        ("first_full_inverted", "pair1", "pair1"): 0.9,
        ("first_full_inverted", "pair1", "pair2"): 0.05,
    }
    verdict = claim_c5(evaluations({**DOUBLE, **broken}), overlaps("pair1", "pair2", PLAIN_IOU))
    assert verdict.verdict == "does not hold"
    assert "first_full_mask not-pair1: pair1 drop minus pair2 drop" in verdict.reason
    assert "no copyweight control" in verdict.reason


def test_c5_not_run_without_inverted_masks():
    frame = evaluations(DOUBLE)
    verdict = claim_c5(
        frame[frame["mask_variant"] != "inverted"], overlaps("pair1", "pair2", PLAIN_IOU)
    )
    assert verdict.verdict == "not run"
    assert "plain not-pair1 on pair1" in verdict.reason


def test_c6_holds_when_copied_weights_raise_hidden_iou():
    verdict = claim_c6(
        overlaps("pair1", "pair2", COPIED_IOU), overlaps("pair1", "pair2", PLAIN_IOU)
    )
    assert verdict.verdict == "holds"
    # mean over seeds s of (300 + s) / (700 - s) - (50 + s) / (950 - s)
    assert "copyweight minus plain: +0.378" in verdict.numbers


def test_c6_does_not_hold_when_plain_shares_more():
    verdict = claim_c6(
        overlaps("pair1", "pair2", PLAIN_IOU), overlaps("pair1", "pair2", COPIED_IOU)
    )
    assert verdict.verdict == "does not hold"


def test_c6_not_run_without_plain_overlaps():
    copied = overlaps("pair1", "pair2", COPIED_IOU)
    assert claim_c6(copied, copied.iloc[0:0]).verdict == "not run"


def test_check_claims_matches_copyweight_by_task_and_model_config():
    task = {"name": "double_add", "mode": "fnn_per_pair"}
    big, small = (
        {"name": "fnn", "hidden_sizes": [2000] * 4},
        {"name": "fnn", "hidden_sizes": [800] * 4},
    )
    tables = {
        "evaluations": pd.concat(
            [evaluations(DOUBLE, name) for name in ("plain", "reused", "small")], ignore_index=True
        ),
        "mask_overlaps": pd.concat(
            [
                overlaps("pair1", "pair2", PLAIN_IOU, "plain"),
                overlaps("pair1", "pair2", COPIED_IOU, "reused"),
                overlaps("pair1", "pair2", PLAIN_IOU, "small"),
            ],
            ignore_index=True,
        ),
        "runs": pd.concat(
            [
                runs("plain", "{}", {"task": task, "model": big}),
                runs(
                    "reused",
                    "{}",
                    {"task": task, "model": big, "before_masking": "copy_pair_weights"},
                ),
                runs("small", "{}", {"task": task, "model": small}),
            ],
            ignore_index=True,
        ),
    }
    roles = {"plain": "double_add", "reused": "double_add_copyweight", "small": "double_add"}
    verdicts = check_claims(tables, roles)
    plain, reused, small_net = (by_claim(verdicts, name) for name in ("plain", "reused", "small"))
    assert set(plain) == {"C5", "C15", "C17"} and set(reused) == {"C6"}
    assert plain["C5"].verdict == "holds" and "copyweight IoU minus this IoU" in plain["C5"].numbers
    assert reused["C6"].verdict == "holds"
    assert "no copyweight control" in small_net["C5"].reason
    assert plain["C15"].verdict == "not run" and plain["C17"].verdict == "holds"
    # claims of roles the sweep does not declare are not listed
    assert all(v.experiment for v in verdicts)
