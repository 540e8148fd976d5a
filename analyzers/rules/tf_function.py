"""TensorFlow graph-mode rules: `tf.function` tracing semantics and TF1 leftovers."""

from __future__ import annotations

import libcst as cst

from ..findings import Severity
from ..flow import is_guarded, is_none_check
from ..rule import STATEMENT_SCOPE, Invalid, PendingFix, Rule
from ._calls import method_name, receiver

_MUTATORS = {"append", "extend", "insert", "update", "add", "pop", "remove", "clear", "setdefault"}


class TfFunctionSideEffect(Rule):
    """## What it does
    Flags Python side effects inside a `@tf.function`: `print(...)`, and mutation of lists, dicts or sets that
    live outside the function (`results.append(x)`).

    ## Why is this bad
    A `tf.function` runs its Python body only while tracing. `print` fires once (or on each retrace), not per
    call; appends to an outer list happen at trace time and capture symbolic tensors, not values.

    ## Example
    ```python
    @tf.function
    def train_step(x):
        print("loss", loss)
        history.append(loss)
    ```

    ## Use instead
    ```python
    @tf.function
    def train_step(x):
        tf.print("loss", loss)
        return loss  # collect values outside the function
    ```
    """

    code = "TF002"
    scope = STATEMENT_SCOPE
    name = "tf-function-side-effect"
    severity = Severity.WARNING
    message = "{what} inside `@tf.function` runs only while tracing, not on every call"
    fixable = True
    valid = (
        "import tensorflow as tf\n@tf.function\ndef f(x):\n    tf.print(x)\n    return x\n",
        "import tensorflow as tf\n@tf.function\ndef f(x):\n    parts = []\n    parts.append(x)\n    return tf.stack(parts)\n",
        "import tensorflow as tf\ndef f(x):\n    print(x)\n",
    )
    invalid = (
        Invalid("import tensorflow as tf\n@tf.function\ndef f(x):\n    print(x)\n    return x\n"),
        Invalid("import tensorflow as tf\nhistory = []\n@tf.function\ndef f(x):\n    history.append(x)\n"),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self.local_names: list[set[str]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        names = {p.name.value for p in node.params.params + node.params.kwonly_params + node.params.posonly_params}
        self.local_names.append(names)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.local_names.pop()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if self.local_names and isinstance(node.target, cst.Name):
            self.local_names[-1].add(node.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        if not self.ctx.in_tf_function():
            return
        if isinstance(node.func, cst.Name) and node.func.value == "print" and self.ctx.qualname(node.func) is None:
            spelling = self.ctx.spelling("tensorflow.print")
            fix = None
            if spelling is not None:
                fix = PendingFix(f"Use `{spelling}`", (self.replace(node.func, spelling),), safe=False)
            self.report(node, self.message.format(what="`print`"), fix)
            return
        target = receiver(node)
        if (method_name(node) in _MUTATORS and isinstance(target, cst.Name)
                and not any(target.value in scope for scope in self.local_names)
                and self.ctx.qualname(target) is None):
            self.report(node, self.message.format(what=f"Mutating outer `{target.value}`"))


_TF1_APIS = {
    f"tensorflow.{name}": hint for name, hint in {
        "Session": "call functions eagerly or wrap them in `tf.function`",
        "InteractiveSession": "run eagerly",
        "placeholder": "pass tensors as function arguments",
        "global_variables_initializer": "variables initialise on creation",
        "get_variable": "use `tf.Variable` or Keras layers",
        "variable_scope": "use Keras layers or `tf.Module`",
        "train.GradientDescentOptimizer": "use `keras.optimizers.SGD`",
        "train.AdamOptimizer": "use `keras.optimizers.Adam`",
        "layers.dense": "use `keras.layers.Dense`",
        "contrib": "tf.contrib was removed in TF 2.0",
    }.items()
}
_TF1_APIS.update({name.replace("tensorflow.", "tensorflow.compat.v1.", 1): hint for name, hint in list(_TF1_APIS.items())})


class Tf1Api(Rule):
    """## What it does
    Flags TensorFlow 1.x graph-mode APIs: `tf.Session`, `tf.placeholder`, `tf.global_variables_initializer`,
    `tf.get_variable`, `tf.compat.v1.*` equivalents, `tf.contrib`.

    ## Why is this bad
    They do not exist in TF 2's main namespace (AttributeError) or only run through `tf.compat.v1` with eager
    execution disabled, which blocks Keras 3, `tf.function`, SavedModel signatures and every modern deployment
    path.

    ## Example
    ```python
    x = tf.compat.v1.placeholder(tf.float32, [None, 784])
    with tf.compat.v1.Session() as sess:
        sess.run(y, feed_dict={x: batch})
    ```

    ## Use instead
    ```python
    @tf.function
    def predict(x):
        return model(x)
    predict(batch)
    ```
    """

    code = "TF005"
    scope = STATEMENT_SCOPE
    name = "tf1-api"
    severity = Severity.WARNING
    message = "`{name}` is a TensorFlow 1.x API: {hint}"
    valid = ("import tensorflow as tf\nx = tf.constant([1.0])\n", "import tensorflow as tf\nv = tf.Variable(1.0)\n")
    invalid = (
        Invalid("import tensorflow as tf\nx = tf.compat.v1.placeholder(tf.float32, [None, 3])\n"),
        Invalid("import tensorflow as tf\nwith tf.Session() as sess:\n    pass\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee is None or not callee.startswith("tensorflow."):
            return
        hint = _TF1_APIS.get(callee)
        if hint is None and (callee.startswith(("tensorflow.contrib.", "tensorflow.compat.v1.contrib."))):
            hint = _TF1_APIS["tensorflow.contrib"]
        if hint is not None:
            self.report(node.func, self.message.format(name=self.ctx.code(node.func), hint=hint))


class VariableInTfFunction(Rule):
    """## What it does
    Flags `tf.Variable(...)` created in the body of a `@tf.function` without a create-once guard
    (`if self.v is None:`, `if not self.built:`, `if not hasattr(self, "v"):`).

    ## Why is this bad
    `tf.function` may trace the body several times; creating a variable on each trace is an error
    ("tf.function only supports singleton tf.Variables created on the first call") or, if it traces, resets the
    state every call.

    ## Example
    ```python
    @tf.function
    def step(x):
        counter = tf.Variable(0)
        counter.assign_add(1)
    ```

    ## Use instead
    ```python
    counter = tf.Variable(0)

    @tf.function
    def step(x):
        counter.assign_add(1)
    ```
    """

    code = "TF006"
    scope = STATEMENT_SCOPE
    name = "variable-in-tf-function"
    severity = Severity.ERROR
    message = "`tf.Variable` created inside `@tf.function`: create it once outside, or guard with `if ... is None`"
    valid = (
        "import tensorflow as tf\nv = tf.Variable(0)\n@tf.function\ndef f():\n    v.assign_add(1)\n",
        "import tensorflow as tf\nclass M(tf.Module):\n    v = None\n    @tf.function\n    def __call__(self, x):\n"
        "        if self.v is None:\n            self.v = tf.Variable(x)\n        return self.v\n",
        "import tensorflow as tf\nclass Dense(tf.Module):\n    def __init__(self):\n        self.built = False\n"
        "    @tf.function\n    def __call__(self, x):\n        if not self.built:\n"
        "            self.w = tf.Variable(tf.random.normal([x.shape[-1], 4]))\n            self.built = True\n"
        "        return x @ self.w\n",
    )
    invalid = (
        Invalid("import tensorflow as tf\n@tf.function\ndef f(x):\n    v = tf.Variable(x)\n    return v\n"),
        # the `else` branch of the guard runs on every later trace
        Invalid("import tensorflow as tf\nclass M(tf.Module):\n    @tf.function\n    def __call__(self, x):\n"
                "        if self.v is None:\n            pass\n        else:\n            self.w = tf.Variable(x)\n"
                "        return x\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.callee(node) != "tensorflow.Variable" or not self.ctx.in_tf_function():
            return
        if is_guarded(self.ctx, node, _not_created_yet):
            return
        self.report(node)


def _not_created_yet(test: cst.BaseExpression) -> bool:
    """A create-once test: ``self.v is None``, ``not self.built``, ``not hasattr(self, "v")``, ``"v" not in d``."""
    if is_none_check(test):
        return True
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = test.expression
        return isinstance(inner, (cst.Name, cst.Attribute)) or (
            isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.func.value == "hasattr")
    return (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, cst.NotIn))
