"""Transfer sharing per task and layer, from hand-made counts."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.transfer import transfer_figure, transfer_sharing_table


def test_sharing_is_shared_over_kept_averaged_over_seeds_without_first_task_or_layer(tmp_path):
    rows = pd.DataFrame(
        [
            {
                "setting": "{}",
                "seed": seed,
                "task_index": task,
                "layer_index": layer,
                "layer": f"{2 * layer}.weight",
                "shared": shared,
                "kept": 10,
            }
            for seed, shared in ((1, 4), (2, 6))
            for task in (0, 1)
            for layer in (0, 1)
        ]
    )
    summary = transfer_sharing_table(rows)
    assert list(summary["task_index"]) == [1] and list(summary["layer"]) == ["2.weight"]
    assert summary["mean"].item() == pytest.approx(0.5)
    assert transfer_figure(summary, "t", tmp_path / "t.png").is_file()
