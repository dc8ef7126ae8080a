"""Every shipped sweep file validates, and full_paper.yaml plans every experiment quickly."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.sweeps import REPO

from orchestrator.errors import SpecError
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import load_sweep

SWEEPS = sorted((REPO / "configs" / "sweeps").glob("*.yaml"))
PAPER_EXPERIMENTS = {
    "addmul_ff",
    "addmul_lstm",
    "double_add_ff",
    "double_add_ff_copyweight",
    "double_add_ff_halfmask",
    "double_add_lstm",
    "scan_lstm",
    "scan_transformer",
    "scan_lstm_baselines",
    "scan_transformer_baselines",
    "cifar10_simple",
    "cifar10_resnet",
    "mask_stability",
    "beta_sensitivity",
    "sharing_vs_size",
    "math_add_or_sub",
    "math_linear_1d",
    "math_differentiate",
    "math_sort",
    "math_poly_collect",
    "permuted_mnist_transfer",
}


@pytest.mark.parametrize("path", SWEEPS, ids=lambda path: Path(path).name)
def test_sweep_file_validates(path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(
        str(REPO / "examples" / "my_model")
    )  # example_custom.yaml's package
    sweep = load_sweep(path)
    assert sweep.experiments


def test_full_paper_plans_every_experiment() -> None:
    counts = plan_sweep(load_sweep(REPO / "configs" / "sweeps" / "full_paper.yaml")).counts()
    assert set(counts) == PAPER_EXPERIMENTS
    assert all(sum(kinds.values()) > 0 for kinds in counts.values())
    assert counts["permuted_mnist_transfer"] == {
        "train": 0,
        "fit": 0,
        "evaluate": 0,
        "transfer": 30,
    }


def test_paper_scale_counts_follow_the_master_table() -> None:
    counts = plan_sweep(load_sweep(REPO / "configs" / "sweeps" / "full_paper.yaml")).counts()
    assert counts["scan_lstm_baselines"] == {"train": 30, "fit": 0, "evaluate": 30}
    assert counts["cifar10_simple"] == {"train": 20, "fit": 20 * 11, "evaluate": 20}
    assert counts["mask_stability"]["fit"] == 10 * 10 * 2  # seeds x pairs x data orders
    # 2 sizes x 25 betas x 10 seeds; the 2 x 10 at beta 1e-4 are addmul_ff's jobs, which
    # serve both experiments
    assert counts["beta_sensitivity"]["evaluate"] == 2 * 25 * 10


def test_mask_stability_draws_its_class_pairs_per_seed() -> None:
    plan = plan_sweep(load_sweep(REPO / "configs" / "sweeps" / "mask_stability.yaml"))
    pairs: dict[int, set[tuple[str, ...]]] = {}
    for job in plan.jobs:
        if job.kind == "fit":
            pairs.setdefault(job.seed, set()).add(tuple(job.config.task.classes))
    assert sorted(pairs) == list(range(1, 11))
    assert all(len(seed_pairs) == 10 for seed_pairs in pairs.values())  # 10 pairs per seed
    assert len({frozenset(seed_pairs) for seed_pairs in pairs.values()}) == 10  # none alike
    again = plan_sweep(load_sweep(REPO / "configs" / "sweeps" / "mask_stability.yaml"))
    assert [job.id for job in again.jobs] == [job.id for job in plan.jobs]


def test_variants_without_the_control_mask_are_refused_naming_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\n"
        "experiments:\n"
        "  - name: e\n"
        "    task: {name: addmul}\n"
        "    model: {name: fnn}\n"
        "    mask_fit: {target_functions: [add, mul]}\n"
        "    evaluation: {variants: [half_mask]}\n"
    )
    with pytest.raises(SpecError, match="add 'all' to mask_fit.target_functions"):
        load_sweep(path)
