"""Running on a Ray cluster that is already up: shipping the code, checking that jobs fit.

When `RAY_ADDRESS` names a running cluster, its workers may live on machines where this
repository is not installed (they need only its dependencies). The driver therefore ships
the three packages as Ray `py_modules` and its settings as `env_vars`; Ray uploads them
once per submission and every worker of the job imports them from there. Credentials are
not among those `env_vars` (Ray logs them in clear text): workers read them from a file
only this user can read, whose path they get instead (`settings.write_worker_secrets`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import analysis
import orchestrator
import workloads
from orchestrator.errors import UserError
from orchestrator.job_types.job import Job
from orchestrator.settings import SECRETS_FILE_VARIABLE, worker_environment

PACKAGES = (orchestrator, workloads, analysis)


def joining_runtime_env(
    job_runtime_env: dict[str, Any], secrets_file: Path | None = None
) -> dict[str, Any]:
    """The runtime env a driver joining a cluster passes to `ray.init`.

    `job_runtime_env` is what Ray already gives the driver when it runs as a Ray job: a
    `working_dir` (or `py_modules`) there already ships the code, and its env vars already
    reach the workers; `ray.init` refuses to set either twice. `secrets_file` (from
    `write_worker_secrets`) is loaded by every worker as it starts.
    """
    runtime_env: dict[str, Any] = {}
    if not {"working_dir", "py_modules"} & set(job_runtime_env):
        runtime_env["py_modules"] = list(PACKAGES)
    given = job_runtime_env.get("env_vars") or {}
    env_vars = {name: value for name, value in worker_environment().items() if name not in given}
    if secrets_file is not None:
        env_vars[SECRETS_FILE_VARIABLE] = str(secrets_file)
        runtime_env["worker_process_setup_hook"] = "orchestrator.settings.load_worker_secrets"
    if env_vars:
        runtime_env["env_vars"] = env_vars
    return runtime_env


def requested_resources(job: Job) -> dict[str, float]:
    """A job's request in Ray's resource names, zero amounts left out (a search job's:
    what each of its trials asks for)."""
    wanted = {"CPU": job.resources.cpus, "GPU": job.resources.gpus, **job.resources.custom}
    if job.resources.memory_mb:
        wanted["memory"] = job.resources.memory_mb * 1024 * 1024
    return {name: amount for name, amount in wanted.items() if amount}


def check_fits(jobs: list[Job], nodes: list[dict[str, float]], autoscaling: bool) -> None:
    """Refuse a job no live node can run: Ray would keep it pending forever.

    With an autoscaler (`Settings.autoscaling`) the node that fits may simply not be up
    yet, so nothing is refused; a request no node type provides then shows as infeasible
    in `ray status` rather than here.
    """
    if autoscaling:
        return
    for job in jobs:
        wanted = requested_resources(job)
        if not any(all(node.get(n, 0) >= a for n, a in wanted.items()) for node in nodes):
            offered = [{k: v for k, v in n.items() if not k.startswith("node:")} for n in nodes]
            raise UserError(
                f"{job.kind} job {job.id} ({job.experiment}) asks for {wanted}, which no Ray node "
                f"offers (nodes: {offered}); lower the experiment's `resources`, add such a "
                "node, or set ORCHESTRATOR_AUTOSCALING=true if the cluster's autoscaler adds it"
            )
