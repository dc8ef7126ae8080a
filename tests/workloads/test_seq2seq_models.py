"""The SCAN models: LSTM encoder-decoder and Transformer, on tiny configs."""

from __future__ import annotations

import functools
import random

import pytest
import torch
from torch import nn
from torch.func import functional_call

from workloads.data import scan, seq2seq
from workloads.data.base import Examples, ModelCall, StepResult
from workloads.evaluate import evaluate
from workloads.fit import MaskFitConfig, fit_mask
from workloads.masking import maskable_parameter_names
from workloads.models.seq2seq_lstm import LSTMCell, Seq2SeqLSTMConfig
from workloads.models.transformer import TransformerConfig
from workloads.train import TrainingConfig, train_model

TINY_LSTM = Seq2SeqLSTMConfig(hidden_size=64, layers=1, dropout=0.0)
TINY_TRANSFORMER = TransformerConfig(
    encoder_layers=1, decoder_layers=1, d_model=32, heads=2, feedforward_size=64, dropout=0.0
)


@functools.cache
def few_pairs() -> list[scan.Pair]:
    short = [pair for pair in scan.commands() if len(pair[1].split()) <= 8]
    return random.Random(0).sample(short, 20)


class FewScanExamples:
    """20 short SCAN pairs as a whole task: small enough to overfit in seconds."""

    target_functions = ("few",)

    def __init__(self, teacher_forcing_probability: float) -> None:
        self.examples = scan.encode(few_pairs())
        self.shape = {
            "source_vocabulary_size": scan.SOURCE_VOCABULARY.size,
            "target_vocabulary_size": scan.TARGET_VOCABULARY.size,
            "max_source_length": self.examples["source"].shape[1],
            "max_target_length": self.examples["target"].shape[1],
        }
        self.teacher_forcing = seq2seq.TeacherForcing(teacher_forcing_probability, seed=0)

    def train_examples(self, target: str) -> Examples:
        return self.examples

    def eval_examples(self, target: str) -> Examples:
        return self.examples

    def step(self, call: ModelCall, batch: Examples, train: bool) -> StepResult:
        return seq2seq.step(call, batch, self.teacher_forcing(train))


@pytest.fixture(autouse=True)
def one_thread():
    """These nets are tiny: a second thread only adds synchronisation (10x slower on a
    loaded 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(config, task: FewScanExamples) -> nn.Module:
    torch.manual_seed(0)
    return config.build(task)


@pytest.mark.parametrize("config", [TINY_LSTM, TINY_TRANSFORMER], ids=["lstm", "transformer"])
@pytest.mark.parametrize("teacher_forcing", [True, False])
def test_forward_gives_one_logit_row_per_target_position(config, teacher_forcing: bool):
    task = FewScanExamples(0.5)
    model = build(config, task).eval()
    batch = task.examples
    logits = model(batch["source"], batch["source_length"], batch["target"][:, :7], teacher_forcing)
    assert logits.shape == (20, 7, scan.TARGET_VOCABULARY.size)


@pytest.mark.parametrize(
    "config",
    [TINY_LSTM, TINY_TRANSFORMER, TINY_TRANSFORMER.model_copy(update={"tie_output": True})],
    ids=["lstm", "transformer", "tied_transformer"],
)
def test_greedy_decoding_equals_teacher_forcing_on_its_own_output(config):
    """Greedy decoding feeds back its argmax; reading those tokens as a teacher-forced
    target must give the same logits (checks the Transformer's incremental decoding)."""
    task = FewScanExamples(0.5)
    model = build(config, task).eval()
    batch = task.examples
    with torch.no_grad():
        greedy = model(batch["source"], batch["source_length"], batch["target"], False)
        forced = model(batch["source"], batch["source_length"], greedy.argmax(-1), True)
    torch.testing.assert_close(greedy, forced, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("config", [TINY_LSTM, TINY_TRANSFORMER], ids=["lstm", "transformer"])
def test_vmap_over_parameter_sets_matches_separate_calls(config):
    """Batching mask samples with torch.func.vmap needs batching rules for every op."""
    task = FewScanExamples(0.5)
    model = build(config, task).eval()
    batch = task.examples
    inputs = (batch["source"], batch["source_length"], batch["target"], False)
    params = {name: p.detach() for name, p in model.named_parameters()}
    scaled = {name: p * 0.5 for name, p in params.items()}
    stacked = {name: torch.stack([params[name], scaled[name]]) for name in params}
    batched = torch.func.vmap(lambda p: functional_call(model, p, inputs))(stacked)
    torch.testing.assert_close(batched[0], functional_call(model, params, inputs))
    torch.testing.assert_close(batched[1], functional_call(model, scaled, inputs))


def test_paper_sizes_build():
    task = FewScanExamples(0.5)
    lstm = Seq2SeqLSTMConfig().build(task)
    assert lstm.encoder.layers[1].recurrent.weight.shape == (800, 200)
    assert lstm.encoder.embedding.weight.shape == (16, 16)
    transformer = TransformerConfig().build(task)
    assert len(transformer.encoder) == len(transformer.decoder) == 3
    assert transformer.decoder[0].feedforward[0].weight.shape == (200, 100)


def test_lstm_cell_matches_torch_lstm():
    torch.manual_seed(0)
    reference = nn.LSTM(5, 7, batch_first=True)
    cell = LSTMCell(5, 7)
    with torch.no_grad():
        cell.input.weight.copy_(reference.weight_ih_l0)
        cell.input.bias.copy_(reference.bias_ih_l0 + reference.bias_hh_l0)
        cell.recurrent.weight.copy_(reference.weight_hh_l0)
    inputs = torch.randn(3, 4, 5)  # [batch, time, features]
    h, c = torch.randn(3, 7), torch.randn(3, 7)
    expected, (h_last, c_last) = reference(inputs, (h[None], c[None]))
    outputs = []
    for t in range(inputs.shape[1]):
        h, c = cell(inputs[:, t], (h, c))
        outputs.append(h)
    torch.testing.assert_close(torch.stack(outputs, dim=1), expected)
    torch.testing.assert_close((h, c), (h_last[0], c_last[0]))


def test_lstm_encoder_state_ignores_padding():
    task = FewScanExamples(0.5)
    model = build(TINY_LSTM, task).eval()
    source, length = task.examples["source"][:4], task.examples["source_length"][:4]
    padded = torch.cat([source, torch.full((4, 3), 5)], dim=1)  # junk after the end
    for (h, c), (h_padded, c_padded) in zip(
        model.encode(source, length), model.encode(padded, length), strict=True
    ):
        torch.testing.assert_close((h, c), (h_padded, c_padded))


def test_mask_filter_keeps_embeddings_and_biases_out():
    task = FewScanExamples(0.5)
    lstm_names = maskable_parameter_names(build(TINY_LSTM, task), mask_biases=False)
    assert lstm_names == [
        "encoder.layers.0.input.weight",
        "encoder.layers.0.recurrent.weight",
        "decoder.layers.0.input.weight",
        "decoder.layers.0.recurrent.weight",
        "output.weight",
    ]
    tied = TINY_TRANSFORMER.model_copy(update={"tie_output": True})
    names = maskable_parameter_names(build(tied, task), mask_biases=False)
    assert "decoder.0.cross_attention.query.weight" in names
    assert "decoder.0.norms.2.bias" in names  # LayerNorm is masked
    assert not any("embedding" in name or name.startswith("output") for name in names)


@pytest.mark.parametrize("config", [TINY_LSTM, TINY_TRANSFORMER], ids=["lstm", "transformer"])
def test_mask_fit_steps_change_the_logits(config):
    task = FewScanExamples(0.5)
    model = build(config, task)
    before = {name: p.clone() for name, p in model.named_parameters()}
    fit = MaskFitConfig(steps=2, batch_size=8, regularization_weight=0.0, grad_clip=5.0)
    outcome = fit_mask(model, task, "few", fit, seed=0)
    initial = fit.initial_logit
    # No regularisation: any change comes from the task loss's gradient through the masks.
    assert any((logit != initial).any() for logit in outcome.logits.values())
    assert all(torch.equal(before[name], p) for name, p in model.named_parameters())


@pytest.mark.parametrize(
    ("config", "teacher_forcing", "learning_rate", "steps"),
    [(TINY_LSTM, 0.5, 1e-2, 150), (TINY_TRANSFORMER, 1.0, 3e-3, 200)],
    ids=["lstm", "transformer"],
)
def test_tiny_models_overfit_twenty_examples(
    config, teacher_forcing: float, learning_rate: float, steps: int
):
    task = FewScanExamples(teacher_forcing)
    model = build(config, task)
    training = TrainingConfig(steps=steps, batch_size=20, learning_rate=learning_rate)
    train_model(model, task, training, seed=0)
    assert evaluate(model, task, "few").accuracy >= 0.9  # greedy decoding, exact match
