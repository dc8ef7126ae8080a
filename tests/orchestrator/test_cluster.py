"""Joining a running cluster: what the driver ships, how nodes are named, what is refused."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from support.sweeps import tiny_sweep_data

from orchestrator.errors import UserError
from orchestrator.execution.cluster import check_fits, joining_runtime_env
from orchestrator.jobs.lifecycle import node_label
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import SweepSpec


def test_joining_ships_the_three_packages_and_the_settings(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_ARTIFACT_ROOT", "s3://bucket/artifacts")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://10.0.1.20:5000")
    runtime_env = joining_runtime_env({})
    assert sorted(Path(m.__file__).parent.name for m in runtime_env["py_modules"]) == [
        "analysis",
        "orchestrator",
        "workloads",
    ]
    assert runtime_env["env_vars"]["ORCHESTRATOR_ARTIFACT_ROOT"] == "s3://bucket/artifacts"
    assert runtime_env["env_vars"]["MLFLOW_TRACKING_URI"] == "http://10.0.1.20:5000"


def test_a_ray_job_keeps_its_own_working_dir_and_env_vars(monkeypatch):
    """`ray.init` refuses a runtime env field or env var that the Ray job already sets."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://10.0.1.20:5000")
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", "/tmp/ws")
    job = {"working_dir": "gcs://_ray_pkg_abc.zip", "env_vars": {"MLFLOW_TRACKING_URI": "x"}}
    runtime_env = joining_runtime_env(job)
    assert "py_modules" not in runtime_env
    assert "MLFLOW_TRACKING_URI" not in runtime_env["env_vars"]
    assert runtime_env["env_vars"]["ORCHESTRATOR_WORKSPACE"] == "/tmp/ws"


def pinned_plan():
    data = tiny_sweep_data(seeds=(1,))
    data["experiments"][0]["resources"] = {"fit": {"cpus": 1, "custom": {"node_gpu": 0.001}}}
    return plan_sweep(SweepSpec.model_validate(data))


def test_a_request_no_live_node_offers_is_refused_unless_the_cluster_autoscales():
    nodes = [{"CPU": 4.0, "memory": 8e9}]
    with pytest.raises(UserError, match="node_gpu.*ORCHESTRATOR_AUTOSCALING"):
        check_fits(pinned_plan().jobs, nodes, autoscaling=False)
    check_fits(pinned_plan().jobs, nodes, autoscaling=True)
    check_fits(pinned_plan().jobs, [*nodes, {"CPU": 1.0, "node_gpu": 1.0}], autoscaling=False)


def test_a_job_in_ray_names_its_host_and_ray_node(ray_cluster):
    ray = ray_cluster
    label = ray.get(ray.remote(node_label).remote())
    host, node_id = label.split("/")
    assert host == socket.gethostname()
    assert node_id == ray.get_runtime_context().get_node_id()
