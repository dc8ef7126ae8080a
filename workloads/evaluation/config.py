"""What the evaluation job measures beyond the masks themselves: controls and variants."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EvaluationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    batch_size: int = Field(1024, gt=0)
    random_removal_draws: int = Field(
        3, ge=0, description="random-f controls per mask: remove as many weights at random"
    )
    io_kept_inverse: bool = Field(
        True, description="also run the inverse test with the first and last masked tensors whole"
    )
    variants: list[Literal["first_full_mask", "half_mask"]] = Field(
        default_factory=list,
        description="extra mask tests: first_full_mask (E2: inverse test, I/O tensors keep "
        "the control mask), half_mask (E10: control mask on the early or the late tensors only)",
    )
    half_mask_rounding: Literal["ceil", "floor"] = Field(
        "ceil", description="early = first ceil(n/2) (add/mul FNN) or floor(n/2) (double add)"
    )
    half_mask_early: list[str] | None = Field(
        None, description="names or prefixes of the early tensors instead (SCAN Transformer)"
    )
