"""Per-setting headline numbers and the beta figure, on a hand-made two-beta sweep."""

from __future__ import annotations

import json

import pandas as pd

from analysis.trends import beta_figure, setting_trends


def tables_for(betas=(1e-4, 1e-3), seeds=(1, 2)) -> dict[str, pd.DataFrame]:
    evaluations, layers, overlaps = [], [], []
    for beta in betas:
        setting = json.dumps(
            {"mask_fit.regularization_weight": beta}, sort_keys=True, separators=(",", ":")
        )
        density = 0.5 if beta == 1e-4 else 0.2
        for seed in seeds:
            common = {"experiment": "e", "setting": setting, "seed": seed}
            evaluations += [
                {
                    **common,
                    "mask_variant": "none",
                    "mask_target": None,
                    "evaluated_function": "all",
                    "accuracy": 0.99,
                },
                {
                    **common,
                    "mask_variant": "mask",
                    "mask_target": "all",
                    "evaluated_function": "all",
                    "accuracy": 0.95,
                },
            ]
            for index, target in enumerate(("all", "add", "mul")):
                layers.append(
                    {
                        **common,
                        "target_function": target,
                        "target_index": index,
                        "kept": int(density * 100),
                        "total": 100,
                    }
                )
            overlaps.append(
                {**common, "function_a": "add", "function_b": "mul", "both": 10, "kept_a": 40}
            )
    return {
        "evaluations": pd.DataFrame(evaluations),
        "mask_layers": pd.DataFrame(layers),
        "mask_overlaps": pd.DataFrame(overlaps),
    }


def test_trends_give_one_row_per_setting_with_density_and_sharing():
    trends = setting_trends(tables_for(), "e")
    assert list(trends["control density %"]) == ["50.0 ± 0.0", "20.0 ± 0.0"]
    assert list(trends["control mask accuracy %"]) == ["95.0 ± 0.0"] * 2
    assert list(trends["total shared % (add in mul)"]) == ["25.0 ± 0.0"] * 2


def test_one_setting_has_no_trend():
    assert setting_trends(tables_for(betas=(1e-4,)), "e").empty


def test_beta_figure_is_drawn_when_beta_varies(tmp_path):
    assert beta_figure(tables_for(), "e", tmp_path / "beta.png").is_file()
    assert beta_figure(tables_for(betas=(1e-4,)), "e", tmp_path / "none.png") is None
