"""Confusion of a (masked) frozen classifier: rows are true classes, shares of predictions."""

from __future__ import annotations

import math

import torch
from torch import nn

from workloads.confusion import confusion, has_predictions

INPUTS = torch.eye(3)  # [example, feature]: example i is the one-hot vector of feature i
LABELS = torch.tensor([0, 1, 1])  # no example of class 2


class Classifying:
    """A three-class task whose examples are the rows of INPUTS."""

    target_functions = ("all",)
    shape = {"output_size": 3}
    class_names = ("a", "b", "c")

    def eval_examples(self, target: str) -> dict[str, torch.Tensor]:
        return {"input": INPUTS, "label": LABELS}

    def predict(self, call, batch) -> torch.Tensor:
        return call(batch["input"]).argmax(dim=-1)


def identity_classifier() -> nn.Linear:
    """Predicts class i for example i: logits = input."""
    layer = nn.Linear(3, 3, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(3))
    return layer


def test_only_tasks_that_predict_a_class_have_a_confusion():
    assert has_predictions(Classifying())
    assert not has_predictions(object())


def test_rows_are_shares_of_each_true_class_and_nan_without_samples():
    matrix = confusion(identity_classifier(), Classifying(), "all", batch_size=2)
    # example 0 (class 0) -> 0; example 1 (class 1) -> 1; example 2 (class 1) -> 2
    assert matrix[0].tolist() == [1.0, 0.0, 0.0]
    assert matrix[1].tolist() == [0.0, 0.5, 0.5]
    assert all(math.isnan(value) for value in matrix[2].tolist())


def test_a_mask_changes_the_predictions_and_leaves_the_model_unchanged():
    model = identity_classifier()
    keep_first_row_only = {"weight": torch.tensor([[1.0, 0, 0], [0, 0, 0], [0, 0, 0]])}
    matrix = confusion(model, Classifying(), "all", keep_first_row_only)
    # example 1 and 2 score zero everywhere: argmax picks class 0
    assert matrix[1].tolist() == [1.0, 0.0, 0.0]
    assert torch.equal(model.weight, torch.eye(3))
