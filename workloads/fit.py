"""Mask fitting: learn which frozen weights a target function needs (paper section 3).

Per step: sample a batch of B examples of the target function, split it into K equal
slices, sample K binary masks (one per slice), run the frozen network with each mask on
its slice, and minimise task loss + beta * sum(logits) / B with Adam on the logits only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from torch import nn

from workloads.data.base import (
    Task,
    check_target,
    model_device,
    one_batch,
    sample_batch,
    slice_batch,
    task_generators,
    to_device,
)
from workloads.mask_kernels import AUTO_MIN_STEPS, FusedKernels, kernels_for
from workloads.mask_noise import noise_generator
from workloads.masking import (
    MaskedCopies,
    Params,
    call_with,
    final_mask,
    initial_logits,
    maskable_parameter_names,
    sample_masked_weights,
)
from workloads.resume import (
    Checkpointer,
    Generators,
    GlobalGenerator,
    LoopState,
    check_finite,
    checkpoint_step,
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


@dataclass
class FitOutcome:
    logits: Params
    history: list[dict[str, float]] = field(default_factory=list)


def freeze(model: nn.Module) -> nn.Module:
    """Eval mode (dropout off, BatchNorm on running statistics) and no weight gradients."""
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    return model


def masked_step_loss(
    model: nn.Module,
    frozen: Params,
    masked: MaskedCopies,
    task: Task,
    batch: dict[str, torch.Tensor],
    samples: int,
    vectorize: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean task loss and per-example correctness with masked weights k on batch slice k.

    `masked` holds, per masked tensor, its K masked copies (`sample_masked_weights`); the
    other parameters come from `frozen`.

    With `vectorize`, the K samples run as one `torch.func.vmap` call (batched matmuls: what
    a GPU wants) where the model and task allow it; otherwise, and on CPU where a loop of
    K calls measured faster (docs/performance.md), as a loop. Both give the same numbers. The K slices
    are one batch to the task: a per-batch choice (teacher forcing) is made once.
    """
    with one_batch(task):  # the K slices are one batch: one teacher-forcing coin
        if vectorize and _VMAP_FAILED.get(type(model)) is not True:
            try:
                result = _vmapped_samples(model, frozen, masked, task, batch, samples)
                _VMAP_FAILED[type(model)] = False
                return result
            except (RuntimeError, NotImplementedError, ValueError):
                if _VMAP_FAILED.get(type(model)) is False:
                    raise  # it worked before: a real error, not a missing batching rule
                _VMAP_FAILED[type(model)] = True
        return _looped_samples(model, frozen, masked, task, batch, samples)


_VMAP_FAILED: dict[type, bool] = {}


def _vmapped_samples(model, frozen, masked, task, batch, samples):
    size = next(iter(batch.values())).shape[0] // samples
    sliced = {key: value.reshape(samples, size, *value.shape[1:]) for key, value in batch.items()}
    fixed = {name: p for name, p in frozen.items() if name not in masked}
    stacked = {name: torch.stack(copies) for name, copies in masked.items()}  # [K, *shape]

    def one_sample(masked_params, batch_slice):
        result = task.step(call_with(model, {**fixed, **masked_params}), batch_slice, train=True)
        return result.loss, result.correct

    losses, correct = torch.func.vmap(one_sample, randomness="different")(stacked, sliced)
    return losses.mean(), correct.reshape(-1)


def _looped_samples(model, frozen, masked, task, batch, samples):
    size = next(iter(batch.values())).shape[0] // samples
    losses, correct = [], []
    for k in range(samples):
        params = dict(frozen)
        for name, copies in masked.items():
            params[name] = copies[k]
        result = task.step(
            call_with(model, params), slice_batch(batch, k * size, (k + 1) * size), train=True
        )
        losses.append(result.loss)
        correct.append(result.correct)
    return torch.stack(losses).mean(), torch.cat(correct)


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
) -> FitOutcome:
    """Fit one mask for `target` on the frozen `model`; the model is left unchanged.

    `fixed_logits` (another mask's logits for some tensors) are not trained: their final
    mask is applied throughout and they are returned unchanged with the fitted ones.
    `data_seed` sets the data order (default: `seed`); the mask noise comes from `seed`,
    `target` and `data_seed` together (`mask_noise.noise_generator`).
    `resume_from` continues a fit from a `checkpointer` snapshot: the result is the same as
    that of a fit that never stopped.
    """
    check_target(task, target)
    freeze(model)
    device = model_device(model)
    fixed_logits = fixed_logits or {}
    generator = torch.Generator().manual_seed(seed if data_seed is None else data_seed)
    mask_generator = noise_generator(seed, target, data_seed, device)
    examples = task.train_examples(target)
    all_names = maskable_parameter_names(model, config.mask_biases)
    names = [name for name in all_names if name not in fixed_logits]
    logits = initial_logits(model, names, config.initial_logit)
    frozen = frozen_parameters(model, fixed_logits, config.clip_includes_frozen_gradients)
    vectorize = device.type == "cuda"
    kernels = kernels_for(config.fused_kernels, config.steps)
    optimizer = logit_optimizer(list(logits.values()), config.learning_rate)
    outcome = FitOutcome(logits=logits)
    generators: Generators = {
        "data": generator,
        "mask": mask_generator,
        "global": GlobalGenerator(),
        **task_generators(task),
    }
    first_step = 1
    if resume_from is not None:
        restore(resume_from, loop_tensors(logits, frozen), optimizer, generators)
        outcome.history = list(resume_from.history)
        first_step = resume_from.step + 1
    for step in range(first_step, config.steps + 1):
        batch = to_device(sample_batch(examples, config.batch_size, generator), device)
        masked = sample_masked_weights(
            logits, frozen, config.mask_samples_per_step, mask_generator, kernels
        )
        task_loss, correct = masked_step_loss(
            model, frozen, masked, task, batch, config.mask_samples_per_step, vectorize
        )
        regularization = sum(logit.sum() for logit in logits.values()) / config.batch_size
        loss = task_loss + config.regularization_weight * regularization
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip_gradients(logits, frozen, config.grad_clip)
        optimizer.step()
        if step % config.log_every == 0 or step == config.steps:
            check_finite(loss, step)
            point = fit_metrics(step, task_loss, loss, correct, logits)
            outcome.history.append(point)
            if on_metrics is not None:
                on_metrics(step, point)
        if on_step is not None:
            on_step(step)
        checkpoint_step(
            checkpointer,
            step,
            config.steps,
            lambda at: snapshot(
                at, loop_tensors(logits, frozen), optimizer, generators, outcome.history
            ),
        )
    fitted = {**{name: logit.detach() for name, logit in logits.items()}, **fixed_logits}
    outcome.logits = {name: fitted[name] for name in all_names}
    return outcome


def frozen_parameters(
    model: nn.Module, fixed_logits: Params | None = None, track_gradients: bool = False
) -> Params:
    """The network's parameters as the masked calls read them, `fixed_logits`' masks applied.

    With `track_gradients` (`clip_includes_frozen_gradients`) each is a leaf whose gradient
    starts at zero and is never zeroed: it sums every step's gradient, as the official
    code's weights do. The tensors share the model's storage; the model is left unchanged.
    """
    frozen = {name: p.detach() for name, p in model.named_parameters()}
    for name, keep in final_mask(fixed_logits or {}).items():
        frozen[name] = frozen[name] * keep.to(device=frozen[name].device, dtype=frozen[name].dtype)
    if track_gradients:
        for tensor in frozen.values():
            tensor.requires_grad_()
            tensor.grad = torch.zeros_like(tensor)
    return frozen


def clip_gradients(logits: Params, frozen: Params, grad_clip: float | None) -> None:
    """Clip the logits' gradient to global norm `grad_clip`. Frozen tensors that track their
    gradient count in the norm and are scaled with the logits, as the official code's clip
    over all parameters does (`clip_includes_frozen_gradients`)."""
    if grad_clip is None:
        return
    tracked = [tensor for tensor in frozen.values() if tensor.requires_grad]
    torch.nn.utils.clip_grad_norm_([*logits.values(), *tracked], grad_clip)


def loop_tensors(logits: Params, frozen: Params) -> Params:
    """What a checkpoint of the fit holds besides the optimizer: the logits and, when the
    frozen gradients accumulate, their sums so far (a resumed fit goes on from them)."""
    sums = {
        f"frozen_gradient/{n}": t.grad
        for n, t in frozen.items()
        if t.requires_grad and t.grad is not None  # starts at zero: never None
    }
    return {**logits, **sums}


def logit_optimizer(logits: list[torch.Tensor], learning_rate: float) -> torch.optim.Adam:
    """Adam over mask logits: torch's fused kernel where the device has one (measured 3.5x
    faster than the default for the 4x800 FNN's 2M logits on CPU, docs/performance.md), the
    default otherwise.
    Adam is elementwise, so one optimizer over many fits' logits steps each fit as its own."""
    try:
        return torch.optim.Adam(logits, lr=learning_rate, fused=True)
    except RuntimeError:
        return torch.optim.Adam(logits, lr=learning_rate)


def fit_metrics(
    step: int, task_loss: torch.Tensor, loss: torch.Tensor, correct: torch.Tensor, logits: Params
) -> dict[str, float]:
    kept = sum(int(keep.sum()) for keep in final_mask(logits).values())
    total = sum(logit.numel() for logit in logits.values())
    return {
        "step": float(step),
        "loss": float(loss.detach()),
        "task_loss": float(task_loss.detach()),
        "batch_accuracy": float(correct.float().mean()),
        "kept_fraction": kept / total,
    }
