"""Real Ray nodes for tests: `ray start --block` processes that stop only themselves.

`ray stop` stops every Ray process on the host, other people's included, so each node
runs in its own session and is stopped by signalling its own `ray start` process (which
drains and stops the node's raylet, GCS and workers), then killing whatever of that
session is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from support.ports import free_port

RAY = str(Path(sys.executable).with_name("ray"))
TEST_ENV = {
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


def node_environment() -> dict[str, str]:
    """This environment minus PYTHONPATH: workers get the code from the runtime env."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return {**env, **TEST_ENV}


class RayNode:
    """One `ray start` node; `stop()` ends it and every process of its session."""

    def __init__(self, arguments: list[str], resources: dict[str, float]) -> None:
        self.process = subprocess.Popen(
            [
                RAY,
                "start",
                *arguments,
                f"--resources={json.dumps(resources)}",
                "--object-store-memory=100000000",
                "--disable-usage-stats",
                "--block",
            ],
            env=node_environment(),
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output = []
        for line in self.process.stdout:
            output.append(line)
            if "Ray runtime started" in line:
                break
        else:
            self.stop()
            raise RuntimeError("ray start failed:\n" + "".join(output))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        session = str(self.process.pid)
        listing = subprocess.run(
            ["ps", "-e", "-o", "pid=,sid="], capture_output=True, text=True, check=True
        ).stdout
        for line in listing.splitlines():
            pid, sid = line.split()
            if sid == session:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
        self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


def start_cluster(temp_dir: Path, second_node_gpus: int) -> tuple[str, list[RayNode]]:
    """A head (1 CPU, `head_node`) and a second node (1 CPU, GPUs, `second_node`)."""
    port = free_port()
    head = RayNode(
        [
            "--head",
            f"--port={port}",
            "--node-ip-address=127.0.0.1",
            "--num-cpus=1",
            f"--temp-dir={temp_dir}",
            "--include-dashboard=false",
        ],
        {"head_node": 1},
    )
    address = f"127.0.0.1:{port}"
    try:
        second = RayNode(
            [
                f"--address={address}",
                "--node-ip-address=127.0.0.1",
                "--num-cpus=1",
                f"--num-gpus={second_node_gpus}",
            ],
            {"second_node": 1},
        )
    except RuntimeError:
        head.stop()
        raise
    return address, [second, head]
