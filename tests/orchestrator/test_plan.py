"""Plans: deterministic ids; a changed field changes only the jobs it reaches."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from support.sweeps import tiny_sweep_data

from orchestrator.cli import main
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import SweepSpec
from orchestrator.tracking.tracker import flatten


def plan_of(data: dict):
    return plan_sweep(SweepSpec.model_validate(data))


def ids_by_kind(plan) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {"train": set(), "fit": set(), "evaluate": set()}
    for job in plan.jobs:
        kinds[job.kind].add(job.id)
    return kinds


def test_plan_has_train_fit_and_evaluate_jobs_with_dependencies():
    plan = plan_of(tiny_sweep_data(seeds=(1, 2)))
    by_id = plan.by_id()
    assert plan.counts() == {"addmul_ff": {"train": 2, "fit": 6, "evaluate": 2}}
    for job in plan.jobs:
        for dependency in job.depends_on:
            assert plan.jobs.index(by_id[dependency]) < plan.jobs.index(job)  # topological order
        if job.kind == "fit":
            assert by_id[job.depends_on[0]].kind == "train"
            assert by_id[job.depends_on[0]].seed == job.seed


def test_same_file_gives_same_ids():
    assert [j.id for j in plan_of(tiny_sweep_data()).jobs] == [
        j.id for j in plan_of(tiny_sweep_data()).jobs
    ]


def test_changing_mask_lr_changes_fits_and_evaluations_only():
    before = ids_by_kind(plan_of(tiny_sweep_data()))
    data = tiny_sweep_data()
    data["experiments"][0]["mask_fit"]["learning_rate"] = 0.05
    after = ids_by_kind(plan_of(data))
    assert after["train"] == before["train"]
    assert not (after["fit"] & before["fit"])
    assert not (after["evaluate"] & before["evaluate"])


def test_adding_a_seed_keeps_existing_ids():
    before = {j.id for j in plan_of(tiny_sweep_data(seeds=(1,))).jobs}
    after = {j.id for j in plan_of(tiny_sweep_data(seeds=(1, 2))).jobs}
    assert before < after and len(after) == 2 * len(before)


def test_grid_over_mask_settings_shares_the_base_model():
    data = tiny_sweep_data(seeds=(1,))
    data["experiments"][0]["grid"]["mask_fit.regularization_weight"] = [1e-4, 1e-3]
    plan = plan_of(data)
    assert plan.counts()["addmul_ff"] == {"train": 1, "fit": 6, "evaluate": 2}


def test_plan_json_lists_every_job(tmp_path, capsys):
    import json

    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(tiny_sweep_data()))
    assert main(["plan", str(path), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["jobs"]
    assert len(rows) == 10 and {r["kind"] for r in rows} == {"train", "fit", "evaluate"}
    assert {r["varying"].get("target_function") for r in rows if r["kind"] == "fit"} == {
        "all",
        "add",
        "mul",
    }


@settings(max_examples=25, deadline=None)
@given(seeds=st.lists(st.integers(0, 1000), min_size=1, max_size=5, unique=True))
def test_ids_are_unique_and_counts_follow_the_grid(seeds):
    plan = plan_of(tiny_sweep_data(seeds=tuple(seeds)))
    assert len({j.id for j in plan.jobs}) == len(plan.jobs) == 5 * len(seeds)


def test_official_clipping_is_off_by_default_and_recorded_in_fit_configs_and_ids():
    before = plan_of(tiny_sweep_data(seeds=(1,)))
    fits = [job for job in before.jobs if job.kind == "fit"]
    assert all(not job.config.mask_fit.clip_includes_frozen_gradients for job in fits)
    assert flatten(fits[0].config.as_data())["mask_fit.clip_includes_frozen_gradients"] == "false"
    data = tiny_sweep_data(seeds=(1,))
    data["experiments"][0]["mask_fit"]["clip_includes_frozen_gradients"] = True
    after = ids_by_kind(plan_of(data))
    assert after["train"] == ids_by_kind(before)["train"]
    assert not (after["fit"] & ids_by_kind(before)["fit"])


def test_differs_from_paper_and_pipeline_check_reach_job_experiments_without_changing_ids(
    tmp_path,
):
    from orchestrator.stores.control import save_plan
    from orchestrator.stores.results import read_table
    from orchestrator.stores.store import open_store

    data = tiny_sweep_data()
    described = {**data["experiments"][0], "differs_from_paper": "4x16", "pipeline_check": True}
    plan = plan_of({**data, "experiments": [described]})
    assert [j.id for j in plan.jobs] == [j.id for j in plan_of(data).jobs]
    store = open_store(tmp_path.as_uri())
    save_plan(store, plan)
    rows = read_table(store, plan.sweep, "job_experiments").to_pandas()
    assert len(rows) == len(plan.jobs)
    assert set(rows["differs_from_paper"]) == {"4x16"} and rows["pipeline_check"].all()
