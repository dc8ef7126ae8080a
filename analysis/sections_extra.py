"""Report sections for the paper's analyses beyond sharing and accuracy: the shared
proportion per layer, the E1 op-confusion and the E10 half-mask drop.

Like `analysis/sections.py`, each section takes the ReportWriter and rows already scoped to
one experiment and setting, and adds nothing when its rows are absent.
"""

from __future__ import annotations

import pandas as pd

from analysis.document import Heading, Paragraph
from analysis.figures import short_layer
from analysis.half_mask import half_mask_drops, half_mask_table
from analysis.mask_sharing import shared_proportion_figure, shared_proportion_over_seeds
from analysis.op_confusion import op_confusion_over_seeds, op_confusion_table
from analysis.sections import ReportWriter
from analysis.summary import format_mean_std


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


def op_confusion_section(writer: ReportWriter, op_confusion: pd.DataFrame, name: str) -> None:
    """Per condition and true op: is the answer the sum, the product or neither?"""
    if op_confusion.empty:
        return
    summary = op_confusion_over_seeds(op_confusion)
    writer.add(
        Heading("Op confusion: is the answer the sum, the product or neither?", 3),
        Paragraph(
            "Per true op, the % of evaluation samples whose 2-digit answer equals the sum, the "
            "product (each counted on its own: where the two coincide mod 100 a sample counts "
            "in both) or neither. A mask that solves only its op answers the other op's "
            "samples with neither, or with its own op's result."
        ),
    )
    writer.table(
        summary,
        f"{name}_op_confusion",
        "Op confusion, % (mean ± std over seeds)",
        op_confusion_table(summary),
    )


def half_mask_section(writer: ReportWriter, evaluations: pd.DataFrame, name: str) -> None:
    """Control accuracy minus half-mask accuracy (E10), per half and evaluated function."""
    drops = half_mask_drops(evaluations) if not evaluations.empty else pd.DataFrame()
    if drops.empty:
        return
    writer.add(
        Heading("Half-mask test: control mask on half of the layers", 3),
        Paragraph(
            "The control mask applied only to the early (or only to the late) masked tensors, "
            "the rest unmasked; drop = control-mask accuracy minus half-mask accuracy, in "
            "percentage points."
        ),
    )
    writer.table(
        drops, f"{name}_half_mask", "Half-mask drop (mean ± std over seeds)", half_mask_table(drops)
    )
