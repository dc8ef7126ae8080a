"""Hand-made rows of the sweep tables for the claims of E2-E7, whose answers are known
(tests/analysis/claims/); `runs` and `by_claim` for `check_claims` on a sweep's tables."""

from __future__ import annotations

import json

import pandas as pd

from analysis.schema import (
    ConfusionRow,
    EvaluationRow,
    MaskOverlapRow,
    RunRow,
    TransferSharingRow,
)

SEEDS = (1, 2, 3)


def evaluations(
    accuracies: dict,
    experiment: str = "e",
    setting: str = "{}",
    seeds=SEEDS,
    jitter: float = 0.002,
) -> pd.DataFrame:
    """Rows per (variant, mask target, evaluated function) -> accuracy, + `jitter` per seed."""
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
                accuracy=accuracy + jitter * seed,
                loss=0.0,
                samples=100,
            ).model_dump()
            for seed in seeds
            for (variant, target, function), accuracy in accuracies.items()
        ]
    )


def overlaps(
    a: str,
    b: str,
    layer_both: list[int],
    experiment: str = "e",
    setting: str = "{}",
    seeds: tuple[int, ...] = SEEDS,
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
            for seed in seeds
            for index, both in enumerate(layer_both)
        ]
    )


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


def stability(both: int, a: str = "all-order1", b: str = "all-order2") -> pd.DataFrame:
    pairs = [
        overlaps(a, b, [both, both], "stability", json.dumps({"classes": c})) for c in ("x", "y")
    ]
    return pd.concat(pairs, ignore_index=True)


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
