"""Transfer sharing (paper E7): how much of task p's mask reuses weights of earlier tasks.

sharing(p, j) = #(M_p,j and union of M_q,j over q < p) / #M_p,j, from `transfer_sharing`
(shared and kept counts per task and layer), averaged over seeds per setting (the
fresh-weight logit). The first layer is re-initialised for every task and never shared.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.summary import over_seeds  # noqa: E402


def transfer_sharing_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per setting, task (from the second) and layer (from the second): mean sharing over seeds."""
    frame = rows[(rows["task_index"] > 0) & (rows["layer_index"] > 0) & (rows["kept"] > 0)].copy()
    frame["sharing"] = frame["shared"] / frame["kept"]
    return over_seeds(frame, ["setting", "task_index", "layer_index", "layer"], "sharing")


def transfer_figure(summary: pd.DataFrame, title: str, path: Path) -> Path:
    """Sharing against task, one panel per setting, one line per layer."""
    settings = list(dict.fromkeys(summary["setting"]))
    fig, axes = plt.subplots(1, len(settings), figsize=(4.2 * len(settings), 3.2), squeeze=False)
    for axis, setting in zip(axes[0], settings, strict=True):
        part = summary[summary["setting"] == setting]
        for layer, curve in part.groupby("layer", sort=False):
            axis.plot(curve["task_index"], 100 * curve["mean"], marker="o", label=layer)
        label = (
            ", ".join(f"{k}={v}" for k, v in json.loads(setting).items()) if setting else "default"
        )
        axis.set_title(label, fontsize=9)
        axis.set_xlabel("task")
        axis.set_ylabel("weights reused from earlier tasks (%)")
        axis.set_ylim(0, 100)
    axes[0][0].legend(fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
