from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from workloads.data.base import slice_batch
from workloads.data.double_add import (
    DoubleAddConfig,
    copy_pair_weights,
    encode,
    generate,
)
from workloads.evaluate import evaluate
from workloads.models.fnn import build_feedforward

MODES = ("fnn_per_pair", "together", "only_one_io")


def oracle_adder(wrong_pair: int | None = None):
    """A perfect model for any mode: per output slot, the sum of that slot's inputs.

    Works on [..., 80] features (one pass, or every step of a sequence); zeroed inputs
    decode to 0 + 0. `wrong_pair` adds 1 to that pair's answer, to make it wrong.
    """

    def call(features: torch.Tensor) -> torch.Tensor:
        numbers_digits = features.view(*features.shape[:-1], 2, 2, 2, 10).argmax(-1)
        numbers = numbers_digits[..., 0] + 10 * numbers_digits[..., 1]  # [..., pair, operand]
        sums = numbers.sum(-1) % 100  # [..., pair]
        if wrong_pair is not None:
            sums[..., wrong_pair] = (sums[..., wrong_pair] + 1) % 100
        answer = torch.stack([sums % 10, sums // 10], dim=-1)  # [..., pair, digit]
        return F.one_hot(answer, 10).float().flatten(-3)  # [..., 40]

    return call


def recording(call, seen: list[torch.Tensor]):
    def wrapped(features: torch.Tensor) -> torch.Tensor:
        seen.append(features)
        return call(features)

    return wrapped


def small_task(mode: str = "fnn_per_pair", train_size: int = 64):
    return DoubleAddConfig(train_size=train_size, validation_size=32, mode=mode).build()


def test_labels_are_both_sums_mod_100_least_significant_digit_first():
    examples = generate(500, seed=3)
    operands, answer = examples["operands"], examples["answer"]
    assert operands.shape == (500, 8) and answer.shape == (500, 4)
    for row in range(20):
        a, b, c, d = (
            int(operands[row, 2 * i]) + 10 * int(operands[row, 2 * i + 1]) for i in range(4)
        )
        expected = [
            (a + b) % 100 % 10,
            (a + b) % 100 // 10,
            (c + d) % 100 % 10,
            (c + d) % 100 // 10,
        ]
        assert answer[row].tolist() == expected
    assert int(operands.max()) == 9 and int(operands.min()) == 0


def test_hand_computed_sample_encodes_and_scores():
    # a=37, b=85 -> 122 mod 100 = 22; c=4, d=99 -> 103 mod 100 = 3.
    operands = torch.tensor([[7, 3, 5, 8, 4, 0, 9, 9]])
    features = encode(operands, torch.tensor([[True, True]]))
    assert features.shape == (1, 80)
    assert features[0].nonzero().flatten().tolist() == [7, 13, 25, 38, 44, 50, 69, 79]
    task = small_task()
    batch = {
        "operands": operands,
        "answer": torch.tensor([[2, 2, 3, 0]]),
        "pair_in_target": torch.tensor([[True, True]]),
    }
    assert task.step(oracle_adder(), batch, train=False).correct.tolist() == [True]


def test_data_is_fixed_by_the_data_seed():
    first, second = small_task(), small_task()
    assert torch.equal(
        first.train_examples("all")["operands"], second.train_examples("all")["operands"]
    )
    assert not torch.equal(first._train["operands"][:32], first._validation["operands"])


def test_targets_share_the_data_and_mark_their_pairs():
    task = small_task()
    assert task.target_functions == ("all", "pair1", "pair2")
    marks = {
        target: task.eval_examples(target)["pair_in_target"][0].tolist()
        for target in task.target_functions
    }
    assert marks == {"all": [True, True], "pair1": [True, False], "pair2": [False, True]}
    for target in task.target_functions:
        assert torch.equal(
            task.eval_examples(target)["operands"], task.eval_examples("all")["operands"]
        )
    with pytest.raises(ValueError, match="valid: all, pair1, pair2"):
        task.train_examples("pair3")


def test_unknown_mode_is_refused():
    with pytest.raises(ValidationError):
        DoubleAddConfig(mode="same_io")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target", ["all", "pair1", "pair2"])
def test_oracle_scores_accuracy_one_and_low_loss(mode: str, target: str):
    task = small_task(mode)
    result = task.step(oracle_adder(), task.eval_examples(target), train=False)
    assert bool(result.correct.all())
    # one-hot logits: per-digit cross-entropy = log(1 + 9 e^-1) exactly
    assert float(result.loss) == pytest.approx(math.log(1 + 9 / math.e), rel=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_pair_targets_score_only_their_pair(mode: str):
    task = small_task(mode)
    wrong_on_pair2 = oracle_adder(wrong_pair=1)
    accuracy = {
        target: float(
            task.step(wrong_on_pair2, task.eval_examples(target), False).correct.float().mean()
        )
        for target in task.target_functions
    }
    assert accuracy == {"all": 0.0, "pair1": 1.0, "pair2": 0.0}


def test_fnn_per_pair_runs_once_per_scored_pair_with_the_other_pair_zeroed():
    task = small_task("fnn_per_pair")
    batch = task.eval_examples("all")
    seen: list[torch.Tensor] = []
    task.step(recording(oracle_adder(), seen), batch, train=False)
    assert [features.shape for features in seen] == [(32, 80), (32, 80)]
    assert torch.equal(seen[0][:, :40], encode(batch["operands"], batch["pair_in_target"])[:, :40])
    assert not seen[0][:, 40:].any() and not seen[1][:, :40].any()
    assert seen[1][:, 40:].sum() == 32 * 4

    seen.clear()
    task.step(recording(oracle_adder(), seen), task.eval_examples("pair2"), train=False)
    assert len(seen) == 1 and not seen[0][:, :40].any() and seen[0][:, 40:].sum() == 32 * 4


def test_together_repeats_all_inputs_and_zeroes_pairs_outside_the_target():
    task = small_task("together")
    seen: list[torch.Tensor] = []
    task.step(recording(oracle_adder(), seen), task.eval_examples("all"), train=False)
    assert seen[0].shape == (32, 6, 80)
    assert torch.equal(seen[0][:, 0], seen[0][:, 5]) and seen[0][:, 0].sum() == 32 * 8

    seen.clear()
    task.step(recording(oracle_adder(), seen), task.eval_examples("pair1"), train=False)
    assert seen[0][:, :, :40].sum() == 32 * 6 * 4 and not seen[0][:, :, 40:].any()


def test_only_one_io_shows_each_pair_during_its_own_steps():
    task = DoubleAddConfig(
        train_size=8, validation_size=4, mode="only_one_io", steps_per_pair=2
    ).build()
    seen: list[torch.Tensor] = []
    task.step(recording(oracle_adder(), seen), task.eval_examples("all"), train=False)
    sequence = seen[0]  # [4, 4 steps, 80]
    assert sequence.shape == (4, 4, 80)
    assert not sequence[:, :2, 40:].any() and not sequence[:, 2:, :40].any()
    assert sequence[:, :2, :40].sum() == 4 * 2 * 4 and sequence[:, 2:, 40:].sum() == 4 * 2 * 4


def test_only_one_io_reads_each_answer_at_the_end_of_its_pair_steps():
    task = small_task("only_one_io")
    batch = task.eval_examples("all")
    perfect = oracle_adder()

    def right_only_at_steps_2_and_5(sequence: torch.Tensor) -> torch.Tensor:
        outputs = torch.zeros(*sequence.shape[:2], 40)
        outputs[:, 2] = perfect(sequence[:, 2])
        outputs[:, 5] = perfect(sequence[:, 5])
        return outputs

    assert bool(task.step(right_only_at_steps_2_and_5, batch, train=False).correct.all())


def test_evaluate_and_slicing_keep_the_target_marks():
    task = small_task("fnn_per_pair")
    model = build_feedforward(80, [16], 40)
    evaluation = evaluate(model, task, "pair2", batch_size=10)
    assert evaluation.samples == 32
    batch = slice_batch(task.train_examples("pair2"), 3, 7)
    assert batch["pair_in_target"].tolist() == [[False, True]] * 4


def test_copy_pair_weights_overwrites_exactly_pair_1_io_with_pair_2():
    torch.manual_seed(0)
    model = build_feedforward(80, [12, 12], 40)
    before = {name: param.detach().clone() for name, param in model.named_parameters()}
    copy_pair_weights(model)
    after = dict(model.named_parameters())
    first, last = "0.weight", "4.weight"
    assert torch.equal(after[first][:, :40], before[first][:, 40:])
    assert torch.equal(after[first][:, 40:], before[first][:, 40:])
    assert torch.equal(after[last][:20], before[last][20:])
    assert torch.equal(after[last][20:], before[last][20:])
    assert torch.equal(after["4.bias"][:20], before["4.bias"][20:])
    for name in ("0.bias", "2.weight", "2.bias"):
        assert torch.equal(after[name], before[name])
    features = encode(generate(16, seed=5)["operands"], torch.tensor([[True, True]]).expand(16, 2))
    with torch.no_grad():
        # one set of hidden weights now serves both pairs: the two output slots agree
        outputs = model(features)
    assert torch.allclose(outputs[:, :20], outputs[:, 20:], atol=1e-6)


def test_copy_pair_weights_refuses_odd_sizes():
    with pytest.raises(ValueError, match="even input and output sizes"):
        copy_pair_weights(build_feedforward(81, [4], 40))
