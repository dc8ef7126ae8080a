"""Transfer sharing (paper E7): how much of task p's mask reuses weights of earlier tasks.

sharing(p, j) = #(M_p,j and union of M_q,j over q < p) / #M_p,j, from `transfer_sharing`
(shared and kept counts per task and tensor), per layer (a layer's weight and bias summed),
averaged over seeds per setting (the fresh-weight logit). Numbered as the paper: task 1 is
plain MNIST (`task_index` 0), layer 1 the input layer. The first layer is re-initialised
for every task and never shared by construction, so it is left out; the paper reports
layers 2-4 for tasks 2, 4, 6, 8 and 10.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.intervals import SHARE  # noqa: E402
from analysis.summary import over_seeds  # noqa: E402

REPORTED_TASKS = (2, 4, 6, 8, 10)  # the paper's task numbers (1 = plain MNIST)


def reported_tasks(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of the paper's reported tasks, with `task` = task_index + 1; every task after
    the first where the sequence reaches none of them."""
    frame = rows.assign(task=rows["task_index"] + 1)
    reported = frame["task"].isin(REPORTED_TASKS)
    return frame[reported] if reported.any() else frame[frame["task"] > 1]


def layer_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Shared and kept summed over each layer's tensors (module `layer`, numbered from 1
    in depth order as `layer_number`), the never-shared first layer left out."""
    frame = rows.assign(layer=rows["layer"].str.rsplit(".", n=1).str[0])
    order = frame.sort_values("layer_index")["layer"].drop_duplicates().tolist()
    frame = frame.assign(layer_number=frame["layer"].map({m: i + 1 for i, m in enumerate(order)}))
    keys = [c for c in frame.columns if c not in ("shared", "kept", "layer_index")]
    counts = frame.groupby(keys, sort=False, dropna=False)[["shared", "kept"]].sum().reset_index()
    return counts[counts["layer_number"] > 1]


def transfer_sharing_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per setting, reported task and layer (from the second): mean sharing over seeds."""
    frame = layer_counts(reported_tasks(rows))
    frame = frame[frame["kept"] > 0].assign(sharing=lambda f: f["shared"] / f["kept"])
    summary = over_seeds(frame, ["setting", "task", "layer_number", "layer"], "sharing", SHARE)
    return summary.sort_values(["setting", "task", "layer_number"], kind="stable").reset_index(
        drop=True
    )


def transfer_figure(summary: pd.DataFrame, title: str, path: Path) -> Path:
    """Sharing against task, one panel per setting, one line per layer."""
    settings = list(dict.fromkeys(summary["setting"]))
    fig, axes = plt.subplots(1, len(settings), figsize=(4.2 * len(settings), 3.2), squeeze=False)
    for axis, setting in zip(axes[0], settings, strict=True):
        part = summary[summary["setting"] == setting]
        for (number, layer), curve in part.groupby(["layer_number", "layer"], sort=False):
            axis.plot(
                curve["task"], 100 * curve["mean"], marker="o", label=f"layer {number} ({layer})"
            )
        label = (
            ", ".join(f"{k}={v}" for k, v in json.loads(setting).items()) if setting else "default"
        )
        axis.set_title(label, fontsize=9)
        axis.set_xlabel("task (1 = plain MNIST)")
        axis.set_ylabel("weights reused from earlier tasks (%)")
        axis.set_ylim(0, 100)
    axes[0][0].legend(fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
