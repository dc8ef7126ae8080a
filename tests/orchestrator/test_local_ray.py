"""The in-process Ray: a taken dashboard port is no crash, two drivers run at once with the
dashboard on, and nothing of it listens beyond loopback."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from mlflow.tracking import MlflowClient
from support.ports import free_port
from support.sweep_processes import environment, write_sweep
from support.sweeps import REPO, tiny_sweep_data

from orchestrator.execution.local_ray import dashboard_port, dashboard_warning
from orchestrator.settings import Settings


@contextlib.contextmanager
def held_port() -> Iterator[int]:
    """A loopback port that another program listens on while the block runs."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_taken_dashboard_port_is_left_to_ray_with_one_warning_line():
    with held_port() as port:
        settings = Settings(dashboard_port=port)
        assert dashboard_port(settings) is None  # Ray takes a free one as it binds
        warning = dashboard_warning(settings, "127.0.0.1:8266")
    assert warning is not None and "\n" not in warning
    assert f"port {port} is taken" in warning and "http://127.0.0.1:8266" in warning
    assert "running without it" in dashboard_warning(settings, None)

    free = free_port()
    assert dashboard_port(Settings(dashboard_port=free)) == free
    assert dashboard_warning(Settings(dashboard_port=free), f"127.0.0.1:{free}") is None
    # the default port is never asked for outright: two drivers starting at once would race
    assert dashboard_port(Settings()) is None
    assert dashboard_warning(Settings(include_dashboard=False), None) is None


LISTENING = """
import json, sys
import ray
import psutil  # ships with ray
from orchestrator.execution.local_ray import start_local_ray
from orchestrator.settings import Settings

context, warnings = start_local_ray(Settings(dashboard_port=int(sys.argv[1]), num_cpus=1))
assert ray.get(ray.remote(lambda: 1).remote()) == 1  # a worker process is up too
addresses = []
for process in [psutil.Process(), *psutil.Process().children(recursive=True)]:
    for connection in process.net_connections(kind="inet"):
        if connection.status == psutil.CONN_LISTEN:
            addresses.append([process.name(), connection.laddr.ip, connection.laddr.port])
print(json.dumps({"url": context.dashboard_url, "warnings": warnings, "listening": addresses}))
ray.shutdown()
"""


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


@pytest.mark.slow
def test_local_ray_with_a_taken_dashboard_port_starts_and_listens_on_loopback_only():
    with held_port() as port:
        result = subprocess.run(
            [sys.executable, "-c", LISTENING, str(port)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["url"] and not report["url"].endswith(f":{port}")  # the dashboard is on
    assert len(report["warnings"]) == 1 and f"port {port} is taken" in report["warnings"][0]
    names = {name for name, _, _ in report["listening"]}
    assert {"gcs_server", "raylet"} <= names, report["listening"]
    wide = [entry for entry in report["listening"] if not is_loopback(entry[1])]
    assert wide == []


@pytest.mark.slow
def test_two_submits_at_once_with_the_dashboard_on_both_finish(tmp_path):
    sweep_file = write_sweep(tmp_path, tiny_sweep_data("twodrivers", seeds=(1,)))
    drivers = [
        subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli", "submit", str(sweep_file)],
            env={**environment(tmp_path / name), "ORCHESTRATOR_INCLUDE_DASHBOARD": "true"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("first", "second")
    ]
    outputs = [driver.communicate(timeout=600) for driver in drivers]
    for driver, (out, err) in zip(drivers, outputs, strict=True):
        assert driver.returncode == 0, err[-3000:]
        assert "Traceback" not in out + err and "Ray dashboard" in out + err
    for name in ("first", "second"):
        client = MlflowClient(f"sqlite:///{tmp_path / name / 'mlflow.db'}")
        experiment = client.get_experiment_by_name("twodrivers")
        runs = client.search_runs([experiment.experiment_id], "tags.kind = 'submission'")
        assert [run.info.status for run in runs] == ["FINISHED"]


RACED = """
import sys
import ray
import orchestrator.execution.local_ray as local_ray
from orchestrator.settings import Settings

# the race: the port was free when looked at, taken by the time Ray binds it
local_ray.dashboard_port = lambda settings: settings.dashboard_port
context, warnings = local_ray.start_local_ray(Settings(dashboard_port=int(sys.argv[1]), num_cpus=1))
assert ray.get(ray.remote(lambda: 7).remote()) == 7
print(context.dashboard_url, *warnings, sep="\\n")
ray.shutdown()
"""


@pytest.mark.slow
def test_a_dashboard_port_taken_as_ray_binds_it_means_no_dashboard_and_a_warning():
    with held_port() as port:
        result = subprocess.run(
            [sys.executable, "-c", RACED, str(port)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    url, warning = result.stdout.strip().splitlines()[-2:]
    assert url == "None" and f"port {port} is taken" in warning and "running without it" in warning
