"""The report: for each experiment and setting, the paper's figures and the tables behind them.

Input is the sweep's Parquet tables as DataFrames; output is `report.md` with PNG figures
and CSV tables in one folder. Returns every file written, for logging to MLflow.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd

from analysis.accuracy import accuracy_over_seeds, accuracy_table
from analysis.figures import accuracy_bars, sharing_bars, short_layer
from analysis.sharing import sharing_over_seeds, total_shared_percent
from analysis.summary import format_mean_std


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


def write_report(tables: dict[str, pd.DataFrame], out_dir: Path, sweep: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "figures").mkdir(exist_ok=True)
    (out_dir / "tables").mkdir(exist_ok=True)
    written: list[Path] = []
    runs = tables["runs"]
    lines = [f"# Report: {sweep}", ""]
    done = int((runs["status"] == "done").sum()) if not runs.empty else 0
    failed = int((runs["status"] == "failed").sum()) if not runs.empty else 0
    lines += [f"Jobs: {done} done, {failed} failed.", ""]
    evaluations, overlaps, mask_layers = (
        tables["evaluations"],
        tables["mask_overlaps"],
        tables["mask_layers"],
    )
    if evaluations.empty:
        lines += [
            "No evaluations yet: run `orchestrator submit` until the sweep's evaluation jobs finish.",
            "",
        ]
    accuracy = accuracy_over_seeds(evaluations) if not evaluations.empty else pd.DataFrame()
    for (experiment, setting), group in evaluations.groupby(["experiment", "setting"], sort=False):
        name = slug(experiment, setting_label(setting))
        seeds = group["seed"].nunique()
        lines += [f"## {experiment} ({setting_label(setting)})", "", f"Seeds: {seeds}.", ""]
        lines += _sharing_section(
            overlaps, mask_layers, experiment, setting, name, out_dir, written
        )
        part = accuracy[(accuracy["experiment"] == experiment) & (accuracy["setting"] == setting)]
        table = accuracy_table(accuracy, experiment, setting)
        figure = accuracy_bars(
            part, f"{experiment}: accuracy (%)", out_dir / "figures" / f"{name}_accuracy.png"
        )
        csv = out_dir / "tables" / f"{name}_accuracy.csv"
        part.drop(columns=["experiment"]).to_csv(csv, index=False)
        written += [figure, csv]
        lines += [
            "### Accuracy (%) of the base model, each mask and each inverted mask",
            "",
            f"![accuracy](figures/{figure.name})",
            "",
            _markdown(table.reset_index()),
            "",
            f"Table: [tables/{csv.name}](tables/{csv.name})",
            "",
        ]
    report = out_dir / "report.md"
    report.write_text("\n".join(lines))
    return [report, *written]


def _sharing_section(
    overlaps: pd.DataFrame,
    mask_layers: pd.DataFrame,
    experiment: str,
    setting: str,
    name: str,
    out_dir: Path,
    written: list[Path],
) -> list[str]:
    lines: list[str] = []
    scope = overlaps[(overlaps["experiment"] == experiment) & (overlaps["setting"] == setting)]
    for a, b in compared_pairs(mask_layers, experiment):
        sharing = sharing_over_seeds(scope, a, b)
        if sharing.empty:
            continue
        figure = sharing_bars(
            sharing,
            a,
            b,
            f"{experiment}: weights kept by {a} / {b}",
            out_dir / "figures" / f"{name}_sharing_{a}_{b}.png",
        )
        csv = out_dir / "tables" / f"{name}_sharing_{a}_{b}.csv"
        sharing.drop(columns=["experiment"]).to_csv(csv, index=False)
        written += [figure, csv]
        rows = pd.DataFrame(
            {
                "layer": [short_layer(layer) for layer in sharing["layer"]],
                f"only {a} %": [
                    format_mean_std(m, s, 100)
                    for m, s in zip(sharing["only_a_mean"], sharing["only_a_std"], strict=True)
                ],
                "both %": [
                    format_mean_std(m, s, 100)
                    for m, s in zip(sharing["both_mean"], sharing["both_std"], strict=True)
                ],
                f"only {b} %": [
                    format_mean_std(m, s, 100)
                    for m, s in zip(sharing["only_b_mean"], sharing["only_b_std"], strict=True)
                ],
                "IoU": [
                    format_mean_std(m, s, 1, 3)
                    for m, s in zip(sharing["iou_mean"], sharing["iou_std"], strict=True)
                ],
                "IoMin": [
                    format_mean_std(m, s, 1, 3)
                    for m, s in zip(sharing["iomin_mean"], sharing["iomin_std"], strict=True)
                ],
            }
        )
        shared = total_shared_percent(scope, a, b)["shared_percent"]
        lines += [
            f"### Weight sharing between the {a} and {b} masks, per layer",
            "",
            f"![sharing](figures/{figure.name})",
            "",
            _markdown(rows),
            "",
            f"Total shared: {format_mean_std(shared.mean(), shared.std())} % of the {a} mask's weights "
            f"are also kept by the {b} mask (seeds: {len(shared)}).",
            "",
            f"Table: [tables/{csv.name}](tables/{csv.name})",
            "",
        ]
    sizes = mask_layers[
        (mask_layers["experiment"] == experiment) & (mask_layers["setting"] == setting)
    ]
    if not sizes.empty:
        totals = (
            sizes.groupby(["target_function", "seed"], sort=False)[["kept", "total"]]
            .sum()
            .reset_index()
        )
        totals["density"] = totals["kept"] / totals["total"]
        lines += [
            "### Mask sizes",
            "",
            "| mask | weights kept (mean ± std) | density % |",
            "|---|---|---|",
        ]
        for target, group in totals.groupby("target_function", sort=False):
            lines.append(
                f"| {target} | {format_mean_std(group['kept'].mean(), group['kept'].std(), 1, 0)} "
                f"| {format_mean_std(group['density'].mean(), group['density'].std(), 100)} |"
            )
        lines.append("")
    return lines


def _markdown(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])
