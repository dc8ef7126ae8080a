"""The E1 op-confusion test: is a net's answer the sum, the product or neither?"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from workloads.data.addmul import AddMulConfig
from workloads.op_confusion import answer_matches, has_op_answers, op_confusion


def test_matches_are_shares_of_each_true_ops_samples_and_coinciding_answers_count_twice():
    # add: 2+2 (sum = product = 4), 3+5, 3+5; mul: 3*5, 10*10
    op = torch.tensor([0, 0, 0, 1, 1])
    sums = torch.tensor([4, 8, 8, 8, 20])
    products = torch.tensor([4, 15, 15, 15, 0])
    predicted = torch.tensor([4, 15, 99, 15, 20])
    records = answer_matches(predicted, op, sums, products)
    shares = {(r["true_op"], r["answer_matches"]): r["fraction"] for r in records}
    assert shares == pytest.approx(
        {
            ("add", "sum"): 1 / 3,  # only 2+2, which is also its product
            ("add", "product"): 2 / 3,  # 2+2 and the 3+5 answered 15
            ("add", "neither"): 1 / 3,  # the 99
            ("mul", "sum"): 1 / 2,  # 10*10 answered 20
            ("mul", "product"): 1 / 2,
            ("mul", "neither"): 0.0,
        }
    )
    assert {r["true_op"]: r["samples"] for r in records} == {"add": 3, "mul": 2}


def test_an_op_without_samples_has_no_rows():
    records = answer_matches(
        torch.tensor([1]), torch.tensor([0]), torch.tensor([1]), torch.tensor([0])
    )
    assert {r["true_op"] for r in records} == {"add"}


def test_candidates_of_a_known_sample_are_its_op_sum_and_product():
    task = AddMulConfig(train_size=32, validation_size=32).build()
    batch = {"operands": torch.tensor([[3, 2, 9, 0, 1]])}  # 23 * 9
    candidates = task.answer_candidates(batch)
    assert candidates["op"].tolist() == [1]
    assert candidates["sum"].tolist() == [32] and candidates["product"].tolist() == [7]  # 207


class Adder(nn.Module):
    """Reads a and b from the one-hot input and always answers (a + b) mod 100."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, features: torch.Tensor) -> torch.Tensor:  # [n, 42] -> [n, 20]
        d = features[:, :40].view(-1, 4, 10).argmax(-1)  # [n, 4] digits of a and b
        total = (d[:, 0] + 10 * d[:, 1] + d[:, 2] + 10 * d[:, 3]) % 100
        return self.scale * torch.cat([F.one_hot(total % 10, 10), F.one_hot(total // 10, 10)], 1)


def test_a_net_that_always_adds_answers_every_sample_with_the_sum():
    task = AddMulConfig(train_size=32, validation_size=400).build()
    assert has_op_answers(task)
    shares = {
        (r["true_op"], r["answer_matches"]): r["fraction"]
        for r in op_confusion(Adder(), task, batch_size=64)
    }
    assert shares[("add", "sum")] == 1.0 and shares[("add", "neither")] == 0.0
    assert shares[("mul", "sum")] == 1.0 and shares[("mul", "neither")] == 0.0
    # the mask removes the only weight: every logit is 0, every answer 00
    removed = op_confusion(Adder(), task, {"scale": torch.zeros((), dtype=torch.bool)})
    zero_sums = [r["fraction"] for r in removed if r["answer_matches"] == "sum"]
    assert all(share < 0.1 for share in zero_sums)
