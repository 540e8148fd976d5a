"""TensorFlow graph rules: what `tf.function` tracing does to Python code, renamed and removed graph APIs."""

from __future__ import annotations

import libcst as cst

from ..context import KERAS_LAYER, KERAS_MODEL
from ..findings import Severity
from ..rule import STATEMENT_SCOPE, Invalid, PendingFix, Rule
from ._calls import keyword, method_name
from ..frameworks import dotted


class NumpyInTfFunction(Rule):
    """## What it does
    Flags `.numpy()` called inside a `@tf.function`.

    ## Why is this bad
    Inside a `tf.function` tensors are symbolic while the function is traced: they have no value yet, and
    `.numpy()` raises `AttributeError: 'SymbolicTensor' object has no attribute 'numpy'`.

    ## Example
    ```python
    @tf.function
    def step(x):
        if x.numpy() > 0:
            ...
    ```

    ## Use instead
    ```python
    @tf.function
    def step(x):
        if x > 0:  # AutoGraph turns this into tf.cond
            ...
    ```
    """

    code = "TF010"
    scope = STATEMENT_SCOPE
    name = "numpy-in-tf-function"
    severity = Severity.ERROR
    message = "`.numpy()` inside `@tf.function` fails while tracing: tensors have no value there"
    valid = ("import tensorflow as tf\ndef f(x):\n    return x.numpy()\n",
             "import tensorflow as tf\n@tf.function\ndef f(x):\n    return x + 1\n")
    invalid = (Invalid("import tensorflow as tf\n@tf.function\ndef f(x):\n    return float(x.numpy())\n"),)

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) == "numpy" and not node.args and self.ctx.in_tf_function():
            self.report(node)


class RetracingOnPythonScalar(Rule):
    """## What it does
    Flags a `@tf.function` called in a `for` loop with the loop's Python counter as an argument.

    ## Why is this bad
    A `tf.function` traces a new graph for every distinct Python value it receives. Passing the loop counter
    retraces on every iteration: each call pays the full tracing cost (seconds for a model) and memory grows;
    TensorFlow warns "triggered tf.function retracing".

    ## Example
    ```python
    for step in range(1000):
        train_step(step)
    ```

    ## Use instead
    ```python
    for step in range(1000):
        train_step(tf.constant(step))
    ```

    The fix turns the argument into a tensor, so Python code in the function that depends on its value
    (an `if step == 0:` evaluated at trace time) behaves differently: it is offered in the editor only.
    """

    code = "TF011"
    name = "retracing-on-python-scalar"
    severity = Severity.WARNING
    message = "`{function}` is a `tf.function` called with the Python loop counter `{name}`: it retraces every iteration"
    fixable = True
    valid = ("import tensorflow as tf\n@tf.function\ndef step(i):\n    return i\nfor i in range(3):\n"
             "    step(tf.constant(i))\n",
             "import tensorflow as tf\ndef step(i):\n    return i\nfor i in range(3):\n    step(i)\n")
    invalid = (Invalid("import tensorflow as tf\n@tf.function\ndef step(i):\n    return i\nfor i in range(3):\n    step(i)\n",
                       "import tensorflow as tf\n@tf.function\ndef step(i):\n    return i\nfor i in range(3):\n"
                       "    step(tf.constant(i))\n"),)

    carries = ("functions",)  # the counters' stack is empty between top-level statements

    def __init__(self, ctx):
        super().__init__(ctx)
        self.functions: set[str] = set()  # the tf.functions defined so far
        self.counters: list[str | None] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.ctx.decorated_with(node, "tensorflow.function"):
            self.functions.add(node.name.value)

    def visit_For(self, node: cst.For) -> None:
        counter = None
        iterable = node.iter
        if (isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and iterable.func.value == "range"
                and self.ctx.qualname(iterable.func) is None and isinstance(node.target, cst.Name)):
            counter = node.target.value
        self.counters.append(counter)

    def leave_For(self, node: cst.For) -> None:
        self.counters.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Name) or node.func.value not in self.functions:
            return
        counters = {c for c in self.counters if c}
        for arg in node.args:
            if isinstance(arg.value, cst.Name) and arg.value.value in counters and not arg.star:
                spelling = self.ctx.spelling("tensorflow.constant")
                fix = None
                if spelling is not None:
                    fix = PendingFix(f"Pass `{spelling}({arg.value.value})`",
                                     (self.replace(arg.value, f"{spelling}({arg.value.value})"),), safe=False)
                self.report(arg.value, self.message.format(function=node.func.value, name=arg.value.value), fix)
                return


def _mentions_static_shape(node: cst.CSTNode) -> bool:
    class Finder(cst.CSTVisitor):
        found = False

        def visit_Attribute(self, attribute: cst.Attribute) -> None:
            if attribute.attr.value == "shape":
                self.found = True

    finder = Finder()
    node.visit(finder)
    return finder.found


class PythonLoopUnrolled(Rule):
    """## What it does
    Flags `for i in range(x.shape[0]):` inside a `@tf.function`.

    ## Why is this bad
    `x.shape[0]` is a Python integer while tracing, so AutoGraph cannot turn the loop into a `tf.while_loop`: it
    unrolls it, adding the loop body to the graph once per iteration. Graphs grow with the input size, tracing
    slows down, and an unknown dimension (`None`) fails with a TypeError.

    ## Example
    ```python
    @tf.function
    def total(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += x[i]
        return s
    ```

    ## Use instead
    ```python
    @tf.function
    def total(x):
        s = 0.0
        for i in tf.range(tf.shape(x)[0]):
            s += x[i]
        return s
    ```
    """

    code = "TF012"
    scope = STATEMENT_SCOPE
    name = "python-loop-unrolled"
    severity = Severity.INFO
    message = "`range(...shape...)` in `@tf.function` unrolls the loop into the graph: iterate over `tf.range(tf.shape(x)[0])`"
    valid = ("import tensorflow as tf\n@tf.function\ndef f(x):\n    for i in tf.range(tf.shape(x)[0]):\n        pass\n",
             "import tensorflow as tf\ndef f(x):\n    for i in range(x.shape[0]):\n        pass\n")
    invalid = (Invalid("import tensorflow as tf\n@tf.function\ndef f(x):\n    for i in range(x.shape[0]):\n        pass\n"),)

    def visit_For(self, node: cst.For) -> None:
        iterable = node.iter
        if (isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and iterable.func.value == "range"
                and self.ctx.qualname(iterable.func) is None and self.ctx.in_tf_function()
                and any(_mentions_static_shape(a.value) for a in iterable.args)):
            self.report(iterable)


_RENAMED_TF_FUNCTION_ARGS = {"experimental_relax_shapes": "reduce_retracing", "experimental_compile": "jit_compile"}


class DeprecatedTfFunctionArgument(Rule):
    """## What it does
    Flags `tf.function(experimental_relax_shapes=...)` and `tf.function(experimental_compile=...)`.

    ## Why is this bad
    Both were renamed (`reduce_retracing`, `jit_compile`); the old names log a deprecation warning on every
    decoration and "will be removed in a future version".

    ## Example
    ```python
    @tf.function(experimental_relax_shapes=True)
    def step(x):
        return x
    ```

    ## Use instead
    ```python
    @tf.function(reduce_retracing=True)
    def step(x):
        return x
    ```

    The rename is safe: TensorFlow maps the old name to the new one.
    """

    code = "TF018"
    scope = STATEMENT_SCOPE
    name = "deprecated-tf-function-argument"
    severity = Severity.INFO
    message = "`{old}=` is deprecated: use `{new}=`"
    fixable = True
    valid = ("import tensorflow as tf\n@tf.function(reduce_retracing=True)\ndef f(x):\n    return x\n",)
    invalid = (Invalid("import tensorflow as tf\n@tf.function(experimental_relax_shapes=True)\ndef f(x):\n    return x\n",
                       "import tensorflow as tf\n@tf.function(reduce_retracing=True)\ndef f(x):\n    return x\n"),
               Invalid("import tensorflow as tf\nf = tf.function(g, experimental_compile=True)\n",
                       "import tensorflow as tf\nf = tf.function(g, jit_compile=True)\n"))

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.callee(node) != "tensorflow.function":
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in _RENAMED_TF_FUNCTION_ARGS:
                old = arg.keyword.value
                new = _RENAMED_TF_FUNCTION_ARGS[old]
                fix = None if keyword(node, new) else PendingFix(f"Rename to `{new}=`", (self.replace(arg.keyword, new),))
                self.report(arg, self.message.format(old=old, new=new), fix)


_EXPERIMENTAL_MOVES = {"keras.layers.experimental.preprocessing": "layers",
                       "keras.layers.experimental.EinsumDense": "layers.EinsumDense"}


def _moved_path(qualname: str | None) -> bool:
    return bool(qualname) and (qualname.startswith("keras.layers.experimental.preprocessing.")
                               or qualname == "keras.layers.experimental.EinsumDense")


class RemovedExperimentalLayers(Rule):
    """## What it does
    Flags `tf.keras.layers.experimental.preprocessing.*` (and `layers.experimental.EinsumDense`), in imports and
    in code.

    ## Why is this bad
    The layers moved to `keras.layers` (TensorFlow 2.6) and the `experimental` namespace is gone in Keras 3 and
    in `tf.keras` since TensorFlow 2.16: the import fails with "module 'keras.layers' has no attribute
    'experimental'".

    ## Example
    ```python
    from tensorflow.keras.layers.experimental.preprocessing import Rescaling
    ```

    ## Use instead
    ```python
    from tensorflow.keras.layers import Rescaling
    ```

    The fix is safe: the same classes have lived at the new path since TensorFlow 2.6.
    """

    code = "TF019"
    scope = STATEMENT_SCOPE
    name = "removed-experimental-layers"
    severity = Severity.ERROR
    message = "`{old}` no longer exists: use `{new}`"
    fixable = True
    valid = ("import tensorflow as tf\nl = tf.keras.layers.Rescaling(1 / 255)\n",)
    invalid = (
        Invalid("from tensorflow.keras.layers.experimental.preprocessing import Rescaling\n",
                "from tensorflow.keras.layers import Rescaling\n"),
        Invalid("import tensorflow as tf\nl = tf.keras.layers.experimental.preprocessing.Rescaling(1 / 255)\n",
                "import tensorflow as tf\nl = tf.keras.layers.Rescaling(1 / 255)\n"),
    )

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        module = dotted(node.module)
        if module is None:
            return
        head, sep, _ = module.partition(".layers.experimental.preprocessing")
        if sep and module.endswith(".layers.experimental.preprocessing") and head.split(".")[-1] in ("keras",):
            new = head + ".layers"
            self.report(node.module, self.message.format(old=module, new=new),
                        PendingFix(f"Import from `{new}`", (self.replace(node.module, new),)))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        parent = node.value
        if not (isinstance(parent, cst.Attribute) and parent.attr.value in ("preprocessing", "experimental")):
            return  # cheap filter: this runs for every attribute in the file
        qualname = self.ctx.qualname(node)
        if not _moved_path(qualname):
            return
        text = dotted(node)
        if text is None:
            return
        for old, new in ((".experimental.preprocessing.", "."), (".experimental.EinsumDense", ".EinsumDense")):
            if old in text:
                replacement = text.replace(old, new, 1)
                self.report(node, self.message.format(old=text, new=replacement),
                            PendingFix(f"Use `{replacement}`", (self.replace(node, replacement),)))
                return


_PY_FUNCTIONS = {"tensorflow.py_function", "tensorflow.numpy_function", "tensorflow.compat.v1.py_func",
                 "tensorflow.py_func"}


class PyFunctionInModel(Rule):
    """## What it does
    Flags `tf.py_function` / `tf.numpy_function` inside a Keras layer's or model's methods.

    ## Why is this bad
    The wrapped Python function is not part of the graph: a model that uses it cannot be saved and reloaded
    in another process, exported to SavedModel/TFLite/TF.js, served, or run on TPUs, and it holds the GIL on
    every call.

    ## Example
    ```python
    class Augment(keras.layers.Layer):
        def call(self, x):
            return tf.numpy_function(np.fliplr, [x], tf.float32)
    ```

    ## Use instead
    ```python
    class Augment(keras.layers.Layer):
        def call(self, x):
            return tf.image.flip_left_right(x)
    ```
    """

    code = "TF020"
    scope = STATEMENT_SCOPE
    name = "py-function-in-model"
    severity = Severity.WARNING
    message = "`{name}` inside a Keras layer is not serialisable or exportable: express it with TensorFlow ops"
    valid = ("import tensorflow as tf\nds = ds.map(lambda x: tf.py_function(f, [x], tf.float32))\n",)
    invalid = (Invalid("import keras\nimport tensorflow as tf\nclass L(keras.layers.Layer):\n    def call(self, x):\n"
                       "        return tf.numpy_function(f, [x], tf.float32)\n"),)

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.callee(node) in _PY_FUNCTIONS and self.ctx.in_method_of(KERAS_LAYER, KERAS_MODEL):
            self.report(node, self.message.format(name=self.ctx.code(node.func)))
