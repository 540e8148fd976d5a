"""The core rule pack: PyTorch (PT), TensorFlow/Keras (TF), shape (SH) and deployment (DP) rules, grouped by theme."""

from . import (  # noqa: F401
    deployment_rules, keras_models, keras_training, serialization, tf_function, tf_graph, torch_api, torch_layers,
    shapes, torch_loops, torch_modules, torch_numerics, torch_training,
)
