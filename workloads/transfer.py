"""Transfer between tasks learned in sequence (paper E7, permuted MNIST).

One FNN learns the tasks one after another. Task p trains the weights and its own mask
jointly (Adam on both, K mask samples per step, loss = task loss + beta * sum(l) / B):
- weights kept by an earlier task's final mask are frozen (their gradient is zeroed, so
  with a fresh Adam they stay bit-identical); every other weight is re-initialised;
- the first layer is re-initialised for every task and never counts as shared: a new
  pixel permutation needs new input weights;
- mask logits start at `reused_logit` on weights an earlier mask kept and at
  `fresh_logit` on all others (first layer included). A lower `fresh_logit` makes fresh
  weights start closer to removed, so the mask prefers the old ones (paper: 2, 0, -1).
Transfer sharing of task p in layer j is #(M_p,j and union of M_q,j over q < p) / #M_p,j.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

from workloads.data.base import Task, sample_batch, to_device
from workloads.evaluate import evaluate
from workloads.mask_step import MaskedFit, VmapProbe, fit_metrics, mask_step
from workloads.masking import Masks, Params, final_mask, maskable_parameter_names
from workloads.masking.kernels import EAGER
from workloads.models.fnn import build_feedforward
from workloads.train import MetricsCallback


class TransferConfig(BaseModel):
    """The sequence protocol; defaults are the paper's E7 values."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    hidden_sizes: list[int] = Field(
        default_factory=lambda: [800, 800, 64], min_length=1, description="784-800-800-64-10"
    )
    tasks: int | None = Field(None, gt=0, description="first tasks to learn; null = all of them")
    steps_per_task: int = Field(30_000, gt=0)
    batch_size: int = Field(128, gt=0)
    learning_rate: float = Field(1e-2, gt=0, description="Adam, weights and logits together")
    regularization_weight: float = Field(1.28e-3, ge=0, description="beta: loss += beta*sum(l)/B")
    mask_samples_per_step: int = Field(8, gt=0, description="K, each on its own batch slice")
    reused_logit: float = Field(2.0, description="initial logit of weights earlier masks kept")
    fresh_logit: float = Field(
        2.0, description="initial logit of fresh weights (paper: 2; 0 prefer old; -1 even more)"
    )
    grad_clip: float | None = Field(1.0, gt=0, description="global norm over weights and logits")
    evaluation_batch_size: int = Field(1024, gt=0)
    log_every: int = Field(100, gt=0)

    @model_validator(mode="after")
    def _slices_are_equal(self) -> TransferConfig:
        if self.batch_size % self.mask_samples_per_step:
            raise ValueError(
                f"batch_size {self.batch_size} must be a multiple of "
                f"mask_samples_per_step {self.mask_samples_per_step}"
            )
        return self


@dataclass
class TaskOutcome:
    """What learning one task leaves: its final mask, the weights then, accuracy, history."""

    target: str
    mask: Masks
    weights: Params
    accuracy: float
    history: list[dict[str, float]] = field(default_factory=list)


def first_layer_names(names: Sequence[str]) -> set[str]:
    """The masked tensors of the first module (its weight and bias)."""
    module = names[0].rsplit(".", 1)[0]
    return {name for name in names if name.rsplit(".", 1)[0] == module}


def used_before(
    masks: Sequence[Masks], template: Mapping[str, torch.Tensor], never_shared: set[str]
) -> Masks:
    """Union of the earlier final masks, shaped like `template`; never-shared tensors False."""
    union = {name: torch.zeros_like(p, dtype=torch.bool) for name, p in template.items()}
    for mask in masks:
        for name in union.keys() - never_shared:
            union[name] |= mask[name]
    return union


def initial_transfer_logits(used: Masks, reused_logit: float, fresh_logit: float) -> Params:
    """`reused_logit` where an earlier mask kept the weight, `fresh_logit` elsewhere."""
    return {
        name: torch.where(was_used, reused_logit, fresh_logit).float().requires_grad_()
        for name, was_used in used.items()
    }


def transfer_sharing(
    masks: Sequence[Mapping[str, torch.Tensor]], never_shared: AbstractSet[str] = frozenset()
) -> list[dict[str, tuple[int, int]]]:
    """Per task p and masked tensor j: (#(M_p,j and union of M_q,j, q < p), #M_p,j).

    Tensors in `never_shared` (the re-initialised first layer) share nothing by definition.
    """
    result = []
    union: dict[str, torch.Tensor] = {}
    for mask in masks:
        counts = {}
        for name, keep in mask.items():
            earlier = union.get(name, torch.zeros_like(keep))
            shared = 0 if name in never_shared else int((keep & earlier).sum())
            counts[name] = (shared, int(keep.sum()))
            union[name] = earlier | keep
        result.append(counts)
    return result


def learn_in_sequence(
    task: Task,
    config: TransferConfig,
    seed: int,
    device: torch.device | str = "cpu",
    on_metrics: MetricsCallback | None = None,
) -> list[TaskOutcome]:
    """Learn the task's target functions in order; one final mask per task."""
    targets = task.target_functions[: config.tasks or len(task.target_functions)]
    torch.manual_seed(seed)
    model = _network(task, config).to(device)
    names = maskable_parameter_names(model, mask_biases=True)
    never_shared = first_layer_names(names)
    template = {name: p for name, p in model.named_parameters() if name in names}
    generator = torch.Generator().manual_seed(seed)
    mask_generator = torch.Generator(device=device).manual_seed(seed + 1)
    outcomes: list[TaskOutcome] = []
    for index, target in enumerate(targets):
        used = used_before([o.mask for o in outcomes], template, never_shared)
        if index > 0:
            torch.manual_seed(seed + index)
            _reinitialise_unused(model, _network(task, config).to(device), used)
        logits = initial_transfer_logits(used, config.reused_logit, config.fresh_logit)
        history = _learn_task(
            model, task, target, config, logits, used, generator, mask_generator, on_metrics, index
        )
        mask = final_mask(logits)
        accuracy = evaluate(
            model, task, target, mask, batch_size=config.evaluation_batch_size
        ).accuracy
        weights = {name: p.detach().clone() for name, p in model.named_parameters()}
        outcomes.append(TaskOutcome(target, mask, weights, accuracy, history))
    return outcomes


def _network(task: Task, config: TransferConfig) -> nn.Module:
    return build_feedforward(
        task.shape["input_size"], config.hidden_sizes, task.shape["output_size"]
    )


@torch.no_grad()
def _reinitialise_unused(model: nn.Module, fresh: nn.Module, used: Masks) -> None:
    fresh_params = dict(fresh.named_parameters())
    for name, param in model.named_parameters():
        param.copy_(torch.where(used[name], param, fresh_params[name]))


def _learn_task(
    model: nn.Module,
    task: Task,
    target: str,
    config: TransferConfig,
    logits: dict[str, torch.Tensor],
    used: Masks,
    generator: torch.Generator,
    mask_generator: torch.Generator,
    on_metrics: MetricsCallback | None,
    index: int,
) -> list[dict[str, float]]:
    """Adam on weights and logits together; the gradient of used weights is zeroed."""
    model.eval()  # no dropout or BatchNorm here; eval keeps the masked call deterministic
    weights: Params = dict(model.named_parameters())
    for param in weights.values():
        param.requires_grad_(True)
    trained = [*weights.values(), *logits.values()]
    optimizer = torch.optim.Adam(trained, lr=config.learning_rate)
    examples = task.train_examples(target)
    device = next(model.parameters()).device
    fit = MaskedFit(logits, weights, mask_generator, config.regularization_weight)
    history = []
    for step in range(1, config.steps_per_task + 1):
        batch = to_device(sample_batch(examples, config.batch_size, generator), device)
        (losses,) = mask_step(
            model, task, [fit], [batch], config.mask_samples_per_step, EAGER, VmapProbe(False)
        )
        optimizer.zero_grad(set_to_none=False)
        losses.loss.backward()
        for name, param in weights.items():
            grad = param.grad  # set: zero_grad(set_to_none=False) keeps it a tensor
            assert grad is not None
            grad.masked_fill_(used[name], 0.0)  # frozen: kept by an earlier mask
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(trained, config.grad_clip)
        optimizer.step()
        if step % config.log_every == 0 or step == config.steps_per_task:
            point = {**fit_metrics(step, losses, logits), "task": float(index)}
            history.append(point)
            if on_metrics is not None:
                on_metrics(index * config.steps_per_task + step, point)
    for param in weights.values():
        param.requires_grad_(False)
    return history
