"""The core rule pack: PyTorch (PT) and TensorFlow/Keras (TF) rules, grouped by theme."""

from . import (  # noqa: F401
    deployment_rules, keras_models, serialization, tf_function, torch_modules, torch_numerics, torch_training,
)
