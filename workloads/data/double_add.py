"""Double addition (paper E2): the P_reuse experiment.

Two pairs (a, b) and (c, d), each number uniform in 0..99; the answers are (a+b) mod 100
and (c+d) mod 100, two digits each, least significant first. Inputs: one-hot per digit,
pair 1's 40 features then pair 2's (80); outputs: pair 1's 2 x 10 logits then pair 2's
(40). Target functions: "all" (control: both pairs), "pair1", "pair2". A target scores
only its pairs' output digits (loss and exact-match accuracy), and the inputs of the
pairs outside it are zeroed. Examples carry `pair_in_target` [n, 2] so that `step` knows.

How a model sees the pairs is the config's `mode`, matched to the model in the spec:
- "fnn_per_pair" (FNN): one `[batch, 80]` pass per scored pair with the other pair's input
  zeroed; pair k's answer is read from pair k's output slot.
- "together" (LSTM, main): all inputs at every one of 2 * `steps_per_pair` steps, passed
  as `[batch, steps, 80]`; both answers are read at the last step.
- "only_one_io" (LSTM): pair t's input only during its own `steps_per_pair` steps (zeros
  otherwise); pair t's answer is read from its slot at the last of those steps.
Sequence modes expect `[batch, steps, 40]` back (one output per step), as
`workloads.models.lstm` gives for a 3-d input.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from workloads.data.addmul import digits
from workloads.data.base import Examples, ModelCall, StepResult, TaskConfig, check_target

PAIRS = ("pair1", "pair2")
FEATURES_PER_PAIR = 40  # 4 digits x 10
LOGITS_PER_PAIR = 20  # 2 digits x 10
Mode = Literal["fnn_per_pair", "together", "only_one_io"]


class DoubleAddConfig(TaskConfig):
    name: Literal["double_add"] = "double_add"
    train_size: int = Field(1_000_000, gt=0, description="training samples (paper: 1M)")
    validation_size: int = Field(10_000, gt=0, description="validation samples (paper: 10k)")
    data_seed: int = Field(0, description="fixed generator seed of the data, shared by all runs")
    mode: Mode = Field(
        "fnn_per_pair",
        description="how the model sees the pairs: fnn_per_pair (FNN), together or "
        "only_one_io (LSTM); see the module docstring",
    )
    steps_per_pair: int = Field(3, gt=0, description="sequence modes: steps per pair (paper: 3)")

    def target_functions(self) -> tuple[str, ...]:
        return ("all", *PAIRS)

    def build(self) -> DoubleAddTask:
        return DoubleAddTask(self)


def generate(size: int, seed: int) -> Examples:
    """`operands`: [n, 8] digits of a, b, c, d; `answer`: [n, 4] digits of both sums."""
    generator = torch.Generator().manual_seed(seed)
    numbers = torch.randint(0, 100, (size, 4), generator=generator)  # a, b, c, d
    sums = (numbers[:, 0::2] + numbers[:, 1::2]) % 100  # [n, 2]
    return {
        "operands": digits(numbers.flatten()).reshape(size, 8).to(torch.int64),
        "answer": digits(sums.flatten()).reshape(size, 4).to(torch.int64),
    }


def encode(operands: torch.Tensor, pair_inputs: torch.Tensor) -> torch.Tensor:
    """[n, 8] digits and [n, 2] bool (which pairs' inputs to keep) -> [n, 80] features."""
    one_hot = F.one_hot(operands, 10).view(-1, 2, FEATURES_PER_PAIR)  # [n, pair, 40]
    return (one_hot * pair_inputs[:, :, None]).flatten(1).float()


class DoubleAddTask:
    shape = {"input_size": 2 * FEATURES_PER_PAIR, "output_size": 2 * LOGITS_PER_PAIR}

    def __init__(self, config: DoubleAddConfig) -> None:
        self.config = config
        self.target_functions = config.target_functions()
        self._train = generate(config.train_size, config.data_seed)
        self._validation = generate(config.validation_size, config.data_seed + 1)

    def _with_target(self, examples: Examples, target: str) -> Examples:
        check_target(self, target)
        in_target = torch.tensor([target in ("all", pair) for pair in PAIRS])
        size = examples["operands"].shape[0]
        return {**examples, "pair_in_target": in_target.expand(size, 2)}

    def train_examples(self, target: str) -> Examples:
        return self._with_target(self._train, target)

    def eval_examples(self, target: str) -> Examples:
        return self._with_target(self._validation, target)

    def step(self, call: ModelCall, batch: Examples, train: bool) -> StepResult:
        in_target = batch["pair_in_target"]  # [batch, pair]
        answer = batch["answer"].view(-1, 2, 2)  # [batch, pair, digit]
        logits = self.pair_logits(call, batch["operands"], in_target)
        losses = F.cross_entropy(
            logits.reshape(-1, 10), answer.reshape(-1), reduction="none"
        ).view_as(answer)
        scored = in_target[:, :, None].expand_as(answer)  # [batch, pair, digit]
        # mean over the scored digits, without boolean indexing (keeps shapes static)
        loss = (losses * scored).sum() / scored.sum()
        correct = ((logits.argmax(-1) == answer) | ~scored).flatten(1).all(dim=1)
        return StepResult(loss=loss, correct=correct)

    def pair_logits(
        self, call: ModelCall, operands: torch.Tensor, in_target: torch.Tensor
    ) -> torch.Tensor:
        """Each pair's answer logits as the mode reads them: [batch, pair, digit, class].

        In "fnn_per_pair" a pair no example scores is not run; its logits are zeros.
        """
        batch = operands.shape[0]
        steps = self.config.steps_per_pair
        if self.config.mode == "fnn_per_pair":
            per_pair = []
            for pair in range(2):
                only_this_pair = torch.zeros_like(in_target)
                only_this_pair[:, pair] = True
                if bool(in_target[:, pair].any()):
                    outputs = call(encode(operands, only_this_pair))  # [batch, 40]
                    per_pair.append(outputs.view(batch, 2, 2, 10)[:, pair])
                else:
                    per_pair.append(torch.zeros(batch, 2, 10, device=operands.device))
            return torch.stack(per_pair, dim=1)
        features = encode(operands, in_target)  # [batch, 80]
        if self.config.mode == "together":
            sequence = features[:, None].expand(-1, 2 * steps, -1)  # [batch, steps, 80]
            return call(sequence)[:, -1].view(batch, 2, 2, 10)
        # only_one_io: block t of the sequence holds pair t's features only.
        pair_features = features.view(batch, 1, 2, FEATURES_PER_PAIR)  # [batch, 1, pair, 40]
        own_pair = torch.eye(2, device=features.device)[None, :, :, None]  # [1, block, pair, 1]
        blocks = (pair_features * own_pair)[:, :, None].expand(-1, -1, steps, -1, -1)
        outputs = call(blocks.reshape(batch, 2 * steps, 2 * FEATURES_PER_PAIR))
        outputs = outputs.view(batch, 2 * steps, 2, 2, 10)  # [batch, step, pair, digit, class]
        return torch.stack([outputs[:, (pair + 1) * steps - 1, pair] for pair in range(2)], dim=1)


@torch.no_grad()
def copy_pair_weights(model: nn.Module) -> None:
    """The E2 copyweight control: make pair 1's I/O weights a copy of pair 2's, in place.

    Applied to a trained FNN before masking, so that one set of hidden weights can serve
    both pairs and a perfect-reuse solution exists: pair 1's input columns of the first
    layer and pair 1's output rows (weight and bias) of the last layer are overwritten
    with pair 2's.
    """
    linears = [module for module in model.children() if isinstance(module, nn.Linear)]
    if len(linears) < 2:
        raise ValueError(f"copy_pair_weights needs an FNN of >= 2 Linear layers, got {model}")
    first, last = linears[0], linears[-1]
    if first.in_features % 2 or last.out_features % 2:
        raise ValueError(
            f"copy_pair_weights needs even input and output sizes (two pairs), got "
            f"{first.in_features} inputs, {last.out_features} outputs"
        )
    inputs, outputs = first.in_features // 2, last.out_features // 2
    first.weight[:, :inputs] = first.weight[:, inputs:]
    last.weight[:outputs] = last.weight[outputs:]
    if last.bias is not None:
        last.bias[:outputs] = last.bias[outputs:]
