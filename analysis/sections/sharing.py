"""The report's weight-sharing sections: per pair of target masks and layer, the weights kept by
one, the other or both against chance; the shared proportion per layer; the masks' sizes.
"""

from __future__ import annotations

import itertools
import math

import pandas as pd

from analysis.chance import with_chance
from analysis.document import Heading, Paragraph
from analysis.figures import sharing_bars, short_layer
from analysis.intervals import SHARE, mean_interval
from analysis.mask_sharing import shared_proportion_figure, shared_proportion_over_seeds
from analysis.sections.writer import ReportWriter
from analysis.sharing import layer_sharing, sharing_over_seeds, total_shared_percent
from analysis.summary import format_mean_std, spread_caption


def compared_pairs(mask_layers: pd.DataFrame, experiment: str) -> list[tuple[str, str]]:
    """Pairs of non-control target functions, in the task's order."""
    part = mask_layers[
        (mask_layers["experiment"] == experiment) & (mask_layers["target_index"] > 0)
    ]
    targets = part.sort_values("target_index")["target_function"].drop_duplicates().tolist()
    return list(itertools.combinations(targets, 2))


def sharing_section(
    writer: ReportWriter, scope: dict[str, pd.DataFrame], experiment: str, name: str
) -> None:
    overlaps, mask_layers = scope["mask_overlaps"], scope["mask_layers"]
    for a, b in compared_pairs(mask_layers, experiment):
        sharing = sharing_over_seeds(overlaps, a, b)
        if sharing.empty:
            continue
        chance = with_chance(_pair_rows(overlaps, a, b))
        chance_means = chance.groupby("layer_index")[
            ["iou_chance", "iou_over_chance", "iomin_chance"]
        ].mean()
        path = writer.folder / "figures" / f"{name}_sharing_{a}_{b}.png"
        sharing_bars(sharing, a, b, f"{experiment}: weights kept by the {a} / {b} masks", path)
        shown = pd.DataFrame(
            {
                "layer": [short_layer(layer) for layer in sharing["layer"]],
                f"only {a} %": _cells(sharing, "only_a", 100),
                "both %": _cells(sharing, "both", 100),
                f"only {b} %": _cells(sharing, "only_b", 100),
                "IoU": _cells(sharing, "iou", 1, 3),
                "IoU chance": [
                    f"{chance_means.loc[i, 'iou_chance']:.3f}" for i in sharing["layer_index"]
                ],
                "IoU / chance": [
                    f"{chance_means.loc[i, 'iou_over_chance']:.2f}" for i in sharing["layer_index"]
                ],
                "IoMin": _cells(sharing, "iomin", 1, 3),
                "IoMin chance": [
                    f"{chance_means.loc[i, 'iomin_chance']:.3f}" for i in sharing["layer_index"]
                ],
            }
        )
        shared = total_shared_percent(overlaps, a, b)["shared_percent"]
        writer.add(Heading(f"Weight sharing between the {a} and {b} masks, per layer", 3))
        writer.figure(
            path,
            f"Per layer: weights kept only by {a}, by both, only by {b} (% of those either keeps; mean over seeds).",
        )
        writer.table(
            sharing.drop(columns=["experiment"]).merge(
                chance_means.reset_index(), on="layer_index"
            ),
            f"{name}_sharing_{a}_{b}",
            f"Sharing per layer ({spread_caption(sharing['seeds'])}); chance = two independent random masks of the same per-layer densities",
            shown,
        )
        writer.add(
            Paragraph(
                f"Total shared: {summarise(shared, bounds=(0, 100))} % of the {a} mask's weights "
                f"are also kept by the {b} mask ({spread_caption([shared.count()])})."
            )
        )
    if not mask_layers.empty:
        totals = (
            mask_layers.groupby(["target_function", "seed"], sort=False)[["kept", "total"]]
            .sum()
            .reset_index()
        )
        totals["density"] = totals["kept"] / totals["total"]
        sizes = pd.DataFrame(
            [
                {
                    "mask": target,
                    "weights kept": summarise(g["kept"], digits=0, bounds=(0, math.inf)),
                    "density %": summarise(g["density"], scale=100, bounds=SHARE),
                    "seeds": len(g),
                }
                for target, g in totals.groupby("target_function", sort=False)
            ]
        )
        writer.add(Heading("Mask sizes", 3))
        writer.table(
            sizes,
            f"{name}_mask_sizes",
            f"Weights each mask keeps, all masked tensors ({spread_caption(sizes['seeds'])})",
        )


def _pair_rows(overlaps: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    return layer_sharing(overlaps[(overlaps["function_a"] == a) & (overlaps["function_b"] == b)])


def summarise(
    values: pd.Series,
    scale: float = 1.0,
    digits: int = 1,
    bounds: tuple[float, float] | None = None,
) -> str:
    """mean ± std [95% t-interval, cut to `bounds`] of per-seed values."""
    interval = mean_interval(values.to_numpy(), bounds=bounds)
    return format_mean_std(interval.mean, interval.std, scale, digits, interval.low, interval.high)


def _cells(frame: pd.DataFrame, column: str, scale: float, digits: int = 1) -> list[str]:
    columns = [frame[f"{column}_{part}"] for part in ("mean", "std", "low", "high")]
    return [
        format_mean_std(m, s, scale, digits, low, high)
        for m, s, low, high in zip(*columns, strict=True)
    ]


def shared_proportion_section(
    writer: ReportWriter, mask_sharing: pd.DataFrame, experiment: str, name: str
) -> None:
    """Per non-control mask and layer: the share of its weights some other target mask keeps."""
    if mask_sharing.empty:
        return
    summary = shared_proportion_over_seeds(mask_sharing)
    if summary.empty:
        return
    path = writer.folder / "figures" / f"{name}_shared_proportion.png"
    shared_proportion_figure(summary, f"{experiment}: shared proportion per layer", path)
    shown = pd.DataFrame(
        {
            "mask": summary["target_function"],
            "layer": [short_layer(layer) for layer in summary["layer"]],
            "shared %": [
                format_mean_std(m, s) for m, s in zip(summary["mean"], summary["std"], strict=True)
            ],
            "seeds": summary["seeds"],
        }
    )
    writer.add(Heading("Shared proportion per layer", 3))
    writer.figure(
        path,
        "Per layer: % of the mask's kept weights that at least one other target mask (not the "
        "control) also keeps (mean over seeds; error bars: std).",
    )
    writer.table(
        summary,
        f"{name}_shared_proportion",
        "Shared proportion per layer, % (mean ± std over seeds)",
        shown,
    )
