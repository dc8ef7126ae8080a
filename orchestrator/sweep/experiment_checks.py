"""Consistency checks between an experiment's sections that no single field can make.

Called by the spec's validator, so a bad combination is a spec error naming the field.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch

from workloads.masking import maskable_parameter_names
from workloads.variants import matching_names

SEED_LIMIT = 2**32  # torch and numpy generators take seeds below this (jobs add small offsets)


def check_experiment(experiment: Any) -> None:
    """Raise ValueError (turned into a SpecError with the field) for an inconsistent experiment."""
    task = experiment.task
    _check_seeds(experiment)
    _check_tensor_names(experiment)
    training_target = experiment.training.target_function
    if training_target is not None and training_target not in task.target_functions():
        raise ValueError(
            f"training.target_function: unknown target function {training_target!r} for task "
            f"{task.name!r}; valid: {', '.join(task.target_functions())}"
        )
    control = experiment.fitted_task().target_functions()[0]
    needs_control = {
        "mask_fit.fixed_from_control": bool(experiment.mask_fit.fixed_from_control),
        "evaluation.variants": bool(experiment.evaluation.variants),
    }
    for field, used in needs_control.items():
        if used and control not in experiment.target_functions():
            raise ValueError(
                f"{field} needs the control mask: add {control!r} to mask_fit.target_functions"
            )


def _check_seeds(experiment: Any) -> None:
    """Seeds a generator cannot take would pass `plan` and crash the run: refuse them here."""
    seeds = {
        f"mask_fit.data_order_seeds[{i}]": s
        for i, s in enumerate(experiment.mask_fit.data_order_seeds or [])
    }
    for section, task in (("task", experiment.task), ("mask_task", experiment.fitted_task())):
        for name, value in task.model_dump().items():
            if name.endswith("seed") and isinstance(value, int):
                seeds[f"{section}.{name}"] = value
    for field, seed in seeds.items():
        if not 0 <= seed < SEED_LIMIT:
            raise ValueError(f"{field}: seed {seed} is out of range: use 0 to {SEED_LIMIT - 1}")


class _AnyShape:
    """A stand-in task for building a model: every size is 2 (parameter names do not
    depend on sizes, and the real task may need data files to know its own)."""

    shape: defaultdict[str, int] = defaultdict(lambda: 2)


def _check_tensor_names(experiment: Any) -> None:
    """Tensor names or prefixes the spec gives must name masked tensors of its model.

    Checked on a model built on torch's meta device (no memory, no data), and only for
    built-in models: building a `custom` one would run user code at plan time.
    """
    named = {
        "mask_fit.fixed_from_control": experiment.mask_fit.fixed_from_control,
        "evaluation.half_mask_early": experiment.evaluation.half_mask_early,
    }
    named = {field: prefixes for field, prefixes in named.items() if prefixes}
    if not named or experiment.model.name == "custom":
        return
    try:
        with torch.device("meta"):
            model = experiment.model.build(_AnyShape())
    except Exception:  # a model that cannot be built this way is checked when its job runs
        return
    names = maskable_parameter_names(model, experiment.mask_fit.mask_biases)
    for field, prefixes in named.items():
        for prefix in prefixes:
            if not matching_names(names, [prefix]):
                raise ValueError(
                    f"{field}: {prefix!r} names no masked tensor of model "
                    f"{experiment.model.name!r}; masked tensors: {', '.join(names)}"
                )
