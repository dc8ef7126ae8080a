"""The Ray a driver starts in its own process: loopback only, a free dashboard port, no secrets.

- Loopback only: Ray binds its servers (GCS, raylet, workers, agents) to the node's address,
  which it takes from the network unless Ray clusters are switched off; then it is
  127.0.0.1 and nothing of this Ray is reachable from another machine.
- Several drivers on one host each start their own Ray. The dashboard port is the one
  thing they would share: a taken port means Ray looks for a free one above 8265, or, if
  that fails too, no dashboard; either way the driver says so in one line.
- Workers are children of this Ray's raylet and inherit the driver's environment, so no
  variable goes in the runtime env (Ray writes that to its session logs in clear text).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from typing import Any

from orchestrator.settings import Settings

# Ray resolves the node address to loopback when clusters are off (the Windows/macOS default).
CLUSTERS_VARIABLE = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
DEFAULT_DASHBOARD_PORT = 8265


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (Ray's own test, SO_REUSEADDR set)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def dashboard_port(settings: Settings) -> int | None:
    """The port to ask Ray for; None lets Ray take the first free one from 8265 up.

    Ray checks that port as its dashboard binds it, so two drivers starting at the same
    moment never ask for the same one; a port set explicitly is asked for while it is free.
    """
    port = settings.dashboard_port
    if port == DEFAULT_DASHBOARD_PORT or not port_is_free(settings.dashboard_host, port):
        return None
    return port


def dashboard_warning(settings: Settings, url: str | None) -> str | None:
    """A line for the user when the dashboard is not where the settings put it."""
    if (
        not settings.include_dashboard
        or url == f"{settings.dashboard_host}:{settings.dashboard_port}"
    ):
        return None
    where = f"it is at http://{url}" if url else "running without it"
    return (
        f"warning: Ray dashboard port {settings.dashboard_port} is taken (another driver or "
        f"program); {where} (ORCHESTRATOR_DASHBOARD_PORT sets the port)"
    )


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """While Ray starts: its processes (children, which inherit the variable) and this one
    take 127.0.0.1 as the node address."""
    from ray._private import ray_constants

    previous_variable, previous_constant = (
        os.environ.get(CLUSTERS_VARIABLE),
        ray_constants.ENABLE_RAY_CLUSTER,
    )
    os.environ[CLUSTERS_VARIABLE] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = previous_constant
        if previous_variable is None:
            os.environ.pop(CLUSTERS_VARIABLE, None)
        else:
            os.environ[CLUSTERS_VARIABLE] = previous_variable


def start_local_ray(settings: Settings) -> tuple[Any, list[str]]:
    """`ray.init` for an in-process Ray: (its context, warning lines for the user)."""
    import ray

    options: dict[str, Any] = {
        "num_cpus": settings.num_cpus,
        "num_gpus": settings.num_gpus,
        "log_to_driver": False,
        "include_dashboard": settings.include_dashboard,
    }
    if settings.include_dashboard:
        options.update(
            dashboard_host=settings.dashboard_host, dashboard_port=dashboard_port(settings)
        )
    with loopback_only():
        try:
            context = ray.init(**options)
        except Exception as error:  # the port was taken between our look and Ray's bind
            if not settings.include_dashboard or "dashboard" not in str(error).lower():
                raise
            ray.shutdown()
            context = ray.init(**{**options, "include_dashboard": False})
    warning = dashboard_warning(settings, context.dashboard_url or None)
    return context, [warning] if warning else []
