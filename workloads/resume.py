"""Resumable training loops: a loop's whole state as plain tensors, saved through a callback.

A loop (base training, a mask fit) takes an optional `LoopState` to start from and a
`Checkpointer` that decides when to hand a snapshot out; what happens to the snapshot (a
file, an object store) is the caller's business. Restoring a snapshot restores parameters,
optimizer moments, the step and every random generator, so a resumed loop computes the
same numbers, bit for bit on CPU, as one that never stopped.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch


class NonFiniteLoss(ArithmeticError):
    """The loss became NaN or infinite: the run diverged and its results would be garbage."""


class LoopInterrupted(Exception):
    """The loop saved its state and stopped because it was asked to (SIGTERM, cancel)."""

    def __init__(self, step: int) -> None:
        super().__init__(f"stopped after step {step}; its checkpoint resumes it")
        self.step = step


class GlobalGenerator:
    """torch's global CPU generator behind the get_state/set_state of a torch.Generator.

    Dropout draws from it, so a resumed training run must restore it too.
    """

    def get_state(self) -> torch.Tensor:
        return torch.get_rng_state()

    def set_state(self, state: torch.Tensor) -> None:
        torch.set_rng_state(state)


Generators = dict[str, "torch.Generator | GlobalGenerator"]


@dataclass
class LoopState:
    """Everything a loop needs to continue exactly where it stopped."""

    step: int
    parameters: dict[str, torch.Tensor]  # model weights (train) or mask logits (fit)
    optimizer: dict[str, Any]  # torch optimizer state_dict()
    generators: dict[str, torch.Tensor]  # name -> generator.get_state()
    history: list[dict[str, float]] = field(default_factory=list)


@dataclass
class Checkpointer:
    """When to snapshot (every `every` steps, and when `should_stop` says so) and where to."""

    every: int
    save: Callable[[LoopState], None]
    should_stop: Callable[[], bool] = lambda: False


def snapshot(
    step: int,
    parameters: dict[str, torch.Tensor],
    optimizer_state: dict[str, Any],
    generators: Generators,
    history: list[dict[str, float]],
) -> LoopState:
    """A copy of the loop's state that later steps cannot change; `optimizer_state` is
    an optimizer's `state_dict()` (or one fit's part of it, `fit.py`)."""
    return LoopState(
        step=step,
        parameters={name: t.detach().clone() for name, t in parameters.items()},
        optimizer=copy.deepcopy(optimizer_state),
        generators={name: g.get_state() for name, g in generators.items()},
        history=[dict(point) for point in history],
    )


def restore(state: LoopState, parameters: dict[str, torch.Tensor], generators: Generators) -> None:
    """Load `state` into live parameters and generators (in place); the caller loads
    `state.optimizer` into its optimizer (a batch of fits merges theirs into one)."""
    missing = set(parameters) ^ set(state.parameters)
    if missing:
        raise ValueError(f"checkpoint does not match the model: parameters {sorted(missing)}")
    with torch.no_grad():
        for name, tensor in parameters.items():
            tensor.copy_(state.parameters[name])
    for name, generator in generators.items():
        generator.set_state(state.generators[name])


def checkpoint_step(
    checkpointer: Checkpointer | None,
    step: int,
    last_step: int,
    make_state: Callable[[int], LoopState],
) -> None:
    """Save on schedule; on a stop request save and raise `LoopInterrupted`."""
    checkpoint_steps([(checkpointer, make_state)], step, last_step)


def checkpoint_steps(
    savers: Sequence[tuple[Checkpointer | None, Callable[[int], LoopState]]],
    step: int,
    last_step: int,
) -> None:
    """`checkpoint_step` for loops stepped together (a batch of fits): each saves on its own
    schedule; a stop request from any saves every one, then raises `LoopInterrupted`."""
    active = [(checkpointer, make) for checkpointer, make in savers if checkpointer is not None]
    stop = step < last_step and any(checkpointer.should_stop() for checkpointer, _ in active)
    for checkpointer, make_state in active:
        if stop or step % checkpointer.every == 0:
            checkpointer.save(make_state(step))
    if stop:
        raise LoopInterrupted(step)


def optimizer_part(state: dict[str, Any], start: int, count: int) -> dict[str, Any]:
    """Parameters start..start+count-1 of an optimizer's `state_dict`, numbered from 0: for
    loops that share one optimizer (a batch of fits), the state_dict each would have alone."""
    return {
        "state": {i - start: s for i, s in state["state"].items() if start <= i < start + count},
        "param_groups": [
            {**group, "params": list(range(count))} for group in state["param_groups"]
        ],
    }


def joined_optimizer_state(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The inverse of `optimizer_part`: the loops' optimizer states as one, in order."""
    state, start = {}, 0
    for part in parts:
        (group,) = part["param_groups"]
        state.update({start + int(i): s for i, s in part["state"].items()})
        start += len(group["params"])
    return {
        "state": state,
        "param_groups": [{**parts[0]["param_groups"][0], "params": list(range(start))}],
    }


def check_finite(loss: torch.Tensor, step: int) -> None:
    if not torch.isfinite(loss.detach()).all():
        raise NonFiniteLoss(
            f"loss is {float(loss.detach())} at step {step}: training diverged; "
            "lower learning_rate or set grad_clip"
        )
