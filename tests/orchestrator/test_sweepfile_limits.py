"""Reading sweep YAML: the shapes of bad input `test_cli_inputs.py` does not run as processes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from support.sweeps import tiny_sweep_data

from orchestrator.errors import SpecError
from orchestrator.settings import Settings
from orchestrator.sweep.spec import SweepSpec, load_sweep

EXPERIMENT = "{name: e, task: {name: addmul}, model: {name: fnn}}"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_anchors_and_merge_keys_still_work(tmp_path):
    path = write(
        tmp_path,
        "merge.yaml",
        "name: x\n"
        "experiments:\n"
        "  - &first {name: a, task: {name: addmul}, model: {name: fnn}}\n"
        "  - <<: *first\n    name: b\n    model: {name: fnn, hidden_sizes: [4]}\n",
    )
    sweep = load_sweep(path)  # a key overriding a merged one is no duplicate
    assert [e.name for e in sweep.experiments] == ["a", "b"]
    assert sweep.experiments[1].model.hidden_sizes == [4]


def test_duplicate_key_in_a_flow_mapping_is_refused(tmp_path):
    path = write(tmp_path, "dup.yaml", f"name: x\nexperiments:\n  - {EXPERIMENT[:-1]}, name: f}}\n")
    with pytest.raises(SpecError) as caught:
        load_sweep(path)
    assert (caught.value.line, caught.value.field) == (3, "experiments[0].name")


def test_alias_that_contains_itself_is_refused(tmp_path):
    path = write(tmp_path, "loop.yaml", "name: x\nloop: &a [1, *a]\nexperiments: []\n")
    with pytest.raises(SpecError, match="refers to the list or mapping it is in"):
        load_sweep(path)


def test_deep_nesting_is_refused(tmp_path):
    path = write(tmp_path, "deep.yaml", "name: x\nexperiments: " + "[" * 100 + "]" * 100 + "\n")
    with pytest.raises(SpecError, match="nested more than"):
        load_sweep(path)


def test_included_experiments_that_are_not_a_list_are_refused(tmp_path):
    write(tmp_path, "part.yaml", f"experiments: {EXPERIMENT}\n")
    main = write(
        tmp_path, "main.yaml", f"name: x\ninclude: part.yaml\nexperiments: [{EXPERIMENT}]\n"
    )
    with pytest.raises(SpecError) as caught:
        load_sweep(main)
    assert caught.value.file == str(tmp_path / "part.yaml")
    assert caught.value.field == "experiments" and "list" in caught.value.message


def test_limits_come_from_the_settings_given(tmp_path):
    data = tiny_sweep_data("limits")  # grid: 2 seeds
    path = write(tmp_path, "limits.yaml", yaml.safe_dump(data))
    assert load_sweep(path, Settings(max_grid_points=2)).experiments
    with pytest.raises(SpecError, match="ORCHESTRATOR_MAX_GRID_POINTS"):
        load_sweep(path, Settings(max_grid_points=1))
    with pytest.raises(SpecError, match="ORCHESTRATOR_MAX_SWEEP_FILE_BYTES"):
        load_sweep(path, Settings(max_sweep_file_bytes=100))
    with pytest.raises(SpecError, match="ORCHESTRATOR_MAX_YAML_NODES"):
        load_sweep(path, Settings(max_yaml_nodes=10))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4))
def test_grid_size_counts_the_points_without_building_them(lengths):
    data = tiny_sweep_data("count")
    keys = ["seed", "mask_seed", "mask_fit.steps", "training.steps"]
    data["experiments"][0]["grid"] = {
        key: list(range(1, length + 1)) for key, length in zip(keys, lengths, strict=False)
    }
    experiment = SweepSpec.model_validate(data).experiments[0]
    assert experiment.grid_size() == len(experiment.grid_points())
    assert experiment.grid_points() == list(experiment.iter_grid_points())


YAML_PIECES = st.sampled_from(
    [
        "name: x\n",
        "experiments:\n",
        "  - ",
        "{",
        "}",
        "[",
        "]",
        ": ",
        ", ",
        "&a ",
        "*a",
        "<<: ",
        "!!set ",
        "!!binary ",
        "!!timestamp ",
        "!!python/name:os.system ",
        "? ",
        "- ",
        "\n",
        "  ",
        "2001-12-14",
        "1e400",
        ".nan",
        "~",
        "'",
        '"',
        "#",
        "\t",
        "\x85",
        "\ufeff",
        "é",
        "%YAML 1.1\n",
        "---\n",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(YAML_PIECES, max_size=30).map("".join))
def test_any_text_is_a_spec_error_or_a_sweep(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_sweep(path)
    except SpecError as error:
        assert str(error).startswith(str(path))


@pytest.mark.parametrize(
    "value", ["!!int x", "!!float x", "!!timestamp 2001-13-45", "!!timestamp x"]
)
def test_a_tagged_value_its_tag_cannot_take_is_a_spec_error(tmp_path, value):
    """PyYAML raises ValueError or AttributeError for these, which was a traceback."""
    path = write(tmp_path, "tagged.yaml", f"name: x\ndescription: {value}\nexperiments: []\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_sweep(path)
