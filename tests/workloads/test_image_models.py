"""The simple CNN and the CIFAR ResNet: shapes, the mask filter, a mask fit on CIFAR files."""

from __future__ import annotations

import pytest
import torch
from support.data_files import write_cifar10_folder

from workloads.data.cifar10 import Cifar10Config, Cifar10Task
from workloads.fit import MaskFitConfig, fit_mask
from workloads.masking import maskable_parameter_names
from workloads.models.cnn import SimpleCnnConfig
from workloads.models.resnet import ResNetConfig


@pytest.fixture(scope="module")
def cifar_task(tmp_path_factory: pytest.TempPathFactory) -> Cifar10Task:
    folder = tmp_path_factory.mktemp("cifar")
    write_cifar10_folder(folder, [index % 10 for index in range(50)], list(range(10)))
    return Cifar10Config(path=str(folder)).build()


@pytest.mark.parametrize(
    "config",
    [SimpleCnnConfig(), SimpleCnnConfig(widths=[4, 8, 8, 16]), ResNetConfig(blocks_per_stage=1)],
)
def test_models_map_images_to_class_logits(cifar_task: Cifar10Task, config) -> None:
    model = config.build(cifar_task)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_cnn_without_dropout_is_deterministic_in_training_mode(cifar_task: Cifar10Task) -> None:
    images = torch.randn(4, 3, 32, 32)
    plain = SimpleCnnConfig(dropout=False).build(cifar_task).train()
    assert torch.equal(plain(images), plain(images))
    with_dropout = SimpleCnnConfig(dropout=True).build(cifar_task).train()
    assert not torch.equal(with_dropout(images), with_dropout(images))


def test_cnn_mask_filter_covers_conv_biases_only_with_mask_biases(cifar_task) -> None:
    model = SimpleCnnConfig().build(cifar_task)
    layers = ["layer1", "layer2", "layer3", "layer4", "output"]
    assert maskable_parameter_names(model, mask_biases=True) == [
        f"{layer}.{kind}" for layer in layers for kind in ("weight", "bias")
    ]
    assert maskable_parameter_names(model, mask_biases=False) == [
        f"{layer}.weight" for layer in layers
    ]


def test_resnet_mask_filter_covers_batchnorm_only_with_mask_biases(cifar_task) -> None:
    model = ResNetConfig(blocks_per_stage=1).build(cifar_task)
    with_biases = maskable_parameter_names(model, mask_biases=True)
    assert with_biases == [name for name, _ in model.named_parameters()]
    assert {"norm.weight", "norm.bias", "stages.1.0.shortcut.1.bias"} <= set(with_biases)
    without = maskable_parameter_names(model, mask_biases=False)
    assert without == [
        name
        for name, param in model.named_parameters()
        if param.dim() > 1  # conv kernels, the shortcut 1x1 convs and the output matrix
    ]
    assert "stages.1.0.shortcut.0.weight" in without and "output.bias" not in without


@pytest.mark.parametrize(
    "config",
    [SimpleCnnConfig(dropout=False, widths=[4, 8, 8, 16]), ResNetConfig(blocks_per_stage=1)],
)
def test_mask_fit_runs_on_cifar_files(cifar_task: Cifar10Task, config) -> None:
    model = config.build(cifar_task)
    settings = MaskFitConfig(
        steps=2, batch_size=8, mask_samples_per_step=4, mask_biases=True, learning_rate=0.1
    )
    outcome = fit_mask(model, cifar_task, "without_cat", settings, seed=0)
    assert list(outcome.logits) == maskable_parameter_names(model, mask_biases=True)
    assert len(outcome.history) == 1 and outcome.history[0]["step"] == 2.0
    initial = torch.log(torch.tensor(0.9 / 0.1))
    assert any(not torch.allclose(logit, initial) for logit in outcome.logits.values())


def test_resnet_110_has_about_1_7_million_parameters(cifar_task: Cifar10Task) -> None:
    model = ResNetConfig().build(cifar_task)
    assert ResNetConfig().blocks_per_stage == 18
    convs = [
        name for name, p in model.named_parameters() if p.dim() == 4 and "shortcut" not in name
    ]
    assert len(convs) + 1 == 110  # 109 convs on the main path plus the output layer
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(1.7e6, rel=0.03)
