"""Claims C5-C13, C16 and C15/C17 beyond add/mul, on small hand-made tables whose answers
are known: each claim once where it holds, once where it does not, once not run; then
`check_claims` finding the experiments and matching them on the sweep's tables."""

from __future__ import annotations

import json

import pandas as pd

from analysis.claims import check_claims
from analysis.claims.class_removal import claim_c11, claim_c12
from analysis.claims.double_add import claim_c5, claim_c6
from analysis.claims.mask_stability import claim_c13
from analysis.claims.mathematics import claim_c10
from analysis.claims.scan import claim_c7, claim_c8, claim_c9, claim_c17_scan
from analysis.claims.transfer import claim_c16
from analysis.schema import (
    ConfusionRow,
    EvaluationRow,
    MaskOverlapRow,
    MaskRowRow,
    RunRow,
    TransferSharingRow,
)

SEEDS = (1, 2, 3)


def evaluations(
    accuracies: dict, experiment: str = "e", setting: str = "{}", seeds=SEEDS
) -> pd.DataFrame:
    """Rows per (variant, mask target, evaluated function) -> accuracy, +0.002 per seed."""
    return pd.DataFrame(
        [
            EvaluationRow(
                sweep="s",
                experiment=experiment,
                setting=setting,
                seed=seed,
                train_job_id=f"train{seed}",
                mask_job_id=None if target is None else f"fit-{target}-{seed}",
                mask_target=target,
                mask_variant=variant,
                evaluated_function=function,
                accuracy=accuracy + 0.002 * seed,
                loss=0.0,
                samples=100,
            ).model_dump()
            for seed in seeds
            for (variant, target, function), accuracy in accuracies.items()
        ]
    )


def overlaps(
    a: str, b: str, layer_both: list[int], experiment: str = "e", setting: str = "{}"
) -> pd.DataFrame:
    """1000-weight layers in which both masks keep 500; `both` per layer (+ seed) sets IoU."""
    return pd.DataFrame(
        [
            MaskOverlapRow(
                sweep="s",
                experiment=experiment,
                setting=setting,
                seed=seed,
                train_job_id=f"train{seed}",
                function_a=a,
                function_b=b,
                layer=f"{index}.weight",
                layer_index=index,
                kept_a=500,
                kept_b=500,
                both=both + seed,
                total=1000,
            ).model_dump()
            for seed in SEEDS
            for index, both in enumerate(layer_both)
        ]
    )


# --- E2, double addition: C5, C6 -------------------------------------------------------

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


# --- E3, SCAN: C7, C8, C9, C17 ----------------------------------------------------------

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


# --- E4, Mathematics Dataset: C10 -------------------------------------------------------


def test_c10_holds_when_easy_mask_fails_on_hard():
    math = {("mask", "all", "hard"): 0.6, ("mask", "easy", "hard"): 0.1}
    verdict = claim_c10(evaluations(math))
    assert verdict.verdict == "holds"
    assert "control minus easy-only: +50.0 ± " in verdict.numbers


def test_c10_does_not_hold_when_easy_mask_solves_hard():
    math = {("mask", "all", "hard"): 0.6, ("mask", "easy", "hard"): 0.7}
    assert claim_c10(evaluations(math)).verdict == "does not hold"


def test_c10_not_run_without_easy_mask():
    assert claim_c10(evaluations({("mask", "all", "hard"): 0.6})).verdict == "not run"


# --- E5, CIFAR-10 class removal: C11, C12 ------------------------------------------------

CLASSES = ("cat", "dog", "automobile", "truck", "bird")
SINKS = {"cat": "dog", "dog": "cat", "automobile": "truck", "truck": "automobile", "bird": "cat"}


def matrix(removed: str | None, sink: dict[str, str], others_diagonal: float = 0.8) -> dict:
    """Control: 0.8 on the diagonal, 0.05 elsewhere. Removing a class: its row keeps 0.2,
    sends 0.5 to its sink and 0.1 to each of the others; other rows keep `others_diagonal`."""
    rows = {}
    for true in CLASSES:
        if true == removed:
            rest = [c for c in CLASSES if c not in (true, sink[true])]
            rows[true] = {true: 0.2, sink[true]: 0.5} | {c: 0.1 for c in rest}
        else:
            diagonal = 0.8 if removed is None else others_diagonal
            off = (1 - diagonal) / (len(CLASSES) - 1)
            rows[true] = {c: diagonal if c == true else off for c in CLASSES}
    return rows


def confusions(
    sink: dict[str, str] = SINKS, others_diagonal: float = 0.8, setting="{}"
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            ConfusionRow(
                sweep="s",
                experiment="cifar",
                setting=setting,
                seed=seed,
                train_job_id=f"train{seed}",
                mask_target=target,
                mask_variant="mask",
                true_class=true,
                predicted_class=predicted,
                fraction=fraction + (0.001 * seed if true == predicted else 0.0),
            ).model_dump()
            for seed in SEEDS
            for target, removed in [("all", None), *((f"without_{c}", c) for c in CLASSES)]
            for true, row in matrix(removed, sink, others_diagonal).items()
            for predicted, fraction in row.items()
        ]
    )


def test_c11_holds_when_removal_hurts_only_the_removed_class():
    verdict = claim_c11(confusions())
    assert verdict.verdict == "holds", verdict.reason
    # mean over seeds s of 0.6 / (0.8 + s / 1000)
    assert "cat: relative drop: +74.8 ± " in verdict.numbers


def test_c11_does_not_hold_when_other_classes_drop_too():
    verdict = claim_c11(confusions(others_diagonal=0.4))
    assert verdict.verdict == "does not hold"
    assert "cat: 10% minus largest other/target" in verdict.reason


def test_c11_not_run_without_removal_masks():
    frame = confusions()
    assert claim_c11(frame[frame["mask_target"] == "all"]).verdict == "not run"


def test_c12_holds_when_cat_goes_to_dog_and_automobile_to_truck():
    verdict = claim_c12(confusions())
    assert verdict.verdict == "holds"
    # cat's row: dog +0.45, the others +0.05; seeds shift only the diagonal
    assert "without cat: increase at dog minus largest other: +40.0 ± " in verdict.numbers


def test_c12_does_not_hold_when_cat_goes_to_bird():
    verdict = claim_c12(confusions({**SINKS, "cat": "bird"}))
    assert verdict.verdict == "does not hold"
    assert "without cat: increase at dog" in verdict.reason


def test_c12_not_run_without_the_similar_classes():
    frame = confusions()
    assert claim_c12(frame[frame["mask_target"].isin(["all", "without_bird"])]).verdict == "not run"


# --- E6, mask stability: C13 -------------------------------------------------------------


def stability(both: int, a: str = "all-order1", b: str = "all-order2") -> pd.DataFrame:
    pairs = [
        overlaps(a, b, [both, both], "stability", json.dumps({"classes": c})) for c in ("x", "y")
    ]
    return pd.concat(pairs, ignore_index=True)


def test_c13_holds_when_two_data_orders_give_overlapping_masks():
    verdict = claim_c13(stability(400))
    assert verdict.verdict == "holds"
    # p = q = 0.5: random masks' IoU = 0.25 / 0.75
    assert "random masks' IoU: 0.333" in verdict.numbers


def test_c13_does_not_hold_when_masks_overlap_less_than_random_ones():
    assert claim_c13(stability(100)).verdict == "does not hold"


def test_c13_not_run_without_data_order_masks():
    assert claim_c13(stability(400, "all", "easy")).verdict == "not run"


# --- E7, permuted MNIST transfer: C16 -----------------------------------------------------

LAYERS = ("layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight")


def transfer(share: dict[float, float]) -> tuple[pd.DataFrame, dict[str, float]]:
    """One setting per fresh logit; every task keeps 100 weights per tensor, of which
    `share[logit]` (+ 1% per seed) are shared, except in the never-shared first layer."""
    settings = {json.dumps({"transfer.fresh_logit": logit}): logit for logit in share}
    rows = [
        TransferSharingRow(
            sweep="s",
            experiment="transfer",
            setting=setting,
            seed=seed,
            job_id=f"t{seed}",
            task_index=task,
            layer=layer,
            layer_index=index,
            shared=0 if task == 0 or index < 2 else int(100 * share[logit]) + seed,
            kept=100,
        ).model_dump()
        for setting, logit in settings.items()
        for seed in SEEDS
        for task in range(5)
        for index, layer in enumerate(LAYERS)
    ]
    return pd.DataFrame(rows), settings


def test_c16_holds_when_lower_fresh_logits_share_more():
    verdict = claim_c16(*transfer({2.0: 0.2, 0.0: 0.4, -1.0: 0.6}))
    assert verdict.verdict == "holds", verdict.reason
    assert "layers.1: logit 0 minus 2: +20.0 ± " in verdict.numbers
    assert "layers.0:" not in verdict.numbers


def test_c16_does_not_hold_when_lower_fresh_logits_share_less():
    assert claim_c16(*transfer({2.0: 0.6, 0.0: 0.4, -1.0: 0.2})).verdict == "does not hold"


def test_c16_not_run_without_fresh_logit_minus_one():
    verdict = claim_c16(*transfer({2.0: 0.2, 0.0: 0.4}))
    assert verdict.verdict == "not run"
    assert "fresh logit -1" in verdict.reason


# --- check_claims on a sweep's tables ----------------------------------------------------


def runs(experiment: str, setting: str, config: dict) -> pd.DataFrame:
    row = RunRow(
        sweep="s",
        job_id=f"{experiment}-eval",
        kind="evaluate",
        experiment=experiment,
        setting=setting,
        seed=1,
        status="done",
        config_json=json.dumps(config),
    )
    return pd.DataFrame([row.model_dump()])


def by_claim(verdicts, experiment: str) -> dict[str, object]:
    return {v.claim: v for v in verdicts if v.experiment == experiment}


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


def test_check_claims_judges_math_cifar_stability_and_transfer():
    sharing, _ = transfer({2.0: 0.2, 0.0: 0.4, -1.0: 0.6})
    with_dropout = json.dumps({"model.dropout": True})
    tables = {
        "evaluations": evaluations(
            {("mask", "all", "hard"): 0.6, ("mask", "easy", "hard"): 0.1}, "math_sort"
        ),
        "confusions": pd.concat(
            [confusions(), confusions(setting=with_dropout)], ignore_index=True
        ),
        "mask_overlaps": stability(400),
        "transfer_sharing": sharing,
    }
    roles = {
        "math_sort": "mathematics",
        "cifar": "class_removal",
        "stability": "mask_stability",
        "transfer": "transfer",
    }
    verdicts = check_claims(tables, roles)
    assert by_claim(verdicts, "math_sort")["C10"].verdict == "holds"
    cifar = [(v.claim, v.setting, v.verdict) for v in verdicts if v.experiment == "cifar"]
    assert cifar == [
        ("C11", "{}", "holds"),
        ("C12", "{}", "holds"),
        ("C11", with_dropout, "not run"),
        ("C12", with_dropout, "holds"),
    ]
    assert by_claim(verdicts, "stability")["C13"].verdict == "holds"
    c16 = by_claim(verdicts, "transfer")["C16"]
    assert (c16.verdict, c16.setting) == ("holds", "{}")
