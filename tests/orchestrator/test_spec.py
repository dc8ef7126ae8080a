"""Sweep files: valid ones load; each kind of bad input names file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.cli import main
from orchestrator.errors import SpecError
from orchestrator.sweep.spec import ExperimentSpec, SweepSpec, load_sweep

VALID = """\
name: demo
experiments:
  - name: addmul_ff
    task: {name: addmul, train_size: 1000}
    model:
      name: fnn
      hidden_sizes: [8, 8]
    mask_fit:
      steps: 5
    grid:
      seed: [1, 2, 3]
"""


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("name", ["sweeps/smoke.yaml", "sweeps/addmul_ff.yaml"])
def test_shipped_sweep_files_validate(name, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    sweep = load_sweep(name)
    assert sweep.experiments


def test_valid_file_loads_with_defaults(tmp_path):
    sweep = load_sweep(write(tmp_path, VALID))
    experiment = sweep.experiments[0]
    assert experiment.model.hidden_sizes == [8, 8]
    assert experiment.mask_fit.initial_logit == 2.0
    assert experiment.target_functions() == ["all", "add", "mul"]
    assert len(experiment.grid_points()) == 3


def expect_error(path: Path, line: int, field: str, words: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_sweep(path)
    error = caught.value
    assert error.file == str(path)
    assert error.line == line, str(error)
    assert error.field == field, str(error)
    assert words in error.message, str(error)
    return error


def test_unknown_key_names_file_line_field_and_valid_fields(tmp_path):
    path = write(tmp_path, VALID.replace("hidden_sizes: [8, 8]", "hidden_size: [8, 8]"))
    error = expect_error(path, 7, "experiments[0].model.hidden_size", "unknown field")
    assert "hidden_sizes" in error.message


def test_wrong_type_is_rejected(tmp_path):
    path = write(tmp_path, VALID.replace("steps: 5", "steps: five"))
    expect_error(path, 9, "experiments[0].mask_fit.steps", "integer")


def test_empty_grid_is_rejected(tmp_path):
    path = write(tmp_path, VALID.replace("seed: [1, 2, 3]", "seed: []"))
    expect_error(path, 10, "experiments[0].grid", "empty")


def test_unknown_task_name_lists_valid_tasks(tmp_path):
    path = write(tmp_path, VALID.replace("name: addmul,", "name: addition,"))
    error = expect_error(path, 4, "experiments[0].task", "unknown or missing task")
    assert "addmul" in error.message


def test_unknown_model_name_is_rejected(tmp_path):
    path = write(tmp_path, VALID.replace("name: fnn", "name: mlp"))
    expect_error(path, 5, "experiments[0].model", "unknown or missing model")


def test_unknown_target_function_is_rejected(tmp_path):
    path = write(
        tmp_path, VALID.replace("steps: 5", "steps: 5\n      target_functions: [add, sub]")
    )
    error = expect_error(path, 3, "experiments[0]", "sub")
    assert "add, mul" in error.message


def test_bad_grid_value_names_the_grid_key(tmp_path):
    path = write(tmp_path, VALID.replace("seed: [1, 2, 3]", "mask_fit.steps: [5, -1]"))
    error = expect_error(path, 11, "experiments[0].grid.mask_fit.steps", "-1")
    assert "greater than 0" in error.message


def test_unknown_grid_field_is_rejected(tmp_path):
    path = write(tmp_path, VALID.replace("seed: [1, 2, 3]", "seeds: [1, 2]"))
    expect_error(path, 10, "experiments[0].grid", "not a field")


def test_include_composes_experiments_from_other_files(tmp_path):
    write(tmp_path, VALID, "part.yaml")
    second = VALID.replace("name: demo", "name: other").replace("name: addmul_ff", "name: second")
    write(tmp_path, second, "second.yaml")
    path = write(tmp_path, "name: all\ninclude: [part.yaml, second.yaml]\n")
    sweep = load_sweep(path)
    assert [e.name for e in sweep.experiments] == ["addmul_ff", "second"]


def test_error_in_included_file_names_that_file(tmp_path):
    part = write(tmp_path, VALID.replace("steps: 5", "steps: five"), "part.yaml")
    path = write(tmp_path, "name: all\ninclude: [part.yaml]\n")
    with pytest.raises(SpecError) as caught:
        load_sweep(path)
    assert caught.value.file == str(part) and caught.value.line == 9


def test_include_cycle_is_rejected(tmp_path):
    write(tmp_path, "name: a\ninclude: [b.yaml]\n", "a.yaml")
    write(tmp_path, "name: b\ninclude: [a.yaml]\n", "b.yaml")
    with pytest.raises(SpecError, match="include cycle"):
        load_sweep(tmp_path / "a.yaml")


def test_duplicate_experiment_names_are_rejected(tmp_path):
    write(tmp_path, VALID, "part.yaml")
    write(tmp_path, VALID, "copy.yaml")
    path = write(tmp_path, "name: all\ninclude: [part.yaml, copy.yaml]\n")
    with pytest.raises(SpecError, match="unique"):
        load_sweep(path)


def test_yaml_is_loaded_safely(tmp_path):
    path = write(
        tmp_path, "name: !!python/object/apply:os.system ['echo owned']\nexperiments: []\n"
    )
    with pytest.raises(SpecError, match="not valid YAML"):
        load_sweep(path)


def test_cli_exits_2_with_one_line_for_bad_input(tmp_path, capsys):
    path = write(tmp_path, VALID.replace("hidden_sizes", "hidden_sizez"))
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}:7" in err and "Traceback" not in err


def test_cli_missing_file_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["plan", "sweeps/none.yaml"]) == 2
    assert "not found" in capsys.readouterr().err


def test_sweep_file_is_found_under_configs(tmp_path, monkeypatch):
    (tmp_path / "configs" / "sweeps").mkdir(parents=True)
    write(tmp_path / "configs" / "sweeps", VALID, "mine.yaml")
    monkeypatch.chdir(tmp_path)
    assert load_sweep("sweeps/mine.yaml").name == "demo"


@settings(max_examples=30, deadline=None)
@given(
    seeds=st.lists(st.integers(0, 10**6), min_size=1, max_size=4, unique=True),
    steps=st.lists(st.integers(1, 100), min_size=1, max_size=3, unique=True),
)
def test_grid_expands_to_the_cross_product(seeds, steps):
    data = yaml.safe_load(VALID)
    data["experiments"][0]["grid"] = {"seed": seeds, "mask_fit.steps": steps}
    experiment = SweepSpec.model_validate(data).experiments[0]
    points = experiment.grid_points()
    assert len(points) == len(seeds) * len(steps)
    assert {(p["seed"], p["mask_fit.steps"]) for p in points} == {
        (a, b) for a in seeds for b in steps
    }
    assert isinstance(experiment, ExperimentSpec)


def test_unknown_role_stops_plan_with_one_line_listing_the_roles(tmp_path, capsys):
    path = write(
        tmp_path, VALID.replace("  - name: addmul_ff\n", "  - name: addmul_ff\n    role: main\n")
    )
    error = expect_error(path, 4, "experiments[0].role", "Input should be")
    assert "'addmul'" in error.message and "'beta_sweep'" in error.message
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "experiments[0].role" in err


def test_role_does_not_change_job_ids(tmp_path):
    from orchestrator.planning.plan import plan_sweep

    plain = plan_sweep(load_sweep(write(tmp_path, VALID)))
    with_role = VALID.replace("  - name: addmul_ff\n", "  - name: addmul_ff\n    role: addmul\n")
    declared = plan_sweep(load_sweep(write(tmp_path, with_role, "role.yaml")))
    assert [j.id for j in plain.jobs] == [j.id for j in declared.jobs]
    assert {j.role for j in declared.jobs} == {"addmul"}
