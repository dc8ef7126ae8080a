"""Figures as PNG (matplotlib, no LaTeX), sized to read in print."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

COLORS = {"only_a": "#4C72B0", "both": "#8C8C8C", "only_b": "#DD8452"}


def sharing_bars(sharing: pd.DataFrame, name_a: str, name_b: str, title: str, path: Path) -> Path:
    """Per layer, stacked: only A, both, only B (shares of the weights either mask keeps)."""
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(sharing) + 2), 3.6))
    x = range(len(sharing))
    bottom = [0.0] * len(sharing)
    for column, label in (
        ("only_a", f"only {name_a}"),
        ("both", "both"),
        ("only_b", f"only {name_b}"),
    ):
        values = (sharing[f"{column}_mean"] * 100).tolist()
        ax.bar(x, values, bottom=bottom, color=COLORS[column], label=label, width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(
        list(x), [short_layer(name) for name in sharing["layer"]], rotation=30, ha="right"
    )
    ax.set_ylabel("share of kept weights (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.32), ncol=3, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def accuracy_bars(summary: pd.DataFrame, title: str, path: Path) -> Path:
    """Grouped bars: each condition (base, mask, not-mask) on each evaluated function."""
    conditions = list(dict.fromkeys(summary["condition"]))
    functions = list(dict.fromkeys(summary["evaluated_function"]))
    fig, ax = plt.subplots(figsize=(max(4.5, 1.1 * len(conditions) + 2), 3.6))
    width = 0.8 / len(functions)
    for index, function in enumerate(functions):
        part = (
            summary[summary["evaluated_function"] == function]
            .set_index("condition")
            .reindex(conditions)
        )
        positions = [c + (index - (len(functions) - 1) / 2) * width for c in range(len(conditions))]
        ax.bar(
            positions,
            part["mean"] * 100,
            width,
            yerr=(part["std"].fillna(0) * 100),
            label=f"on {function}",
            capsize=2,
        )
    ax.set_xticks(range(len(conditions)), conditions)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 105)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def short_layer(name: str) -> str:
    """Tensor names as `named_parameters()` gives them, trimmed of long module paths."""
    parts = name.split(".")
    return ".".join(parts[-3:]) if len(parts) > 3 else name


def keep_histogram(masses: pd.DataFrame, title: str, path: Path) -> Path:
    """The control mask's keep probabilities, 500 bins on [0, 1], summed over seeds."""
    import json

    import numpy as np

    counts = np.sum([json.loads(h) for h in masses["histogram_json"]], axis=0)
    edges = np.linspace(0, 1, len(counts) + 1)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.bar(edges[:-1], counts, width=edges[1] - edges[0], align="edge", color="#4C72B0")
    ax.set_yscale("log")
    ax.set_xlabel("keep probability sigmoid(logit)")
    ax.set_ylabel("weights (log scale)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def search_tradeoff(trials: pd.DataFrame, title: str, path: Path) -> Path:
    """Masked accuracy against kept fraction over a search's trials: the sparsity/accuracy
    trade-off the paper draws for beta, here for one network. Trials stopped early show
    where their unfinished masks were when stopped, as crosses."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    finished = trials[~trials["stopped_early"] & trials["error"].isna()]
    stopped = trials[trials["stopped_early"] & trials["masked_accuracy"].notna()]
    base = float(trials["base_accuracy"].iloc[0])
    within = float(trials["within"].iloc[0])
    ax.scatter(
        100 * finished["kept_fraction"],
        100 * finished["masked_accuracy"],
        color="#4C72B0",
        label="finished trial",
    )
    if not stopped.empty:
        ax.scatter(
            100 * stopped["kept_fraction"],
            100 * stopped["masked_accuracy"],
            marker="x",
            color="#C44E52",
            label="stopped early (unfinished mask)",
        )
    best = trials[trials["best"]]
    ax.scatter(
        100 * best["kept_fraction"],
        100 * best["masked_accuracy"],
        s=160,
        facecolors="none",
        edgecolors="black",
        label="chosen",
    )
    ax.axhspan(
        100 * (base - within), 100 * base, color="#55A868", alpha=0.15, label="within tolerance"
    )
    ax.axhline(100 * base, color="#55A868", linewidth=1, label="base model")
    ax.set_xscale("log")
    ax.set_xlabel("kept weights (% of masked, log scale)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
