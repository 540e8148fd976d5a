"""Keras model rules: losses against output activations, Keras 2/3 mixing, removed arguments, slow inference."""

from __future__ import annotations

from typing import NamedTuple

import libcst as cst

from ..context import KERAS_LAYER, KERAS_MODEL
from ..findings import Severity
from ..rule import STATEMENT_SCOPE, Invalid, PendingFix, Rule
from ..flow import ModuleIndex, ValueTracer, Where, binding_key
from ._calls import keyword, method_name, number_value, positional, receiver, string_value, with_keyword

_PROBABILITY_LOSSES = {
    "sparse_categorical_crossentropy": "keras.losses.SparseCategoricalCrossentropy",
    "categorical_crossentropy": "keras.losses.CategoricalCrossentropy",
    "binary_crossentropy": "keras.losses.BinaryCrossentropy",
}
_LOSS_CLASSES = set(_PROBABILITY_LOSSES.values()) | {"keras.losses.BinaryFocalCrossentropy",
                                                     "keras.losses.CategoricalFocalCrossentropy"}
SEQUENTIAL = {"keras.Sequential", "keras.models.Sequential"}
_MODEL = {"keras.Model", "keras.models.Model"}


def activation_name(ctx, node: cst.BaseExpression | None) -> str | None:
    if node is None:
        return "linear"
    text = string_value(node)
    if text is not None:
        return text
    if isinstance(node, cst.Name) and node.value == "None":
        return "linear"
    resolved = ctx.qualname(node)
    if resolved:
        return resolved.rsplit(".", 1)[-1]
    return None


def output_activation(ctx, layer: cst.BaseExpression) -> str | None:
    """"softmax", "sigmoid", "linear", ... for a layer constructor call; None when unknown."""
    if not isinstance(layer, cst.Call):
        return None
    callee = ctx.callee(layer)
    if callee is None or not callee.startswith("keras.layers."):
        return None
    kind = callee.rsplit(".", 1)[-1]
    if kind == "Softmax":
        return "softmax"
    if kind == "Activation":
        args = positional(layer)
        return activation_name(ctx, args[0].value if args else (keyword(layer, "activation") or cst.Arg(cst.Name("None"))).value)
    if kind in ("Dense", "Conv1D", "Conv2D", "Conv3D", "EinsumDense"):
        arg = keyword(layer, "activation")
        args = positional(layer)
        if arg is None and kind == "Dense" and len(args) >= 2:
            arg = args[1]
        return activation_name(ctx, arg.value if arg is not None else None)
    return None


def keras_layer_kind(ctx, node: cst.BaseExpression) -> str | None:
    """``Dense`` for ``layers.Dense(...)``; None when not a Keras layer constructor call."""
    if not isinstance(node, cst.Call):
        return None
    callee = ctx.callee(node)
    if callee is None or not callee.startswith("keras.layers."):
        return None
    return callee.rsplit(".", 1)[-1]


def _is_identity_layer(ctx, layer: cst.BaseExpression) -> bool:
    """``Activation("linear")`` (often with ``dtype="float32"``, the mixed-precision guide's output cast) or
    ``Identity()``: the output is the input, so the model's activation is the one before it."""
    kind = keras_layer_kind(ctx, layer)
    return kind == "Identity" or (kind == "Activation" and output_activation(ctx, layer) == "linear")


def _last_real_layer(ctx, layers: list[cst.BaseExpression]) -> cst.Call | None:
    for layer in reversed(layers):
        if not _is_identity_layer(ctx, layer):
            return layer if isinstance(layer, cst.Call) else None
    return None


class LayerFacts(NamedTuple):
    """What the rules ask of a model's output layer, read where the layer is built: its Keras layer kind
    (``Dense``; None for other calls), its activation (see :func:`output_activation`) and a Dense layer's units."""

    kind: str | None
    activation: str | None
    units: float | None

    @classmethod
    def of(cls, ctx, layer: cst.Call) -> "LayerFacts":
        kind = keras_layer_kind(ctx, layer)
        units = None
        if kind == "Dense":
            args = positional(layer)
            units_arg = keyword(layer, "units") or (args[0] if args else None)
            units = number_value(units_arg.value) if units_arg is not None else None
        return cls(kind, output_activation(ctx, layer), units)


class ModelOutputTracker(Rule):
    """Remembers, per model name, the layer call that produces its output (Sequential lists, ``add``, functional
    ``x = layers.Dense(...)(x)`` chains) and hands each ``model.compile(...)`` with a loss to ``check_compile``,
    with that layer's :class:`LayerFacts`.

    It keeps facts, not nodes: a statement an edit re-parses leaves the same facts when the edit does not change
    a layer, so an editor re-checks the statements after it only when a model's output really changed."""

    carries = ("tensor_layer", "model_output")

    def __init__(self, ctx):
        super().__init__(ctx)
        # functional graph: tensor name -> the layer that produced it
        self.tensor_layer: dict[str, LayerFacts] = {}
        self.model_output: dict[str, LayerFacts | None] = {}  # model name -> its last layer (None: unknown)

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        name, value = node.targets[0].target.value, node.value
        previous = self.tensor_layer.pop(name, None)  # a reassigned tensor no longer comes from the layer seen before
        if not isinstance(value, cst.Call):
            return
        callee = self.ctx.callee(value)
        if callee in SEQUENTIAL:
            layers = positional(value)
            last = None
            if layers and isinstance(layers[0].value, cst.List) and layers[0].value.elements:
                last = _last_real_layer(self.ctx, [element.value for element in layers[0].value.elements])
            self.model_output[name] = LayerFacts.of(self.ctx, last) if last is not None else None
        elif callee in _MODEL:
            args = positional(value)
            outputs = keyword(value, "outputs") or (args[1] if len(args) > 1 else None)
            if outputs is not None and isinstance(outputs.value, cst.Name):
                self.model_output[name] = self.tensor_layer.get(outputs.value.value)
        elif isinstance(value.func, cst.Call) and _is_identity_layer(self.ctx, value.func):
            inputs = positional(value)
            source = inputs[0].value if len(inputs) == 1 and isinstance(inputs[0].value, cst.Name) else None
            if source is not None:
                layer = previous if source.value == name else self.tensor_layer.get(source.value)
                if layer is not None:
                    self.tensor_layer[name] = layer
        elif isinstance(value.func, cst.Call) and keras_layer_kind(self.ctx, value.func):
            self.tensor_layer[name] = LayerFacts.of(self.ctx, value.func)

    def visit_Call(self, node: cst.Call) -> None:
        target = receiver(node)
        if not isinstance(target, cst.Name) or target.value not in self.model_output:
            return
        method = method_name(node)
        if method == "add":
            args = positional(node)
            if args and not _is_identity_layer(self.ctx, args[0].value):
                self.model_output[target.value] = (LayerFacts.of(self.ctx, args[0].value)
                                                   if isinstance(args[0].value, cst.Call) else None)
        elif method == "compile":
            args = positional(node)
            loss = keyword(node, "loss") or (args[1] if len(args) > 1 else None)
            layer = self.model_output[target.value]
            if loss is not None and layer is not None:
                self.check_compile(loss.value, layer)

    def check_compile(self, loss: cst.BaseExpression, layer: LayerFacts) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class FromLogitsMismatch(ModelOutputTracker):
    """## What it does
    Flags a compiled Keras model whose last activation disagrees with its loss's `from_logits`: softmax or
    sigmoid outputs with `from_logits=True`, or raw outputs (no activation) with a crossentropy loss that
    expects probabilities (`from_logits=False`, the default, and every string loss name).

    ## Why is this bad
    With probabilities treated as logits, softmax is applied twice and training barely moves; with logits
    treated as probabilities, the loss clips them into [0, 1] and learns garbage. Neither raises an error.

    ## Example
    ```python
    model = keras.Sequential([layers.Dense(64, activation="relu"), layers.Dense(10)])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy())
    ```

    ## Use instead
    ```python
    model = keras.Sequential([layers.Dense(64, activation="relu"), layers.Dense(10)])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ```
    """

    code = "TF001"
    name = "from-logits-mismatch"
    severity = Severity.ERROR
    message = "{detail}"
    fixable = True
    valid = (
        "import keras\nfrom keras import layers\nmodel = keras.Sequential([layers.Dense(10, activation='softmax')])\n"
        "model.compile(loss='sparse_categorical_crossentropy')\n",
        "import keras\nfrom keras import layers\nmodel = keras.Sequential([layers.Dense(10)])\n"
        "model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n",
        # the tensor that leaves the Dense is replaced by its softmax before it becomes the output
        "import keras\nfrom keras import layers\ninputs = keras.Input((4,))\nx = layers.Dense(3)(inputs)\n"
        "x = keras.ops.softmax(x)\nmodel = keras.Model(inputs, x)\nmodel.compile(loss='categorical_crossentropy')\n",
        # the mixed-precision guide's float32 cast after a softmax: the output is still probabilities
        "import keras\nfrom keras import layers\ninputs = keras.Input((4,))\n"
        "x = layers.Dense(10, activation='softmax')(inputs)\n"
        "outputs = layers.Activation('linear', dtype='float32')(x)\nmodel = keras.Model(inputs, outputs)\n"
        "model.compile(loss='sparse_categorical_crossentropy')\n",
        "import keras\nfrom keras import layers\nmodel = keras.Sequential([layers.Dense(10, activation='softmax'), "
        "layers.Activation('linear', dtype='float32')])\nmodel.compile(loss='sparse_categorical_crossentropy')\n",
    )
    invalid = (
        Invalid(
            "import keras\nfrom keras import layers\nmodel = keras.Sequential([layers.Dense(10)])\n"
            "model.compile(loss=keras.losses.SparseCategoricalCrossentropy())\n",
            "import keras\nfrom keras import layers\nmodel = keras.Sequential([layers.Dense(10)])\n"
            "model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n",
        ),
        Invalid(
            "import tensorflow as tf\ninputs = tf.keras.Input((4,))\n"
            "outputs = tf.keras.layers.Dense(3, activation='softmax')(inputs)\nmodel = tf.keras.Model(inputs, outputs)\n"
            "model.compile(optimizer='adam', loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True))\n",
        ),
        Invalid(
            "import keras\nmodel = keras.Sequential()\nmodel.add(keras.layers.Dense(1))\n"
            "model.compile('adam', 'binary_crossentropy')\n",
        ),
        # a float32 cast of raw outputs is still raw outputs
        Invalid(
            "import keras\nfrom keras import layers\ninputs = keras.Input((4,))\nx = layers.Dense(10)(inputs)\n"
            "x = layers.Activation('linear', dtype='float32')(x)\nmodel = keras.Model(inputs, x)\n"
            "model.compile(loss='sparse_categorical_crossentropy')\n",
        ),
    )

    def check_compile(self, loss: cst.BaseExpression, layer: LayerFacts) -> None:
        activation = layer.activation
        if activation is None:
            return
        loss_name = string_value(loss)
        if loss_name is not None:
            if loss_name in _PROBABILITY_LOSSES and activation == "linear":
                self.report(loss, f"The model outputs logits (no final activation) but `{loss_name}` expects "
                                  "probabilities; use the loss class with `from_logits=True`")
            return
        if not isinstance(loss, cst.Call) or self.ctx.callee(loss) not in _LOSS_CLASSES:
            return
        from_logits = keyword(loss, "from_logits")
        logits = from_logits is not None and isinstance(from_logits.value, cst.Name) and from_logits.value.value == "True"
        if logits and activation in ("softmax", "sigmoid"):
            self.report(from_logits, f"`from_logits=True` but the model ends in {activation}: softmax/sigmoid would be "
                                     "applied twice; drop `from_logits=True` or the final activation")
        elif activation == "linear" and from_logits is None:
            fix = PendingFix("Pass `from_logits=True`", (
                self.replace(loss, self.ctx.code(with_keyword(loss, "from_logits", "True"))),))
            self.report(loss, "The model outputs logits (no final activation) but the loss expects "
                              "probabilities (`from_logits=False`)", fix)


class MixedKerasVersions(Rule):
    """## What it does
    Flags a layer, model or optimizer of one Keras handed to the other: a `tf.keras` (TensorFlow's bundled Keras)
    layer in a Keras 3 `keras.Sequential`, a Keras 3 optimizer passed to a `tf.keras` model's `compile`, directly or
    through a variable.

    ## Why is this bad
    Since TensorFlow 2.16, `tf.keras` may be Keras 2 (via `tf_keras`) while `keras` is Keras 3: two libraries
    whose layers, models and optimizers cannot be mixed. Passing a layer of one to a model of the other fails
    with confusing errors ("not a valid Keras layer", "Could not interpret optimizer identifier").

    ## Example
    ```python
    import keras
    import tensorflow as tf
    model = keras.Sequential([tf.keras.layers.Dense(10)])
    ```

    ## Use instead
    ```python
    import keras
    model = keras.Sequential([keras.layers.Dense(10)])
    ```
    """

    code = "TF003"
    name = "mixed-keras-versions"
    severity = Severity.ERROR
    message = "`{this}` is {flavor}, but it is handed to {other} ({line}): pick one Keras"
    valid = ("import keras\nm = keras.Sequential([keras.layers.Dense(1)])\n",
             "import tensorflow as tf\nm = tf.keras.Sequential([tf.keras.layers.Dense(1)])\nx = tf.constant(1)\n",
             "import keras\nimport tf_keras\nnew = keras.layers.LSTM(8)\nold = tf_keras.layers.LSTM(8)\n")
    invalid = (
        Invalid("import keras\nimport tensorflow as tf\nm = keras.Sequential([tf.keras.layers.Dense(1)])\n"),
        Invalid("from tensorflow import keras as tfk\nfrom keras import layers\nm = tfk.Sequential([layers.Dense(1)])\n"),
        Invalid("import keras\nimport tensorflow as tf\nopt = tf.keras.optimizers.Adam()\nm = keras.Sequential()\n"
                "m.compile(optimizer=opt)\n"),
    )

    carries = ("name_flavor",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.name_flavor: dict[str, str] = {}  # `d = tf.keras.layers.Dense(1)` -> {"d": "tf.keras"}

    def _flavor(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.Call):
            return self.ctx.imports.keras_flavor(node.func)
        if isinstance(node, cst.Name):
            return self.name_flavor.get(node.value)
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        flavor = self._flavor(node.value)
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                if flavor:
                    self.name_flavor[target.target.value] = flavor
                else:
                    self.name_flavor.pop(target.target.value, None)

    def visit_Call(self, node: cst.Call) -> None:
        # Two Kerases in one file are fine (a comparison, a migration test); handing an object of one to the
        # other is the bug: `keras.Sequential([tf.keras.layers.Dense(1)])`, `model.compile(optimizer=tf_opt)`.
        flavor = self.ctx.imports.keras_flavor(node.func)
        if flavor is None and isinstance(node.func, cst.Attribute):
            flavor = self._flavor(node.func.value)  # a method of a model of one flavour
        if flavor is None:
            return
        for arg in node.args:
            for value in _argument_values(arg.value):
                other = self._flavor(value)
                if other is not None and other != flavor:
                    self.report(value, self.message.format(this=self.ctx.code(value.func if isinstance(value, cst.Call)
                                                                                else value),
                                                           flavor=_label(other), other=_label(flavor),
                                                           line=f"`{self.ctx.code(node.func)}`"))
                    return


def _argument_values(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    """An argument, or the elements of a list/tuple argument (``Sequential([...])``)."""
    if isinstance(node, (cst.List, cst.Tuple)):
        return [e.value for e in node.elements if isinstance(e, cst.Element)]
    return [node]


def _label(flavor: str) -> str:
    return "tf.keras (Keras 2)" if flavor == "tf.keras" else "Keras 3 `keras`"


_OPTIMIZER_RENAMES = {"lr": "learning_rate"}


class RemovedOptimizerArgument(Rule):
    """## What it does
    Flags Keras optimizers built with arguments removed in Keras 3 (`lr=`, `decay=`).

    ## Why is this bad
    Keras 3 raises `ValueError: Argument(s) not recognized: {'lr': ...}`; code copied from Keras 2 tutorials stops
    at the first line that builds an optimizer.

    ## Example
    ```python
    opt = keras.optimizers.Adam(lr=1e-3)
    ```

    ## Use instead
    ```python
    opt = keras.optimizers.Adam(learning_rate=1e-3)
    ```
    """

    code = "TF008"
    scope = STATEMENT_SCOPE
    name = "removed-optimizer-argument"
    severity = Severity.ERROR
    message = "`{arg}=` was removed from Keras optimizers{hint}"
    fixable = True
    valid = ("import keras\nopt = keras.optimizers.Adam(learning_rate=1e-3)\n",)
    invalid = (
        Invalid("import keras\nopt = keras.optimizers.Adam(lr=1e-3)\n",
                "import keras\nopt = keras.optimizers.Adam(learning_rate=1e-3)\n"),
        Invalid("from tensorflow.keras.optimizers import SGD\nopt = SGD(lr=0.1, decay=1e-6)\n",
                "from tensorflow.keras.optimizers import SGD\nopt = SGD(learning_rate=0.1, decay=1e-6)\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee is None or not callee.startswith("keras.optimizers."):
            return
        for arg in node.args:
            if arg.keyword is None:
                continue
            name = arg.keyword.value
            if name in _OPTIMIZER_RENAMES:
                new = _OPTIMIZER_RENAMES[name]
                fix = None
                if keyword(node, new) is None:
                    fix = PendingFix(f"Rename to `{new}=`", (self.replace(arg.keyword, new),))
                self.report(arg, self.message.format(arg=name, hint=f"; use `{new}=`"), fix)
            elif name == "decay":
                self.report(arg, self.message.format(arg=name, hint="; use a `keras.optimizers.schedules` schedule"))


_FLOWS = "TF007 flows"  # Context.document_memory key
KERAS_MODEL_FACTORIES = {"keras.Sequential", "keras.models.Sequential", "keras.Model", "keras.models.Model",
                          "keras.models.load_model", "keras.saving.load_model"}


class PredictInLoop(Rule):
    """## What it does
    Flags `model.predict(...)` on a Keras model inside a Python `for`/`while` loop.

    ## Why is this bad
    `predict` is built for large inputs: each call sets up a data pipeline, batches and runs callbacks. Called
    per sample in a loop it is orders of magnitude slower than one batched call, and it leaks memory in some
    TensorFlow versions.

    ## Example
    ```python
    for image in images:
        scores.append(model.predict(image[None]))
    ```

    ## Use instead
    ```python
    scores = model.predict(np.stack(images))  # or model(batch, training=False) for small inputs
    ```
    """

    code = "TF007"
    name = "predict-in-loop"
    severity = Severity.WARNING
    message = "`{name}.predict()` in a loop: batch the inputs into one call, or call `{name}(x, training=False)`"
    valid = ("import keras\nmodel = keras.models.load_model('m.keras')\nys = model.predict(xs)\n",
             "from sklearn.linear_model import LinearRegression\nclf = LinearRegression()\nfor x in xs:\n"
             "    clf.predict(x)\n",
             # a builder of this file that returns something else
             "import keras\nfrom sklearn.svm import SVC\ndef build():\n    return SVC()\nclf = build()\n"
             "for x in xs:\n    clf.predict(x)\n")
    invalid = (
        Invalid("import keras\nmodel = keras.models.load_model('m.keras')\nfor x in xs:\n    y = model.predict(x)\n"),
        # the model comes from a builder function of the same file
        Invalid("import keras\nfrom keras import layers\ndef build_model():\n"
                "    model = keras.Sequential([layers.Dense(1)])\n    model.compile('adam', 'mse')\n    return model\n"
                "model = build_model()\nfor x in xs:\n    y = model.predict(x[None])\n"),
    )

    # the calls whose receiver is traced through the module once the walk is done; the def-use flows of the
    # module's statements are kept per document (an editor's next version rebuilds only those it re-parsed)
    accumulates = ("unresolved",)
    carries = ()

    def __init__(self, ctx):
        super().__init__(ctx)
        # receivers no simple binding explains: (the call, where it is, its top-level statement)
        self.unresolved: list[tuple[cst.Call, Where, cst.CSTNode | None]] = []

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) != "predict" or not self.ctx.loop_stack:
            return
        target = receiver(node)
        meaning = self.ctx.binding_of(target) if target is not None else None
        if meaning is None:
            if binding_key(target) is not None:
                function = self.ctx.enclosing_function()
                cls = self.ctx.enclosing_class()
                self.unresolved.append((node, Where(function, cls if function is not None else None),
                                        self.ctx.statement))
            return
        if _is_keras_model_meaning(meaning):
            self.report(node, self.message.format(name=self.ctx.code(target)))

    def leave_Module(self, node: cst.Module) -> None:
        if not self.unresolved:
            return
        index = ModuleIndex(node, self.ctx.document_memory.get(_FLOWS))
        tracer = ValueTracer(self.ctx, index, lambda call: False, frozenset())
        for call, where, statement in self.unresolved:
            target = receiver(call)
            if self._builds_keras_model(tracer, target, call, where, 0):
                self.report(call, self.message.format(name=self.ctx.code(target)), statement=statement)
        self.ctx.document_memory[_FLOWS] = index.flows()

    def _builds_keras_model(self, tracer: ValueTracer, expr: cst.BaseExpression, use: cst.CSTNode, where: Where,
                            depth: int) -> bool:
        """Whether ``expr`` holds a Keras model: built by a Keras factory, an application, a Keras model class of
        this file, or a function of this file all of whose returns are such."""
        found = tracer.module_value(expr, use, where)
        if found is None or depth > 8:
            return False
        constructor, constructor_where = found
        meaning = self.ctx.callee(constructor)
        if meaning is not None:
            return _is_keras_model_meaning(meaning)
        func = constructor.func
        if isinstance(func, cst.Name):
            kind = self.ctx.class_kind(func.value)
            if kind is not None:
                return kind in (KERAS_MODEL, KERAS_LAYER)
            builder = tracer.index.functions.get(func.value)
            returns = tracer.index.scope(builder).returns if builder is not None else []
            return bool(returns) and all(
                r.value is not None and self._builds_keras_model(tracer, r.value, r.value, Where(builder, None), depth + 1)
                for r in returns)
        return False


def _is_keras_model_meaning(meaning: str) -> bool:
    return (meaning in KERAS_MODEL_FACTORIES or meaning.startswith("keras.applications.")
            or meaning.startswith((KERAS_MODEL + ":", KERAS_LAYER + ":")))
