"""CIFAR-style ResNet (He et al. 2016; paper E5 uses ResNet-110, 18 blocks per stage).

A 3x3 conv to 16 channels, then three stages of basic blocks at 16, 32 and 64 channels
(the last two halve the resolution), global mean pool, linear to the classes: depth
6n + 2, so n = 18 gives ResNet-110 (about 1.7M parameters). Convs have no bias (each is
followed by BatchNorm). Where a block changes shape, its shortcut is a 1x1 conv and
BatchNorm, as in the official code. Kaiming (fan-out) conv initialisation.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from workloads.data.base import Task
from workloads.models.base import ModelConfig

STAGE_WIDTHS = (16, 32, 64)


class ResNetConfig(ModelConfig):
    name: Literal["resnet"] = "resnet"
    blocks_per_stage: int = Field(18, gt=0, description="n: depth 6n + 2 (18 = ResNet-110)")

    def build(self, task: Task) -> nn.Module:
        return ResNet(
            task.shape["input_channels"], self.blocks_per_stage, task.shape["output_size"]
        )


class BasicBlock(nn.Module):
    """Two 3x3 conv + BatchNorm layers with a residual connection."""

    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride, padding=1, bias=False)
        self.norm1 = nn.BatchNorm2d(channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False)
        self.norm2 = nn.BatchNorm2d(channels_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or channels_in != channels_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(channels_in, channels_out, 1, stride, bias=False),
                nn.BatchNorm2d(channels_out),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.norm2(self.conv2(F.relu(self.norm1(self.conv1(x)))))
        return F.relu(self.shortcut(x) + residual)


class ResNet(nn.Module):
    def __init__(self, input_channels: int, blocks_per_stage: int, output_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(input_channels, STAGE_WIDTHS[0], 3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(STAGE_WIDTHS[0])
        stages, channels_in = [], STAGE_WIDTHS[0]
        for index, width in enumerate(STAGE_WIDTHS):
            stride = 1 if index == 0 else 2
            blocks = [BasicBlock(channels_in, width, stride)]
            blocks += [BasicBlock(width, width, 1) for _ in range(blocks_per_stage - 1)]
            stages.append(nn.Sequential(*blocks))
            channels_in = width
        self.stages = nn.Sequential(*stages)
        self.output = nn.Linear(STAGE_WIDTHS[-1], output_size)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """[batch, channels, h, w] normalised images -> [batch, classes] logits."""
        x = F.relu(self.norm(self.conv(images)))  # [batch, 16, h, w]
        x = self.stages(x)  # [batch, 64, h/4, w/4]
        return self.output(x.mean(dim=(2, 3)))  # [batch, classes]
