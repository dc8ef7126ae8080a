"""The Mathematics Dataset task: released-format files, splits, tokens, generation."""

from __future__ import annotations

import importlib.util
import re

import pytest
import torch
from pydantic import ValidationError
from support.data_files import MODULE, REPEATED, write_release

from workloads.data.mathematics import VOCABULARY, MathematicsConfig, split
from workloads.data.seq2seq import EOS
from workloads.models.transformer import TransformerConfig


def config(tmp_path, **overrides) -> MathematicsConfig:
    return MathematicsConfig(
        module=MODULE, path=str(tmp_path), samples_per_difficulty=4, **overrides
    )


def decode_rows(examples, key: str) -> list[str]:
    return ["".join(VOCABULARY.decode(row.tolist())) for row in examples[key]]


def test_released_files_give_test_sets_of_the_asked_size_never_trained_on(tmp_path):
    write_release(tmp_path)
    task = config(tmp_path).build()
    assert task.target_functions == ("all", "easy", "medium", "hard")
    tested = set()
    for difficulty in ("easy", "medium", "hard"):
        questions = decode_rows(task.eval_examples(difficulty), "source")
        assert len(questions) == len(set(questions)) == 4
        tested.update(questions)
    assert len(tested) == 12  # distinct across files too
    trained = decode_rows(task.train_examples("all"), "source")
    assert not tested & set(trained)
    # 3 files x 13 pairs, minus the 12 test pairs and their copies in other files
    expected = 39 - 12 - (2 if REPEATED in tested else 0)
    assert len(trained) == expected


def test_easy_trains_on_easy_only_and_all_evaluates_on_the_hard_test(tmp_path):
    write_release(tmp_path)
    task = config(tmp_path).build()
    easy = decode_rows(task.train_examples("easy"), "source")
    assert all(int(q.split()[2]) < 100 for q in easy)
    all_test = task.eval_examples("all")
    hard_test = task.eval_examples("hard")
    assert torch.equal(all_test["source"], hard_test["source"])
    hard = [q for q in decode_rows(hard_test, "source") if q != REPEATED]
    assert len(hard) >= 3 and all(int(q.split()[2]) >= 1000 for q in hard)


def test_characters_are_tokens_and_answers_round_trip(tmp_path):
    write_release(tmp_path)
    task = config(tmp_path).build()
    examples = task.train_examples("medium")
    questions = decode_rows(examples, "source")
    answers = decode_rows(examples, "target")
    for question, answer in zip(questions, answers, strict=True):
        a, b = (int(x) for x in re.findall(r"\d+", question))
        assert int(answer) == a + b
    first = examples["source"][0]
    assert int(examples["source_length"][0]) == len(questions[0]) + 1
    assert int(first[len(questions[0])]) == EOS
    assert task.shape["source_vocabulary_size"] == task.shape["target_vocabulary_size"] == 98


def test_the_test_draw_repeats_with_its_seed_and_changes_with_another():
    pairs = {d: [(f"{d} {i}", str(i)) for i in range(50)] for d in ("easy", "medium", "hard")}
    assert split(pairs, 5, seed=3) == split(pairs, 5, seed=3)
    assert split(pairs, 5, seed=3)[1] != split(pairs, 5, seed=4)[1]


def test_a_tied_transformer_trains_a_step_on_the_task(tmp_path):
    write_release(tmp_path)
    task = config(tmp_path).build()
    model = TransformerConfig(
        encoder_layers=1,
        decoder_layers=1,
        d_model=16,
        heads=2,
        feedforward_size=32,
        tie_output=True,
    ).build(task)
    batch = task.train_examples("all")
    result = task.step(model, batch, train=True)
    result.loss.backward()
    assert result.correct.shape == (batch["source"].shape[0],)
    assert torch.isfinite(result.loss)


def test_missing_source_says_which_files_or_package(tmp_path):
    with pytest.raises(ValidationError, match=r"train-easy/algebra__linear_1d\.txt.*generate"):
        MathematicsConfig(module="algebra__linear_1d")
    with pytest.raises(FileNotFoundError, match=r"train-easy/arithmetic__add_or_sub\.txt"):
        config(tmp_path).build()
    with pytest.raises(ValidationError, match="module"):
        MathematicsConfig(module="algebra__linear_2d", path=str(tmp_path))


def test_too_few_questions_for_the_test_draw_is_a_clear_error(tmp_path):
    write_release(tmp_path, pairs_per_difficulty=2)
    with pytest.raises(ValueError, match="samples_per_difficulty=4"):
        config(tmp_path).build()


@pytest.mark.skipif(
    importlib.util.find_spec("mathematics_dataset") is None,
    reason="mathematics-dataset not installed (pip install 'modularity-sweeps[mathematics]')",
)
def test_generated_questions_parse_and_answer_right():
    generated = MathematicsConfig(
        module=MODULE, generate=True, generated_per_difficulty=30, samples_per_difficulty=5
    )
    task = generated.build()
    again = generated.build()
    assert torch.equal(task.train_examples("all")["source"], again.train_examples("all")["source"])
    for target in ("easy", "hard"):
        examples = task.eval_examples(target)
        questions = decode_rows(examples, "source")
        answers = decode_rows(examples, "target")
        assert len(questions) == 5
        for question, answer in zip(questions, answers, strict=True):
            numbers = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", question)]
            assert numbers, question
            # add_or_sub: the answer is the sum or a difference of the two numbers
            a, b = numbers[-2:]
            assert any(abs(float(answer) - v) < 1e-6 for v in (a + b, a - b, b - a)), question
