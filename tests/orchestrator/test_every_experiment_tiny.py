"""Every experiment of full_paper.yaml, shrunk to a few steps, through the whole pipeline.

Each experiment keeps its protocol (tasks, target functions, variants, copied masks,
baselines, transfer) but gets tiny data, tiny models, two steps and one grid point, and
runs through plan -> jobs -> stores -> report with the in-process executor. Data sets
that need files get tiny files of the official formats.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.data_files import write_cifar10_folder, write_idx, write_release
from support.sweeps import REPO

from orchestrator.cli.analyze import analyze, load_tables
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import SweepSpec, load_sweep
from workloads.data.mathematics import MODULES

pytestmark = pytest.mark.slow

FULL_PAPER = load_sweep(REPO / "configs" / "sweeps" / "full_paper.yaml")
SMALL_MODELS = {
    "fnn": lambda m: {**m, "hidden_sizes": [16] * len(m["hidden_sizes"])},
    "lstm": lambda m: {**m, "hidden_size": 16},
    "seq2seq_lstm": lambda m: {**m, "hidden_size": 16, "embedding_size": 8},
    "transformer": lambda m: {
        **m,
        "encoder_layers": 1,
        "decoder_layers": 1,
        "d_model": 16,
        "heads": 2,
        "feedforward_size": 32,
    },
    "resnet": lambda m: {**m, "blocks_per_stage": 1},
    "simple_cnn": lambda m: m,
    "planted": lambda m: m,  # already small (reproduce_cpu.yaml)
}


def data_files(root: Path) -> dict[str, str]:
    cifar = root / "cifar"
    write_cifar10_folder(cifar, [i % 10 for i in range(100)], [i % 10 for i in range(40)])
    mnist = root / "mnist"
    mnist.mkdir()
    rng = np.random.default_rng(0)
    write_idx(mnist / "train-images-idx3-ubyte", rng.integers(0, 256, (40, 28, 28)))
    write_idx(mnist / "train-labels-idx1-ubyte", np.arange(40) % 10)
    write_idx(mnist / "t10k-images-idx3-ubyte", rng.integers(0, 256, (20, 28, 28)))
    write_idx(mnist / "t10k-labels-idx1-ubyte", np.arange(20) % 10)
    mathematics = root / "mathematics"
    mathematics.mkdir()
    for module in MODULES:  # the files' questions are arithmetic; the loader does not care
        write_release(mathematics, module=module)
    return {"cifar10": str(cifar), "permuted_mnist": str(mnist), "mathematics": str(mathematics)}


def shrink(experiment: dict, files: dict[str, str]) -> dict:
    task = dict(experiment["task"])
    for field, value in (
        ("train_size", 256),
        ("validation_size", 64),
        ("tasks", 3),
        ("samples_per_difficulty", 4),
    ):
        if field in task:
            task[field] = value
    if task["name"] in files:
        task["path"] = files[task["name"]]
        if task.get("generate"):  # the small release files stand in for generated data
            task["generate"] = False
    model = SMALL_MODELS[experiment["model"]["name"]](experiment["model"])
    steps = {"steps": 2, "batch_size": 8, "log_every": 1}
    training = {**experiment["training"], **steps, "warmup_steps": 0, "lr_decay_steps": []}
    mask_fit = {**experiment["mask_fit"], **steps}
    transfer = {**experiment["transfer"], "steps_per_task": 2, "batch_size": 8, "log_every": 1}
    evaluation = {
        **experiment["evaluation"],
        "batch_size": 1024,
        "random_removal_draws": 1,
        "io_kept_inverse": False,
    }
    if experiment["model"]["name"] == "transformer" and evaluation.get("half_mask_early"):
        # the one-layer stand-in has layer 0 only
        evaluation["half_mask_early"] = ["encoder.0", "decoder.0", "output"]
    grid = {key: values[:1] for key, values in experiment["grid"].items()}
    return {
        **experiment,
        "task": task,
        "model": model,
        "training": training,
        "mask_fit": mask_fit,
        "transfer": transfer,
        "evaluation": evaluation,
        "grid": grid,
        "resources": {},
    }


@pytest.mark.parametrize("experiment", [e.name for e in FULL_PAPER.experiments])
def test_tiny_version_runs_end_to_end(experiment, settings, tmp_path):
    from orchestrator.execution.submit import submit

    files = data_files(tmp_path / "data")
    spec = next(e for e in FULL_PAPER.experiments if e.name == experiment).model_dump(mode="json")
    sweep = SweepSpec.model_validate({"name": "tiny", "experiments": [shrink(spec, files)]})
    plan = plan_sweep(sweep)
    summary = submit(plan, settings, "local")
    assert summary.ok, [f.error for f in summary.failed]
    tables = load_tables(settings, "tiny")
    assert set(tables["runs"]["status"]) == {"done"} and len(tables["runs"]) == len(plan.jobs)
    kinds = {job.kind for job in plan.jobs}
    if "evaluate" in kinds:
        assert not tables["evaluations"].empty
    if "fit" in kinds:
        assert not tables["mask_layers"].empty
    if "transfer" in kinds:
        assert not tables["transfer_sharing"].empty
    if "evaluate" in kinds and spec["task"]["name"] == "addmul":
        assert not tables["op_confusion"].empty
    report, _ = analyze(settings, "tiny")
    assert report.is_file() and (report.parent / "report.html").is_file()
    text = report.read_text()
    if not tables["mask_sharing"].empty:
        assert "Shared proportion per layer" in text
    if "transfer" in kinds:
        assert "transfer sharing" in text
