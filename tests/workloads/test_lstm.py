from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError
from torch import nn
from torch.func import functional_call, vmap

from workloads.data.addmul import AddMulConfig, encode
from workloads.data.double_add import DoubleAddConfig
from workloads.fit import MaskFitConfig, fit_mask
from workloads.masking import maskable_parameter_names
from workloads.models.lstm import LSTMConfig, RecurrentClassifier, StackedLSTM
from workloads.train import TrainingConfig, train_model


def tiny_addmul(train_size: int = 256):
    return AddMulConfig(train_size=train_size, validation_size=64).build()


def load_from_torch_lstm(stacked: StackedLSTM, reference: nn.LSTM) -> None:
    with torch.no_grad():
        for index, layer in enumerate(stacked.layers):
            layer.input.weight.copy_(getattr(reference, f"weight_ih_l{index}"))
            layer.input.bias.copy_(getattr(reference, f"bias_ih_l{index}"))
            layer.recurrent.weight.copy_(getattr(reference, f"weight_hh_l{index}"))
            layer.recurrent.bias.copy_(getattr(reference, f"bias_hh_l{index}"))


def test_stacked_lstm_equals_torch_lstm_with_the_same_weights():
    torch.manual_seed(0)
    reference = nn.LSTM(7, 16, num_layers=2, batch_first=True)
    stacked = StackedLSTM(7, 16, layers=2)
    load_from_torch_lstm(stacked, reference)
    inputs = torch.randn(5, 4, 7)
    expected, _ = reference(inputs)
    assert torch.allclose(stacked(inputs), expected, atol=1e-6)


def test_initialisation_follows_torch_lstm_bounds():
    stacked = StackedLSTM(42, 64, layers=2)
    bound = 1 / 8  # 1/sqrt(hidden)
    for param in stacked.parameters():
        largest = float(param.detach().abs().max())
        assert 0.9 * bound < largest <= bound


def test_flat_input_is_repeated_and_the_last_step_read():
    task = tiny_addmul()
    model = LSTMConfig(hidden_size=16, layers=2, steps_per_input=3).build(task)
    features = encode(task.eval_examples("all")["operands"][:10])  # [10, 42]
    outputs = model(features)
    assert outputs.shape == (10, 20)
    sequence = model(features[:, None].expand(-1, 3, -1))  # [10, 3, 20]
    assert sequence.shape == (10, 3, 20)
    assert torch.allclose(outputs, sequence[:, -1])
    with pytest.raises(ValueError, match="got shape"):
        model(features[None, None])


def test_parameters_are_linear_weights_that_the_mask_filter_covers():
    model = RecurrentClassifier(42, 8, layers=2, output_size=20, steps_per_input=3)
    assert maskable_parameter_names(model, mask_biases=False) == [
        "lstm.layers.0.input.weight",
        "lstm.layers.0.recurrent.weight",
        "lstm.layers.1.input.weight",
        "lstm.layers.1.recurrent.weight",
        "output.weight",
    ]


def test_config_defaults_are_the_papers_and_unknown_fields_are_refused():
    config = LSTMConfig()
    assert (config.hidden_size, config.layers, config.steps_per_input) == (256, 2, 3)
    model = config.build(DoubleAddConfig(train_size=4, validation_size=4).build())
    assert model.lstm.layers[0].input.in_features == 80 and model.output.out_features == 40
    with pytest.raises(ValidationError):
        LSTMConfig(hidden=3)


@pytest.mark.parametrize("mode", ["fnn_per_pair", "together", "only_one_io"])
def test_lstm_runs_every_double_addition_mode(mode: str):
    task = DoubleAddConfig(train_size=8, validation_size=16, mode=mode).build()
    model = LSTMConfig(hidden_size=8, layers=2).build(task)
    with torch.no_grad():
        result = task.step(model, task.eval_examples("pair2"), train=False)
    assert result.correct.shape == (16,) and float(result.loss) > 0


def test_vmap_over_functional_call_runs_four_parameter_sets():
    torch.manual_seed(0)
    model = RecurrentClassifier(42, 16, layers=2, output_size=20, steps_per_input=3)
    params = dict(model.named_parameters())
    stacked = {
        name: torch.stack([p * (1 + 0.1 * k) for k in range(4)]) for name, p in params.items()
    }
    features = encode(tiny_addmul().eval_examples("all")["operands"][:6])

    def run(one_set: dict[str, torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
        return functional_call(model, one_set, (inputs,))

    batched = vmap(run, in_dims=(0, None))(stacked, features)  # [4, 6, 20]
    assert batched.shape == (4, 6, 20)
    for k in range(4):
        one_set = {name: value[k] for name, value in stacked.items()}
        assert torch.allclose(batched[k], run(one_set, features), atol=1e-6)


def test_fit_mask_runs_on_the_lstm():
    task = tiny_addmul()
    model = LSTMConfig(hidden_size=8, layers=2).build(task)
    outcome = fit_mask(
        model, task, "add", MaskFitConfig(steps=2, batch_size=8, log_every=1), seed=0
    )
    assert set(outcome.logits) == set(maskable_parameter_names(model, mask_biases=False))
    assert len(outcome.history) == 2


def test_tiny_lstm_learns_addmul_above_chance():
    torch.manual_seed(0)
    task = tiny_addmul(train_size=100)
    model = LSTMConfig(hidden_size=32, layers=1).build(task)
    config = TrainingConfig(steps=60, batch_size=32, learning_rate=2e-2, log_every=60)
    train_model(model, task, config, seed=0)
    with torch.no_grad():
        result = task.step(model, task.train_examples("all"), train=False)
    # chance is 1 in 100 two-digit answers; this setting reaches about 0.95 on its train set
    assert float(result.correct.float().mean()) > 0.5
