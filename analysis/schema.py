"""The Parquet tables: the contract between the orchestrator (writer) and analysis (reader).

One pydantic model per table row; the Arrow schema is derived from it, so a column is
declared once. Every table has `sweep`, `experiment` and `setting` (the grid point without
seeds, as canonical JSON: statistics average over seeds within a setting).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from pydantic import BaseModel


class RunRow(BaseModel):
    """`runs`: one row per job, its status and final metrics."""

    sweep: str
    job_id: str
    kind: str
    experiment: str
    setting: str
    seed: int
    status: str  # done | failed
    error: str | None = None
    config_json: str
    metrics_json: str = "{}"
    node: str = ""
    mlflow_run_id: str = ""
    started_at: float = 0.0
    finished_at: float = 0.0
    duration_s: float = 0.0


class BaseModelRows(BaseModel):
    """The columns that open every table of rows computed on one trained base model: where
    the rows belong in the sweep, and the train job whose model they were computed on."""

    sweep: str
    job_id: str = ""  # the job that wrote the row (its part file); filled on write
    experiment: str
    setting: str
    seed: int
    train_job_id: str


class EvaluationRow(BaseModelRows):
    """`evaluations`: (model or mask) x evaluated target function -> accuracy, loss."""

    mask_job_id: str | None = None
    mask_target: str | None = None  # the target function the mask was fitted for
    # none | mask | inverted | inverted_io_kept | random_removal | random_removal_io_kept |
    # first_full_inverted (E2) | half_early | half_late (E10, control)
    mask_variant: str
    draw: int = 0  # which random draw, for random controls
    evaluated_function: str
    accuracy: float
    loss: float
    samples: int


class MaskLayerRow(BaseModelRows):
    """`mask_layers`: mask x masked tensor -> weights kept, weights in the tensor."""

    mask_job_id: str
    target_function: str
    target_index: int  # position in the task's target functions; 0 = the control mask
    layer: str
    layer_index: int
    kept: int
    total: int


class MaskOverlapRow(BaseModelRows):
    """`mask_overlaps`: two masks of one base model x masked tensor -> intersection counts."""

    function_a: str
    function_b: str
    layer: str
    layer_index: int
    kept_a: int
    kept_b: int
    both: int
    total: int


class FitCurveRow(BaseModelRows):
    """`fit_curves`: a mask fit's metrics at its logging steps (convergence checks)."""

    mask_job_id: str
    target_function: str
    step: int
    loss: float
    task_loss: float
    kept_fraction: float
    batch_accuracy: float


class KeepProbabilityRow(BaseModelRows):
    """`keep_probability_mass`: the control mask's sigmoid(logits), summarised (claim C15).

    Shares of masked weights with keep probability in [0, 0.1], [0.9, 1] and (0.1, 0.9),
    and the 500-bin histogram on [0, 1] as a JSON list of counts (paper's mask histogram).
    """

    mask_job_id: str
    target_function: str
    mass_low: float
    mass_high: float
    mass_middle: float
    histogram_json: str


class ConfusionRow(BaseModelRows):
    """`confusions`: classification tasks (CIFAR-10, E5): (base model or mask) x true class x
    predicted class -> share of the true class's evaluation samples; rows sum to 1 per true
    class (classes without samples have no rows)."""

    mask_target: str | None = None  # None with mask_variant "none": the unmasked base model
    mask_variant: str  # none | mask
    true_class: str
    predicted_class: str
    fraction: float


class MaskRowRow(BaseModelRows):
    """`mask_rows`: tasks that name their output rows (SCAN: one token per row, E3 Fig. 4b):
    mask x row of the output layer (the last masked weight matrix) -> weights kept, kept by
    this mask and the control mask, weights in the row. Removed-per-token % of mask X =
    (control's kept - kept_and_control) / control's kept, from X's and the control's rows."""

    mask_job_id: str
    mask_target: str
    layer: str
    row: int
    token: str
    kept: int
    kept_and_control: int
    total: int


class TransferSharingRow(BaseModel):
    """`transfer_sharing`: task p x masked tensor j of a sequence (E7) -> shared, kept.

    shared = #(M_p,j and union of M_q,j over q < p), kept = #M_p,j; sharing = shared / kept.
    """

    sweep: str
    experiment: str
    setting: str
    seed: int
    job_id: str
    task_index: int
    layer: str
    layer_index: int
    shared: int
    kept: int


class MaskSharingRow(BaseModelRows):
    """`mask_sharing`: non-control mask A x masked tensor j -> kept = #M_A,j, shared =
    #(M_A,j and the union of M_B,j over the other non-control masks B of the same base
    model), weights in the tensor. Shared proportion (paper) = shared / kept; written when a
    base model has two or more non-control masks."""

    mask_job_id: str
    target_function: str
    target_index: int  # position in the task's target functions (0 = control, never here)
    layer: str
    layer_index: int
    kept: int
    shared: int
    total: int


class OpConfusionRow(BaseModelRows):
    """`op_confusion`: add/mul (E1): (base model or mask variant) x true op x answer match ->
    share of that op's evaluation samples whose 2-digit answer is the sum, the product (each
    counted on its own, so a sample where sum = product mod 100 can count in both) or
    neither."""

    mask_job_id: str | None = None
    mask_target: str | None = None  # None with mask_variant "none": the unmasked base model
    mask_variant: str  # none | mask | inverted
    true_op: str  # add | mul
    answer_matches: str  # sum | product | neither
    fraction: float
    samples: int  # evaluation samples of the true op


class JobExperimentRow(BaseModel):
    """`job_experiments`: job x experiment and grid point it serves, written at submit.

    A job that several experiments plan with the same config (a composed sweep) runs once
    and serves each of them: the analysis counts its rows under every experiment and
    setting listed here (join any table on `job_id`). `role` is the experiment's declared
    paper role, which decides the claims judged on it. `differs_from_paper` and
    `pipeline_check` are the experiment's own words for the published page (null in
    tables written before they existed).
    """

    sweep: str
    job_id: str
    kind: str
    experiment: str
    setting: str
    seed: int
    role: str | None = None
    differs_from_paper: str | None = None
    pipeline_check: bool | None = None


class SearchTrialRow(BaseModelRows):
    """`search_trials`: one trial of a mask-fit search (`search:`) and how it ended.

    `values_json` holds the trial's drawn values (`{"mask_fit.<field>": value}`).
    `masked_accuracy` is the mask's accuracy (logit > 0) on `target_function`'s evaluation
    set at the trial's last step: the final mask's, or for a trial the scheduler stopped
    early (`stopped_early`, after `steps` steps) its unfinished mask's; `batch_accuracy`
    is the last accuracy of its sampled masks on a training batch. `error` is set for a
    trial that failed (a fit that diverged, say) after `steps` steps. Only finished trials
    can be `best`. A trial is `feasible` when its
    masked accuracy is at least `base_accuracy - within` (null for a trial stopped early);
    `best` marks the search's choice.
    """

    search_job_id: str
    target_function: str
    trial_id: str
    values_json: str
    steps: int
    stopped_early: bool
    error: str | None = None
    kept_fraction: float
    masked_accuracy: float | None = None
    batch_accuracy: float
    base_accuracy: float
    within: float
    feasible: bool | None = None
    best: bool


TABLES: dict[str, type[BaseModel]] = {
    "runs": RunRow,
    "evaluations": EvaluationRow,
    "mask_layers": MaskLayerRow,
    "mask_overlaps": MaskOverlapRow,
    "fit_curves": FitCurveRow,
    "keep_probability_mass": KeepProbabilityRow,
    "confusions": ConfusionRow,
    "mask_rows": MaskRowRow,
    "transfer_sharing": TransferSharingRow,
    "mask_sharing": MaskSharingRow,
    "op_confusion": OpConfusionRow,
    "job_experiments": JobExperimentRow,
    "search_trials": SearchTrialRow,
}

_ARROW_TYPES: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
}


def _arrow_type(annotation: Any) -> tuple[pa.DataType, bool]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        (inner,) = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _ARROW_TYPES[inner], True
    return _ARROW_TYPES[annotation], False


def arrow_schema(row_model: type[BaseModel]) -> pa.Schema:
    fields = []
    for name, field in row_model.model_fields.items():
        data_type, nullable = _arrow_type(field.annotation)
        fields.append(pa.field(name, data_type, nullable=nullable))
    return pa.schema(fields)


def to_arrow(table: str, rows: Sequence[BaseModel], job_id: str = "") -> pa.Table:
    """The rows as an Arrow table; an empty `job_id` column takes the writing job's id."""
    row_model = TABLES[table]
    dumped = [row.model_dump() for row in rows]
    if job_id and "job_id" in row_model.model_fields:
        for row in dumped:
            row["job_id"] = row["job_id"] or job_id
    return pa.Table.from_pylist(dumped, schema=arrow_schema(row_model))
