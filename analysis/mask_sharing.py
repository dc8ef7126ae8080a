"""The paper's shared proportion per layer: how much of mask A any other target mask keeps.

shared proportion (A, j) = #(M_A,j and union of M_B,j over the other non-control masks B)
/ #M_A,j, in %, from `mask_sharing` (kept and shared counts per mask and tensor). With two
masks it is the pairwise "both / kept A"; with more it counts a weight once however many
other masks keep it, which pairwise overlaps cannot give.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.figures import short_layer  # noqa: E402
from analysis.summary import over_seeds  # noqa: E402

KEYS = ["target_index", "target_function", "layer_index", "layer"]


def shared_proportion(rows: pd.DataFrame) -> pd.DataFrame:
    """Per mask, tensor and seed: shared_percent (NaN where the mask keeps nothing there)."""
    frame = rows.copy()
    frame["shared_percent"] = 100 * frame["shared"] / frame["kept"].where(frame["kept"] > 0)
    return frame


def shared_proportion_over_seeds(rows: pd.DataFrame) -> pd.DataFrame:
    """Per mask and tensor: mean, std and seed count of the shared proportion (%), in the
    task's order of masks and the model's order of tensors."""
    summary = over_seeds(
        shared_proportion(rows).dropna(subset=["shared_percent"]), KEYS, "shared_percent", (0, 100)
    )
    return summary.sort_values(["target_index", "layer_index"]).reset_index(drop=True)


def shared_proportion_figure(summary: pd.DataFrame, title: str, path: Path) -> Path:
    """Grouped bars: per tensor, one bar per mask (mean shared %, error bar: std)."""
    layers = list(dict.fromkeys(summary.sort_values("layer_index")["layer"]))
    masks = list(dict.fromkeys(summary["target_function"]))
    width = 0.8 / len(masks)
    fig, ax = plt.subplots(figsize=(max(4.5, 0.9 * len(layers) + 2), 3.6))
    for index, mask in enumerate(masks):
        part = summary[summary["target_function"] == mask].set_index("layer").reindex(layers)
        positions = [x + (index - (len(masks) - 1) / 2) * width for x in range(len(layers))]
        ax.bar(positions, part["mean"], width, yerr=part["std"].fillna(0), label=mask, capsize=2)
    ax.set_xticks(
        range(len(layers)), [short_layer(name) for name in layers], rotation=30, ha="right"
    )
    ax.set_ylabel("shared proportion (%)")
    ax.set_ylim(0, 105)
    ax.set_title(title, fontsize=10)
    ax.legend(
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.32),
        ncol=min(len(masks), 5),
        frameon=False,
        title="mask",
        title_fontsize=8,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
