"""Planted-structure verdicts on hand-made overlap tables."""

from __future__ import annotations

import pandas as pd

from analysis.planted import planted_verdicts


def overlap_rows(
    experiment: str, layers: dict[str, tuple[int, int, int]], seeds=(1, 2, 3)
) -> list[dict]:
    return [
        {
            "experiment": experiment,
            "setting": "",
            "seed": seed,
            "function_a": "A",
            "function_b": "B",
            "layer": layer,
            "layer_index": i,
            "kept_a": a + seed,
            "kept_b": b,
            "both": both,
            "total": 1000,
        }
        for seed in seeds
        for i, (layer, (a, b, both)) in enumerate(layers.items())
    ]


def verdict_of(rows: list[dict]) -> str:
    return planted_verdicts(pd.DataFrame(rows)).iloc[0]["verdict"]


def test_disjoint_towers_recovered_when_masks_share_nothing():
    rows = overlap_rows(
        "d",
        {
            "tower_a.0.weight": (300, 0, 0),
            "tower_b.0.weight": (0, 280, 0),
            "head_a.weight": (20, 0, 0),
        },
    )
    assert verdict_of(rows) == "recovered"


def test_disjoint_not_recovered_when_masks_overlap():
    rows = overlap_rows(
        "d", {"tower_a.0.weight": (300, 250, 200), "tower_b.0.weight": (280, 280, 200)}
    )
    assert verdict_of(rows) == "not recovered"


def test_shared_trunk_recovered_when_most_kept_trunk_weights_are_shared():
    rows = overlap_rows(
        "s",
        {
            "trunk.0.weight": (400, 380, 350),
            "trunk.2.weight": (500, 450, 400),
            "head_a.weight": (20, 0, 0),
        },
    )
    assert verdict_of(rows) == "recovered"
    rows = overlap_rows("s", {"trunk.0.weight": (400, 380, 50), "trunk.2.weight": (500, 450, 40)})
    assert verdict_of(rows) == "not recovered"


def test_nested_needs_b_inside_a_and_iou_well_below_iomin():
    inside = overlap_rows("n", {"trunk.0.weight": (500, 200, 198), "deep_a.0.weight": (300, 0, 0)})
    assert verdict_of(inside) == "recovered"  # IoMin 0.99, IoU about 0.4
    same = overlap_rows("n", {"trunk.0.weight": (500, 500, 495), "deep_a.0.weight": (300, 0, 0)})
    assert verdict_of(same) == "not recovered"  # IoU as high as IoMin: not nested, shared
