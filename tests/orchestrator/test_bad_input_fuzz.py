"""Random damage to a valid sweep file or to settings: a clear error or a valid plan, nothing else."""

from __future__ import annotations

import contextlib
import copy
import io
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.sweeps import tiny_sweep_data

from orchestrator.cli import main
from orchestrator.errors import UserError
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import load_sweep

WEIRD_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=12)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    WEIRD_TEXT,
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(WEIRD_TEXT, st.integers(0, 3), max_size=2),
)


def _paths(data, prefix=()):
    """Every (path) to a value inside nested dicts and lists."""
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _paths(value, (*prefix, index))


@st.composite
def damaged_sweeps(draw):
    data = copy.deepcopy(tiny_sweep_data("fuzz"))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:  # everything was deleted already
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add_key", "rename"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add_key" and isinstance(parent, dict):
            parent[draw(WEIRD_TEXT)] = draw(VALUES)
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(WEIRD_TEXT)] = parent.pop(path[-1])
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_sweeps())
def test_damaged_sweep_gives_a_user_error_or_a_valid_plan(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
        try:
            plan = plan_sweep(load_sweep(path))
        except UserError as error:
            assert str(error).startswith(str(path)) or str(path.name) in str(error)
            return
    assert plan.jobs and len({job.id for job in plan.jobs}) == len(plan.jobs)


BAD_SETTINGS = {
    "ORCHESTRATOR_DASHBOARD_PORT": st.one_of(
        WEIRD_TEXT.filter(lambda t: not t.strip().isdigit()), st.integers(65536, 10**12).map(str)
    ),
    "ORCHESTRATOR_NUM_CPUS": st.one_of(st.integers(-(10**9), 0).map(str), st.just("two")),
    "ORCHESTRATOR_NUM_GPUS": st.one_of(st.floats(max_value=-0.001).map(str), st.just("a lot")),
    "ORCHESTRATOR_LEASE_TTL_S": st.one_of(st.just("0"), st.just("-5"), st.just("soon")),
    "ORCHESTRATOR_INCLUDE_DASHBOARD": st.sampled_from(["maybe", "2", "yes please"]),
}


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(sorted(BAD_SETTINGS)).flatmap(
        lambda name: st.tuples(st.just(name), BAD_SETTINGS[name])
    )
)
def test_bad_setting_is_exit_2_with_one_line_naming_it(setting):
    name, value = setting
    if "\x00" in value:
        return  # an environment variable cannot hold NUL
    stderr = io.StringIO()
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        with contextlib.redirect_stderr(stderr):
            code = main(["status", "anything"])
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous
    text = stderr.getvalue()
    assert code == 2
    assert text.count("\n") == 1 and text.startswith("error: settings: ")
    assert name.removeprefix("ORCHESTRATOR_").lower() in text
