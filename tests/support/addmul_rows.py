"""Hand-made rows of an add/mul experiment whose answers are known: a modular network's
accuracies, mask overlaps and sizes, keep-probability masses (tests/analysis/claims/)."""

from __future__ import annotations

import pandas as pd

from analysis.schema import MaskLayerRow
from support import claim_rows
from support.claim_rows import SEEDS

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
    """The add/mul experiment's rows per (variant, mask target, evaluated function)."""
    return claim_rows.evaluations(accuracies, EXPERIMENT, setting, seeds, jitter)


def overlaps(input_both: int, hidden_both: int, output_both: int, seeds=SEEDS) -> pd.DataFrame:
    """Five 1000-weight layers, every mask keeps 500; `both` per layer sets the IoU."""
    layer_both = [input_both, hidden_both, hidden_both, hidden_both, output_both]
    return claim_rows.overlaps("add", "mul", layer_both, EXPERIMENT, seeds=seeds)


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


def addmul_tables(setting: str = "{}") -> dict[str, pd.DataFrame]:
    return {
        "evaluations": evaluations(setting=setting),
        "mask_overlaps": overlaps(400, 50, 350),
        "mask_layers": mask_layers({"all": [900] * 3, "add": [300] * 3, "mul": [600] * 3}),
    }


ADDMUL_ROLE = {EXPERIMENT: "addmul"}
