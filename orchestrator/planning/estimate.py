"""What a plan will cost: compute (CPU- and GPU-hours) and wall time on a cluster shape.

A job takes `JOB_OVERHEAD_S` (worker start, data generation, MLflow and store writes)
plus its steps divided by its model family's throughput on the device it gets; an
evaluation takes `EVALUATION_S` instead of steps. A transfer job (E7) learns an FNN's
weights and masks together for `steps_per_task` steps per task in its sequence, at the
FNN's mask-fit rate. A job that asks for GPUs uses the GPU
rate when the cluster has GPUs and the CPU rate otherwise (it falls back to the CPU as
`orchestrator.jobs.lifecycle.job_device` does). Compute is duration x the resources a job holds
(a `gpus: 0.25` fit holds a quarter of a GPU). Wall time is a lower bound: the larger of
the longest dependency chain and each resource's total demand divided by its supply.

Assumptions, to be replaced by measurements on the target hardware:
- CPU rates of `fnn` were measured on this project's 2-core machines (docs/performance.md; FNN
  4x800, batch 128, 2 threads: training 11 ms/step, one mask fit 12.6 ms/step). Every
  other number in `THROUGHPUT` is an assumption, GPU rates included.
- A job keeps its full rate while it shares a GPU with others (small models leave most
  of a GPU idle, which is why fits are packed); larger models break this.
- Rates are for the paper's medium sizes; a wider or deeper model of a family is slower.
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel

from orchestrator.job_types.configs import (
    FitJobConfig,
    SearchJobConfig,
    TrainJobConfig,
    TransferJobConfig,
    job_config,
)
from orchestrator.job_types.job import Job, Plan

JOB_OVERHEAD_S = 5.0
EVALUATION_S = 20.0


class Throughput(NamedTuple):
    """Steps per second of one job: base training and one mask fit, on a CPU and a GPU."""

    train_cpu: float
    fit_cpu: float
    train_gpu: float
    fit_gpu: float


THROUGHPUT: dict[str, Throughput] = {
    "fnn": Throughput(train_cpu=90.0, fit_cpu=80.0, train_gpu=600.0, fit_gpu=500.0),
    "lstm": Throughput(train_cpu=30.0, fit_cpu=25.0, train_gpu=300.0, fit_gpu=250.0),
    "seq2seq_lstm": Throughput(train_cpu=8.0, fit_cpu=6.0, train_gpu=150.0, fit_gpu=120.0),
    "transformer": Throughput(train_cpu=6.0, fit_cpu=5.0, train_gpu=200.0, fit_gpu=150.0),
    "simple_cnn": Throughput(train_cpu=40.0, fit_cpu=30.0, train_gpu=800.0, fit_gpu=600.0),
    "resnet": Throughput(train_cpu=3.0, fit_cpu=2.5, train_gpu=100.0, fit_gpu=80.0),
}
FALLBACK_FAMILY = "fnn"


class CostEstimate(BaseModel):
    cpus: float
    gpus: float
    cpu_hours: float
    gpu_hours: float
    wall_hours: float
    unrated_models: list[str] = []

    def line(self) -> str:
        shape = f"{self.cpus:g} CPUs + {self.gpus:g} GPUs"
        text = (
            f"Estimated cost on {shape}: {self.gpu_hours:.1f} GPU-hours, "
            f"{self.cpu_hours:.1f} CPU-hours, wall time >= {self.wall_hours:.1f} h "
            "(rates in orchestrator/planning/estimate.py; GPU rates are assumptions)"
        )
        if self.unrated_models:
            text += f"; no rate for {', '.join(self.unrated_models)}: used {FALLBACK_FAMILY}'s"
        return text


def job_seconds(job: Job, on_gpu: bool, rates: Throughput) -> float:
    if job.kind == "evaluate":
        return JOB_OVERHEAD_S + EVALUATION_S
    if job.kind == "train":
        steps, rate = (
            job_config(job, TrainJobConfig).training.steps,
            rates.train_gpu if on_gpu else rates.train_cpu,
        )
    elif job.kind == "transfer":
        steps = transfer_steps(job_config(job, TransferJobConfig))
        rate = rates.fit_gpu if on_gpu else rates.fit_cpu
    elif job.kind == "search":  # every trial to the end: ASHA's early stops only save time
        search = job_config(job, SearchJobConfig)
        steps = search.search.trials * search.mask_fit.steps
        rate = rates.fit_gpu if on_gpu else rates.fit_cpu
    else:
        steps = job_config(job, FitJobConfig).mask_fit.steps
        rate = rates.fit_gpu if on_gpu else rates.fit_cpu
    return JOB_OVERHEAD_S + steps / rate


def transfer_steps(config: TransferJobConfig) -> int:
    """Steps of a whole task sequence: `steps_per_task` for each task it learns."""
    available = len(config.task.target_functions())
    learned = min(config.transfer.tasks or available, available)
    return config.transfer.steps_per_task * learned


def model_family(job: Job) -> str:
    """The architecture whose rates apply; a transfer job always learns an FNN."""
    config = job.config
    return "fnn" if isinstance(config, TransferJobConfig) else config.model.name


def estimate(plan: Plan, cpus: float, gpus: float) -> CostEstimate:
    """Compute and a wall-time lower bound for `plan` on `cpus` CPUs and `gpus` GPUs."""
    cpu_seconds = gpu_seconds = longest_chain = 0.0
    finished_at: dict[str, float] = {}  # earliest finish of each job, dependencies first
    unrated: set[str] = set()
    for job in plan.jobs:
        family = model_family(job)
        if family not in THROUGHPUT:
            unrated.add(family)
        on_gpu = job.resources.gpus > 0 and gpus > 0
        seconds = job_seconds(job, on_gpu, THROUGHPUT.get(family, THROUGHPUT[FALLBACK_FAMILY]))
        cpu_seconds += seconds * job.resources.cpus  # a search: its trials', one at a time
        if on_gpu:
            gpu_seconds += seconds * job.resources.gpus
        start = max((finished_at.get(d, 0.0) for d in job.depends_on), default=0.0)
        finished_at[job.id] = start + seconds
        longest_chain = max(longest_chain, finished_at[job.id])
    wall = max(longest_chain, cpu_seconds / cpus, gpu_seconds / gpus if gpus else 0.0)
    return CostEstimate(
        cpus=cpus,
        gpus=gpus,
        cpu_hours=cpu_seconds / 3600,
        gpu_hours=gpu_seconds / 3600,
        wall_hours=wall / 3600,
        unrated_models=sorted(unrated),
    )
