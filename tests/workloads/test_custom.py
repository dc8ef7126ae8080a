"""Own task and model by import path: the example package builds; bad paths say how to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from pydantic import ValidationError

from workloads.custom import CustomModelConfig, CustomTaskConfig, FactoryError, load_factory

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "my_model"
TASK = {"factory": "my_model.tasks:make_task", "targets": ["all", "first_pair", "last_pair"]}


@pytest.fixture(autouse=True)
def example_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))


def test_example_task_and_model_build_from_their_paths():
    task = CustomTaskConfig(**TASK, options={"train_size": 200, "test_size": 50}).build()
    assert task.target_functions == ("all", "first_pair", "last_pair")
    first = task.train_examples("first_pair")
    assert (first["rule"] == 0).all() and len(first["rule"]) < 200
    model = CustomModelConfig(factory="my_model.models:make_model", options={"hidden_size": 5})
    network = model.build(task)
    assert network.hidden.weight.shape == (5, 10)
    result = task.step(network, first, train=False)
    assert result.correct.shape == first["label"].shape and torch.isfinite(result.loss)


def test_missing_module_names_the_path_and_the_fix():
    with pytest.raises(ValidationError) as error:
        CustomTaskConfig(factory="not_my_model.tasks:make_task", targets=["all"])
    message = str(error.value)
    assert "task.factory 'not_my_model.tasks:make_task'" in message
    assert "cannot import module 'not_my_model.tasks'" in message and "PYTHONPATH" in message


def test_missing_function_and_malformed_path_are_rejected():
    with pytest.raises(FactoryError, match="has no attribute 'make_tsk'"):
        load_factory("my_model.tasks:make_tsk", "task.factory")
    with pytest.raises(ValidationError, match="pattern"):
        CustomModelConfig(factory="my_model.models.make_model")


def test_targets_must_match_what_the_factory_builds():
    config = CustomTaskConfig(factory=TASK["factory"], targets=["all", "first_pair"])
    with pytest.raises(ValueError, match=r"task.targets lists \['all', 'first_pair'\]"):
        config.build()


def test_a_model_factory_must_return_a_module():
    task = CustomTaskConfig(**TASK, options={"train_size": 20, "test_size": 5}).build()
    config = CustomModelConfig(factory="numpy:shape")  # returns a tuple
    with pytest.raises(TypeError, match="not a torch.nn.Module"):
        config.build(task)
