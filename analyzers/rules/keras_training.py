"""Keras training rules: output layers against losses, saving, data pipelines, removed APIs, fine-tuning."""

from __future__ import annotations

import libcst as cst

from ..context import KERAS_LAYER, KERAS_MODEL
from ..findings import Severity
from ..rule import STATEMENT_SCOPE, Invalid, PendingFix, Rule
from ._calls import (chain_methods, keyword, method_name, positional, receiver, receiver_key,
                     string_value, with_keyword)
from .keras_models import (KERAS_MODEL_FACTORIES, SEQUENTIAL, LayerFacts, ModelOutputTracker,
                           keras_layer_kind)


def _dense_units_and_activation(ctx, layer: cst.BaseExpression) -> tuple[float | None, str | None] | None:
    if keras_layer_kind(ctx, layer) != "Dense":
        return None
    facts = LayerFacts.of(ctx, layer)
    return facts.units, facts.activation


def _loss_name(ctx, loss: cst.BaseExpression) -> str | None:
    """``categorical_crossentropy`` for the string or the class ``CategoricalCrossentropy()``."""
    text = string_value(loss)
    if text is not None:
        return text
    target = loss.func if isinstance(loss, cst.Call) else loss
    callee = ctx.qualname(target)
    if callee is None or not callee.startswith("keras.losses."):
        return None
    return {"CategoricalCrossentropy": "categorical_crossentropy", "BinaryCrossentropy": "binary_crossentropy",
            "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy"}.get(
                callee.rsplit(".", 1)[-1], callee.rsplit(".", 1)[-1])


class SingleUnitCategoricalOutput(ModelOutputTracker):
    """## What it does
    Flags a Keras model whose output is a single unit with a softmax, or a single unit compiled with
    `categorical_crossentropy`.

    ## Why is this bad
    Softmax over one unit is always exactly 1.0, whatever the input; categorical crossentropy over one unit is
    constant, so its gradient is zero. Either way the model cannot learn, and Keras raises no error. A binary
    problem needs one sigmoid unit with `binary_crossentropy`, or two softmax units.

    ## Example
    ```python
    model = keras.Sequential([layers.Dense(32, activation="relu"), layers.Dense(1, activation="softmax")])
    model.compile(loss="binary_crossentropy")
    ```

    ## Use instead
    ```python
    model = keras.Sequential([layers.Dense(32, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy")
    ```
    """

    code = "TF009"
    name = "single-unit-categorical-output"
    severity = Severity.ERROR
    message = "{detail}"
    valid = (
        "import keras\nfrom keras import layers\nm = keras.Sequential([layers.Dense(1, activation='sigmoid')])\n"
        "m.compile(loss='binary_crossentropy')\n",
        "import keras\nfrom keras import layers\nm = keras.Sequential([layers.Dense(3, activation='softmax')])\n"
        "m.compile(loss='categorical_crossentropy')\n",
    )
    invalid = (
        Invalid("import keras\nfrom keras import layers\nm = keras.Sequential([layers.Dense(1, activation='softmax')])\n"),
        Invalid("import keras\nfrom keras import layers\nm = keras.Sequential([layers.Dense(1, activation='sigmoid')])\n"
                "m.compile(loss=keras.losses.CategoricalCrossentropy())\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        super().visit_Call(node)
        facts = _dense_units_and_activation(self.ctx, node)
        if facts is not None and facts[0] == 1 and facts[1] == "softmax":
            self.report(node, "Softmax over a single unit always outputs 1.0: use `activation=\"sigmoid\"` for one "
                              "unit, or give the layer one unit per class")

    def check_compile(self, loss: cst.BaseExpression, layer: LayerFacts) -> None:
        if layer.kind != "Dense" or layer.units != 1 or layer.activation == "softmax":
            return
        if _loss_name(self.ctx, loss) == "categorical_crossentropy":
            self.report(loss, "Categorical crossentropy over a single output unit is constant (zero gradient): use "
                              "`binary_crossentropy` with one sigmoid unit")


class BinaryCrossentropyWithSoftmax(ModelOutputTracker):
    """## What it does
    Flags a Keras model whose last layer is a softmax over several units compiled with `binary_crossentropy`.

    ## Why is this bad
    Binary crossentropy treats each unit as an independent yes/no question, while softmax makes the units
    compete. The loss trains, but the reported `accuracy` is binary accuracy per unit (misleadingly high), and
    the probabilities are not calibrated for either reading.

    ## Example
    ```python
    model = keras.Sequential([layers.Dense(10, activation="softmax")])
    model.compile(loss="binary_crossentropy", metrics=["accuracy"])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([layers.Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    ```
    """

    code = "TF025"
    name = "binary-crossentropy-with-softmax"
    severity = Severity.WARNING
    message = ("`binary_crossentropy` on a softmax over several units: use `categorical_crossentropy` (or sigmoid "
               "outputs for multi-label)")
    valid = (
        "import keras\nfrom keras import layers\nm = keras.Sequential([layers.Dense(5, activation='sigmoid')])\n"
        "m.compile(loss='binary_crossentropy')\n",
    )
    invalid = (
        Invalid("import keras\nfrom keras import layers\nm = keras.Sequential([layers.Dense(5, activation='softmax')])\n"
                "m.compile(optimizer='adam', loss='binary_crossentropy')\n"),
    )

    def check_compile(self, loss: cst.BaseExpression, layer: LayerFacts) -> None:
        if layer.kind != "Dense" or layer.activation != "softmax" or layer.units is None or layer.units < 2:
            return
        if _loss_name(self.ctx, loss) == "binary_crossentropy":
            self.report(loss)


def _is_saving_call(ctx, node: cst.Call) -> bool:
    callee = ctx.callee(node)
    if callee in ("keras.models.save_model", "keras.saving.save_model"):
        return True
    return callee is None and method_name(node) == "save"


class LambdaLayerInSavedModel(Rule):
    """## What it does
    Flags `keras.layers.Lambda(lambda ...)` in a file that saves a Keras model.

    ## Why is this bad
    A Python lambda is stored as bytecode. Keras 3 refuses to load it by default ("Requested the deserialization
    of a `Lambda` layer whose `function` is a Python lambda ... arbitrary code execution"), and even with
    `safe_mode=False` the bytecode only loads on the same Python version.

    ## Example
    ```python
    model = keras.Sequential([keras.Input((4,)), layers.Lambda(lambda x: x / 255.0)])
    model.save("model.keras")
    ```

    ## Use instead
    ```python
    model = keras.Sequential([keras.Input((4,)), layers.Rescaling(1 / 255.0)])
    model.save("model.keras")
    ```
    """

    code = "TF013"
    name = "lambda-layer-in-saved-model"
    severity = Severity.WARNING
    message = "A `Lambda` layer wrapping a Python lambda cannot be reloaded by `keras.models.load_model` (safe mode)"
    valid = ("import keras\nm = keras.Sequential([keras.layers.Lambda(lambda x: x * 2)])\n",
             "import keras\nm = keras.Sequential([keras.layers.Rescaling(2.0)])\nm.save('m.keras')\n")
    invalid = (Invalid("import keras\nm = keras.Sequential([keras.layers.Lambda(lambda x: x * 2)])\nm.save('m.keras')\n"),)

    accumulates = ("lambdas",)
    carries = ("saves",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.lambdas: list[tuple[cst.Call, cst.CSTNode | None]] = []  # with their top-level statement
        self.saves = False

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.callee(node) == "keras.layers.Lambda":
            args = positional(node)
            function = keyword(node, "function") or (args[0] if args else None)
            if function is not None and isinstance(function.value, cst.Lambda):
                self.lambdas.append((node, self.ctx.statement))
        elif _is_saving_call(self.ctx, node) and (self.ctx.imports.imports_framework("keras")
                                                  or self.ctx.imports.imports_framework("tensorflow")):
            self.saves = True

    def leave_Module(self, node: cst.Module) -> None:
        if self.saves:
            for call, statement in self.lambdas:
                self.report(call, statement=statement)


class InputShapeArgument(Rule):
    """## What it does
    Flags `input_shape=` / `input_dim=` passed to a Keras 3 layer (other than `InputLayer`).

    ## Why is this bad
    Keras 3 warns "Do not pass an `input_shape`/`input_dim` argument to a layer" and only honours it on the
    first layer of a `Sequential` model; on any other layer, or in a functional or subclassed model, it is
    silently ignored.

    ## Example
    ```python
    model = keras.Sequential([layers.Dense(64, input_shape=(784,)), layers.Dense(10)])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(64), layers.Dense(10)])
    ```
    """

    code = "TF014"
    scope = STATEMENT_SCOPE
    name = "input-shape-argument"
    severity = Severity.INFO
    message = "`{arg}=` on a layer is deprecated in Keras 3: start the model with `keras.Input(shape=...)`"
    valid = ("import keras\nm = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])\n",
             "import tf_keras\nm = tf_keras.layers.Dense(2, input_shape=(4,))\n",
             "import keras\ne = keras.layers.Embedding(input_dim=1000, output_dim=16)\n")
    invalid = (Invalid("import keras\nm = keras.Sequential([keras.layers.Dense(2, input_shape=(4,))])\n"),
               Invalid("import tensorflow as tf\nl = tf.keras.layers.LSTM(8, input_dim=3)\n"))

    def visit_Call(self, node: cst.Call) -> None:
        kind = keras_layer_kind(self.ctx, node)
        if kind is None or not kind[:1].isupper() or kind == "InputLayer" or kind.endswith("Embedding"):
            return  # `Embedding(input_dim=...)` is the vocabulary size, not a shape
        raw = self.ctx.imports.raw(node.func) or ""
        if raw.startswith(("tf_keras", "tensorflow.python.keras")):
            return  # Keras 2 accepts it
        for name in ("input_shape", "input_dim"):
            arg = keyword(node, name)
            if arg is not None:
                self.report(arg, self.message.format(arg=name))
                return


class FrozenBaseWithoutTrainingFlag(Rule):
    """## What it does
    Flags a Keras model set to `trainable = False` and then called without `training=False`.

    ## Why is this bad
    The Keras transfer-learning guide calls a frozen base with `training=False`. A frozen `BatchNormalization`
    already runs in inference mode, but the flag is what keeps it (and the base's `Dropout`) in inference mode
    once you unfreeze the base for fine-tuning; without it the batch statistics of small fine-tuning batches
    overwrite the pretrained ones and accuracy collapses. The message says what applies to the model at hand:
    a `keras.applications` model with BatchNormalization, ConvNeXt's stochastic depth, or, for a model of
    unknown layers, what would happen to any Dropout and BatchNormalization in it; VGG16/VGG19 (neither) are
    not flagged.

    ## Example
    ```python
    base = keras.applications.ResNet50(include_top=False)
    base.trainable = False
    x = base(inputs)
    ```

    ## Use instead
    ```python
    base = keras.applications.ResNet50(include_top=False)
    base.trainable = False
    x = base(inputs, training=False)
    ```

    The fix changes the base's `Dropout` behaviour during training, so it is offered in the editor only.
    """

    code = "TF015"
    name = "frozen-base-without-training-flag"
    severity = Severity.INFO
    message = ("`{key}` is frozen but called without `training=False`: its BatchNormalization layers will update "
               "their statistics once it is unfrozen for fine-tuning")
    fixable = True
    valid = ("import keras\nbase = keras.applications.MobileNetV2(include_top=False)\nbase.trainable = False\n"
             "x = base(inputs, training=False)\n",
             # VGG has neither BatchNormalization nor Dropout: the flag changes nothing
             "import keras\nbase = keras.applications.VGG16(include_top=False)\nbase.trainable = False\n"
             "x = base(inputs)\n")
    invalid = (
        Invalid("import keras\nbase = keras.applications.MobileNetV2(include_top=False)\nbase.trainable = False\n"
                "x = base(inputs)\n",
                "import keras\nbase = keras.applications.MobileNetV2(include_top=False)\nbase.trainable = False\n"
                "x = base(inputs, training=False)\n"),
        # a model of unknown layers: the message says what holds whatever they are
        Invalid("import keras\nbase = keras.models.load_model('base.keras')\nbase.trainable = False\n"
                "x = base(inputs)\n"),
    )

    carries = ("module_frozen",)

    def __init__(self, ctx):
        super().__init__(ctx)
        # frozen models per function (a name means nothing in another one): key -> what the model is
        self.scopes: list[dict[str, str]] = [{}]

    @property
    def frozen(self) -> dict[str, str]:
        return self.scopes[-1]

    @property
    def module_frozen(self) -> dict[str, str]:
        """The module level's frozen models: what one top-level statement hands to the next."""
        return self.scopes[0]

    @module_frozen.setter
    def module_frozen(self, frozen: dict[str, str]) -> None:
        self.scopes[0] = frozen

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append({})

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Attribute) and t.attr.value == "trainable" and isinstance(node.value, cst.Name):
                key = receiver_key(t.value)
                if key is None:
                    continue
                meaning = self._keras_model(t.value)
                if node.value.value == "False" and meaning is not None:
                    self.frozen[key] = meaning
                elif node.value.value == "True":
                    self.frozen.pop(key, None)

    def _keras_model(self, node: cst.BaseExpression) -> str | None:
        meaning = self.ctx.binding_of(node) or ""
        if (meaning in KERAS_MODEL_FACTORIES or meaning.startswith("keras.applications.")
                or meaning.startswith((KERAS_MODEL + ":", KERAS_LAYER + ":"))):
            return meaning
        return None

    def _message(self, key: str, meaning: str) -> str | None:
        """What calling this frozen model in training mode does, as far as its origin tells; None when nothing."""
        if meaning.startswith("keras.applications."):
            architecture = meaning.rsplit(".", 1)[-1]
            if architecture.startswith("VGG"):
                return None  # no BatchNormalization, no Dropout: training mode changes nothing
            if architecture.startswith("ConvNeXt"):
                return (f"`{key}` is frozen but called without `training=False`: its stochastic depth still drops "
                        "residual branches at random in training")
            return self.message.format(key=key)
        return (f"`{key}` is frozen but called without `training=False`: any Dropout in it stays active in "
                "training, and any BatchNormalization will update its statistics once it is unfrozen")

    def visit_Call(self, node: cst.Call) -> None:
        key = receiver_key(node.func)
        if key is None or key not in self.frozen or keyword(node, "training") is not None:
            return
        if any(a.star for a in node.args) or not positional(node):
            return
        message = self._message(key, self.frozen[key])
        if message is None:
            return
        fix = PendingFix("Pass `training=False`",
                         (self.replace(node, self.ctx.code(with_keyword(node, "training", "False"))),), safe=False)
        self.report(node, message, fix)


_DATASET_SOURCES = {"keras.utils.image_dataset_from_directory", "keras.utils.text_dataset_from_directory",
                    "keras.utils.audio_dataset_from_directory", "keras.utils.timeseries_dataset_from_array",
                    "keras.preprocessing.image_dataset_from_directory"}


def _innermost_call(node: cst.BaseExpression) -> cst.Call | None:
    """The first call of a method chain: ``from_tensor_slices(...)`` in ``tf.data...from_tensor_slices(x).batch(8)``."""
    first = None
    while isinstance(node, cst.Call):
        first = node
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
            node = func.value
        else:
            break
    return first


class _DatasetTracker(Rule):
    """Knows which simple names hold a ``tf.data.Dataset`` (or a Keras ``*_dataset_from_*`` result)."""

    carries = ("datasets",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.datasets: set[str] = set()

    def is_dataset(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name) and node.value in self.datasets:
            return True
        first = _innermost_call(node)
        if first is None:
            return False
        callee = self.ctx.callee(first)
        if callee is not None:
            return callee.startswith("tensorflow.data.") or callee in _DATASET_SOURCES
        root = first.func.value if isinstance(first.func, cst.Attribute) else None
        return isinstance(root, cst.Name) and root.value in self.datasets

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                if self.is_dataset(node.value):
                    self.datasets.add(target.target.value)
                else:
                    self.datasets.discard(target.target.value)


class ValidationSplitWithDataset(_DatasetTracker):
    """## What it does
    Flags `model.fit(dataset, validation_split=...)` when the input is a `tf.data.Dataset`.

    ## Why is this bad
    Keras can only split arrays and tensors: with a dataset (or a generator) `fit` raises
    "Argument `validation_split` is only supported for tensors or NumPy arrays".

    ## Example
    ```python
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    model.fit(train, validation_split=0.2)
    ```

    ## Use instead
    ```python
    val = train.take(10)
    model.fit(train.skip(10), validation_data=val)
    ```
    """

    code = "TF016"
    name = "validation-split-with-dataset"
    severity = Severity.ERROR
    message = "`validation_split` is not supported when fitting on a `tf.data.Dataset`: pass `validation_data=`"
    valid = ("import tensorflow as tf\nmodel.fit(x_train, y_train, validation_split=0.2)\n",
             "import tensorflow as tf\nds = tf.data.Dataset.from_tensor_slices((x, y))\nmodel.fit(ds, validation_data=v)\n")
    invalid = (
        Invalid("import tensorflow as tf\nds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)\n"
                "model.fit(ds, epochs=3, validation_split=0.1)\n"),
        Invalid("import keras\ntrain = keras.utils.image_dataset_from_directory('data')\ntrain = train.prefetch(2)\n"
                "model.fit(x=train, validation_split=0.2)\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) != "fit" or keyword(node, "validation_split") is None:
            return
        args = positional(node)
        x = keyword(node, "x") or (args[0] if args else None)
        if x is not None and self.is_dataset(x.value):
            self.report(keyword(node, "validation_split"))


_FIT_KEYWORDS = {"steps_per_epoch", "epochs", "verbose", "callbacks", "validation_data", "validation_steps",
                 "validation_freq", "class_weight", "initial_epoch", "shuffle"}
_EVALUATE_KEYWORDS = {"steps", "callbacks", "verbose"}
_GENERATOR_METHODS = {"fit_generator": ("fit", _FIT_KEYWORDS), "evaluate_generator": ("evaluate", _EVALUATE_KEYWORDS),
                      "predict_generator": ("predict", _EVALUATE_KEYWORDS)}
_REMOVED_METHODS = {"predict_classes": "`np.argmax(model.predict(x), axis=-1)` (or `> 0.5` for one sigmoid unit)",
                    "predict_proba": "`model.predict(x)`"}


class RemovedModelMethod(Rule):
    """## What it does
    Flags `fit_generator`, `evaluate_generator`, `predict_generator`, `predict_classes` and `predict_proba` on
    Keras models.

    ## Why is this bad
    They were removed (`predict_classes`/`predict_proba` in TensorFlow 2.6, the `*_generator` methods in
    Keras 3): the call raises `AttributeError`. `fit`, `evaluate` and `predict` accept generators and datasets
    directly.

    ## Example
    ```python
    model.fit_generator(train_gen, epochs=10)
    ```

    ## Use instead
    ```python
    model.fit(train_gen, epochs=10)
    ```

    The rename is safe when the generator is the only positional argument and every keyword exists on the new
    method (`workers=`, `use_multiprocessing=` and `max_queue_size=` do not in Keras 3).
    """

    code = "TF017"
    scope = STATEMENT_SCOPE
    name = "removed-model-method"
    severity = Severity.ERROR
    message = "`{method}` was removed from Keras models: use {hint}"
    fixable = True
    valid = ("import keras\nmodel.fit(train_gen, epochs=10)\n", "import torch\nrunner.fit_generator(g)\n")
    invalid = (
        Invalid("import keras\nmodel.fit_generator(train_gen, epochs=10)\n", "import keras\nmodel.fit(train_gen, epochs=10)\n"),
        Invalid("from tensorflow import keras\nlabels = model.predict_classes(x)\n"),
        Invalid("import keras\nmodel.fit_generator(gen, 100, workers=4)\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        method = method_name(node)
        if method not in _GENERATOR_METHODS and method not in _REMOVED_METHODS:
            return
        if self.ctx.callee(node) is not None or not (self.ctx.imports.imports_framework("keras")
                                                      or self.ctx.imports.imports_framework("tensorflow")):
            return
        if method in _REMOVED_METHODS:
            self.report(node.func.attr, self.message.format(method=method, hint=_REMOVED_METHODS[method]))
            return
        new, allowed = _GENERATOR_METHODS[method]
        fix = None
        keywords = {a.keyword.value for a in node.args if a.keyword is not None}
        if len(positional(node)) == 1 and not any(a.star for a in node.args) and keywords <= allowed:
            fix = PendingFix(f"Rename to `{new}`", (self.replace(node.func.attr, new),))
        self.report(node.func.attr, self.message.format(method=method, hint=f"`{new}`, which accepts generators"), fix)


_CONV_2D_3D = {"Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose", "SeparableConv2D", "DepthwiseConv2D",
               "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D", "MaxPooling3D", "AveragePooling3D"}


class DenseOnFeatureMap(Rule):
    """## What it does
    Flags a `Dense` layer directly after a 2-D/3-D convolution or pooling layer in a `Sequential` list.

    ## Why is this bad
    `Dense` acts on the last axis only: on a `(batch, height, width, channels)` feature map it applies the same
    weights at every position and keeps the spatial axes, so the "classifier" outputs a map instead of one
    vector per image, and the loss either fails on shapes or averages over positions.

    ## Example
    ```python
    model = keras.Sequential([layers.Conv2D(32, 3, activation="relu"), layers.Dense(10)])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([layers.Conv2D(32, 3, activation="relu"), layers.Flatten(), layers.Dense(10)])
    ```
    """

    code = "TF021"
    scope = STATEMENT_SCOPE
    name = "dense-on-feature-map"
    severity = Severity.WARNING
    message = "`Dense` directly after `{previous}` acts per position: add `Flatten()` or `GlobalAveragePooling2D()`"
    valid = ("import keras\nfrom keras import layers\nm = keras.Sequential([layers.Conv2D(8, 3), layers.Flatten(), "
             "layers.Dense(2)])\n",)
    invalid = (Invalid("import keras\nfrom keras import layers\nm = keras.Sequential([layers.Conv2D(8, 3), "
                       "layers.MaxPooling2D(), layers.Dense(2)])\n"),)

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.callee(node) not in SEQUENTIAL:
            return
        args = positional(node)
        if not args or not isinstance(args[0].value, (cst.List, cst.Tuple)):
            return
        layers = [e.value for e in args[0].value.elements if isinstance(e, cst.Element)]
        for previous, layer in zip(layers, layers[1:]):
            kind = keras_layer_kind(self.ctx, previous)
            if kind in _CONV_2D_3D and keras_layer_kind(self.ctx, layer) == "Dense":
                self.report(layer, self.message.format(previous=kind))


class BatchBeforeShuffle(_DatasetTracker):
    """## What it does
    Flags a `tf.data` pipeline that calls `.shuffle()` after `.batch()`.

    ## Why is this bad
    Shuffling after batching shuffles whole batches: the same examples always end up together in a batch, every
    epoch. Batches are less random than intended, which hurts generalisation (and batch normalisation).

    ## Example
    ```python
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32).shuffle(1000)
    ```

    ## Use instead
    ```python
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(1000).batch(32)
    ```
    """

    code = "TF022"
    name = "batch-before-shuffle"
    severity = Severity.INFO
    message = "`.shuffle()` after `.batch()` shuffles whole batches: shuffle before batching"
    valid = ("import tensorflow as tf\nds = tf.data.Dataset.range(10).shuffle(10).batch(2)\n",)
    invalid = (Invalid("import tensorflow as tf\nds = tf.data.Dataset.range(10).batch(2).shuffle(10)\n"),
               Invalid("import tensorflow as tf\nds = tf.data.Dataset.range(10).batch(2)\nds = ds.shuffle(5)\n"))

    carries = ("datasets", "batched")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.batched: set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        if isinstance(value, cst.Call) and self.is_dataset(value):
            methods = chain_methods(value)
            root = _innermost_call(value)
            inherited = (root is not None and isinstance(root.func, cst.Attribute)
                         and isinstance(root.func.value, cst.Name) and root.func.value.value in self.batched)
            batched_so_far = inherited
            for method in methods:
                if method == "batch" or method == "padded_batch":
                    batched_so_far = True
                elif method == "unbatch":
                    batched_so_far = False
                elif method == "shuffle" and batched_so_far:
                    self.report(value)
                    break
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    (self.batched.add if batched_so_far else self.batched.discard)(target.target.value)
        super().visit_Assign(node)


class OneHotLabelsWithSparseLoss(Rule):
    """## What it does
    Flags a model compiled with `sparse_categorical_crossentropy` and then fitted on labels one-hot encoded with
    `keras.utils.to_categorical`.

    ## Why is this bad
    The sparse loss expects integer class ids; one-hot labels have one more dimension, and `fit` fails with
    "Argument `output` must have rank (ndim) `target.ndim - 1`" (or, with some shapes, trains on nonsense).

    ## Example
    ```python
    y_train = keras.utils.to_categorical(y_train, 10)
    model.compile(loss="sparse_categorical_crossentropy")
    ```

    ## Use instead
    ```python
    y_train = keras.utils.to_categorical(y_train, 10)
    model.compile(loss="categorical_crossentropy")
    ```
    """

    code = "TF023"
    name = "one-hot-labels-with-sparse-loss"
    severity = Severity.WARNING
    message = "Labels are one-hot encoded with `to_categorical` but the loss is sparse: use `categorical_crossentropy`"
    valid = ("import keras\ny = keras.utils.to_categorical(y, 3)\nmodel.compile(loss='categorical_crossentropy')\n"
             "model.fit(x, y)\n",
             "import keras\nz = keras.utils.to_categorical(z, 3)\nmodel.compile(loss='sparse_categorical_crossentropy')\n"
             "model.fit(x, y)\n")
    invalid = (Invalid("import keras\ny = keras.utils.to_categorical(y, 3)\nmodel.compile(loss='sparse_categorical_crossentropy')\n"
                       "model.fit(x, y, epochs=2)\n"),
               Invalid("from keras.utils import to_categorical\nimport keras\ny_train = to_categorical(y_train)\n"
                       "model.compile(loss=keras.losses.SparseCategoricalCrossentropy())\nmodel.fit(x_train, y=y_train)\n"))

    # Which models are compiled with a sparse loss is carried from one statement to the next. The loss is
    # reported where it is (often another statement than the fit): in leave_Module, from the compiles and fits
    # the statements recorded in order, so that a statement's walk records nothing of other statements.
    carries = ("one_hot", "sparse_models")
    accumulates = ("events",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.one_hot: set[str] = set()  # names holding `to_categorical(...)` results
        self.sparse_models: set[str] = set()  # models compiled with a sparse loss (and not fitted on one-hot yet)
        # ("compile", model, the sparse loss, its top-level statement) and ("fit", model) for a fit on one-hot
        # labels of a model compiled so, in the order of the module
        self.events: list[tuple] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        one_hot = isinstance(value, cst.Call) and self.ctx.callee(value) in (
            "keras.utils.to_categorical", "keras.utils.np_utils.to_categorical")
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                (self.one_hot.add if one_hot else self.one_hot.discard)(target.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        method = method_name(node)
        model = receiver_key(receiver(node))
        if model is None or self.ctx.callee(node) is not None:
            return
        args = positional(node)
        if method == "compile":
            loss = keyword(node, "loss") or (args[1] if len(args) > 1 else None)
            if loss is not None and _loss_name(self.ctx, loss.value) == "sparse_categorical_crossentropy":
                self.sparse_models.add(model)
                self.events.append(("compile", model, loss.value, self.ctx.statement))
            else:
                self.sparse_models.discard(model)
        elif method == "fit" and model in self.sparse_models:
            labels = keyword(node, "y") or (args[1] if len(args) > 1 else None)
            if labels is not None and isinstance(labels.value, cst.Name) and labels.value.value in self.one_hot:
                self.sparse_models.discard(model)
                self.events.append(("fit", model))

    def leave_Module(self, node: cst.Module) -> None:
        last_compile: dict[str, tuple[cst.CSTNode, cst.CSTNode | None]] = {}
        for event in self.events:
            if event[0] == "compile":
                last_compile[event[1]] = event[2], event[3]
            elif event[1] in last_compile:  # its last sparse compile is the one that put it in sparse_models
                loss, statement = last_compile[event[1]]
                self.report(loss, statement=statement)


class SaveWithoutExtension(Rule):
    """## What it does
    Flags `model.save("path")` on a Keras 3 model when the path has no `.keras` (or `.h5`) extension.

    ## Why is this bad
    Keras 2 wrote a TensorFlow SavedModel directory for such paths; Keras 3 raises "Invalid filepath extension
    for saving". Code that saved models for TF Serving stops working.

    ## Example
    ```python
    model = keras.models.load_model("weights.keras")
    model.save("export/classifier")
    ```

    ## Use instead
    ```python
    model = keras.models.load_model("weights.keras")
    model.save("export/classifier.keras")  # or model.export("export/classifier") for a SavedModel
    ```
    """

    code = "TF024"
    scope = STATEMENT_SCOPE
    name = "save-without-extension"
    severity = Severity.ERROR
    message = "Keras 3 `save` needs a `.keras` path (`{path}` raises): add `.keras`, or use `model.export()` for SavedModel"
    valid = ("import keras\nmodel = keras.Sequential()\nmodel.save('m.keras')\n",
             "import keras\nmodel = keras.Sequential()\nmodel.export('serving')\n")
    invalid = (Invalid("import keras\nmodel = keras.Sequential()\nmodel.save('saved/classifier')\n"),)

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) != "save" or self.ctx.callee(node) is not None:
            return
        target = receiver(node)
        meaning = self.ctx.binding_of(target) if target is not None else None
        if not meaning or not (meaning in KERAS_MODEL_FACTORIES or meaning.startswith("keras.applications.")
                               or meaning.startswith(KERAS_MODEL + ":")):
            return
        if any(path.startswith("tf_keras") for path in self.ctx.imports.aliases.values()):
            return  # Keras 2 still writes SavedModel directories
        args = positional(node)
        path_arg = keyword(node, "filepath") or (args[0] if args else None)
        path = string_value(path_arg.value) if path_arg is not None else None
        if path is None or keyword(node, "save_format") is not None:
            return
        if not path.lower().endswith((".keras", ".h5", ".hdf5")):
            self.report(node, self.message.format(path=path))


def _is_plain_value(node: cst.BaseExpression) -> bool:
    """Literals and containers of literals: what Keras's automatic ``get_config`` can serialise."""
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.Name)):
        return True  # a Name may hold anything, but usually a number or a string: give it the benefit of the doubt
    if isinstance(node, cst.UnaryOperation):
        return _is_plain_value(node.expression)
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(isinstance(e, cst.Element) and _is_plain_value(e.value) for e in node.elements)
    if isinstance(node, cst.Dict):
        return all(isinstance(e, cst.DictElement) and _is_plain_value(e.value) for e in node.elements)
    if isinstance(node, cst.Attribute):
        return False  # `keras.activations.relu`, `self.layer`: objects
    return not isinstance(node, (cst.Call, cst.Lambda))


class CustomLayerWithoutGetConfig(Rule):
    """## What it does
    Flags a custom Keras layer or model without `get_config()` that is built with objects as constructor
    arguments (a layer, a function, a lambda) in a file that saves a Keras model.

    ## Why is this bad
    Keras 3 can rebuild a custom layer without `get_config()` only when every constructor argument is a plain
    value (numbers, strings, lists). With an object argument, `model.save()` raises "Object ... was created by
    passing non-serializable argument values in `__init__()`, and therefore the object must override
    `get_config()`".

    ## Example
    ```python
    class Residual(keras.layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

    model = keras.Sequential([keras.Input((8,)), Residual(keras.layers.Dense(8))])
    model.save("model.keras")
    ```

    ## Use instead
    ```python
    class Residual(keras.layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def get_config(self):
            return {**super().get_config(), "inner": keras.saving.serialize_keras_object(self.inner)}

        @classmethod
        def from_config(cls, config):
            config["inner"] = keras.saving.deserialize_keras_object(config["inner"])
            return cls(**config)
    ```
    """

    code = "TF026"
    name = "custom-layer-without-get-config"
    severity = Severity.WARNING
    message = "`{cls}` has no `get_config()` but is built with `{arg}`: saving the model will raise NotImplementedError"
    valid = (
        "import keras\nclass Seq(keras.Sequential):\n    pass\nm = Seq([keras.layers.Dense(2)])\nm.save('m.keras')\n",
        "import keras\nclass Scale(keras.layers.Layer):\n    def __init__(self, factor, **kw):\n"
        "        super().__init__(**kw)\n        self.factor = factor\nm = keras.Sequential([Scale(2.0)])\nm.save('m.keras')\n",
        "import keras\nclass Wrap(keras.layers.Layer):\n    def __init__(self, inner, **kw):\n        super().__init__(**kw)\n"
        "        self.inner = inner\n    def get_config(self):\n        return super().get_config()\n"
        "m = keras.Sequential([Wrap(keras.layers.Dense(2))])\nm.save('m.keras')\n",
    )
    invalid = (
        Invalid("import keras\nclass Wrap(keras.layers.Layer):\n    def __init__(self, inner, **kw):\n"
                "        super().__init__(**kw)\n        self.inner = inner\n"
                "m = keras.Sequential([Wrap(keras.layers.Dense(2))])\nm.save('m.keras')\n"),
    )

    # What a statement's walk records depends on that statement alone (calls of any of the module's classes);
    # which classes lack `get_config` (other statements) is asked once the walk is done.
    accumulates = ("object_arguments", "saving_scopes")
    carries = ()

    def __init__(self, ctx):
        super().__init__(ctx)
        # (function (None: module level), class name, the call's first object argument, its top-level statement)
        self.object_arguments: list[tuple[cst.FunctionDef | None, str, cst.Arg, cst.CSTNode | None]] = []
        self.saving_scopes: list[cst.FunctionDef | None] = []  # functions (None: module level) that save a model
        self.without_config: set[str] = set()
        for statement in ctx.module.body:
            # only direct subclasses of the abstract bases: concrete parents (Sequential, Dense, ...) bring a
            # `get_config` of their own
            if (isinstance(statement, cst.ClassDef) and statement.bases
                    and all(ctx.qualname(base.value) in _ABSTRACT_KERAS_BASES for base in statement.bases)
                    and "get_config" not in _method_names(statement)):
                self.without_config.add(statement.name.value)

    def visit_Call(self, node: cst.Call) -> None:
        scope = self.ctx.enclosing_function()
        if _is_saving_call(self.ctx, node) and (self.ctx.imports.imports_framework("keras")
                                                or self.ctx.imports.imports_framework("tensorflow")):
            self.saving_scopes.append(scope)
        # any of the module's Keras classes (those without `get_config`, a fact of other statements, are picked
        # in leave_Module)
        if isinstance(node.func, cst.Name) and self.ctx.class_kind(node.func.value) in (KERAS_LAYER, KERAS_MODEL):
            for arg in node.args:
                if not arg.star and not _is_plain_value(arg.value):
                    self.object_arguments.append((scope, node.func.value, arg, self.ctx.statement))
                    return

    def leave_Module(self, node: cst.Module) -> None:
        if not self.object_arguments:
            return
        without_config = self.without_config
        saving_scopes = set(self.saving_scopes)
        reported = set()
        # the layer is built and a model saved in the same function (or both at module level): the first object
        # argument given to the class there
        for scope, name, arg, statement in self.object_arguments:
            if name in without_config and scope in saving_scopes and (scope, name) not in reported:
                reported.add((scope, name))
                self.report(arg, self.message.format(cls=name, arg=self.ctx.code(arg.value)), statement=statement)


_ABSTRACT_KERAS_BASES = {"keras.layers.Layer", "keras.Layer", "keras.Model", "keras.models.Model"}


def _method_names(cls: cst.ClassDef) -> set[str]:
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    return {s.name.value for s in body if isinstance(s, cst.FunctionDef)}
