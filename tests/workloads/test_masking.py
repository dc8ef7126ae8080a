"""Masks: initial keep probability, straight-through gradients, finding a known module."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from workloads.data.base import StepResult
from workloads.fit import MaskFitConfig, fit_mask
from workloads.masking import (
    final_mask,
    initial_logits,
    invert,
    io_tensor_names,
    maskable_parameter_names,
    masked_parameters,
    masked_weights,
    reference_sample,
    sample_masks,
    shared_counts,
)
from workloads.masking.noise import draw_keys, mask_uniforms
from workloads.models.cnn import SimpleCnnConfig
from workloads.models.fnn import FeedforwardConfig
from workloads.models.lstm import LSTMConfig
from workloads.models.resnet import ResNetConfig
from workloads.models.seq2seq_lstm import Seq2SeqLSTMConfig
from workloads.models.transformer import TransformerConfig

SEQ2SEQ_SHAPE = dict(
    source_vocabulary_size=7,
    target_vocabulary_size=9,
    max_source_length=5,
    max_target_length=6,
)


def test_default_initial_logit_is_2_and_keeps_with_the_official_probability():
    model = nn.Linear(50, 40)
    logits = initial_logits(model, ["weight"], MaskFitConfig().initial_logit)
    masks = sample_masks(logits, 8, torch.Generator().manual_seed(0))["weight"]  # [8, 40, 50]
    assert torch.equal(logits["weight"], torch.full((40, 50), 2.0))
    assert abs(masks.mean().item() - 0.8807970779778823) < 0.01
    assert set(masks.unique().tolist()) == {0.0, 1.0}


def test_straight_through_gradients_match_the_textbook_estimator():
    logit = torch.randn(6, 7, requires_grad=True)
    key = draw_keys(torch.Generator().manual_seed(0), 1)[0]
    uniform = torch.stack(mask_uniforms(key, torch.Size((6, 7)), 3))
    weight = torch.randn(6, 7)
    upstream = torch.randn(3, 6, 7)
    ours = torch.stack(masked_weights(logit, weight, key, 3))
    (ours * upstream).sum().backward()
    grad_ours = logit.grad.clone()
    logit.grad = None
    reference = weight * reference_sample(logit, uniform)
    (reference * upstream).sum().backward()
    assert torch.equal(ours, reference.detach())
    assert torch.allclose(grad_ours, logit.grad, atol=1e-6)
    assert grad_ours.abs().sum() > 0


def test_weights_trained_with_their_mask_get_the_masked_gradient():
    logit = torch.randn(4, 5)
    weight = torch.randn(4, 5, requires_grad=True)
    key = draw_keys(torch.Generator().manual_seed(0), 1)[0]
    uniform = torch.stack(mask_uniforms(key, torch.Size((4, 5)), 2))
    torch.stack(masked_weights(logit, weight, key, 2)).sum().backward()
    kept = (uniform > 1 - torch.sigmoid(logit)).float().sum(0)  # how many samples keep it
    assert torch.equal(weight.grad, kept)


def test_final_mask_keeps_positive_logits_and_inverse_keeps_the_rest():
    logits = {"w": torch.tensor([[-1.0, 0.5], [2.0, -0.1]])}
    mask = final_mask(logits)["w"]
    assert mask.tolist() == [[False, True], [True, False]]
    assert invert({"w": mask})["w"].tolist() == [[True, False], [False, True]]


def test_mask_filter_skips_biases_and_embeddings_but_keeps_layernorm():
    model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    assert maskable_parameter_names(model, mask_biases=False) == [
        "1.weight",
        "2.weight",
        "2.bias",
        "3.weight",
    ]
    assert "1.bias" in maskable_parameter_names(model, mask_biases=True)


def test_masked_parameters_zero_removed_weights_and_leave_the_model_untouched():
    model = nn.Linear(3, 2)
    before = model.weight.detach().clone()
    mask = {"weight": torch.tensor([[True, False, True], [False, False, True]])}
    params = masked_parameters(model, mask)
    assert torch.equal(params["weight"], before * mask["weight"])
    assert torch.equal(model.weight, before)


class HalfTask:
    """Two heads on block-diagonal weights; the target uses only head A's half."""

    target_functions = ("a",)
    shape: dict[str, int] = {}

    def __init__(self, model: nn.Module) -> None:
        generator = torch.Generator().manual_seed(0)
        inputs = torch.randn(8192, 8, generator=generator)
        with torch.no_grad():
            logits = model(inputs)[:, :2]
        clear = (logits[:, 0] - logits[:, 1]).abs() > 0.3  # keep examples off the boundary
        self.inputs = inputs[clear]
        self.labels = logits[clear].argmax(-1)  # the model is right by construction

    def train_examples(self, target):
        return {"x": self.inputs, "y": self.labels}

    eval_examples = train_examples

    def step(self, call, batch, train):
        logits = call(batch["x"])[:, :2]
        loss = nn.functional.cross_entropy(logits, batch["y"])
        return StepResult(loss=loss, correct=logits.argmax(-1) == batch["y"])


def block_diagonal_network() -> nn.Sequential:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    with torch.no_grad():
        model[0].weight[8:, :4] = 0  # head B's hidden units see only inputs 4..7
        model[0].weight[:8, 4:] = 0  # head A's hidden units see only inputs 0..3
        model[2].weight[:2, 8:] = 0
        model[2].weight[2:, :8] = 0
    return model


def test_mask_for_one_output_removes_the_other_half():
    model = block_diagonal_network()
    task = HalfTask(model)
    config = MaskFitConfig(
        steps=300, batch_size=128, learning_rate=0.05, regularization_weight=1e-4, log_every=50
    )
    mask = final_mask(fit_mask(model, task, "a", config, seed=0).logits)
    other_half = torch.cat(
        [
            mask["0.weight"][8:].flatten(),
            mask["0.weight"][:8, 4:].flatten(),
            mask["2.weight"][:, 8:].flatten(),
            mask["2.weight"][2:].flatten(),
        ]
    )
    assert other_half.float().mean() < 0.05, (
        f"kept {other_half.float().mean():.2%} of the unused half"
    )
    from workloads.evaluate import evaluate

    assert evaluate(model, task, "a", mask).accuracy > 0.9


def _shape(**extra: int) -> SimpleNamespace:
    """A stand-in task: models read only its `shape`."""
    return SimpleNamespace(shape=extra)


IO_TENSORS = [
    (
        FeedforwardConfig(hidden_sizes=[8, 8]),
        dict(input_size=6, output_size=4),
        False,
        ["0.weight", "4.weight"],
    ),
    (
        FeedforwardConfig(hidden_sizes=[8, 8]),
        dict(input_size=6, output_size=4),
        True,
        ["0.weight", "0.bias", "4.weight", "4.bias"],
    ),
    (
        LSTMConfig(hidden_size=8),
        dict(input_size=6, output_size=4),
        True,
        ["lstm.layers.0.input.weight", "lstm.layers.0.input.bias", "output.weight", "output.bias"],
    ),
    (
        SimpleCnnConfig(dropout=False),
        dict(input_channels=3, output_size=10),
        True,
        ["layer1.weight", "layer1.bias", "output.weight", "output.bias"],
    ),
    (
        ResNetConfig(blocks_per_stage=1),
        dict(input_channels=3, output_size=10),
        True,
        ["conv.weight", "output.weight", "output.bias"],
    ),
    (
        Seq2SeqLSTMConfig(hidden_size=8),
        SEQ2SEQ_SHAPE,
        False,
        ["encoder.layers.0.input.weight", "output.weight"],
    ),
    (
        TransformerConfig(d_model=8, heads=2, feedforward_size=8),
        SEQ2SEQ_SHAPE,
        False,
        ["encoder.0.self_attention.query.weight", "output.weight"],
    ),
]


@pytest.mark.parametrize(("config", "shape", "mask_biases", "expected"), IO_TENSORS)
def test_io_tensors_are_the_whole_first_and_last_masked_layers(
    config, shape, mask_biases, expected
):
    model = config.build(_shape(**shape))
    assert io_tensor_names(maskable_parameter_names(model, mask_biases)) == expected


def test_the_replaced_keep_probability_field_names_its_replacement():
    with pytest.raises(ValueError, match="initial_logit: 2.0"):
        MaskFitConfig.model_validate({"initial_keep_probability": 0.9})


def test_shared_counts_count_a_weight_once_however_many_other_masks_keep_it():
    def mask(*keep: int) -> dict[str, torch.Tensor]:
        return {"w": torch.tensor(keep, dtype=torch.bool), "v": torch.ones(2, dtype=torch.bool)}

    counts = shared_counts({"a": mask(1, 1, 0, 0), "b": mask(1, 0, 1, 0), "c": mask(1, 1, 0, 0)})
    # a's weights 0 and 1: b keeps 0, c keeps 0 and 1 -> 2 shared (pairwise sums would say 3)
    assert counts["a"]["w"] == (2, 2, 4)
    assert counts["b"]["w"] == (2, 1, 4)  # only weight 0 is kept elsewhere
    assert counts["c"]["w"] == (2, 2, 4)
    assert counts["a"]["v"] == (2, 2, 2)
