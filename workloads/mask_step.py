"""One mask step's losses: per fit, K masked copies of the weights, each on its batch slice.

Per fit: draw the step's noise keys, make K masked copies of every masked weight
(`masking.sampling`), run the network with copy k on slice k of the fit's batch, and add
the mask regularization: loss = task loss + beta * sum(logits) / B. The fit loop
(`fit.py`, one fit or many in lockstep) and transfer learning (`transfer.py`, weights
trained with their mask) both take their losses from `mask_step`; what they do with the
gradient is theirs.

Three ways to run a step, chosen once per loop by a `VmapProbe`:
- looped: fit by fit, sample by sample (on CPU a loop of K calls measured faster than
  vmap, docs/performance.md);
- one fit, vectorized: its K samples as one `torch.func.vmap` call (batched matmuls: what
  a GPU wants);
- many fits that read the same weights, vectorized: one vmap over fits, and over samples
  inside. Batched matmuls may sum in another order, so these agree with separate fits to
  about 1e-5; the looped way equals separate fits exactly.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import torch
from torch import nn

from workloads.data.base import Examples, Task, one_batch, slice_batch
from workloads.masking import (
    MaskedCopies,
    Params,
    call_with,
    final_mask,
    masked_copies,
    masked_weights,
)
from workloads.masking.kernels import MaskKernels
from workloads.masking.noise import draw_keys

Losses = tuple[list[torch.Tensor], list[torch.Tensor]]  # per fit: task loss, correctness
T = TypeVar("T")


@dataclass
class MaskedFit:
    """What one fit brings to a step. Fits whose `weights` is the same dict may share one
    vmap; a fit with its own (frozen gradient sums, another mask's tensors applied) cannot."""

    logits: Params  # trained mask logits, one per masked tensor
    weights: Params  # every parameter as the masked calls read it
    noise: torch.Generator  # the fit's mask noise (`masking.noise.noise_generator`)
    regularization_weight: float  # beta


@dataclass
class MaskStepLoss:
    task_loss: torch.Tensor
    loss: torch.Tensor  # task loss + beta * sum(logits) / B: what the fit minimises
    correct: torch.Tensor  # [B] per-example correctness


@dataclass
class VmapProbe:
    """Whether a loop's steps run under `torch.func.vmap`, found out by the first step.

    `wanted` is the caller's wish (on CUDA, by default). A model with data-dependent Python
    (`.item()`, branches on values) fails under vmap: the first step then warns and runs
    looped, as does every later step of the loop. Once vmap has worked, a failure is a real
    error and is raised.
    """

    wanted: bool
    works: bool | None = None

    def run(self, vectorized: Callable[[], T], looped: Callable[[], T]) -> T:
        if not self.wanted or self.works is False:
            return looped()
        if self.works:
            return vectorized()
        try:
            result = vectorized()
        except (RuntimeError, NotImplementedError, ValueError) as error:
            warnings.warn(
                f"mask samples and fits run one by one: this model does not vmap ({error})",
                stacklevel=4,
            )
            self.works = False
            return looped()
        self.works = True
        return result


def mask_step(
    model: nn.Module,
    task: Task,
    fits: Sequence[MaskedFit],
    batches: Sequence[Examples],
    samples: int,
    kernels: MaskKernels,
    probe: VmapProbe,
) -> list[MaskStepLoss]:
    """Each fit's losses on its batch, its K mask samples each on an equal batch slice.

    The fits' keys are drawn once, so a vectorized try that fails and the looped step after
    it use the same noise. All fits' task calls are one batch to the task: a per-batch
    choice (teacher forcing) is made once, as each fit alone would make it.
    """
    keys = [draw_keys(fit.noise, len(fit.logits)) for fit in fits]  # [tensors, 2] per fit
    shared = all(fit.weights is fits[0].weights for fit in fits)

    def looped() -> Losses:
        task_losses, correct = [], []
        for fit, fit_keys, batch in zip(fits, keys, batches, strict=True):
            masked = masked_copies(fit.logits, fit.weights, fit_keys, samples, kernels)
            task_loss, fit_correct = masked_step_loss(
                model, fit.weights, masked, task, batch, samples, vectorize=False
            )
            task_losses.append(task_loss)
            correct.append(fit_correct)
        return task_losses, correct

    def vectorized() -> Losses:
        if len(fits) == 1:
            fit = fits[0]
            masked = masked_copies(fit.logits, fit.weights, keys[0], samples, kernels)
            task_loss, correct = masked_step_loss(
                model, fit.weights, masked, task, batches[0], samples, vectorize=True
            )
            return [task_loss], [correct]
        return _vmapped_fits(model, task, fits, batches, torch.stack(keys), samples, kernels)

    with one_batch(task):
        task_losses, correct = probe.run(vectorized, looped) if shared else looped()
    return [
        MaskStepLoss(
            task_loss,
            task_loss + fit.regularization_weight * regularization(fit.logits, batch),
            fit_correct,
        )
        for task_loss, fit_correct, fit, batch in zip(
            task_losses, correct, fits, batches, strict=True
        )
    ]


def regularization(logits: Params, batch: Examples) -> torch.Tensor:
    """sum(logits) / B: the paper's mask size penalty, per example of the batch."""
    size = next(iter(batch.values())).shape[0]
    return sum(logit.sum() for logit in logits.values()) / size  # type: ignore[return-value]


def masked_step_loss(
    model: nn.Module,
    frozen: Params,
    masked: MaskedCopies,
    task: Task,
    batch: Examples,
    samples: int,
    vectorize: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean task loss and per-example correctness with masked weights k on batch slice k.

    `masked` holds, per masked tensor, its K masked copies; the other parameters come from
    `frozen`. With `vectorize` the K samples run as one vmap call, otherwise as a loop;
    both give the same numbers up to summation order. The K slices are one batch to the
    task: a per-batch choice (teacher forcing) is made once.
    """
    with one_batch(task):
        run = _vmapped_samples if vectorize else _looped_samples
        return run(model, frozen, masked, task, batch, samples)


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


def _vmapped_fits(model, task, fits, batches, keys, samples, kernels) -> Losses:
    """All fits as one vmap over stacked masks [M, K, *shape] and batches [M, B, ...];
    `keys` is [M, tensors, 2]. The fits read the same weights."""
    weights = fits[0].weights
    masked = {}
    for index, name in enumerate(fits[0].logits):
        stacked = torch.stack([fit.logits[name] for fit in fits])  # [M, *shape]
        copies = masked_weights(stacked, weights[name], keys[:, index], samples, kernels)
        masked[name] = torch.stack(copies, dim=1)  # [M, K, *shape]
    stacked_batches = {key: torch.stack([b[key] for b in batches]) for key in batches[0]}

    def one_fit(fit_masked: dict[str, torch.Tensor], batch: Examples):
        copies = {name: list(tensor.unbind(0)) for name, tensor in fit_masked.items()}
        return _vmapped_samples(model, weights, copies, task, batch, samples)

    task_losses, correct = torch.func.vmap(one_fit, randomness="different")(masked, stacked_batches)
    return list(task_losses.unbind(0)), list(correct.unbind(0))


def freeze(model: nn.Module) -> nn.Module:
    """Eval mode (dropout off, BatchNorm on running statistics) and no weight gradients."""
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    return model


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


def logit_optimizer(logits: list[torch.Tensor], learning_rate: float) -> torch.optim.Adam:
    """Adam over mask logits: torch's fused kernel where the device has one (measured 3.5x
    faster than the default for the 4x800 FNN's 2M logits on CPU, docs/performance.md), the
    default otherwise.
    Adam is elementwise, so one optimizer over many fits' logits steps each fit as its own."""
    try:
        return torch.optim.Adam(logits, lr=learning_rate, fused=True)
    except RuntimeError:
        return torch.optim.Adam(logits, lr=learning_rate)


def fit_metrics(step: int, losses: MaskStepLoss, logits: Params) -> dict[str, float]:
    """One point of a fit's curve: losses, batch accuracy and the final mask's kept share."""
    kept = sum(int(keep.sum()) for keep in final_mask(logits).values())
    total = sum(logit.numel() for logit in logits.values())
    return {
        "step": float(step),
        "loss": float(losses.loss.detach()),
        "task_loss": float(losses.task_loss.detach()),
        "batch_accuracy": float(losses.correct.float().mean()),
        "kept_fraction": kept / total,
    }
