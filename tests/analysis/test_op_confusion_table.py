"""The op-confusion table, from hand-made `op_confusion` rows."""

from __future__ import annotations

import pandas as pd

from analysis.op_confusion import op_confusion_over_seeds, op_confusion_table


def test_table_shows_each_condition_and_op_as_mean_and_std_of_percent_over_seeds():
    shares = {  # (variant, target, true op) -> (sum, product, neither) for seeds 1 and 2
        ("none", None, "add"): ((1.0, 0.1, 0.0), (0.9, 0.1, 0.1)),
        ("mask", "add", "mul"): ((0.2, 0.0, 0.8), (0.4, 0.0, 0.6)),
    }
    rows = pd.DataFrame(
        [
            {
                "seed": seed,
                "mask_variant": variant,
                "mask_target": target,
                "true_op": op,
                "answer_matches": match,
                "fraction": per_seed[seed - 1][index],
            }
            for (variant, target, op), per_seed in shares.items()
            for seed in (1, 2)
            for index, match in enumerate(("sum", "product", "neither"))
        ]
    )
    table = op_confusion_table(op_confusion_over_seeds(rows))
    assert table.columns.tolist() == [
        "condition",
        "true op",
        "answer = sum %",
        "answer = product %",
        "answer = neither %",
        "seeds",
    ]
    assert table.iloc[0].tolist() == ["base", "+", "95.0 ± 7.1", "10.0 ± 0.0", "5.0 ± 7.1", 2]
    assert table.iloc[1].tolist() == ["add", "*", "30.0 ± 14.1", "0.0 ± 0.0", "70.0 ± 14.1", 2]
