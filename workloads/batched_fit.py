"""Many mask fits on one frozen model in one process (docs/performance.md, "Many fits per device").

Fits that share a base model (target functions x mask seeds x regularization weights) step
in lockstep. Each fit keeps what `fit_mask` gives it: its own data generator (`seed`), mask
noise generator (`mask_noise.noise_generator`: seed, target, data-order seed), logits, Adam
state and gradient clipping over its own logits, so fit m ends where `fit_mask` with the
same target, config and seed ends.

Two ways to run a step, the same numbers up to float summation order:
- looped (`vectorize=False`): fit by fit, as `fit_mask` computes it; masks and logits
  equal those of separate `fit_mask` runs exactly (torch.equal, tested on CPU).
- vectorized (`vectorize=True`, the default on CUDA): the M fits' logits are stacked into
  [M, *shape] and the network runs under `torch.func.vmap` over fits (and over the K mask
  samples inside): batched matmuls, which is where a GPU's throughput comes from. Batched
  matmuls may sum in another order, so logits agree with separate fits to about 1e-5.
`default_fits_per_job` says when one batched process beats parallel processes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from workloads.data.base import (
    Task,
    check_target,
    model_device,
    one_batch,
    sample_batch,
    to_device,
)
from workloads.fit import (
    FitOutcome,
    MaskFitConfig,
    clip_gradients,
    fit_metrics,
    freeze,
    frozen_parameters,
    logit_optimizer,
    masked_step_loss,
)
from workloads.mask_kernels import kernels_for
from workloads.mask_noise import draw_keys, noise_generator
from workloads.masking import (
    initial_logits,
    maskable_parameter_names,
    masked_weights,
    sample_masked_weights,
)
from workloads.resume import check_finite

# Fields that may differ between fits of one batch: everything else shapes the lockstep.
PER_FIT_FIELDS = frozenset({"target_functions", "regularization_weight", "log_every"})


@dataclass(frozen=True)
class FitRequest:
    """One mask fit of a batch: what `fit_mask(model, task, target, config, seed, ...)` takes."""

    target: str
    config: MaskFitConfig
    seed: int
    data_seed: int | None = None  # data order apart from the mask noise (E6), as in fit_mask


MetricsByFit = Callable[[int, int, dict[str, float]], None]  # (fit index, step, metrics)


def fit_masks(
    model: nn.Module,
    task: Task,
    requests: list[FitRequest],
    vectorize: bool | None = None,
    on_metrics: MetricsByFit | None = None,
    on_step: Callable[[int], None] | None = None,
) -> list[FitOutcome]:
    """Fit one mask per request on the frozen `model`, all in lockstep; one outcome each.

    `vectorize` None means: vmap over fits on CUDA, fit by fit elsewhere; always fit by fit
    with `clip_includes_frozen_gradients` (each fit sums its own frozen gradients).
    `on_step(step)` runs after every step (a stop request raises there; batched fits keep
    no checkpoint).
    """
    config = _shared_config(requests)
    for request in requests:
        check_target(task, request.target)
    freeze(model)
    device = model_device(model)
    vectorize = device.type == "cuda" if vectorize is None else vectorize
    track = config.clip_includes_frozen_gradients
    vectorize = vectorize and not track  # each fit's frozen gradients need their own pass
    names = maskable_parameter_names(model, config.mask_biases)
    frozen = [frozen_parameters(model, track_gradients=track) for _ in requests]  # per fit
    data_generators = [
        torch.Generator().manual_seed(r.seed if r.data_seed is None else r.data_seed)
        for r in requests
    ]
    noise_generators = [noise_generator(r.seed, r.target, r.data_seed, device) for r in requests]
    examples = [task.train_examples(r.target) for r in requests]
    logits = [initial_logits(model, names, config.initial_logit) for _ in requests]
    optimizer = logit_optimizer(
        [logit for fit in logits for logit in fit.values()], config.learning_rate
    )
    outcomes = [FitOutcome(logits=fit) for fit in logits]
    samples = config.mask_samples_per_step
    kernels = kernels_for(config.fused_kernels, config.steps)
    for step in range(1, config.steps + 1):
        batches = [
            to_device(sample_batch(fit_examples, config.batch_size, generator), device)
            for fit_examples, generator in zip(examples, data_generators, strict=True)
        ]
        step_inputs = (model, frozen, task, logits, batches, noise_generators, samples, kernels)
        step_losses = None
        with one_batch(task):  # one teacher-forcing coin a step, as each fit alone flips it
            if vectorize:  # the first step finds out whether the model runs under vmap
                step_losses = (_try_vectorized if step == 1 else _vectorized_losses)(*step_inputs)
                vectorize = step_losses is not None
            task_losses, correct = step_losses or _looped_losses(*step_inputs)
        losses = [
            task_loss
            + request.config.regularization_weight
            * sum(logit.sum() for logit in fit.values())
            / config.batch_size
            for task_loss, request, fit in zip(task_losses, requests, logits, strict=True)
        ]
        optimizer.zero_grad(set_to_none=True)
        torch.stack(losses).sum().backward()  # fit m's logits get fit m's gradient only
        for fit, fit_frozen in zip(logits, frozen, strict=True):
            clip_gradients(fit, fit_frozen, config.grad_clip)
        optimizer.step()
        for index, request in enumerate(requests):
            if step % request.config.log_every == 0 or step == config.steps:
                check_finite(losses[index], step)
                point = fit_metrics(
                    step, task_losses[index], losses[index], correct[index], logits[index]
                )
                outcomes[index].history.append(point)
                if on_metrics is not None:
                    on_metrics(index, step, point)
        if on_step is not None:
            on_step(step)
    for outcome in outcomes:
        outcome.logits = {name: logit.detach() for name, logit in outcome.logits.items()}
    return outcomes


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


def _try_vectorized(model, frozen, task, logits, batches, noise_generators, samples, kernels):
    """The vectorized step's losses, or None when the model cannot run under vmap
    (data-dependent control flow, `.item()`...): the noise generators are rewound so the
    looped step that follows draws what it would have drawn anyway."""
    states = [generator.get_state() for generator in noise_generators]
    try:
        return _vectorized_losses(
            model, frozen, task, logits, batches, noise_generators, samples, kernels
        )
    except (RuntimeError, NotImplementedError, ValueError) as error:
        warnings.warn(f"fits run one by one: this model does not vmap ({error})", stacklevel=3)
        for generator, state in zip(noise_generators, states, strict=True):
            generator.set_state(state)
        return None


def _looped_losses(model, frozen, task, logits, batches, noise_generators, samples, kernels):
    """Fit by fit, exactly as `fit_mask` computes one step (each fit reads its own frozen)."""
    task_losses, correct = [], []
    for fit, fit_frozen, batch, generator in zip(
        logits, frozen, batches, noise_generators, strict=True
    ):
        masked = sample_masked_weights(fit, fit_frozen, samples, generator, kernels)
        task_loss, fit_correct = masked_step_loss(
            model, fit_frozen, masked, task, batch, samples, vectorize=False
        )
        task_losses.append(task_loss)
        correct.append(fit_correct)
    return task_losses, correct


def _vectorized_losses(model, frozen, task, logits, batches, noise_generators, samples, kernels):
    """All fits as one vmap over stacked masks [M, K, *shape] and batches [M, B, ...]; the
    fits' frozen parameters are the same tensors (no fit tracks their gradients here)."""
    frozen = frozen[0]
    keys = torch.stack([draw_keys(g, len(logits[0])) for g in noise_generators])  # [M, T, 2]
    masked = {}
    for index, name in enumerate(logits[0]):
        stacked = torch.stack([fit[name] for fit in logits])  # [M, *shape]
        copies = masked_weights(stacked, frozen[name], keys[:, index], samples, kernels)
        masked[name] = torch.stack(copies, dim=1)  # [M, K, *shape]
    stacked_batches = {key: torch.stack([b[key] for b in batches]) for key in batches[0]}

    def one_fit(fit_masked: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]):
        copies = {name: list(tensor.unbind(0)) for name, tensor in fit_masked.items()}
        return masked_step_loss(model, frozen, copies, task, batch, samples, vectorize=True)

    task_losses, correct = torch.func.vmap(one_fit, randomness="different")(masked, stacked_batches)
    return list(task_losses.unbind(0)), list(correct.unbind(0))


# Measured (benchmarks/mask_speed.py, docs/performance.md): on the 2-core CPU, M fits of the
# 4x800 FNN, the LSTM or the CNN batched in one process ran 2-3x slower per fit-step than
# the same fits as one-fit processes; on a GPU, batching is what fills the device.
GPU_FITS_PER_JOB = 16


def default_fits_per_job(device_type: str) -> int:
    """How many fits of one base model one process should step together on this device."""
    return GPU_FITS_PER_JOB if device_type == "cuda" else 1


def fit_memory_mb(model_size: int, samples: int = 4) -> float:
    """Rough memory of one fit's step (float32): logits, their gradient and 2 Adam moments,
    and per mask sample the masked weights and their gradient. The noise is never stored
    (`mask_noise`); activations are left out (small next to weights at mask batch sizes)."""
    return (4 + 2 * samples) * model_size * 4 / 2**20


def fits_per_batch(model_size: int, memory_budget_mb: float, samples: int = 4) -> int:
    """How many fits of this size one process can step together within the budget (>= 1)."""
    return max(1, int(memory_budget_mb // fit_memory_mb(model_size, samples)))
