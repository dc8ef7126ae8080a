"""SCAN generated from its grammar, its splits, and the shared seq2seq step."""

from __future__ import annotations

import gzip
import math
import os
from collections import Counter
from pathlib import Path

import pytest
import torch
from support.sweeps import REPO

from workloads.data import seq2seq
from workloads.data.scan import (
    SOURCE_VOCABULARY,
    TARGET_VOCABULARY,
    ScanConfig,
    ScanTask,
    commands,
    split,
)
from workloads.fit import FitRequest, MaskFitConfig, fit_mask, fit_masks
from workloads.models.seq2seq_lstm import Seq2SeqLSTM

# The official SCAN files: $SCAN_OFFICIAL_DIR, else shared/data/scan beside the checkout.
OFFICIAL = Path(os.environ.get("SCAN_OFFICIAL_DIR", REPO.parent / "shared" / "data" / "scan"))
OFFICIAL_NAMES = {
    "simple": "simple",
    "addprim_jump": "addprim_jump",
    "length": "length",
    "addprim_turn_left": "addprim_turn_left",
    "around_right": "template_around_right",
}
needs_official = pytest.mark.skipif(
    not OFFICIAL.is_dir(), reason=f"official SCAN files not found in {OFFICIAL}"
)


def read_official(name: str) -> Counter[tuple[str, str]]:
    """Lines "IN: <command> OUT: <actions>" of one gzip file, as a multiset of pairs."""
    pairs: Counter[tuple[str, str]] = Counter()
    with gzip.open(OFFICIAL / name, "rt") as lines:
        for line in lines:
            if line.strip():
                command, actions = line.strip().removeprefix("IN: ").split(" OUT: ")
                pairs[(command, actions)] += 1
    return pairs


@pytest.fixture(scope="module")
def task() -> ScanTask:
    return ScanConfig().build()


def test_grammar_yields_20910_distinct_commands():
    pairs = commands()
    assert len(pairs) == 20_910
    assert len({command for command, _ in pairs}) == 20_910


def test_commands_have_the_grammar_meaning():
    meaning = dict(commands())
    assert meaning["jump"] == "I_JUMP"
    assert meaning["turn opposite left"] == "I_TURN_LEFT I_TURN_LEFT"
    assert meaning["walk after run left"] == "I_TURN_LEFT I_RUN I_WALK"
    assert meaning["look around right twice"] == " ".join(["I_TURN_RIGHT I_LOOK"] * 8)
    assert meaning["jump opposite right thrice and turn left"] == " ".join(
        ["I_TURN_RIGHT I_TURN_RIGHT I_JUMP"] * 3 + ["I_TURN_LEFT"]
    )
    assert "turn" not in meaning  # "turn" needs a direction


@needs_official
def test_commands_equal_the_official_data_set():
    assert Counter(commands()) == read_official("tasks.txt.gz")


@needs_official
@pytest.mark.parametrize("name", ["addprim_jump", "length", "addprim_turn_left", "around_right"])
def test_rule_splits_equal_the_official_files(name: str):
    train, test = split(commands(), name, seed=0)
    assert Counter(train) == read_official(f"tasks_train_{OFFICIAL_NAMES[name]}.txt.gz")
    assert Counter(test) == read_official(f"tasks_test_{OFFICIAL_NAMES[name]}.txt.gz")


def test_add_primitive_train_sets_repeat_the_primitive():
    train, _ = split(commands(), "addprim_jump", seed=0)
    assert sum(command == "jump" for command, _ in train) == 1467  # a tenth of 14,670
    train, _ = split(commands(), "addprim_turn_left", seed=0)
    assert sum(command == "turn left" for command, _ in train) == 2189  # a tenth of 21,890


@needs_official
def test_simple_split_has_the_official_sizes():
    train, test = split(commands(), "simple", seed=0)
    assert len(train) == sum(read_official("tasks_train_simple.txt.gz").values()) == 16_728
    assert len(test) == sum(read_official("tasks_test_simple.txt.gz").values()) == 4_182


def test_simple_split_is_a_seeded_partition():
    pairs = commands()
    train, test = split(pairs, "simple", seed=0)
    assert (len(train), len(test)) == (16_728, 4_182)
    assert set(train).isdisjoint(test) and set(train) | set(test) == set(pairs)
    assert split(pairs, "simple", seed=0) == (train, test)
    assert split(pairs, "simple", seed=1)[1] != test


def test_task_serves_each_split(task: ScanTask):
    sizes = {
        "simple": (16_728, 4_182),
        "addprim_jump": (14_670, 7_706),
        "length": (16_990, 3_920),
        "addprim_turn_left": (21_890, 1_208),
        "around_right": (15_225, 4_476),
    }
    assert task.target_functions[0] == "simple"
    for target, (train_size, test_size) in sizes.items():
        assert task.train_examples(target)["source"].shape[0] == train_size
        assert task.eval_examples(target)["target_length"].shape[0] == test_size
    # 13 words + PAD/SOS/EOS; 6 actions + 3; 9 words + EOS; 2 x 24 actions + EOS
    assert task.shape == {
        "source_vocabulary_size": 16,
        "target_vocabulary_size": 9,
        "max_source_length": 10,
        "max_target_length": 49,
    }


def test_length_split_holds_out_long_outputs(task: ScanTask):
    assert int(task.train_examples("length")["target_length"].max()) == 22 + 1  # + EOS
    assert int(task.eval_examples("length")["target_length"].min()) == 24 + 1


def test_examples_decode_to_their_pairs(task: ScanTask):
    examples = task.eval_examples("addprim_jump")
    meaning = dict(commands())
    for row in range(5):
        command = " ".join(SOURCE_VOCABULARY.decode(examples["source"][row].tolist()))
        actions = " ".join(TARGET_VOCABULARY.decode(examples["target"][row].tolist()))
        assert "jump" in command.split() and meaning[command] == actions
        assert examples["target"][row, examples["target_length"][row] - 1] == seq2seq.EOS


def test_vocabulary_and_padding():
    vocabulary = seq2seq.Vocabulary(("a", "b"))
    assert vocabulary.size == 5
    assert vocabulary.encode(["b", "a"]) == [4, 3, seq2seq.EOS]
    assert vocabulary.decode([4, 3, seq2seq.EOS, 4]) == ["b", "a"]
    assert seq2seq.pad([[3, 4, 5], [6]]).tolist() == [[3, 4, 5], [6, 0, 0]]
    with pytest.raises(ValueError, match="'c' is not in the vocabulary"):
        vocabulary.encode(["c"])


def _batch() -> dict[str, torch.Tensor]:
    return {
        "source": torch.tensor([[3, 2], [3, 2]]),
        "source_length": torch.tensor([2, 2]),
        "target": torch.tensor([[3, 4, 2], [4, 2, 0]]),
        "target_length": torch.tensor([3, 2]),
    }


def test_step_loss_sums_tokens_and_averages_over_the_batch():
    batch = _batch()
    result = seq2seq.step(lambda *args: torch.zeros(2, 3, 5), batch, teacher_forcing=False)
    assert float(result.loss) == pytest.approx((3 + 2) * math.log(5) / 2)


def test_step_exact_match_ignores_positions_after_eos():
    batch = _batch()
    predicted = torch.tensor([[3, 4, 2], [4, 2, 4]])  # row 1 differs only in the padding
    logits = torch.nn.functional.one_hot(predicted, 5).float() * 10
    result = seq2seq.step(lambda *args: logits, batch, teacher_forcing=False)
    assert result.correct.tolist() == [True, True]
    predicted = torch.tensor([[3, 4, 4], [4, 2, 0]])  # row 0 misses its EOS
    logits = torch.nn.functional.one_hot(predicted, 5).float() * 10
    result = seq2seq.step(lambda *args: logits, batch, teacher_forcing=False)
    assert result.correct.tolist() == [False, True]


def test_step_cuts_the_batch_to_its_longest_sequences(task: ScanTask):
    batch = {key: value[:4] for key, value in task.train_examples("length").items()}
    shapes = []

    def model(source, source_length, target, teacher_forcing):
        shapes.append((source.shape[1], target.shape[1]))
        return torch.zeros(*target.shape, 9)

    task.step(model, batch, train=False)
    assert shapes == [(int(batch["source_length"].max()), int(batch["target_length"].max()))]


def test_teacher_forcing_is_a_seeded_coin_in_training_and_off_in_evaluation():
    coin = seq2seq.TeacherForcing(0.5, seed=3)
    draws = [coin(train=True) for _ in range(400)]
    assert 150 < sum(draws) < 250
    again = seq2seq.TeacherForcing(0.5, seed=3)
    assert [again(train=True) for _ in range(400)] == draws
    assert not any(coin(train=False) for _ in range(10))
    assert all(seq2seq.TeacherForcing(1.0, seed=0)(train=True) for _ in range(10))
    assert not any(seq2seq.TeacherForcing(0.0, seed=0)(train=True) for _ in range(10))


class RecordingLSTM(Seq2SeqLSTM):
    """The SCAN LSTM, noting whether each call was teacher-forced."""

    def __init__(self, task: ScanTask) -> None:
        torch.manual_seed(0)
        super().__init__(
            source_vocabulary_size=task.shape["source_vocabulary_size"],
            target_vocabulary_size=task.shape["target_vocabulary_size"],
            hidden_size=8,
            layers=1,
            embedding_size=4,
            dropout=0.0,
        )
        self.forced: list[bool] = []

    def forward(self, source, source_length, target, teacher_forcing):
        self.forced.append(teacher_forcing)
        return super().forward(source, source_length, target, teacher_forcing)


def coins_per_step(forced: list[bool], calls_per_step: int) -> list[set[bool]]:
    return [set(forced[i : i + calls_per_step]) for i in range(0, len(forced), calls_per_step)]


@pytest.fixture
def one_thread():
    """A tiny net: more threads only wait on each other (100x slower on a loaded machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("one_thread")
def test_mask_fits_flip_one_teacher_forcing_coin_per_batch_not_per_slice(task: ScanTask):
    config = MaskFitConfig(steps=8, batch_size=8, mask_samples_per_step=4, grad_clip=5.0)
    model = RecordingLSTM(task)
    fit_mask(model, task, "simple", config, seed=0)
    steps = coins_per_step(model.forced, 4)  # K = 4 slices a step
    assert len(steps) == 8 and all(len(coins) == 1 for coins in steps)
    assert set().union(*steps) == {True, False}  # p = 0.5: both sides come up
    model = RecordingLSTM(task)  # two fits in lockstep: 8 slices a step, one coin
    config = config.model_copy(update={"steps": 3})
    requests = [FitRequest("simple", config, 0), FitRequest("length", config, 0)]
    fit_masks(model, task, requests, vectorize=False)
    assert all(len(coins) == 1 for coins in coins_per_step(model.forced, 8))
