"""The paper's simple CIFAR-10 CNN (E5, E6): four 3x3 convs, global mean pool, linear.

conv 32, ReLU, maxpool; conv 64, ReLU, maxpool; conv 128, dropout 0.25, ReLU, maxpool;
conv 256, ReLU, dropout 0.5; mean over the image; linear to the classes. Convs pad by 1,
so a 32x32 image reaches the last conv at 4x4. Layers are named layer1..layer4 and
output, so mask tensors sort in depth order by name.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from workloads.data.base import Task
from workloads.models.base import ModelConfig


class SimpleCnnConfig(ModelConfig):
    name: Literal["simple_cnn"] = "simple_cnn"
    dropout: bool = Field(True, description="dropout 0.25 after conv 3 and 0.5 after conv 4")
    widths: list[int] = Field(
        default_factory=lambda: [32, 64, 128, 256],
        min_length=4,
        max_length=4,
        description="output channels of the four convs (paper: 32, 64, 128, 256)",
    )

    def build(self, task: Task) -> nn.Module:
        return SimpleCnn(
            task.shape["input_channels"], self.widths, task.shape["output_size"], self.dropout
        )


class SimpleCnn(nn.Module):
    def __init__(
        self, input_channels: int, widths: list[int], output_size: int, dropout: bool
    ) -> None:
        super().__init__()
        self.layer1 = nn.Conv2d(input_channels, widths[0], 3, padding=1)
        self.layer2 = nn.Conv2d(widths[0], widths[1], 3, padding=1)
        self.layer3 = nn.Conv2d(widths[1], widths[2], 3, padding=1)
        self.layer4 = nn.Conv2d(widths[2], widths[3], 3, padding=1)
        self.output = nn.Linear(widths[3], output_size)
        self.conv_dropout = 0.25 if dropout else 0.0
        self.feature_dropout = 0.5 if dropout else 0.0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """[batch, channels, h, w] normalised images -> [batch, classes] logits."""
        x = F.max_pool2d(F.relu(self.layer1(images)), 2)  # [batch, 32, h/2, w/2]
        x = F.max_pool2d(F.relu(self.layer2(x)), 2)  # [batch, 64, h/4, w/4]
        x = F.dropout(self.layer3(x), self.conv_dropout, self.training)
        x = F.max_pool2d(F.relu(x), 2)  # [batch, 128, h/8, w/8]
        x = F.dropout(F.relu(self.layer4(x)), self.feature_dropout, self.training)
        return self.output(x.mean(dim=(2, 3)))  # [batch, classes]
