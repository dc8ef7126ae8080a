"""The mask-fit loop: learn which frozen weights a target function needs (paper section 3).

Per step: sample a batch of B examples of the target function, split it into K equal
slices, sample K binary masks (one per slice), run the frozen network with each mask on
its slice, and minimise task loss + beta * sum(logits) / B with Adam on the logits only.

One loop, `fit_masks`, steps one fit or many fits of one frozen model in lockstep (many mask
fits at once, docs/performance.md); `fit_mask` is a batch of one. Each fit keeps what it would have
alone: its data generator (`seed`), its mask noise (`masking.noise.noise_generator`: seed,
target, data-order seed), logits, Adam state, gradient clipping over its own logits, and
its checkpoints. So fit m of a batch ends where a lone fit with the same target, config
and seed ends: exactly when the step runs looped, to about 1e-5 when vectorized over fits
(`mask_step`). A fit resumed from its checkpoint, alone or in a batch, ends where an
uninterrupted one ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from torch import nn

from workloads.data.base import (
    Examples,
    Task,
    check_target,
    model_device,
    sample_batch,
    task_generators,
    to_device,
)
from workloads.mask_step import (
    MaskedFit,
    VmapProbe,
    clip_gradients,
    fit_metrics,
    freeze,
    frozen_parameters,
    logit_optimizer,
    mask_step,
)
from workloads.masking import Params, initial_logits, maskable_parameter_names
from workloads.masking.kernels import AUTO_MIN_STEPS, FusedKernels, kernels_for
from workloads.masking.noise import noise_generator
from workloads.resume import (
    Checkpointer,
    GlobalGenerator,
    LoopState,
    check_finite,
    checkpoint_steps,
    joined_optimizer_state,
    optimizer_part,
    restore,
    snapshot,
)
from workloads.train import MetricsCallback
from workloads.transforms import BEFORE_MASKING


class MaskFitConfig(BaseModel):
    """One mask fit's settings; defaults are the paper's add/mul values."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    target_functions: list[str] | None = Field(
        None, description="targets to fit a mask for; null = all of the task's, control first"
    )
    steps: int = Field(20_000, gt=0)
    batch_size: int = Field(128, gt=0, description="mask batch size B")
    learning_rate: float = Field(1e-2, gt=0)
    regularization_weight: float = Field(1e-4, ge=0, description="beta: loss += beta*sum(l)/B")
    mask_samples_per_step: int = Field(4, gt=0, description="K, each on its own batch slice")
    initial_logit: float = Field(
        2.0,
        description="every logit's start: keep probability sigmoid(2.0) = 0.88, the official "
        "code's (the paper's \"about 0.9\")",
    )
    mask_biases: bool = False
    grad_clip: float | None = Field(1.0, gt=0, description="global norm over the logits")
    clip_includes_frozen_gradients: bool = Field(
        False,
        description="copy the official code's clipping: it clips over all parameters and never "
        "zeroes the frozen weights' gradients, so the norm also counts their sum over the "
        "steps so far (scaled by each clip, as the logits'), which shrinks the logits' steps",
    )
    log_every: int = Field(100, gt=0)
    checkpoint_every: int = Field(
        500, gt=0, description="steps between saved checkpoints that a resumed fit continues from"
    )
    fused_kernels: FusedKernels = Field(
        "auto",
        description="torch.compile the mask step's elementwise work: auto = for fits of "
        f"{AUTO_MIN_STEPS}+ steps (compiling costs seconds once per process)",
    )
    fixed_from_control: list[str] = Field(
        default_factory=list,
        description="parameter names (or module prefixes) whose mask every other fit copies "
        "from the control fit and does not train (E5: [output], removal must act in the features)",
    )
    before_masking: str | None = Field(
        None,
        description=f"change the base model before masking; one of: {', '.join(BEFORE_MASKING)}",
    )
    data_order_seeds: list[int] | None = Field(
        None,
        description="E6 mask stability: fit every target once per data-order seed here "
        "(masks labelled <target>-order<seed>); null = one fit, data order from the job seed",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed_fields(cls, data: object) -> object:
        if isinstance(data, dict) and "initial_keep_probability" in data:
            raise ValueError(
                "initial_keep_probability was replaced by initial_logit (keep probability "
                "sigmoid(initial_logit)); write initial_logit: 2.0 for the official 0.88"
            )
        return data

    @field_validator("before_masking")
    @classmethod
    def _known_transform(cls, value: str | None) -> str | None:
        if value is not None and value not in BEFORE_MASKING:
            raise ValueError(f"unknown transform {value!r}; valid: {', '.join(BEFORE_MASKING)}")
        return value

    @model_validator(mode="after")
    def _slices_are_equal(self) -> MaskFitConfig:
        if self.batch_size % self.mask_samples_per_step:
            raise ValueError(
                f"batch_size {self.batch_size} must be a multiple of "
                f"mask_samples_per_step {self.mask_samples_per_step} (one equal slice per sample)"
            )
        return self


# Fields that may differ between fits of one batch: everything else shapes the lockstep.
PER_FIT_FIELDS = frozenset({"target_functions", "regularization_weight", "log_every"})


@dataclass
class FitOutcome:
    logits: Params
    history: list[dict[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class FitRequest:
    """One mask fit of a batch: what `fit_mask(model, task, target, config, seed, ...)` takes.

    `data_seed` sets the data order (default: `seed`; E6). `fixed_logits` (another mask's
    logits for some tensors) are not trained: their final mask is applied throughout and
    they are returned unchanged with the fitted ones. `resume_from` continues the fit from
    a `checkpointer` snapshot.
    """

    target: str
    config: MaskFitConfig
    seed: int
    data_seed: int | None = None
    fixed_logits: Params | None = None
    resume_from: LoopState | None = None
    checkpointer: Checkpointer | None = None


MetricsByFit = Callable[[int, int, dict[str, float]], None]  # (fit index, step, metrics)


def fit_mask(
    model: nn.Module,
    task: Task,
    target: str,
    config: MaskFitConfig,
    seed: int,
    on_metrics: MetricsCallback | None = None,
    on_step: Callable[[int], None] | None = None,
    fixed_logits: Params | None = None,
    data_seed: int | None = None,
    resume_from: LoopState | None = None,
    checkpointer: Checkpointer | None = None,
    extra_metrics: Callable[[Params], dict[str, float]] | None = None,
) -> FitOutcome:
    """Fit one mask for `target` on the frozen `model` (a batch of one; see `FitRequest`)."""
    request = FitRequest(target, config, seed, data_seed, fixed_logits, resume_from, checkpointer)
    by_fit = None if on_metrics is None else lambda _, step, point: on_metrics(step, point)
    extra = None if extra_metrics is None else lambda _, logits: extra_metrics(logits)
    return fit_masks(
        model, task, [request], on_metrics=by_fit, on_step=on_step, extra_metrics=extra
    )[0]


@dataclass
class _Fit:
    """One fit's live state in the loop."""

    request: FitRequest
    masked: MaskedFit  # logits, the weights they mask, noise generator, beta
    names: list[str]  # every masked tensor, fixed ones included: the outcome's order
    examples: Examples
    generators: dict[str, torch.Generator]  # its own: data order and mask noise
    history: list[dict[str, float]] = field(default_factory=list)

    def loop_tensors(self) -> Params:
        """What a checkpoint holds besides the optimizer: the logits and, when the frozen
        gradients accumulate, their sums so far (a resumed fit goes on from them)."""
        weights = self.masked.weights
        sums = {f"frozen_gradient/{n}": t.grad for n, t in weights.items() if t.requires_grad}
        return {**self.masked.logits, **sums}  # type: ignore[dict-item]

    def outcome(self) -> FitOutcome:
        fitted = {name: logit.detach() for name, logit in self.masked.logits.items()}
        fitted.update(self.request.fixed_logits or {})
        return FitOutcome({name: fitted[name] for name in self.names}, self.history)


def fit_masks(
    model: nn.Module,
    task: Task,
    requests: list[FitRequest],
    vectorize: bool | None = None,
    on_metrics: MetricsByFit | None = None,
    on_step: Callable[[int], None] | None = None,
    extra_metrics: Callable[[int, Params], dict[str, float]] | None = None,
) -> list[FitOutcome]:
    """Fit one mask per request on the frozen `model`, all in lockstep; one outcome each.

    The model is left unchanged. `vectorize` None means: vmap on CUDA, loops elsewhere
    (`mask_step`). `on_step(step)` runs after every step; `extra_metrics(fit index,
    logits)` adds metrics to each logged point (a search's held-out accuracy of the mask
    so far). Resumed fits must all resume from the same step; each fit with a
    `checkpointer` saves its own snapshots, and a stop request from any of them saves every
    fit and raises `LoopInterrupted`.
    """
    config = _shared_config(requests)
    for request in requests:
        check_target(task, request.target)
    first_step = _first_step(requests)
    freeze(model)
    device = model_device(model)
    track = config.clip_includes_frozen_gradients
    shared_weights = None if track else frozen_parameters(model)  # one vmap may serve all
    fits = [_start_fit(model, task, request, device, shared_weights) for request in requests]
    optimizer = logit_optimizer(
        [logit for fit in fits for logit in fit.masked.logits.values()], config.learning_rate
    )
    shared_generators = {"global": GlobalGenerator(), **task_generators(task)}
    if first_step > 1:
        _restore(fits, optimizer, shared_generators)
    probe = VmapProbe(wanted=device.type == "cuda" if vectorize is None else vectorize)
    kernels = kernels_for(config.fused_kernels, config.steps)
    for step in range(first_step, config.steps + 1):
        batches = [
            to_device(sample_batch(fit.examples, config.batch_size, fit.generators["data"]), device)
            for fit in fits
        ]
        losses = mask_step(
            model,
            task,
            [fit.masked for fit in fits],
            batches,
            config.mask_samples_per_step,
            kernels,
            probe,
        )
        optimizer.zero_grad(set_to_none=True)
        torch.stack([fit_loss.loss for fit_loss in losses]).sum().backward()  # fit m: its own
        for fit in fits:
            clip_gradients(fit.masked.logits, fit.masked.weights, config.grad_clip)
        optimizer.step()
        for index, (fit, fit_loss) in enumerate(zip(fits, losses, strict=True)):
            if step % fit.request.config.log_every == 0 or step == config.steps:
                check_finite(fit_loss.loss, step)
                point = fit_metrics(step, fit_loss, fit.masked.logits)
                if extra_metrics is not None:
                    point.update(extra_metrics(index, fit.masked.logits))
                fit.history.append(point)
                if on_metrics is not None:
                    on_metrics(index, step, point)
        if on_step is not None:
            on_step(step)
        checkpoint_steps(
            [
                (fit.request.checkpointer, _snapshotter(fits, index, optimizer, shared_generators))
                for index, fit in enumerate(fits)
            ],
            step,
            config.steps,
        )
    return [fit.outcome() for fit in fits]


def _shared_config(requests: list[FitRequest]) -> MaskFitConfig:
    if not requests:
        raise ValueError("fit_masks needs at least one FitRequest")
    first = requests[0].config.model_dump(exclude=set(PER_FIT_FIELDS))
    for index, request in enumerate(requests[1:], start=1):
        other = request.config.model_dump(exclude=set(PER_FIT_FIELDS))
        differing = sorted(key for key in first if first[key] != other[key])
        if differing:
            raise ValueError(
                f"fits batched together must share their mask_fit settings except "
                f"{sorted(PER_FIT_FIELDS)}; fit {index} differs from fit 0 in {differing}: "
                "put it in another batch"
            )
    return requests[0].config


def _first_step(requests: list[FitRequest]) -> int:
    done = {0 if r.resume_from is None else r.resume_from.step for r in requests}
    if len(done) > 1:
        raise ValueError(
            f"fits batched together must resume from the same step; their checkpoints are at "
            f"steps {sorted(done)}: put fits at other steps in another batch"
        )
    return done.pop() + 1


def _start_fit(
    model: nn.Module,
    task: Task,
    request: FitRequest,
    device: torch.device,
    shared_weights: Params | None,
) -> _Fit:
    config, fixed = request.config, request.fixed_logits or {}
    names = maskable_parameter_names(model, config.mask_biases)
    weights = shared_weights
    if weights is None or fixed:  # its own: frozen gradient sums, or another mask applied
        weights = frozen_parameters(model, fixed, config.clip_includes_frozen_gradients)
    noise = noise_generator(request.seed, request.target, request.data_seed, device)
    data_seed = request.seed if request.data_seed is None else request.data_seed
    trained = [name for name in names if name not in fixed]
    return _Fit(
        request=request,
        masked=MaskedFit(
            logits=initial_logits(model, trained, config.initial_logit),
            weights=weights,
            noise=noise,
            regularization_weight=config.regularization_weight,
        ),
        names=names,
        examples=task.train_examples(request.target),
        generators={"data": torch.Generator().manual_seed(data_seed), "mask": noise},
    )


def _restore(fits: list[_Fit], optimizer: torch.optim.Optimizer, shared: dict[str, Any]) -> None:
    """Every fit from its checkpoint; the generators the fits share (torch's global one,
    the task's) from the first fit's, which in a batch saved at one step are all equal."""
    parts = []
    for index, fit in enumerate(fits):
        state = fit.request.resume_from
        assert state is not None  # _first_step: all fits resume, or none
        restore(state, fit.loop_tensors(), {**fit.generators, **(shared if index == 0 else {})})
        fit.history = list(state.history)
        parts.append(state.optimizer)
    optimizer.load_state_dict(joined_optimizer_state(parts))


def _snapshotter(
    fits: list[_Fit], index: int, optimizer: torch.optim.Optimizer, shared: dict[str, Any]
) -> Callable[[int], LoopState]:
    """Fit `index`'s snapshot at a step: what a lone fit's checkpoint would hold."""
    fit = fits[index]
    start = sum(len(other.masked.logits) for other in fits[:index])

    def make_state(step: int) -> LoopState:
        own = optimizer_part(optimizer.state_dict(), start, len(fit.masked.logits))
        generators = {**fit.generators, **shared}
        return snapshot(step, fit.loop_tensors(), own, generators, fit.history)

    return make_state
