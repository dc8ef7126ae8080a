"""Two rules on one network: each example asks for one of two functions of 8 bits.

Inputs: 8 random bits (as +-1) plus a one-hot of the rule asked (2). Rule "first_pair"
answers x0 AND x1, rule "last_pair" answers x6 XOR x7; two classes. Target functions:
"all" (both rules, the control), "first_pair", "last_pair".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from workloads.data.base import Examples, ModelCall, StepResult, check_target

RULES = ("first_pair", "last_pair")


def examples(size: int, generator: torch.Generator) -> Examples:
    bits = torch.randint(0, 2, (size, 8), generator=generator)
    rule = torch.randint(0, 2, (size,), generator=generator)
    answer = torch.where(rule == 0, bits[:, 0] & bits[:, 1], bits[:, 6] ^ bits[:, 7])
    inputs = torch.cat([bits.float() * 2 - 1, F.one_hot(rule, 2).float()], dim=1)  # [size, 10]
    return {"inputs": inputs, "rule": rule, "label": answer}


def only(data: Examples, rule: int) -> Examples:
    keep = data["rule"] == rule
    return {key: value[keep] for key, value in data.items()}


class TwoRulesTask:
    """Implements the Task interface of workloads/data/base.py."""

    target_functions = ("all", *RULES)
    shape = {"input_size": 10, "output_size": 2}

    def __init__(self, train_size: int = 4000, test_size: int = 1000, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self._train = examples(train_size, generator)
        self._test = examples(test_size, generator)

    def _subset(self, data: Examples, target: str) -> Examples:
        check_target(self, target)
        return data if target == "all" else only(data, RULES.index(target))

    def train_examples(self, target: str) -> Examples:
        return self._subset(self._train, target)

    def eval_examples(self, target: str) -> Examples:
        return self._subset(self._test, target)

    def step(self, call: ModelCall, batch: Examples, train: bool) -> StepResult:
        logits = call(batch["inputs"])  # [batch, 2]
        loss = F.cross_entropy(logits, batch["label"])
        return StepResult(loss=loss, correct=logits.argmax(dim=1) == batch["label"])


def make_task(train_size: int = 4000, test_size: int = 1000, seed: int = 0) -> TwoRulesTask:
    return TwoRulesTask(train_size, test_size, seed)
