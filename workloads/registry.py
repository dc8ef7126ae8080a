"""Every task and model by name: one line per entry.

A task config class has `build() -> Task`; a model config class has
`build(task) -> nn.Module`. The sweep spec validates its `task:` and `model:` sections
against the class registered under their `name`.
"""

from __future__ import annotations

from workloads.custom import CustomModelConfig, CustomTaskConfig
from workloads.data.addmul import AddMulConfig
from workloads.data.base import TaskConfig
from workloads.data.cifar10 import Cifar10Config
from workloads.data.double_add import DoubleAddConfig
from workloads.data.mathematics import MathematicsConfig
from workloads.data.permuted_mnist import PermutedMnistConfig
from workloads.data.planted import PlantedConfig
from workloads.data.scan import ScanConfig
from workloads.models.base import ModelConfig
from workloads.models.cnn import SimpleCnnConfig
from workloads.models.fnn import FeedforwardConfig
from workloads.models.lstm import LSTMConfig
from workloads.models.planted import PlantedModelConfig
from workloads.models.resnet import ResNetConfig
from workloads.models.seq2seq_lstm import Seq2SeqLSTMConfig
from workloads.models.transformer import TransformerConfig

TASKS: dict[str, type[TaskConfig]] = {}
MODELS: dict[str, type[ModelConfig]] = {}

TASKS["addmul"] = AddMulConfig
TASKS["cifar10"] = Cifar10Config
TASKS["double_add"] = DoubleAddConfig
TASKS["permuted_mnist"] = PermutedMnistConfig
TASKS["planted"] = PlantedConfig
TASKS["scan"] = ScanConfig
TASKS["mathematics"] = MathematicsConfig
TASKS["custom"] = CustomTaskConfig

MODELS["fnn"] = FeedforwardConfig
MODELS["lstm"] = LSTMConfig
MODELS["planted"] = PlantedModelConfig
MODELS["simple_cnn"] = SimpleCnnConfig
MODELS["resnet"] = ResNetConfig
MODELS["seq2seq_lstm"] = Seq2SeqLSTMConfig
MODELS["transformer"] = TransformerConfig
MODELS["custom"] = CustomModelConfig
