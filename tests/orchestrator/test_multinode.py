"""A sweep on a real two-node Ray cluster that `orchestrator submit` joins via RAY_ADDRESS.

Both nodes run on this host as `ray start` processes without this repository on their
PYTHONPATH: the driver ships the code and settings in its runtime env. Custom resources
pin train jobs to the head and evaluations to the second node; the second node declares
one GPU, so mask fits asking for `gpus: 0.25` land there and share it four at a time, on
the CPU because torch sees no CUDA device.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from support.ray_nodes import node_environment, start_cluster
from support.sweeps import REPO, tiny_sweep_data

from orchestrator.cli.analyze import load_tables
from orchestrator.settings import Settings

SWEEP = "multinode"


def sweep_data() -> dict:
    data = tiny_sweep_data(SWEEP, seeds=(1, 2))
    experiment = data["experiments"][0]
    experiment["mask_fit"]["steps"] = 300  # long enough for four fits to overlap
    experiment["resources"] = {
        "train": {"cpus": 1, "custom": {"head_node": 0.001}},
        "fit": {"cpus": 0.25, "gpus": 0.25},
        "evaluate": {"cpus": 1, "custom": {"second_node": 0.001}},
        "fits_per_job": 1,  # packing by fractional GPUs: one fit per process
    }
    return data


@pytest.fixture(scope="module")
def cluster_sweep(tmp_path_factory):
    """Start two nodes, submit the sweep from a separate driver process, stop the nodes."""
    folder = tmp_path_factory.mktemp("multinode")
    started = time.monotonic()
    ray_temp = Path(tempfile.mkdtemp(prefix="ray"))  # short: Ray's socket paths are limited
    address, nodes = start_cluster(ray_temp, second_node_gpus=1)
    cluster_up = time.monotonic()
    try:
        path = folder / "sweep.yaml"
        path.write_text(yaml.safe_dump(sweep_data()))
        env = {
            **node_environment(),
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
            "RAY_ADDRESS": address,
            "ORCHESTRATOR_WORKSPACE": str(folder / "ws"),
        }
        driver = subprocess.run(
            [sys.executable, "-m", "orchestrator.cli", "submit", str(path)],
            env=env,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=400,
        )
    finally:
        for node in nodes:
            node.stop()
        shutil.rmtree(ray_temp, ignore_errors=True)
    print(
        f"cluster up in {cluster_up - started:.0f} s, sweep in {time.monotonic() - cluster_up:.0f} s"
    )
    assert driver.returncode == 0, driver.stdout + driver.stderr
    tables = load_tables(Settings(workspace=folder / "ws").resolved(), SWEEP)
    print(tables["runs"].groupby(["node", "kind"])["duration_s"].describe()[["count", "mean"]])
    return tables, driver.stdout


def test_submit_joins_the_cluster_and_every_job_finishes(cluster_sweep):
    tables, output = cluster_sweep
    assert "10 done, 0 failed" in output.replace("\n", " ")
    runs = tables["runs"]
    assert len(runs) == 10 and set(runs["status"]) == {"done"}
    # per seed: base x 3 functions + 3 masks x 3 functions x (mask, inverted, I/O-kept
    # inverse, 3 random draws x 2)
    assert len(tables["evaluations"]) == 2 * (3 + 3 * 3 * (3 + 3 * 2))


def test_custom_resources_pin_job_kinds_to_nodes(cluster_sweep):
    runs = cluster_sweep[0]["runs"]
    nodes = runs.groupby("kind")["node"].unique()
    (head,) = nodes["train"]
    (second,) = set(nodes["fit"]) | set(nodes["evaluate"])
    assert head != second
    # two Ray nodes on one host: same host name, different Ray node ids
    assert head.split("/")[0] == second.split("/")[0] and len(head.split("/")[1]) == 56


def test_fits_share_the_declared_gpu_four_at_a_time(cluster_sweep):
    runs = cluster_sweep[0]["runs"]
    fits = runs[runs["kind"] == "fit"]
    events = sorted(
        [(start, 1) for start in fits["started_at"]] + [(end, -1) for end in fits["finished_at"]]
    )
    running, most = 0, 0
    for _, change in events:
        running += change
        most = max(most, running)
    assert most == 4  # 1 GPU / 0.25: Ray never starts a fifth, and four did run together
