"""The report's sections: each adds headings, figures and tables for one statistic.

Every section takes the ReportWriter and the rows it needs (already scoped to one
experiment and setting where that applies) and adds nothing when its rows are absent.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pandas as pd

from analysis.accuracy import accuracy_table
from analysis.chance import with_chance
from analysis.class_removal import class_removal, class_removal_summary, removed_per_token
from analysis.controls import convergence, specificity
from analysis.document import Block, Figure, Heading, Paragraph, Table
from analysis.figures import accuracy_bars, keep_histogram, sharing_bars, short_layer
from analysis.headline import claim_outcomes, headline
from analysis.intervals import SHARE, mean_interval
from analysis.planted import planted_layers, planted_verdicts
from analysis.sharing import sharing_over_seeds, total_shared_percent
from analysis.summary import format_mean_std, spread_caption
from analysis.transfer import transfer_figure, transfer_sharing_table
from analysis.trends import beta_figure, setting_trends
from analysis.verdicts import ClaimVerdict


def compared_pairs(mask_layers: pd.DataFrame, experiment: str) -> list[tuple[str, str]]:
    """Pairs of non-control target functions, in the task's order."""
    part = mask_layers[
        (mask_layers["experiment"] == experiment) & (mask_layers["target_index"] > 0)
    ]
    targets = part.sort_values("target_index")["target_function"].drop_duplicates().tolist()
    return list(itertools.combinations(targets, 2))


def slug(*parts: str) -> str:
    text = "_".join(parts)
    return (
        "".join(c if c.isalnum() or c in "-_" else "-" for c in text).strip("-")[:80] or "default"
    )


def setting_label(setting: str) -> str:
    values = json.loads(setting) if setting else {}
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "default setting"


class ReportWriter:
    """Collects blocks and the files behind them while sections are added."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.blocks: list[Block] = []
        self.files: list[Path] = []
        for sub in ("figures", "tables"):
            (folder / sub).mkdir(parents=True, exist_ok=True)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    def table(
        self, frame: pd.DataFrame, name: str, caption: str, shown: pd.DataFrame | None = None
    ) -> None:
        """Show `shown` (or `frame`); save `frame` as CSV and Parquet."""
        csv = Path("tables") / f"{name}.csv"
        frame.to_csv(self.folder / csv, index=False)
        frame.to_parquet(self.folder / "tables" / f"{name}.parquet", index=False)
        self.files += [self.folder / csv, self.folder / "tables" / f"{name}.parquet"]
        self.add(Table(shown if shown is not None else frame, caption, csv))

    def figure(self, path: Path, caption: str) -> None:
        self.files.append(path)
        self.add(Figure(path.relative_to(self.folder), caption))


def claims_held(verdicts: list[ClaimVerdict]) -> str:
    """The MLflow tag, e.g. "4/9": claims that hold (all their rows hold) out of the claims
    in the table, counted per claim as the headline counts them."""
    outcomes = claim_outcomes(verdicts)
    return f"{sum(o.outcome == 'holds' for o in outcomes)}/{len(outcomes)}"


def claims_section(writer: ReportWriter, verdicts: list[ClaimVerdict]) -> None:
    """The headline (per claim), then one row per claim, experiment and setting with the
    short statement beside the verdict, then the claims' full statements."""
    statements = {v.claim: v.statement for v in verdicts}
    frame = pd.DataFrame(
        [
            {
                "claim": v.claim,
                "statement": v.short,
                "experiment": v.experiment,
                "setting": setting_label(v.setting) if v.setting.startswith("{") else v.setting,
                "verdict": v.verdict,
                "seeds": v.seeds,
                "our numbers (mean ± std [95% t-interval])": v.numbers,
                "reason": v.reason,
            }
            for v in verdicts
        ]
    )
    outcomes = pd.DataFrame(
        [
            {
                "claim": o.claim,
                "statement": o.short,
                "verdict": o.outcome + (f" ({o.why})" if o.why else ""),
                "why": o.reason,
            }
            for o in claim_outcomes(verdicts)
        ]
    )
    writer.add(
        Heading("The paper's claims"),
        Paragraph(
            f"{headline(verdicts)}. A claim holds when every experiment and setting that judges "
            "it holds, and does not hold when any does not. Each comparison is a one-sided test "
            "at the 2.5% level on the seed means: the 95% Student-t interval of the per-seed "
            "margin (t quantile with seeds - 1 degrees of freedom) lies above 0 (holds) or below "
            "0 (does not hold); otherwise unclear. One seed never gives a verdict, and an "
            "experiment with fewer finished seeds than planned is incomplete. A claim that does "
            "not hold is shown like one that does."
        ),
    )
    writer.add(Table(outcomes, "One verdict per claim"))
    writer.table(frame, "claims", "Verdicts per experiment and setting")
    writer.add(
        Table(
            pd.DataFrame(
                {
                    "claim": list(statements),
                    "statement (docs/method.md)": list(statements.values()),
                }
            ),
            "What each claim says",
        )
    )


def planted_section(writer: ReportWriter, overlaps: pd.DataFrame) -> None:
    verdicts = planted_verdicts(overlaps) if not overlaps.empty else pd.DataFrame()
    if verdicts.empty:
        return
    writer.add(
        Heading("Planted against recovered structure"),
        Paragraph(
            "Networks built with a known structure (disjoint towers, a shared trunk, a nested "
            "path): the masks for A and B must recover it before results on other networks are trusted."
        ),
    )
    writer.table(verdicts, "planted_verdicts", "Verdict per planted network")
    writer.table(
        planted_layers(overlaps),
        "planted_layers",
        "Per layer: IoU and IoMin of the A and B masks (mean over seeds)",
    )


def trend_section(writer: ReportWriter, tables: dict[str, pd.DataFrame], experiment: str) -> None:
    trends = setting_trends(tables, experiment)
    if trends.empty:
        return
    writer.add(Heading(f"{experiment}: across settings"))
    path = beta_figure(
        tables, experiment, writer.folder / "figures" / f"{slug(experiment)}_beta.png"
    )
    if path is not None:
        writer.figure(
            path,
            "Control-mask accuracy and density against the regularization weight beta (mean ± std over seeds).",
        )
    writer.table(trends, f"{slug(experiment)}_trends", "Per setting (mean ± std over seeds)")


def class_removal_section(writer: ReportWriter, confusions: pd.DataFrame, name: str) -> None:
    if confusions.empty:
        return
    per_seed = class_removal(confusions)
    if per_seed.empty:
        return
    writer.add(
        Heading("Class removal: does removing a class's weights hurt only that class?", 3),
        Paragraph(
            "Relative drop: how much the removed class's accuracy falls under its removal mask, "
            "relative to the control mask (large and positive expected). Largest other/target: "
            "the worst other class's relative drop as a % of the removed class's (below 10 expected)."
        ),
    )
    writer.table(
        per_seed,
        f"{name}_class_removal",
        "Per removed class (mean ± std over seeds)",
        class_removal_summary(per_seed),
    )


def token_section(
    writer: ReportWriter, mask_rows: pd.DataFrame, mask_layers: pd.DataFrame, name: str
) -> None:
    if mask_rows.empty or mask_layers.empty:
        return
    control = mask_layers.loc[mask_layers["target_index"] == 0, "target_function"]
    if control.empty:
        return
    frame = removed_per_token(mask_rows, control.iloc[0])
    if frame.empty:
        return
    shown = frame.assign(
        **{
            "removed %": [
                format_mean_std(m, s, 1, 1, low, high)
                for m, s, low, high in zip(
                    frame["mean"], frame["std"], frame["low"], frame["high"], strict=True
                )
            ]
        }
    )
    writer.add(Heading("Output-layer weights removed per token", 3))
    writer.table(
        frame,
        f"{name}_removed_per_token",
        f"Share of the {control.iloc[0]} mask's kept weights in each output token's row that each split mask removes ({spread_caption(frame['seeds'])})",
        shown[["mask", "token", "removed %", "seeds"]],
    )


def transfer_section(writer: ReportWriter, rows: pd.DataFrame) -> None:
    for experiment, part in rows.groupby("experiment", sort=False) if not rows.empty else []:
        summary = transfer_sharing_table(part)
        if summary.empty:
            continue
        path = writer.folder / "figures" / f"{slug(experiment)}_transfer.png"
        transfer_figure(summary, f"{experiment}: reuse of earlier tasks' weights", path)
        writer.add(Heading(f"{experiment}: transfer sharing"))
        writer.figure(
            path,
            "Per layer (first layer excluded: never shared), share of task p's kept weights that earlier tasks' masks kept.",
        )
        shown = summary.assign(
            setting=[setting_label(s) for s in summary["setting"]],
            **{"sharing %": [summarise_row(r) for r in summary.itertuples()]},
        )[["setting", "task", "layer_number", "layer", "sharing %", "seeds"]]
        writer.table(
            summary,
            f"{slug(experiment)}_transfer_sharing",
            f"Transfer sharing per task and layer ({spread_caption(summary['seeds'])})",
            shown,
        )


def summarise_row(row) -> str:
    return format_mean_std(row.mean, row.std, 100, 1, row.low, row.high)


def scoped(frame: pd.DataFrame, experiment: str, setting: str) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame[(frame["experiment"] == experiment) & (frame["setting"] == setting)]


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
    from analysis.sharing import layer_sharing

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


def accuracy_section(
    writer: ReportWriter, accuracy: pd.DataFrame, experiment: str, setting: str, name: str
) -> None:
    part = accuracy[(accuracy["experiment"] == experiment) & (accuracy["setting"] == setting)]
    main = part[part["mask_variant"].isin(["none", "mask", "inverted"])]
    path = writer.folder / "figures" / f"{name}_accuracy.png"
    accuracy_bars(main, f"{experiment}: accuracy of masks and inverted masks", path)
    writer.add(Heading("Accuracy of the base model, each mask and each inverted mask", 3))
    writer.figure(
        path, "Accuracy (%) per condition on each target function; error bars: std over seeds."
    )
    writer.table(
        part.drop(columns=["experiment"]),
        f"{name}_accuracy",
        f"Accuracy % ({spread_caption(part['seeds'])}); not-f removes f's weights; random-f removes as many random weights per layer",
        accuracy_table(accuracy, experiment, setting),
    )


def controls_section(
    writer: ReportWriter, evaluations: pd.DataFrame, targets: list[str], name: str
) -> None:
    frame = specificity(evaluations, targets)
    if frame.empty:
        return
    writer.add(
        Heading("Is the module more than damage? not-f against random-f", 3),
        Paragraph(
            "Extra damage: how much more f's accuracy falls under not-f than under random-f "
            f"(points, {spread_caption(frame['seeds'])}). g spared: g's accuracy under "
            "not-f minus under random-f. A module is specific when the extra damage is clearly "
            "positive (interval above 0) and g is spared at least as well; when not-f and "
            "random-f both leave f at chance (each interval of f's accuracy ends within 2 points "
            "of chance) nothing can be told."
        ),
    )
    writer.table(frame, f"{name}_specificity", "Removal controls")


def convergence_section(writer: ReportWriter, curves: pd.DataFrame, name: str) -> None:
    if curves.empty:
        return
    frame = convergence(curves)
    unconverged = int((frame["converged"] != "yes").sum())
    writer.add(
        Heading("Mask-fit convergence", 3),
        Paragraph(
            f"{unconverged} of {len(frame)} masks were still shrinking over their last 10% of steps "
            "(kept fraction falling by more than 1 point): such masks are denser and overlap more "
            "than converged ones would."
        ),
    )
    writer.table(
        frame.drop(columns=["experiment", "setting"]), f"{name}_convergence", "Per mask fit"
    )


def histogram_section(
    writer: ReportWriter, masses: pd.DataFrame, experiment: str, name: str
) -> None:
    if masses.empty:
        return
    path = writer.folder / "figures" / f"{name}_keep_histogram.png"
    keep_histogram(masses, f"{experiment}: control mask keep probabilities", path)
    writer.add(Heading("Control-mask keep probabilities", 3))
    writer.figure(
        path,
        "Histogram of sigmoid(logit) over all masked weights of the control mask (500 bins, summed over seeds).",
    )
