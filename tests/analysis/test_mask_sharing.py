"""The shared proportion per layer, from hand-made `mask_sharing` counts."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.mask_sharing import shared_proportion_figure, shared_proportion_over_seeds


def rows(shared_by_seed: dict[int, tuple[int, int]]) -> pd.DataFrame:
    """Masks add (index 1) and mul (index 2), two tensors; every mask keeps 10 weights in
    each, of which `shared` are kept by the other mask (add's, mul's) per seed."""
    return pd.DataFrame(
        [
            {
                "seed": seed,
                "target_function": target,
                "target_index": index,
                "layer": layer,
                "layer_index": layer_index,
                "kept": 0 if (layer_index, target) == (1, "mul") else 10,
                "shared": shared[index - 1] if layer_index == 0 else 5,
                "total": 100,
            }
            for seed, shared in shared_by_seed.items()
            for index, target in ((1, "add"), (2, "mul"))
            for layer_index, layer in enumerate(("0.weight", "2.weight"))
        ]
    )


def test_shared_proportion_is_shared_over_kept_in_percent_averaged_over_seeds(tmp_path):
    summary = shared_proportion_over_seeds(rows({1: (2, 4), 2: (4, 8)}))
    first = summary[summary["layer"] == "0.weight"].set_index("target_function")
    assert first.loc["add", "mean"] == pytest.approx(30.0)  # (20% + 40%) / 2
    assert first.loc["add", "std"] == pytest.approx(14.142, abs=1e-3)
    assert first.loc["mul", "mean"] == pytest.approx(60.0)
    assert list(summary["target_function"]) == ["add", "add", "mul"]  # mul keeps none in 2.weight
    assert summary["seeds"].tolist() == [2, 2, 2]
    assert shared_proportion_figure(summary, "t", tmp_path / "s.png").is_file()
