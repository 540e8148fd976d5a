"""Deployment rules (DP): the advisor's blockers for the scenarios a project declares it ships to.

``[tool.tensorlint] deployment = ["server", "mobile", "web"]`` (or the editor setting of the same name) turns on the
scenarios; a rule reports only for a declared scenario, so undeclared ones stay informational (``tensorlint deploy``
and the code lens still show them).
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from ..deployment import scenario_blockers
from ..findings import Severity
from ..rule import Invalid, Rule

_TORCH_IF = (
    "import torch\nfrom torch import nn\n\n\nclass Gate(nn.Module):\n    def __init__(self):\n"
    "        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n"
    "        if x.sum() > 0:\n            return self.fc(x)\n        return x\n"
)
_TORCH_CLEAN = (
    "import torch\nfrom torch import nn\n\n\nclass Gate(nn.Module):\n    def __init__(self):\n"
    "        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n"
    "        return torch.where(x.sum() > 0, self.fc(x), x)\n"
)
_KERAS_PY_FUNCTION = (
    "import keras\nimport tensorflow as tf\n\n\ndef build():\n    inputs = keras.Input((4,))\n"
    "    doubled = keras.layers.Lambda(lambda t: tf.py_function(lambda v: v * 2, [t], tf.float32))(inputs)\n"
    "    return keras.Model(inputs, keras.layers.Dense(2)(doubled))\n"
)
_KERAS_CLEAN = (
    "import keras\n\n\ndef build():\n    inputs = keras.Input((4,))\n"
    "    return keras.Model(inputs, keras.layers.Dense(2)(inputs))\n"
)


class _ScenarioBlockers(Rule):
    """Reports what blocks the first-choice target of one declared deployment scenario."""

    scenario: ClassVar[str]
    severity = Severity.WARNING
    message = "{model}: blocks {target} for the declared `{scenario}` deployment: {why}"

    def visit_Module(self, node: cst.Module) -> None:
        if self.scenario not in (self.ctx.settings.get("deployment") or ()):
            return
        for blocker in scenario_blockers(self.ctx, self.scenario):
            self.report(blocker.node, self.message.format(model=blocker.model, target=blocker.target_label,
                                                          scenario=self.scenario, why=blocker.message))


class ServerDeploymentBlocker(_ScenarioBlockers):
    """## What it does
    With `deployment = ["server"]` declared, flags code in a model's forward pass that blocks its first-choice
    server path: `torch.export` (then AOTInductor or ONNX Runtime) for PyTorch, a SavedModel for TF Serving
    (`model.export`) for Keras.

    ## Why is this bad
    The export fails (a Python `if` on a tensor's value, `.numpy()`, NumPy on tensors), or it succeeds and
    silently bakes a value computed at export time into the artifact (Python/NumPy random numbers), or the
    artifact needs the training process's Python at serving time (`tf.py_function`). You find out when the
    model is shipped, not when it is written.

    ## Example
    ```python
    class Gate(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return self.fc(x)
            return x
    ```

    ## Use instead
    ```python
    class Gate(nn.Module):
        def forward(self, x):
            return torch.where(x.sum() > 0, self.fc(x), x)
    ```
    """

    code = "DP001"
    name = "server-deployment-blocker"
    scenario = "server"
    valid = (_TORCH_CLEAN, _KERAS_CLEAN)
    invalid = (Invalid(_TORCH_IF), Invalid(_KERAS_PY_FUNCTION))


class MobileDeploymentBlocker(_ScenarioBlockers):
    """## What it does
    With `deployment = ["mobile"]` declared, flags code that blocks a model's first-choice mobile/edge path:
    ExecuTorch (which lowers a `torch.export` program) for PyTorch, LiteRT (TensorFlow Lite) for Keras.

    ## Why is this bad
    Mobile converters start from a traced graph: data-dependent Python control flow, host round-trips
    (`.numpy()`, `float(t)`) and Python callbacks (`tf.py_function`, which the LiteRT converter rejects as a
    custom op) cannot be part of it.

    ## Example
    ```python
    def build():
        inputs = keras.Input((4,))
        doubled = keras.layers.Lambda(lambda t: tf.py_function(lambda v: v * 2, [t], tf.float32))(inputs)
        return keras.Model(inputs, keras.layers.Dense(2)(doubled))
    ```

    ## Use instead
    ```python
    def build():
        inputs = keras.Input((4,))
        return keras.Model(inputs, keras.layers.Dense(2)(inputs * 2))
    ```
    """

    code = "DP002"
    name = "mobile-deployment-blocker"
    scenario = "mobile"
    valid = (_TORCH_CLEAN, _KERAS_CLEAN)
    invalid = (Invalid(_TORCH_IF), Invalid(_KERAS_PY_FUNCTION))


class WebDeploymentBlocker(_ScenarioBlockers):
    """## What it does
    With `deployment = ["web"]` declared, flags code that blocks a model's first-choice browser path: ONNX
    (then ONNX Runtime Web) for PyTorch, TensorFlow.js for Keras.

    ## Why is this bad
    The browser runs a converted graph with no Python: anything that needs Python at run time or cannot be
    traced (data-dependent `if`, `.numpy()`, `tf.py_function`) breaks the conversion or bakes a constant into it.

    ## Example
    ```python
    class Gate(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return self.fc(x)
            return x
    ```

    ## Use instead
    ```python
    class Gate(nn.Module):
        def forward(self, x):
            return torch.where(x.sum() > 0, self.fc(x), x)
    ```
    """

    code = "DP003"
    name = "web-deployment-blocker"
    scenario = "web"
    valid = (_TORCH_CLEAN, _KERAS_CLEAN)
    invalid = (Invalid(_TORCH_IF), Invalid(_KERAS_PY_FUNCTION))
