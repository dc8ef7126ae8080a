"""One tiny end-to-end sweep per experiment family, through the local executor, MLflow
(SQLite) and the Parquet tables: double addition (copyweight, first full mask, half
mask), SCAN (a baseline trained on a split, split masks, `mask_rows`) and CIFAR-10 (the
output mask frozen from the control, `confusions`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from support.sweeps import REPO

from orchestrator.cli.analyze import load_tables
from orchestrator.execution.submit import submit
from orchestrator.planning.plan import plan_sweep
from orchestrator.stores.store import open_store
from orchestrator.sweep.spec import SweepSpec
from workloads.checkpoint import tensors_from_bytes
from workloads.data.double_add import DoubleAddConfig, copy_pair_weights
from workloads.evaluate import evaluate
from workloads.models.fnn import FeedforwardConfig


def run(data: dict, settings):
    plan = plan_sweep(SweepSpec.model_validate(data))
    summary = submit(plan, settings, "local")
    assert summary.ok, [outcome.error for outcome in summary.failed]
    return plan, load_tables(settings, data["name"])


def stored_tensors(settings, plan, job_id: str, name: str) -> dict[str, torch.Tensor]:
    store = open_store(settings.artifact_root)
    return tensors_from_bytes(store.get_bytes(f"{plan.sweep}/jobs/{job_id}/{name}"))


def double_add_experiment(name: str, **changes) -> dict:
    experiment = {
        "name": name,
        "task": {"name": "double_add", "train_size": 1000, "validation_size": 100},
        "model": {"name": "fnn", "hidden_sizes": [16, 16]},
        "training": {"steps": 30, "learning_rate": 0.003, "log_every": 10},
        "mask_fit": {"steps": 6, "log_every": 3, "batch_size": 32},
        "evaluation": {"batch_size": 256},
        "seed": 1,
    }
    for section, values in changes.items():
        experiment[section] = {**experiment.get(section, {}), **values}
    return experiment


def test_copyweight_shares_the_base_model_of_the_plain_experiment():
    data = {
        "name": "double_add_plan",
        "experiments": [
            double_add_experiment("plain"),
            double_add_experiment("copyweight", mask_fit={"before_masking": "copy_pair_weights"}),
        ],
    }
    plan = plan_sweep(SweepSpec.model_validate(data))
    # the copyweight control changes the model after training, so training is shared: one
    # train job serves both experiments (and counts under each)
    (train,) = [job for job in plan.jobs if job.kind == "train"]
    assert [a.experiment for a in train.attributions()] == ["plain", "copyweight"]
    assert plan.counts()["copyweight"] == {"train": 1, "fit": 3, "evaluate": 1}


def test_double_add_copyweight_with_first_full_mask_and_half_mask(settings):
    data = {
        "name": "double_add_tiny",
        "experiments": [
            double_add_experiment(
                "copyweight",
                mask_fit={"before_masking": "copy_pair_weights"},
                evaluation={
                    "variants": ["first_full_mask", "half_mask"],
                    "half_mask_rounding": "floor",
                },
            )
        ],
    }
    plan, tables = run(data, settings)
    evaluations = tables["evaluations"]
    counts = evaluations.groupby("mask_variant").size().to_dict()
    # 3 functions each: base; 3 masks x (mask, inverted, I/O-kept inverse, 3 random draws
    # x (random removal, its I/O-kept form)); first_full for pair1 and pair2; half_early
    # and half_late of the control mask
    assert counts == {
        "none": 3,
        "mask": 9,
        "inverted": 9,
        "inverted_io_kept": 9,
        "random_removal": 27,
        "random_removal_io_kept": 27,
        "first_full_inverted": 6,
        "half_early": 3,
        "half_late": 3,
    }
    first_full = evaluations[evaluations["mask_variant"] == "first_full_inverted"]
    assert set(first_full["mask_target"]) == {"pair1", "pair2"}
    half = evaluations[evaluations["mask_variant"].str.startswith("half")]
    assert set(half["mask_target"]) == {"all"}
    # the evaluated base model is the trained one with pair 1's I/O weights copied
    train = next(job for job in plan.jobs if job.kind == "train")
    task = DoubleAddConfig.model_validate(train.config.task.model_dump()).build()
    model = FeedforwardConfig(hidden_sizes=[16, 16]).build(task)
    model.load_state_dict(stored_tensors(settings, plan, train.id, "model.safetensors"))
    unchanged = evaluate(model, task, "pair1").loss
    copy_pair_weights(model)
    base = evaluations[evaluations["mask_variant"] == "none"].set_index("evaluated_function")
    assert base.loc["pair1", "loss"] == pytest.approx(evaluate(model, task, "pair1").loss)
    assert base.loc["pair1", "loss"] != pytest.approx(unchanged)
    assert tables["confusions"].empty and tables["mask_rows"].empty


@pytest.mark.slow
def test_scan_baseline_on_a_split_and_split_masks_with_mask_rows(settings):
    model = {"name": "seq2seq_lstm", "hidden_size": 12, "layers": 1, "embedding_size": 8}
    training = {"steps": 10, "batch_size": 32, "grad_clip": 5.0, "log_every": 5}
    data = {
        "name": "scan_tiny",
        "experiments": [
            {
                "name": "scan_lstm",
                "task": {"name": "scan"},
                "model": model,
                "training": training,
                "mask_fit": {
                    "target_functions": ["simple", "addprim_jump"],
                    "steps": 3,
                    "batch_size": 16,
                    "log_every": 3,
                },
                "evaluation": {"batch_size": 2048},
                "seed": 1,
            },
            {
                "name": "scan_lstm_baseline",
                "task": {"name": "scan"},
                "model": model,
                "training": {**training, "target_function": "addprim_jump"},
                "mask_fit": {"target_functions": []},
                "evaluation": {"batch_size": 2048},
                "seed": 1,
            },
        ],
    }
    plan, tables = run(data, settings)
    assert plan.counts()["scan_lstm_baseline"] == {"train": 1, "fit": 0, "evaluate": 1}
    evaluations = tables["evaluations"]
    baseline = evaluations[evaluations["experiment"] == "scan_lstm_baseline"]
    assert set(baseline["mask_variant"]) == {"none"} and len(baseline) == 5  # every split
    masked = evaluations[evaluations["experiment"] == "scan_lstm"]
    # 5 splits x (base + 2 masks x (mask, inverted, I/O-kept inverse, 3 random draws x 2))
    assert len(masked) == 5 * (1 + 2 * 9)
    rows = tables["mask_rows"]
    assert len(rows) == 2 * 7  # masks x target rows (EOS and 6 actions; never PAD or SOS)
    assert set(rows["layer"]) == {"output.weight"} and (rows["total"] == 12).all()
    assert "I_JUMP" in set(rows["token"])
    control = rows[rows["mask_target"] == "simple"]
    assert (control["kept_and_control"] == control["kept"]).all()
    jump = rows[rows["mask_target"] == "addprim_jump"]
    assert (jump["kept_and_control"] <= jump[["kept"]].min(axis=1)).all()


def write_cifar10_folder(folder: Path, train_labels: list[int], test_labels: list[int]) -> None:
    """The official-format writer of tests/workloads/test_image_files.py."""
    spec = importlib.util.spec_from_file_location(
        "image_file_writers", REPO / "tests" / "workloads" / "test_image_files.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_cifar10_folder(folder, train_labels, test_labels)


@pytest.mark.slow
def test_cifar_class_removal_freezes_the_output_mask_and_writes_confusions(settings, tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10_folder(folder, [i % 10 for i in range(100)], [i % 10 for i in range(20)])
    data = {
        "name": "cifar_tiny",
        "experiments": [
            {
                "name": "cifar10_simple",
                "task": {"name": "cifar10", "path": str(folder), "evaluate_on": "test"},
                "model": {"name": "simple_cnn", "widths": [4, 4, 4, 8], "dropout": False},
                "training": {"steps": 5, "batch_size": 16, "log_every": 5},
                "mask_fit": {
                    "target_functions": ["all", "without_cat"],
                    "steps": 4,
                    "batch_size": 16,
                    "log_every": 2,
                    "mask_biases": True,
                    "learning_rate": 0.5,
                    "fixed_from_control": ["output"],
                },
                "evaluation": {"batch_size": 64},
                "seed": 1,
            }
        ],
    }
    plan, tables = run(data, settings)
    fits = {job.config.target_function: job for job in plan.jobs if job.kind == "fit"}
    assert fits["all"].id in fits["without_cat"].depends_on
    control = stored_tensors(settings, plan, fits["all"].id, "mask.safetensors")
    removal = stored_tensors(settings, plan, fits["without_cat"].id, "mask.safetensors")
    for name in ("output.weight", "output.bias"):
        assert torch.equal(removal[name], control[name])  # copied, never trained
    assert not torch.equal(removal["layer1.weight"], control["layer1.weight"])  # trained
    confusions = tables["confusions"]
    assert set(
        zip(confusions["mask_variant"], confusions["mask_target"].fillna("-"), strict=True)
    ) == {
        ("none", "-"),
        ("mask", "all"),
        ("mask", "without_cat"),
    }
    sums = confusions.groupby(["mask_target", "true_class"], dropna=False)["fraction"].sum()
    assert sums.to_numpy() == pytest.approx(1.0)
    assert len(sums) == 3 * 10  # the 20 test images cover every class
