"""Mask-fit speed: plain training step vs a naive mask fit vs ours (see benchmarks/README.md).

Run with `make bench` (`python -m benchmarks.mask_speed`); prints a table and writes
benchmarks/out/mask_speed.json. The same code runs on CUDA when torch sees a GPU.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from benchmarks.orchestration import orchestration_overhead, planning_times
from workloads.data.addmul import AddMulConfig
from workloads.data.base import Examples, ModelCall, StepResult, sample_batch, slice_batch
from workloads.fit import FitRequest, MaskFitConfig, fit_mask, fit_masks
from workloads.fit_sizing import default_fits_per_job
from workloads.mask_step import freeze, masked_step_loss
from workloads.masking import (
    call_with,
    initial_logits,
    maskable_parameter_names,
    reference_sample,
)
from workloads.models.cnn import SimpleCnn
from workloads.models.fnn import build_feedforward
from workloads.models.lstm import RecurrentClassifier

OUT = Path(__file__).resolve().parent / "out" / "mask_speed.json"
BATCH, SAMPLES = 128, 4
# Steps timed per figure: few, because the machine is shared and slow; see the README.
# Fits in real sweeps run thousands of steps, where `auto` fuses the mask kernels; the
# benchmark times a few steps, so it asks for them (compiled during the warm-up call).
FUSED_KERNELS = "on"
STEPS = {"plain": 30, "naive": 5, "m1": 20, "batched4": 5, "batched16": 3, "processes": 6}


class RandomImages:
    """A 10-class task on random 32x32 images: the CNN's cost without CIFAR-10 files."""

    target_functions = ("all",)
    shape = {"input_channels": 3, "output_size": 10}

    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(0)
        self._examples = {
            "image": torch.randn(1024, 3, 32, 32, generator=generator),
            "label": torch.randint(0, 10, (1024,), generator=generator),
        }

    def train_examples(self, target: str) -> Examples:
        return self._examples

    eval_examples = train_examples

    def step(self, call: ModelCall, batch: Examples, train: bool) -> StepResult:
        logits = call(batch["image"])  # [batch, classes]
        return StepResult(
            F.cross_entropy(logits, batch["label"]), logits.argmax(-1) == batch["label"]
        )


def build(name: str):
    """(task, model) for one benchmarked network, weights seeded."""
    torch.manual_seed(0)
    if name == "cnn":
        return RandomImages(), SimpleCnn(3, [32, 64, 128, 256], 10, dropout=True)
    task = AddMulConfig(train_size=20_000, validation_size=100).build()
    if name == "fnn_4x800":
        return task, build_feedforward(42, [800] * 4, 20)
    return task, RecurrentClassifier(42, 256, 2, 20, 3)


def seconds_per_call(run: Callable[[], object], calls: int, device: torch.device) -> float:
    run()  # warm up: lazy initialisation, allocator, vmap tracing
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / calls


def plain_step(task, model, device: torch.device) -> Callable[[], None]:
    """One training step's forward + backward of the base network; weights not updated."""
    params = {name: p.detach().requires_grad_() for name, p in model.named_parameters()}
    examples, generator = task.train_examples("all"), torch.Generator().manual_seed(0)

    def run() -> None:
        batch = {k: v.to(device) for k, v in sample_batch(examples, BATCH, generator).items()}
        task.step(call_with(model, params), batch, train=True).loss.backward()

    return run


def split_floor_step(task, model, device: torch.device) -> Callable[[], None]:
    """The matmul work any K-sample mask step has, with no mask work at all: K fresh copies
    of the masked weights, each run forward and backward (weight gradients included) on
    its own B/K slice. What separates it from `plain` is the cost of K samples, not ours."""
    freeze(model)
    frozen = {name: p.detach() for name, p in model.named_parameters()}
    names = maskable_parameter_names(model, False)
    examples, generator = task.train_examples("all"), torch.Generator().manual_seed(0)

    def run() -> None:
        batch = {k: v.to(device) for k, v in sample_batch(examples, BATCH, generator).items()}
        copies = {
            name: [frozen[name].clone().requires_grad_() for _ in range(SAMPLES)] for name in names
        }
        loss, _ = masked_step_loss(model, frozen, copies, task, batch, SAMPLES, vectorize=False)
        loss.backward()

    return run


def naive_fit(task, model, device: torch.device, steps: int) -> Callable[[], None]:
    """What a user writes without our engine: K separate masked passes on B/K examples."""
    config = MaskFitConfig(steps=steps)
    freeze(model)
    frozen = {name: p.detach() for name, p in model.named_parameters()}
    names = maskable_parameter_names(model, config.mask_biases)

    def run() -> None:
        logits = initial_logits(model, names, config.initial_logit)
        optimizer = torch.optim.Adam(list(logits.values()), lr=config.learning_rate)
        examples, generator = task.train_examples("all"), torch.Generator().manual_seed(0)
        size = BATCH // SAMPLES
        for _ in range(steps):
            batch = {k: v.to(device) for k, v in sample_batch(examples, BATCH, generator).items()}
            optimizer.zero_grad()
            for k in range(SAMPLES):
                params = dict(frozen)
                for name, logit in logits.items():
                    uniform = torch.rand(logit.shape, device=device).clamp(1e-10, 1 - 1e-7)
                    params[name] = frozen[name] * reference_sample(logit, uniform)
                part = slice_batch(batch, k * size, (k + 1) * size)
                loss = task.step(call_with(model, params), part, train=True).loss / SAMPLES
                regularization = sum(logit.sum() for logit in logits.values()) / BATCH
                (loss + config.regularization_weight * regularization / SAMPLES).backward()
            torch.nn.utils.clip_grad_norm_(list(logits.values()), config.grad_clip)
            optimizer.step()

    return run


def ours_batched(
    task, model, m: int, steps: int, vectorize: bool, samples: int = SAMPLES
) -> Callable[[], None]:
    config = MaskFitConfig(
        steps=steps,
        batch_size=BATCH,
        mask_samples_per_step=samples,
        log_every=10**9,
        fused_kernels=FUSED_KERNELS,
    )
    requests = [FitRequest("all", config, seed) for seed in range(m)]
    return lambda: fit_masks(model, task, requests, vectorize=vectorize)


_WORKER: dict = {}


def _start_worker(name: str, threads: int) -> None:
    torch.set_num_threads(threads)
    _WORKER["task"], _WORKER["model"] = build(name)


def _one_fit(args: tuple[int, int]) -> None:
    seed, steps = args
    config = MaskFitConfig(
        steps=steps, batch_size=BATCH, log_every=10**9, fused_kernels=FUSED_KERNELS
    )
    fit_mask(_WORKER["model"], _WORKER["task"], "all", config, seed)


def processes_per_fit_step(name: str, m: int, steps: int) -> float:
    """Seconds per fit-step when m fits share the cores as one-fit processes."""
    cores = os.cpu_count() or 1
    workers = min(m, cores)
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, _start_worker, (name, max(1, cores // workers))) as pool:
        pool.map(_one_fit, [(seed, 1) for seed in range(workers)])  # warm up every worker
        start = time.perf_counter()
        pool.map(_one_fit, [(seed, steps) for seed in range(m)], chunksize=1)
        return (time.perf_counter() - start) / (m * steps)


def measure_network(name: str, device: torch.device) -> dict[str, float | str]:
    task, model = build(name)
    model.to(device)
    size = sum(
        p.numel()
        for p in initial_logits(model, maskable_parameter_names(model, False), 2.0).values()
    )
    figures: dict[str, float | str] = {"masked_weights": size}
    figures["plain_s"] = seconds_per_call(plain_step(task, model, device), STEPS["plain"], device)
    figures["split_floor_s"] = seconds_per_call(
        split_floor_step(task, model, device), STEPS["plain"], device
    )
    figures["naive_s"] = (
        seconds_per_call(naive_fit(task, model, device, STEPS["naive"]), 1, device) / STEPS["naive"]
    )
    figures["ours_m1_s"] = (
        seconds_per_call(ours_batched(task, model, 1, STEPS["m1"], False), 1, device) / STEPS["m1"]
    )
    # one mask sample per step, no batch split: what the mask machinery costs by itself
    one_sample = ours_batched(task, model, 1, STEPS["m1"], False, samples=1)
    figures["ours_m1_k1_s"] = seconds_per_call(one_sample, 1, device) / STEPS["m1"]
    for m, key in ((4, "batched4"), (16, "batched16")):
        run = ours_batched(task, model, m, STEPS[key], vectorize=True)
        figures[f"ours_batched_m{m}_s"] = seconds_per_call(run, 1, device) / (m * STEPS[key])
    if device.type == "cpu":
        for m in (4, 16):
            figures[f"ours_processes_m{m}_s"] = processes_per_fit_step(name, m, STEPS["processes"])
    else:
        run = ours_batched(task, model, 16, STEPS["batched16"], vectorize=False)
        sequential = seconds_per_call(run, 1, device) / (16 * STEPS["batched16"])
        figures["ours_sequential_m16_s"] = sequential
        figures["gpu_m16_batched_over_sequential"] = sequential / figures["ours_batched_m16_s"]
    layout = "batched" if default_fits_per_job(device.type) > 1 else "processes"  # the runner's
    figures["layout_m16"] = layout
    ours = (
        figures[f"ours_{layout}_m16_s"]
        if f"ours_{layout}_m16_s" in figures
        else figures["ours_batched_m16_s"]
    )
    figures["ours_s"] = ours
    figures["ours_over_naive"] = figures["naive_s"] / ours
    figures["ours_over_plain"] = ours / figures["plain_s"]
    figures["split_floor_over_plain"] = figures["split_floor_s"] / figures["plain_s"]
    figures["ours_over_split_floor"] = ours / figures["split_floor_s"]
    figures["ours_m1_over_plain"] = figures["ours_m1_s"] / figures["plain_s"]
    figures["ours_m1_k1_over_plain"] = figures["ours_m1_k1_s"] / figures["plain_s"]
    if device.type == "cuda" and name == "fnn_4x800":
        figures.update(gpu_flops(model, figures["ours_batched_m16_s"], device))
    return figures


def gpu_flops(model, batched_fit_step_s: float, device: torch.device) -> dict[str, float]:
    """Achieved FLOP/s of the M=16 batched fit vs batched matmuls of the same shapes."""
    shapes = [p.shape for name, p in model.named_parameters() if name.endswith("weight")]
    flops_per_fit_step = sum(6 * BATCH * out_size * in_size for out_size, in_size in shapes)
    operands = [
        (
            torch.randn(16 * SAMPLES, BATCH // SAMPLES, in_size, device=device),
            torch.randn(16 * SAMPLES, in_size, out_size, device=device, requires_grad=True),
        )
        for out_size, in_size in shapes
    ]

    def matmuls() -> None:
        for inputs, weights in operands:
            inputs.requires_grad_()
            torch.bmm(inputs, weights).sum().backward()

    matmul_s = seconds_per_call(matmuls, 20, device)
    return {
        "gpu_fit_flops": 16 * flops_per_fit_step / batched_fit_step_s,
        "gpu_matmul_flops": 16 * flops_per_fit_step / matmul_s,
    }


def machine() -> dict[str, object]:
    cpu = platform.processor()
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "load_average_1m": os.getloadavg()[0],
    }


def print_table(networks: dict[str, dict[str, float | str]]) -> None:
    print(f"{'network':<10} {'figure':<34} {'s/fit-step':>11} {'examples/s':>15}")
    for name, figures in networks.items():
        for key, value in figures.items():
            if key.endswith("_s") and isinstance(value, float):
                rate = BATCH / value
                print(f"{name:<10} {key:<34} {value:>11.4f} {rate:>15.0f}")
            else:
                print(f"{name:<10} {key:<34} {value!s:>11}")


def main() -> None:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    networks = {name: measure_network(name, device) for name in ("fnn_4x800", "lstm", "cnn")}
    report: dict[str, object] = {"machine": machine(), "batch_size": BATCH, "samples": SAMPLES}
    report.update(networks["fnn_4x800"])  # the headline keys sit at the top level
    report["networks"] = networks
    print_table(networks)
    orchestration = {**planning_times(), **orchestration_overhead()}
    report["orchestration"] = orchestration
    for key, value in orchestration.items():
        print(f"{'sweep':<10} {key:<34} {value:>11.4f}")
    report["machine"]["load_average_1m_end"] = os.getloadavg()[0]  # type: ignore[index]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
