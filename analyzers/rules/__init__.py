"""The core rule pack: PyTorch (PT) and TensorFlow/Keras (TF) rules, grouped by theme."""

from . import keras_models, serialization, tf_function, torch_modules, torch_numerics, torch_training  # noqa: F401
from . import torch_loops  # noqa: F401
from . import torch_api, torch_layers  # noqa: F401
from . import keras_training, tf_graph  # noqa: F401
