"""What an evaluation job measures, one record per table row (without the sweep's keys).

Each record names its mask by label (the target function it was fitted for, or
`<target>-order<seed>`); None is the unmasked base model. The orchestrator adds the
sweep, experiment, setting, seed and job ids and writes each as a row of the table of the
same name (`analysis/schema.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EvaluationRecord:
    """`evaluations`: (model or mask variant) x evaluated target function."""

    mask_target: str | None
    # none | mask | inverted | inverted_io_kept | random_removal | random_removal_io_kept |
    # first_full_inverted (E2) | half_early | half_late (E10, control)
    mask_variant: str
    draw: int  # which random draw, for random controls
    evaluated_function: str
    accuracy: float
    loss: float
    samples: int


@dataclass(frozen=True)
class OverlapRecord:
    """`mask_overlaps`: two masks x masked tensor -> kept by each, by both, total."""

    function_a: str
    function_b: str
    layer: str
    layer_index: int
    kept_a: int
    kept_b: int
    both: int
    total: int


@dataclass(frozen=True)
class ConfusionRecord:
    """`confusions`: (model or mask) x true class x predicted class -> share of samples."""

    mask_target: str | None
    mask_variant: str  # none | mask
    true_class: str
    predicted_class: str
    fraction: float


@dataclass(frozen=True)
class TokenRowRecord:
    """`mask_rows`: mask x output row (one token) -> kept, kept with the control, total."""

    mask_target: str
    layer: str
    row: int
    token: str
    kept: int
    kept_and_control: int
    total: int


@dataclass(frozen=True)
class SharingRecord:
    """`mask_sharing`: non-control mask x tensor -> kept, shared with the others' union."""

    target_function: str
    target_index: int
    layer: str
    layer_index: int
    kept: int
    shared: int
    total: int


@dataclass(frozen=True)
class OpConfusionRecord:
    """`op_confusion`: (model or mask variant) x true op x answer match -> share, samples."""

    mask_target: str | None
    mask_variant: str  # none | mask | inverted
    true_op: str
    answer_matches: str
    fraction: float
    samples: int


@dataclass
class EvaluationRecords:
    """Every record of one evaluation, per table, in the order they were measured."""

    evaluations: list[EvaluationRecord] = field(default_factory=list)
    mask_overlaps: list[OverlapRecord] = field(default_factory=list)
    confusions: list[ConfusionRecord] = field(default_factory=list)
    mask_rows: list[TokenRowRecord] = field(default_factory=list)
    mask_sharing: list[SharingRecord] = field(default_factory=list)
    op_confusion: list[OpConfusionRecord] = field(default_factory=list)
