"""Transfer sharing per task and layer, from hand-made counts."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.transfer import transfer_figure, transfer_sharing_table

TENSORS = ("0.weight", "0.bias", "2.weight", "2.bias", "4.weight")


def rows(tasks: int) -> pd.DataFrame:
    """Two seeds; every tensor keeps 10 weights; in layers 2 and 3 task p > 1 (paper
    numbering) shares p weights of each tensor, plus 2 in seed 2."""
    return pd.DataFrame(
        [
            {
                "setting": "{}",
                "seed": seed,
                "task_index": task,
                "layer_index": index,
                "layer": layer,
                "shared": 0 if task == 0 or index < 2 else task + 1 + 2 * (seed - 1),
                "kept": 10,
            }
            for seed in (1, 2)
            for task in range(tasks)
            for index, layer in enumerate(TENSORS)
        ]
    )


def test_tasks_are_numbered_as_the_paper_and_only_its_reported_tasks_are_shown(tmp_path):
    summary = transfer_sharing_table(rows(11))
    assert sorted(set(summary["task"])) == [2, 4, 6, 8, 10]  # task 1 = plain MNIST
    layer_2 = summary[(summary["task"] == 4) & (summary["layer_number"] == 2)]
    assert layer_2["layer"].item() == "2"  # weight and bias of module 2 together
    assert layer_2["mean"].item() == pytest.approx(0.5)  # (4 + 4) / 20 and (6 + 6) / 20
    layer_3 = summary[(summary["task"] == 4) & (summary["layer_number"] == 3)]
    assert layer_3["mean"].item() == pytest.approx(0.5)
    assert transfer_figure(summary, "t", tmp_path / "t.png").is_file()


def test_the_first_layer_is_left_out_weight_and_bias_alike():
    summary = transfer_sharing_table(rows(3))
    assert set(summary["layer_number"]) == {2, 3}  # layer 1 = tensors 0.weight and 0.bias
    assert set(summary["task"]) == {2}
