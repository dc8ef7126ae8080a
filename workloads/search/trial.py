"""One trial of a mask-fit search: fit a mask with the trial's settings, score it as it goes.

The trial is an ordinary mask fit (`fit_mask`, the loop every fit job runs) with the
trial's drawn values put into the experiment's `mask_fit`. At each logging step it
evaluates the mask so far (logit > 0, as every evaluation takes it) on the target
function's evaluation set and reports that accuracy, the kept fraction and the running
score, which is what an early-stopping scheduler compares. The accuracy of the sampled
masks on a training batch would not do: with the noise of the samples it sits well below
the final mask's accuracy, more so for sparse masks, so a scheduler ranking on it stops
the sparse trials that end up best. The report at the last step decides the best trial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from workloads.data.base import Task
from workloads.evaluate import evaluate
from workloads.fit import FitOutcome, MaskFitConfig, fit_mask
from workloads.masking import Params, final_mask
from workloads.search.objective import trial_score

Report = Callable[[dict[str, float]], None]


def trial_config(base: MaskFitConfig, point: dict[str, Any]) -> MaskFitConfig:
    """`base` with the trial's values (`mask_fit.<field>` -> value) put in."""
    values = {key.partition(".")[2]: value for key, value in point.items()}
    return MaskFitConfig.model_validate({**base.model_dump(), **values})


@dataclass(frozen=True)
class TrialOutcome:
    fit: FitOutcome
    masked_accuracy: float  # the final mask on the target's evaluation set
    kept_fraction: float
    score: float


def run_trial(
    model: nn.Module,
    task: Task,
    target: str,
    config: MaskFitConfig,
    seed: int,
    base_accuracy: float,
    within: float,
    report: Report,
    keep: Callable[[Params], None] = lambda logits: None,
) -> TrialOutcome:
    """Fit, reporting `step`, `score` and the fit's metrics at every logging step, then
    `final: 1` with `masked_accuracy` and the final score once the fit is done.

    `keep(logits)` gets the fitted mask before the last report: a scheduler may end the
    trial's process as soon as it has seen the report at the last step.
    """

    def held_out(logits: Params) -> dict[str, float]:
        return {"masked_accuracy": evaluate(model, task, target, final_mask(logits)).accuracy}

    def on_metrics(step: int, point: dict[str, float]) -> None:
        if step == config.steps:
            return  # the last point is reported below, once the mask is kept
        score = trial_score(point["kept_fraction"], point["masked_accuracy"], base_accuracy, within)
        report({**point, "score": score})

    outcome = fit_mask(
        model, task, target, config, seed, on_metrics=on_metrics, extra_metrics=held_out
    )
    last = outcome.history[-1]
    masked = last["masked_accuracy"]
    score = trial_score(last["kept_fraction"], masked, base_accuracy, within)
    keep(outcome.logits)
    report({**last, "score": score, "final": 1.0})
    return TrialOutcome(outcome, masked, last["kept_fraction"], score)
