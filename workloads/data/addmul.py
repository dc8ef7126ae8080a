"""Addition / multiplication (paper E1): the P_specialize experiment.

a, b uniform in 0..99 and an op in {add, mul}; the answer is (a op b) mod 100 as two
digits, least significant first, each a 10-way classification. Inputs are one-hot per
digit (4 x 10) plus a one-hot op (2): 42 features; outputs are 2 x 10 logits.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field

from workloads.data.base import (
    MIN_SPLIT_SIZE,
    Examples,
    ModelCall,
    StepResult,
    TaskConfig,
    check_target,
)

OPS = ("add", "mul")


class AddMulConfig(TaskConfig):
    name: Literal["addmul"] = "addmul"
    train_size: int = Field(
        1_000_000, ge=MIN_SPLIT_SIZE, description="training samples (paper: 1M)"
    )
    validation_size: int = Field(
        10_000, ge=MIN_SPLIT_SIZE, description="validation samples (paper: 10k)"
    )
    data_seed: int = Field(0, description="fixed generator seed of the data, shared by all runs")

    def target_functions(self) -> tuple[str, ...]:
        return ("all", *OPS)

    def build(self) -> AddMulTask:
        return AddMulTask(self)


def digits(numbers: torch.Tensor) -> torch.Tensor:
    """[n] in 0..99 -> [n, 2] decimal digits, least significant first."""
    return torch.stack([numbers % 10, numbers // 10], dim=1)


def number(digit_pairs: torch.Tensor) -> torch.Tensor:
    """[n, 2] digits, least significant first -> [n] numbers in 0..99 (inverse of `digits`)."""
    return digit_pairs[:, 0] + 10 * digit_pairs[:, 1]


def generate(size: int, seed: int) -> Examples:
    """`operands`: [n, 5] = digits of a, digits of b, op; `answer`: [n, 2] digits."""
    generator = torch.Generator().manual_seed(seed)
    a = torch.randint(0, 100, (size,), generator=generator)
    b = torch.randint(0, 100, (size,), generator=generator)
    op = torch.randint(0, 2, (size,), generator=generator)
    result = torch.where(op == 0, (a + b) % 100, (a * b) % 100)
    operands = torch.cat([digits(a), digits(b), op[:, None]], dim=1).to(torch.int64)
    return {"operands": operands, "answer": digits(result).to(torch.int64)}


def encode(operands: torch.Tensor) -> torch.Tensor:
    """[n, 5] digit codes -> [n, 42] one-hot features."""
    digit_part = F.one_hot(operands[:, :4], 10).flatten(1)  # [n, 40]
    op_part = F.one_hot(operands[:, 4], 2)  # [n, 2]
    return torch.cat([digit_part, op_part], dim=1).float()


class AddMulTask:
    shape = {"input_size": 42, "output_size": 20}

    def __init__(self, config: AddMulConfig) -> None:
        self.config = config
        self.target_functions = config.target_functions()
        self._train = generate(config.train_size, config.data_seed)
        self._validation = generate(config.validation_size, config.data_seed + 1)

    def _subset(self, examples: Examples, target: str) -> Examples:
        check_target(self, target)
        if target == "all":
            return examples
        keep = examples["operands"][:, 4] == OPS.index(target)
        return {key: value[keep] for key, value in examples.items()}

    def train_examples(self, target: str) -> Examples:
        return self._subset(self._train, target)

    def eval_examples(self, target: str) -> Examples:
        return self._subset(self._validation, target)

    def _logits(self, call: ModelCall, batch: Examples) -> torch.Tensor:
        return call(encode(batch["operands"])).view(-1, 2, 10)  # [batch, digit, class]

    def answer_candidates(self, batch: Examples) -> dict[str, torch.Tensor]:
        """The true op (0 = add, 1 = mul), the sum and the product mod 100: [batch] each.
        The op-confusion test (E1) asks which of the two a (masked) net's answer is."""
        operands = batch["operands"]
        a, b = number(operands[:, 0:2]), number(operands[:, 2:4])
        return {"op": operands[:, 4], "sum": (a + b) % 100, "product": (a * b) % 100}

    def predicted_answers(self, call: ModelCall, batch: Examples) -> torch.Tensor:
        """The 2-digit answer the net gives, as a number in 0..99: [batch]."""
        return number(self._logits(call, batch).argmax(-1))

    def step(self, call: ModelCall, batch: Examples, train: bool) -> StepResult:
        logits = self._logits(call, batch)
        answer = batch["answer"]
        loss = F.cross_entropy(logits.reshape(-1, 10), answer.reshape(-1))
        correct = (logits.argmax(-1) == answer).all(dim=1)
        return StepResult(loss=loss, correct=correct)
