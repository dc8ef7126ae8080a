"""The add/mul data set: exact labels, target subsets, encoding."""

from __future__ import annotations

import torch

from workloads.data.addmul import AddMulConfig, digits, encode, generate


def test_labels_are_the_two_digit_result_least_significant_first():
    data = generate(500, seed=3)
    ops = data["operands"]
    a = ops[:, 0] + 10 * ops[:, 1]
    b = ops[:, 2] + 10 * ops[:, 3]
    expected = torch.where(ops[:, 4] == 0, (a + b) % 100, (a * b) % 100)
    assert torch.equal(data["answer"][:, 0] + 10 * data["answer"][:, 1], expected)
    assert digits(torch.tensor([47]))[0].tolist() == [7, 4]


def test_known_sample_is_encoded_as_42_one_hot_features():
    operands = torch.tensor([[3, 2, 9, 0, 1]])  # 23 * 9, mul
    features = encode(operands)[0]
    assert features.shape == (42,) and features.sum() == 5
    assert (
        features[3] == 1 and features[10 + 2] == 1 and features[20 + 9] == 1 and features[30] == 1
    )
    assert features[41] == 1


def test_target_functions_are_op_filtered_subsets():
    task = AddMulConfig(train_size=1000, validation_size=400).build()
    assert task.target_functions == ("all", "add", "mul")
    add, mul = task.train_examples("add"), task.train_examples("mul")
    assert (add["operands"][:, 4] == 0).all() and (mul["operands"][:, 4] == 1).all()
    assert len(add["operands"]) + len(mul["operands"]) == 1000
    assert len(task.eval_examples("all")["operands"]) == 400


def test_data_is_fixed_by_its_seed():
    assert torch.equal(generate(50, 1)["operands"], generate(50, 1)["operands"])
    assert not torch.equal(generate(50, 1)["operands"], generate(50, 2)["operands"])
