"""Deployment-path advisor: for each model in a module, which deployment targets it can reach today, and the lines
that block the others.

Pure, like the rest of ``analyzers/``: source text in, frozen dataclasses out; nothing here imports torch,
tensorflow or keras. Names are resolved with the engine's import table (:class:`~.context.Context`), never by
matching spellings.

The verdicts are the ones the truth tests (``tests/test_deploy_*.py``) confirm with real exports on the installed
torch / TensorFlow / Keras: a construct is *blocking* for a target when the export fails on it, or succeeds but
produces an artifact that computes something else (a value baked at export time); it is a *caution* when the export
works but the result needs checking (data-dependent shapes, flattened outputs, float64 on mobile).

Entry points: :func:`advise` (text -> :class:`Advice`: per model its target verdicts and per scenario a
recommendation), :func:`scenario_blockers` (for the DP rules), and for the editor :func:`lens_title` (code lens),
:func:`target_explanation` (hover), :func:`snippet_title` / :func:`export_snippet` / :func:`snippet_edit` (the
"Insert export snippet for TARGET" code action).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .config import DEPLOYMENT_SCENARIOS
from .context import KERAS_LAYER, KERAS_MODEL, TORCH_MODULE, Context
from .findings import Edit, Position, Range
from .frameworks import dotted
from .parsing import parse_module

READY, CAUTION, BLOCKED = "ready", "caution", "blocked"
PYTORCH, KERAS = "pytorch", "keras"

# target key -> label shown to users; order is the order of the table and the code lens
TORCH_TARGETS: dict[str, str] = {
    "torch.export": "torch.export",
    "onnx": "ONNX",
    "executorch": "ExecuTorch",
    "litert-torch": "LiteRT (litert-torch)",
    "torchscript": "TorchScript",
}
KERAS_TARGETS: dict[str, str] = {
    "savedmodel": "SavedModel",
    "keras": ".keras",
    "litert": "LiteRT",
    "tfjs": "TensorFlow.js",
    "onnx": "ONNX (tf2onnx)",
}

# What each target is and needs, as the installed libraries and their docs state it today.
TARGET_NOTES: dict[tuple[str, str], str] = {
    (PYTORCH, "torch.export"): "torch.export.export -> ExportedProgram (.pt2); compile ahead of time for serving "
                               "with AOTInductor (torch._inductor.aoti_compile_and_package).",
    (PYTORCH, "onnx"): "torch.onnx.export(..., dynamo=True) traces with torch.export, then runs on ONNX Runtime "
                       "(server, Triton) or ONNX Runtime Web (browser).",
    (PYTORCH, "executorch"): "ExecuTorch (successor of PyTorch Mobile) lowers a torch.export program to a .pte "
                             "file (XNNPACK delegate on CPU); needs the `executorch` package. The verdict is torch.export's (its "
                             "front end) plus what the reference says of mobile backends.",
    (PYTORCH, "litert-torch"): "litert-torch (renamed from ai-edge-torch) converts through torch.export to a "
                               ".tflite file for LiteRT; needs the `litert-torch` package. The verdict is torch.export's "
                               "(its front end) plus what the reference says of LiteRT.",
    (PYTORCH, "torchscript"): "Legacy: torch 2.13 deprecates torch.jit.script and torch.jit.trace (\"Please "
                              "switch to torch.compile or torch.export\"); use it only for runtimes that "
                              "still need TorchScript. TorchServe, which served TorchScript, is in limited "
                              "maintenance (no planned updates or security fixes; repository archived in "
                              "August 2025).",
    (KERAS, "savedmodel"): "model.export(path) writes a TensorFlow SavedModel for TF Serving (versioning, "
                           "batching).",
    (KERAS, "keras"): "model.save('model.keras') and keras.saving.load_model: Keras-to-Keras; custom classes "
                      "must be registered to reload.",
    (KERAS, "litert"): "LiteRT (the new name of TensorFlow Lite): tf.lite.TFLiteConverter.from_keras_model, "
                       "with post-training quantization.",
    (KERAS, "tfjs"): "TensorFlow.js: tensorflowjs_converter from the SavedModel; needs the `tensorflowjs` "
                     "package. The verdict is the SavedModel's (its input) plus what the reference says of "
                     "TensorFlow.js.",
    (KERAS, "onnx"): "ONNX: model.export(path, format='onnx') (Keras 3) or tf2onnx; needs the `tf2onnx` package "
                     "with the TensorFlow backend. The verdict is the SavedModel's (the same traced graph).",
}

# scenario x framework -> targets in order of preference (the reference's decision table)
SCENARIO_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("server", PYTORCH): ("torch.export", "onnx", "torchscript"),
    ("mobile", PYTORCH): ("executorch", "litert-torch"),
    ("web", PYTORCH): ("onnx",),
    ("server", KERAS): ("savedmodel", "onnx", "keras"),
    ("mobile", KERAS): ("litert",),
    ("web", KERAS): ("tfjs",),
}
SCENARIO_WHY: dict[tuple[str, str], str] = {
    ("server", PYTORCH): "torch.export (+ AOTInductor) or ONNX Runtime are maintained and fast; TorchScript only "
                         "for legacy runtimes, and TorchServe is in limited maintenance (archived August 2025)",
    ("mobile", PYTORCH): "ExecuTorch supersedes PyTorch Mobile; LiteRT via litert-torch if the app already uses "
                         "LiteRT",
    ("web", PYTORCH): "ONNX -> ONNX Runtime Web",
    ("server", KERAS): "SavedModel + TF Serving (versioning, batching)",
    ("mobile", KERAS): "LiteRT with post-training quantization",
    ("web", KERAS): "TensorFlow.js, integrated with Keras",
}

_TORCH_EXPORT_FAMILY = ("torch.export", "onnx", "executorch", "litert-torch")
_KERAS_GRAPH_TARGETS = ("savedmodel", "litert", "tfjs", "onnx")


@dataclass(frozen=True)
class Construct:
    """One kind of code that affects deployment, and what it does to each target."""

    key: str
    what: str  # "a Python `if` on a tensor's value"
    effects: dict[str, tuple[str, str]]  # target -> (status, why)
    fix: str = ""


def _effects(targets: Iterable[str], status: str, why: str) -> dict[str, tuple[str, str]]:
    return {t: (status, why) for t in targets}


_BAKED = "runs once at export time: its value is baked into the graph as a constant"
# torch.export's default (non-strict) mode runs the code on fake tensors that have no data; strict mode traces it
# with TorchDynamo, which turns NumPy calls and float()/int() into graph ops (the ONNX exporter falls back to it)
_STRICT_ONLY = ("the default (non-strict) torch.export fails on it; export with strict=True (TorchDynamo traces "
                "it into graph ops; the ONNX exporter falls back to that itself)")
_NEEDS_STRICT = frozenset({"host-numpy", "numpy-on-tensor", "python-cast"})
CONSTRUCTS: dict[str, Construct] = {c.key: c for c in (
    Construct("tensor-control-flow", "Python control flow on a tensor's value", {
        **_effects(_TORCH_EXPORT_FAMILY, BLOCKED, "torch.export cannot branch on a data-dependent value"),
        "torchscript": (CAUTION, "works with torch.jit.script; torch.jit.trace would bake one branch"),
    }, "use torch.cond / torch.where"),
    Construct("keras-tensor-control-flow", "Python control flow on a tensor's value in `call`", {
        **_effects(_KERAS_GRAPH_TARGETS, BLOCKED, "Keras cannot trace `call` symbolically, so the model "
                                                  "never records its input signature and cannot be exported"),
        "keras": (BLOCKED, "load_model cannot rebuild the model symbolically, so the saved weights are silently "
                           "not restored"),
    }, "use keras.ops.cond / keras.ops.where"),
    Construct("scalar-extract", "`.item()` / `.tolist()` on a tensor", {
        **_effects(_TORCH_EXPORT_FAMILY, CAUTION, "becomes a data-dependent symbol: fine in arithmetic, export "
                                                  "fails once it is branched on or converted"),
        "torchscript": (CAUTION, "torch.jit.script needs a type annotation for `.tolist()` results"),
    }, "keep the computation in tensors"),
    Construct("keras-scalar-extract", "`.item()` / `.tolist()` on a tensor in `call`", {
        **_effects(_KERAS_GRAPH_TARGETS, BLOCKED, "symbolic tensors have no concrete value while the graph is "
                                                  "traced"),
    }, "keep the computation in keras.ops / tf ops"),
    Construct("host-numpy", "`.numpy()` on a tensor", {
        **_effects(_TORCH_EXPORT_FAMILY, CAUTION, _STRICT_ONLY),
        "torchscript": (BLOCKED, "TorchScript has no `.numpy()`"),
    }, "keep the computation in torch ops"),
    Construct("keras-host-numpy", "`.numpy()` on a tensor in `call`", {
        **_effects(_KERAS_GRAPH_TARGETS, BLOCKED, "symbolic tensors have no `.numpy()` while the graph is "
                                                  "traced"),
    }, "use keras.ops / tf ops"),
    Construct("python-cast", "`float()` / `int()` / `bool()` of a tensor", {
        **_effects(_TORCH_EXPORT_FAMILY, CAUTION, _STRICT_ONLY),
        "torchscript": (CAUTION, "works with torch.jit.script; torch.jit.trace bakes the value"),
    }, "keep the value as a tensor"),
    Construct("keras-python-cast", "`float()` / `int()` / `bool()` of a tensor in `call`", {
        **_effects(_KERAS_GRAPH_TARGETS, BLOCKED, "a symbolic tensor cannot become a Python number while the "
                                                  "graph is traced"),
    }, "keep the value as a tensor"),
    Construct("numpy-on-tensor", "NumPy / `math` applied to a tensor", {
        **_effects(_TORCH_EXPORT_FAMILY, CAUTION, _STRICT_ONLY),
        "torchscript": (BLOCKED, "TorchScript cannot compile NumPy calls"),
    }, "use the torch equivalent"),
    Construct("keras-numpy-on-tensor", "NumPy / `math` applied to a tensor in `call`", {
        **_effects(_KERAS_GRAPH_TARGETS, BLOCKED, "NumPy cannot read a symbolic tensor while the graph is "
                                                  "traced"),
    }, "use keras.ops / tf ops"),
    Construct("python-rng", "NumPy / Python `random` in the forward pass", {
        **_effects(_TORCH_EXPORT_FAMILY, BLOCKED, _BAKED),
        "torchscript": (BLOCKED, "TorchScript cannot compile Python/NumPy random calls"),
    }, "use torch.rand / torch.randn"),
    Construct("keras-python-rng", "NumPy / Python `random` in `call`", {
        **_effects(_KERAS_GRAPH_TARGETS, BLOCKED, _BAKED),
    }, "use keras.random with a SeedGenerator"),
    Construct("py-function", "`tf.py_function` / `tf.numpy_function`", {
        "savedmodel": (BLOCKED, "the SavedModel calls back into Python: it fails in TF Serving and in any "
                                "process that did not define the function"),
        "keras": (CAUTION, "the Python function must be importable when the model is loaded"),
        "litert": (BLOCKED, "the LiteRT converter rejects EagerPyFunc/PyFunc ops"),
        "tfjs": (BLOCKED, "TensorFlow.js cannot run Python"),
        "onnx": (BLOCKED, "ONNX has no op that calls Python"),
    }, "rewrite the function with tf / keras.ops"),
    Construct("lambda-layer", "`keras.layers.Lambda` with a Python lambda", {
        "keras": (BLOCKED, "keras.saving.load_model refuses Python lambdas in safe mode (the default)"),
        "tfjs": (CAUTION, "converts from the SavedModel; the layers-model route needs a custom JS layer"),
    }, "write a small Layer subclass with get_config, registered with @keras.saving.register_keras_serializable"),
    Construct("lambda-function", "`keras.layers.Lambda` with a Python function", {
        "keras": (BLOCKED, "keras.saving.load_model cannot locate the function unless it is registered with "
                           "@keras.saving.register_keras_serializable"),
        "tfjs": (CAUTION, "converts from the SavedModel; the layers-model route needs a custom JS layer"),
    }, "register the function, or write a Layer subclass"),
    Construct("unregistered-class", "a custom Keras class that is not registered", {
        "keras": (BLOCKED, "keras.saving.load_model cannot locate the class (pass custom_objects= or decorate it "
                           "with @keras.saving.register_keras_serializable())"),
        "tfjs": (CAUTION, "converts from the SavedModel; the layers-model route needs the class in JS"),
    }, "decorate the class with @keras.saving.register_keras_serializable()"),
    Construct("layer-without-config", "a custom layer built from non-plain arguments without `get_config`", {
        "keras": (BLOCKED, "Keras can only record plain constructor arguments; saving raises "
                           "NotImplementedError without get_config"),
    }, "implement get_config (and from_config for nested objects)"),
    Construct("auto-config", "a custom layer without `get_config`", {
        "keras": (CAUTION, "relies on Keras recording the constructor arguments: works only when they are plain "
                           "values (numbers, strings, lists)"),
    }, "implement get_config"),
    Construct("data-dependent-shape", "an op whose output shape depends on the data", {
        **_effects(_TORCH_EXPORT_FAMILY, CAUTION, "exports with an unbacked size; check the result on several "
                                                  "inputs"),
    }),
    Construct("keras-data-dependent-shape", "an op whose output shape depends on the data", {
        "litert": (CAUTION, "dynamic output shapes are slow or unsupported on some delegates"),
        "tfjs": (CAUTION, "dynamic output shapes are slow in the browser"),
        "onnx": (CAUTION, "dynamic output shapes need a recent opset"),
    }),
    Construct("float64", "float64 tensors", {
        **_effects(_TORCH_EXPORT_FAMILY, CAUTION, "float64 is slow or unsupported on mobile and accelerator "
                                                  "backends"),
    }, "use float32"),
    Construct("keras-float64", "float64 tensors", {
        "litert": (CAUTION, "LiteRT builtins are float32"),
        "tfjs": (CAUTION, "TensorFlow.js computes in float32"),
    }, "use float32"),
    Construct("complex", "complex tensors", {
        **_effects(_TORCH_EXPORT_FAMILY, CAUTION, "complex dtypes have little backend support"),
    }),
    Construct("keras-complex", "complex tensors", {
        "litert": (CAUTION, "LiteRT builtins are float32"),
        "tfjs": (BLOCKED, "TensorFlow.js has no complex dtype support"),
    }),
    Construct("string-ragged", "string / ragged tensors", {
        "litert": (CAUTION, "needs select TF ops (a larger runtime)"),
        "tfjs": (CAUTION, "limited support in TensorFlow.js"),
    }),
    Construct("input-mutation", "in-place mutation of an input", {
        **_effects(_TORCH_EXPORT_FAMILY, CAUTION, "export functionalises the mutation: the exported program "
                                                  "returns the new value instead of changing the caller's "
                                                  "tensor"),
    }, "compute a new tensor instead of mutating the input"),
    Construct("container-output", "a dict / list returned as output", {
        "onnx": (CAUTION, "ONNX flattens the outputs: names and nesting are lost"),
        "litert-torch": (CAUTION, "outputs are flattened to a tuple"),
        "executorch": (CAUTION, "outputs are flattened to a tuple"),
        "torchscript": (CAUTION, "TorchScript needs uniform element types"),
    }, "return a tuple"),
    Construct("keras-container-output", "a dict / list returned as output", {
        "litert": (CAUTION, "outputs are flattened; names are lost"),
        "tfjs": (CAUTION, "nested outputs have limited support"),
    }, "return a tuple"),
)}


# -- results ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Blocker:
    """One line that blocks (or needs care for) a target. Lines are 1-based, columns 0-based code points, as in
    the engine's findings."""

    line: int
    column: int
    end_line: int
    end_column: int
    construct: str
    message: str


@dataclass(frozen=True)
class TargetVerdict:
    target: str
    label: str
    status: str
    blockers: tuple[Blocker, ...]  # the lines that make it `blocked` (status BLOCKED) or `caution`
    note: str


@dataclass(frozen=True)
class Recommendation:
    scenario: str
    target: str
    label: str
    status: str
    why: str
    snippet: str


@dataclass(frozen=True)
class ModelAdvice:
    name: str
    framework: str  # "pytorch" | "keras"
    kind: str  # "nn.Module" | "keras.Model" | "keras.layers.Layer" | "builder function" (returns a Keras model)
    #            | "keras.Sequential" (a model assigned at module level: `model = keras.Sequential([...])`)
    line: int
    column: int
    targets: tuple[TargetVerdict, ...]
    recommendations: tuple[Recommendation, ...]
    constructor: str  # code that builds an instance: "Net()", "build_model()"
    example_input: str | None  # code for one example input, or None when the model is built without one
    example_input_guessed: bool = False
    strict_export: bool = False  # export with strict=True (see _STRICT_ONLY)
    end_line: int = 0  # the last line of the class / function (where a snippet goes after it)
    end_column: int = 0

    def verdict(self, target: str) -> TargetVerdict:
        for verdict in self.targets:
            if verdict.target == target:
                return verdict
        raise KeyError(target)


@dataclass(frozen=True)
class Advice:
    models: tuple[ModelAdvice, ...]
    error: str | None = None  # a syntax error, worded for the user


# -- finding models ---------------------------------------------------------------------------------------------
_KERAS_MODEL_FACTORIES = {"keras.Model", "keras.models.Model", "keras.Sequential", "keras.models.Sequential"}
_REGISTER = {"keras.saving.register_keras_serializable", "keras.utils.register_keras_serializable",
             "keras.saving.register_serializable"}
_STATIC_ATTRS = {"shape", "ndim", "dtype", "device", "is_cuda", "requires_grad", "is_sparse", "layout"}
_STATIC_METHODS = {"size", "dim", "ndimension", "numel", "get_device", "type", "nelement"}
_STATIC_FUNCS = {"len", "isinstance", "type", "hasattr", "getattr", "id", "callable"}
_CASTS = {"float", "int", "bool", "complex"}
_HOST_METHODS = {"numpy", "item", "tolist"}
# framework calls that answer about types, modes or static shapes, never about a tensor's values
_STATIC_QUERIES = {"finfo", "iinfo", "get_default_dtype", "Size", "device", "dtype", "executing_eagerly",
                   "shape", "ndim", "numel", "result_type", "promote_types", "can_cast"}


def _is_static_query(callee: str) -> bool:
    last = callee.rsplit(".", 1)[-1]
    if callee == "tensorflow.shape":
        return False  # a tensor in graph mode, unlike keras.ops.shape's tuple
    return last.startswith("is_") or last in _STATIC_QUERIES


@dataclass
class _Found:
    """A construct found in a model's code, still as a node (the rules report nodes; the advisor positions)."""

    node: cst.CSTNode
    construct: str
    detail: str


@dataclass
class _ModelFacts:
    name: str
    framework: str
    kind: str
    node: cst.CSTNode  # the ClassDef / FunctionDef
    found: list[_Found] = field(default_factory=list)
    constructor: str = ""
    example_input: str | None = None
    example_input_guessed: bool = False
    name_node: cst.CSTNode | None = None  # where the model is named, when not node.name (a module-level assignment)


def find_models(module: cst.Module, ctx: Context) -> list[_ModelFacts]:
    """Every model in the module's top level, with the constructs found in its inference code and in the local
    classes it uses."""
    classes = {s.name.value: s for s in module.body if isinstance(s, cst.ClassDef)}
    facts: list[_ModelFacts] = []
    cache: dict[str, list[_Found]] = {}
    for statement in module.body:
        model = _statement_model(statement, ctx, classes, cache)
        if model is None:
            continue
        if isinstance(statement, cst.ClassDef):
            written = _example_call_input(module, ctx, statement.name.value) if model.framework == PYTORCH else None
            model.example_input, model.example_input_guessed = (written, False) if written else _example_input(
                statement, ctx, model.framework)
        facts.append(model)
    return facts


def _statement_model(statement: cst.CSTNode, ctx: Context, classes: dict[str, cst.ClassDef],
                     cache: dict[str, list[_Found]]) -> _ModelFacts | None:
    """The model one top-level statement defines (a model class, a function that builds a Keras model, a
    module-level Keras model), with the constructs found in its code and in the local classes it uses; None
    when it defines none. Example inputs are left to :func:`find_models`: they read the whole module."""
    if isinstance(statement, cst.ClassDef):
        kind = ctx.class_kind(statement.name.value)
        if kind == TORCH_MODULE:
            model = _ModelFacts(statement.name.value, PYTORCH, "nn.Module", statement)
        elif kind in (KERAS_MODEL, KERAS_LAYER):
            model = _ModelFacts(statement.name.value, KERAS, "keras.Model" if kind == KERAS_MODEL
                                else "keras.layers.Layer", statement)
        else:
            return None
        model.found = _class_constructs(statement, ctx, classes, cache, frozenset())
        model.constructor = _constructor(statement)
        return model
    if isinstance(statement, cst.FunctionDef) and _builds_keras_model(statement, ctx):
        model = _ModelFacts(statement.name.value, KERAS, "builder function", statement)
        model.found = _builder_constructs(statement, ctx, classes, cache)
        required = [p for p in statement.params.params if p.default is None]
        model.constructor = f"{statement.name.value}()" if not required else f"{statement.name.value}(...)"
        model.example_input = None
        return model
    if isinstance(statement, cst.SimpleStatementLine):
        assigned = _module_level_keras_model(statement, ctx)
        if assigned is not None:
            name, factory = assigned
            model = _ModelFacts(name.value, KERAS, "keras.Sequential" if factory.endswith("Sequential")
                                else "keras.Model", statement, name_node=name)
            model.found = _builder_constructs(statement, ctx, classes, cache)
            model.constructor = name.value  # the instance the module builds
            return model
    return None


class _ClassTable(dict):
    """The module's classes by name, logging every name an analysis looks up: what a statement's model facts
    depend on besides the statement itself and the module facts."""

    def __init__(self, classes: dict[str, cst.ClassDef]):
        super().__init__(classes)
        self.log: list[str] = []
        self.reads_of: dict[str, list[str]] = {}  # class name -> what computing its constructs looked up

    def __getitem__(self, name: str) -> cst.ClassDef:
        self.log.append(name)
        return super().__getitem__(name)

    def __contains__(self, name: object) -> bool:
        self.log.append(name)  # type: ignore[arg-type]
        return super().__contains__(name)

    def get(self, name: str, default=None):
        self.log.append(name)
        return super().get(name, default)


_RULE_MODELS = "deployment models"  # Context.document_memory key


def _models_by_statement(ctx: Context) -> list[_ModelFacts]:
    """What :func:`find_models` says for the DP rules (no example inputs), each statement's model kept for the
    next version of the document while the statement, the module facts and every class it looked up are the
    same: an edit re-analyses the statements it touched and those that read a class it changed."""
    earlier: dict = ctx.document_memory.get(_RULE_MODELS, {})
    module = ctx.module
    plain = {s.name.value: s for s in module.body if isinstance(s, cst.ClassDef)}
    classes = _ClassTable(plain)
    facts = ctx.module_facts()
    cache: dict[str, list[_Found]] = {}
    kept: dict = {}
    models = []
    for statement in module.body:
        entry = earlier.get(statement)
        if entry is None or entry[0] != facts or any(plain.get(name) is not node for name, node in entry[1]):
            start = len(classes.log)
            model = _statement_model(statement, ctx, classes, cache)
            read = {name: plain.get(name) for name in classes.log[start:]}
            entry = (facts, tuple(read.items()), model)
        kept[statement] = entry
        if entry[2] is not None:
            models.append(entry[2])
    ctx.document_memory[_RULE_MODELS] = kept
    return models


def _module_level_keras_model(statement: cst.SimpleStatementLine, ctx: Context) -> tuple[cst.Name, str] | None:
    """``model = keras.Sequential([...])`` (or ``keras.Model(inputs, outputs)``) at module level: the name and
    the factory; as `translate` and `verify` accept it, beginners' style."""
    if len(statement.body) != 1 or not isinstance(statement.body[0], cst.Assign):
        return None
    assign = statement.body[0]
    if len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
        return None
    factory = ctx.callee(assign.value) if isinstance(assign.value, cst.Call) else None
    return (assign.targets[0].target, factory) if factory in _KERAS_MODEL_FACTORIES else None


def _builds_keras_model(function: cst.FunctionDef, ctx: Context) -> bool:
    """A function whose ``return`` gives a ``keras.Model(...)`` / ``Sequential(...)`` (directly or by a name)."""
    built: set[str] = set()
    for node in _walk_own(function.body):
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call) and \
                ctx.callee(node.value) in _KERAS_MODEL_FACTORIES:
            built.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))
        if isinstance(node, cst.Return) and node.value is not None:
            value = node.value
            if isinstance(value, cst.Call) and ctx.callee(value) in _KERAS_MODEL_FACTORIES:
                return True
            if isinstance(value, cst.Name) and value.value in built:
                return True
    return False


def _walk_own(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Nodes under ``node``, not descending into nested functions, lambdas or classes."""
    stack = list(reversed(list(node.children)))
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(reversed(list(current.children)))


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(current.children)))


def _methods(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    methods: dict[str, cst.FunctionDef] = {}
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    for statement in body:
        if isinstance(statement, cst.FunctionDef):
            methods[statement.name.value] = statement
    return methods


def _scan_inference(cls: cst.ClassDef, entry: str, scan_type: type["_Scan"], ctx: Context) -> list[_Found]:
    """Scan ``forward``/``call``, then each method of the class it calls as ``self.method(...)``, with the
    parameters that receive tensors at those calls marked as tensors (each method once per such pattern)."""
    methods = _methods(cls)
    if entry not in methods:
        return []
    found: list[_Found] = []
    queue: list[tuple[str, frozenset | None]] = [(entry, None)]
    done: set[tuple[str, frozenset | None]] = set()
    while queue:
        name, tensor_params = queue.pop(0)
        if (name, tensor_params) in done:
            continue
        done.add((name, tensor_params))
        scan = scan_type(ctx, methods[name], tensor_params)
        found.extend(scan.run())
        for callee, arguments in scan.self_calls:
            if callee in methods and callee not in ("__init__", "build"):
                queue.append((callee, _parameters_for(methods[callee], arguments)))
    return found


def _parameters_for(method: cst.FunctionDef, arguments: frozenset) -> frozenset:
    """The names of ``method``'s parameters that the positional indices / keywords in ``arguments`` bind."""
    positional = [p.name.value for p in method.params.params[1:]]
    names = {positional[a] if isinstance(a, int) and a < len(positional) else a for a in arguments}
    if any(isinstance(a, int) and a >= len(positional) for a in arguments) and \
            isinstance(method.params.star_arg, cst.Param):
        names.add(method.params.star_arg.name.value)
    return frozenset(n for n in names if isinstance(n, str))


def _local_classes_used(scope: cst.CSTNode, classes: dict[str, cst.ClassDef], exclude: str) -> list[str]:
    used: list[str] = []
    for node in _walk(scope):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            name = node.func.value
            if name in classes and name != exclude and name not in used:
                used.append(name)
    return used


def _class_constructs(cls: cst.ClassDef, ctx: Context, classes: dict[str, cst.ClassDef],
                      cache: dict[str, list[_Found]], seen: frozenset) -> list[_Found]:
    name = cls.name.value
    logged = classes.log if isinstance(classes, _ClassTable) else None
    if name in cache:
        if logged is not None:  # what computing them looked up, as if it were looked up again
            logged.extend(classes.reads_of.get(name, ()))
        return cache[name]
    start = len(logged) if logged is not None else 0
    kind = ctx.class_kind(name)
    found: list[_Found] = []
    if kind == TORCH_MODULE:
        found.extend(_scan_inference(cls, "forward", _TorchScan, ctx))
    elif kind in (KERAS_MODEL, KERAS_LAYER):
        found.extend(_keras_class_serialization(cls, ctx, classes))
        found.extend(_scan_inference(cls, "call", _KerasScan, ctx))
        found.extend(_lambda_layers(cls, ctx))
    # the local classes this one builds (sub-modules, custom layers) carry their constructs up
    for used in _local_classes_used(cls, classes, name):
        if used in seen or ctx.class_kind(used) is None:
            continue
        found.extend(_class_constructs(classes[used], ctx, classes, cache, seen | {name}))
    cache[name] = found
    if logged is not None:
        classes.reads_of[name] = logged[start:]
    return found


def _builder_constructs(function: cst.FunctionDef, ctx: Context, classes: dict[str, cst.ClassDef],
                        cache: dict[str, list[_Found]]) -> list[_Found]:
    found = list(_lambda_layers(function, ctx))
    for node in _walk(function):
        if isinstance(node, cst.Call) and ctx.callee(node) in ("tensorflow.py_function", "tensorflow.numpy_function"):
            found.append(_Found(node, "py-function", ctx.code(node.func)))
    for used in _local_classes_used(function, classes, ""):
        if ctx.class_kind(used) is not None:
            found.extend(_class_constructs(classes[used], ctx, classes, cache, frozenset()))
        for call in _calls_to(function, used):
            found.extend(_non_plain_arguments(call, used, ctx, classes))
    return _dedupe(found)


def _calls_to(scope: cst.CSTNode, name: str) -> Iterator[cst.Call]:
    for node in _walk(scope):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == name:
            yield node


def _dedupe(found: list[_Found]) -> list[_Found]:
    seen: set[tuple[int, str]] = set()
    unique = []
    for item in found:
        key = (id(item.node), item.construct)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


# -- Keras serialization ----------------------------------------------------------------------------------------
def _registered(cls: cst.ClassDef, ctx: Context) -> bool:
    return any(ctx.decorated_with(cls, path) for path in _REGISTER)  # type: ignore[arg-type]


def _has_get_config(cls: cst.ClassDef, classes: dict[str, cst.ClassDef], ctx: Context,
                    seen: frozenset = frozenset()) -> bool:
    if "get_config" in _methods(cls):
        return True
    for base in cls.bases:
        if isinstance(base.value, cst.Name) and base.value.value in classes and base.value.value not in seen:
            if _has_get_config(classes[base.value.value], classes, ctx, seen | {cls.name.value}):
                return True
    return False


def _constructor_params(cls: cst.ClassDef) -> list[cst.Param]:
    init = _methods(cls).get("__init__")
    if init is None:
        return []
    return [p for p in init.params.params[1:]] + list(init.params.kwonly_params)


def _keras_class_serialization(cls: cst.ClassDef, ctx: Context,
                               classes: dict[str, cst.ClassDef]) -> list[_Found]:
    found: list[_Found] = []
    if not _registered(cls, ctx):
        found.append(_Found(cls.name, "unregistered-class", cls.name.value))
    if _constructor_params(cls) and not _has_get_config(cls, classes, ctx):
        found.append(_Found(cls.name, "auto-config", cls.name.value))
    # custom layers this class builds with non-plain arguments
    init = _methods(cls).get("__init__")
    if init is not None:
        for used in _local_classes_used(init, classes, cls.name.value):
            for call in _calls_to(init, used):
                found.extend(_non_plain_arguments(call, used, ctx, classes))
    return found


_PLAIN = (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.Imaginary)


def _is_plain(node: cst.BaseExpression) -> bool:
    if isinstance(node, _PLAIN):
        return True
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    if isinstance(node, cst.UnaryOperation):
        return _is_plain(node.expression)
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return all(isinstance(e, cst.Element) and _is_plain(e.value) for e in node.elements)
    if isinstance(node, cst.Dict):
        return all(isinstance(e, cst.DictElement) and _is_plain(e.key) and _is_plain(e.value)
                   for e in node.elements)
    return False


def _non_plain_arguments(call: cst.Call, class_name: str, ctx: Context,
                         classes: dict[str, cst.ClassDef]) -> list[_Found]:
    """A custom Keras layer without get_config constructed with something Keras cannot record (a layer, a
    function, a variable)."""
    cls = classes.get(class_name)
    if cls is None or ctx.class_kind(class_name) not in (KERAS_LAYER, KERAS_MODEL):
        return []
    if _has_get_config(cls, classes, ctx):
        return []
    found = []
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in ("name", "dtype", "trainable"):
            continue
        if not _is_plain(arg.value):
            found.append(_Found(arg.value, "layer-without-config", class_name))
            break
    return found


def _lambda_layers(scope: cst.CSTNode, ctx: Context) -> list[_Found]:
    found = []
    nested = {n.name.value for n in _walk(scope) if isinstance(n, cst.FunctionDef) and n is not scope}
    for node in _walk(scope):
        if not (isinstance(node, cst.Call) and ctx.callee(node) == "keras.layers.Lambda"):
            continue
        function = next((a.value for a in node.args if a.keyword is None or a.keyword.value == "function"), None)
        if isinstance(function, cst.Lambda):
            found.append(_Found(function, "lambda-layer", ctx.code(function)))
        elif function is not None:
            resolved = ctx.qualname(function)
            if resolved is not None and resolved.startswith(("keras.", "tensorflow.")):
                continue  # a library function Keras can serialize by name
            name = dotted(function) or ctx.code(function)
            if name in nested:
                found.append(_Found(function, "lambda-layer", name))  # a closure: as opaque as a lambda
            else:
                found.append(_Found(function, "lambda-function", name))
        for inner in _walk(node):
            if isinstance(inner, cst.Call) and ctx.callee(inner) in ("tensorflow.py_function",
                                                                     "tensorflow.numpy_function"):
                found.append(_Found(inner, "py-function", ctx.code(inner.func)))
    return found


# -- scanning forward / call ------------------------------------------------------------------------------------
class _Scan:
    """Walks one forward/call method in statement order, tracking which local names hold tensors."""

    def __init__(self, ctx: Context, method: cst.FunctionDef, tensor_params: frozenset | None = None):
        """``tensor_params``: for a helper method, the parameters its call site passes tensors to; for the entry
        point (None), every parameter that does not look like a flag or a setting."""
        self.ctx = ctx
        self.method = method
        self.found: list[_Found] = []
        self.tensors: set[str] = set()
        # values read back from tensors (`.item()`, `.numpy()`): data-dependent, but no longer tensors
        self.host_values: set[str] = set()
        self.inputs: set[str] = set()
        self.self_calls: list[tuple[str, frozenset]] = []  # helpers called, with the arguments that are tensors
        self.parameter_names = {p.name.value for p in list(method.params.params) + list(method.params.kwonly_params)}
        for param in list(method.params.params)[1:] + list(method.params.kwonly_params):
            if (tensor_params is None and self._is_tensor_param(param)) or \
                    (tensor_params is not None and param.name.value in tensor_params):
                self.tensors.add(param.name.value)
                self.inputs.add(param.name.value)
        if isinstance(method.params.star_arg, cst.Param) and tensor_params is None:
            self.tensors.add(method.params.star_arg.name.value)

    @staticmethod
    def _is_tensor_param(param: cst.Param) -> bool:
        if param.name.value in ("training", "self"):
            return False
        if param.annotation is not None:
            annotation = dotted(param.annotation.annotation) or ""
            if annotation in ("int", "float", "bool", "str"):
                return False
        if param.default is not None and not (isinstance(param.default, cst.Name) and param.default.value == "None"):
            return False
        return True

    def add(self, node: cst.CSTNode, construct: str, detail: str = "") -> None:
        self.found.append(_Found(node, construct, detail))

    def run(self) -> list[_Found]:
        self._block(self.method.body)
        return self.found

    # statements in order, so a name is a tensor from its assignment on
    def _block(self, block: cst.BaseSuite) -> None:
        if isinstance(block, cst.SimpleStatementSuite):
            for small in block.body:
                self._small(small)
            return
        for statement in block.body:
            self._statement(statement)

    def _statement(self, statement: cst.CSTNode) -> None:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                self._small(small)
        elif isinstance(statement, (cst.If, cst.While)):
            self._test(statement.test)
            self._expressions(statement.test)
            self._block(statement.body)
            if statement.orelse is not None:
                orelse = statement.orelse
                if isinstance(orelse, cst.If):
                    self._statement(orelse)
                else:
                    self._block(orelse.body)
        elif isinstance(statement, cst.For):
            self._expressions(statement.iter)
            if self.tensor_valued(statement.iter):
                self._bind(statement.target, True)
            self._block(statement.body)
            if statement.orelse is not None:
                self._block(statement.orelse.body)
        elif isinstance(statement, (cst.With,)):
            for item in statement.items:
                self._expressions(item.item)
            self._block(statement.body)
        elif isinstance(statement, cst.Try):
            self._block(statement.body)
            for handler in statement.handlers:
                self._block(handler.body)
            if statement.orelse is not None:
                self._block(statement.orelse.body)
            if statement.finalbody is not None:
                self._block(statement.finalbody.body)
        # nested defs and classes run when called, not here; the scan stays with the method's own code

    def _small(self, small: cst.BaseSmallStatement) -> None:
        if isinstance(small, cst.Assign):
            self._expressions(small.value)
            for target in small.targets:
                self._mutation_target(target.target, small)
                self._bind(target.target, small.value)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self._expressions(small.value)
                self._bind(small.target, small.value)
        elif isinstance(small, cst.AugAssign):
            self._expressions(small.value)
            if isinstance(small.target, cst.Name) and small.target.value in self.inputs:
                self.add(small, "input-mutation", small.target.value)
            self._mutation_target(small.target, small)
        elif isinstance(small, cst.Return):
            if small.value is not None:
                self._expressions(small.value)
                self._return(small.value)
        elif isinstance(small, cst.Expr):
            self._expressions(small.value)
        elif isinstance(small, cst.Assert):
            self._test(small.test)
            self._expressions(small.test)

    def _mutation_target(self, target: cst.BaseExpression, statement: cst.CSTNode) -> None:
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and \
                target.value.value in self.inputs:
            self.add(statement, "input-mutation", target.value.value)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | bool) -> None:
        tensor = value if isinstance(value, bool) else self.tensor_valued(value, host=False)
        host = False if isinstance(value, bool) else (not tensor and self.tensor_valued(value))
        if isinstance(target, cst.Name):
            self.inputs.discard(target.value)
            for names, member in ((self.tensors, tensor), (self.host_values, host)):
                if member:
                    names.add(target.value)
                else:
                    names.discard(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value, value)

    def _test(self, test: cst.BaseExpression) -> None:
        bare = test.expression if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not) \
            else test
        if isinstance(bare, cst.Name) and bare.value in self.parameter_names:
            return  # `if mask:` on an optional argument is a presence check (None / an empty list)
        if self.tensor_valued(test):
            self.add(test, "tensor-control-flow", self.ctx.code(test))

    def _return(self, value: cst.BaseExpression) -> None:
        if isinstance(value, (cst.Dict, cst.DictComp, cst.List, cst.ListComp)) or (
                isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in ("dict",
                                                                                                         "list")):
            self.add(value, "container-output", "")

    # -- expressions ---------------------------------------------------------------------------------------
    def tensor_valued(self, node: cst.CSTNode, host: bool = True) -> bool:
        """Whether evaluating ``node`` reads a tensor's value (shape, dtype and identity checks do not); with
        ``host``, values read back from a tensor (``.item()``, ``.numpy()``) count too."""
        if isinstance(node, cst.Name):
            return node.value in self.tensors or (host and node.value in self.host_values)
        if isinstance(node, cst.Attribute):
            if node.attr.value in _STATIC_ATTRS or node.attr.value.startswith("is_"):
                return False
            if isinstance(node.value, cst.Name) and node.value.value == "self":
                return False
            return self.tensor_valued(node.value, host)
        if isinstance(node, cst.Call):
            if isinstance(node.func, cst.Name) and node.func.value in _STATIC_FUNCS:
                return False
            if isinstance(node.func, cst.Attribute):
                if node.func.attr.value in _STATIC_METHODS or node.func.attr.value.startswith("is_"):
                    return False
                if node.func.attr.value in _HOST_METHODS and not node.args:
                    return host and self.tensor_valued(node.func.value)
            callee = self.ctx.callee(node)
            if callee is not None and _is_static_query(callee):
                return False
            if callee is not None and self._is_tensor_op(callee):
                return True
            return any(self.tensor_valued(arg.value, host) for arg in node.args) or (
                isinstance(node.func, cst.Attribute) and self.tensor_valued(node.func.value, host))
        if isinstance(node, cst.Comparison):
            if all(isinstance(c.operator, (cst.Is, cst.IsNot)) for c in node.comparisons):
                return False
        if isinstance(node, (cst.Lambda, cst.FunctionDef)):
            return False
        if isinstance(node, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
            return self._comprehension_valued(node, host)
        return any(self.tensor_valued(child, host) for child in node.children if isinstance(child, cst.CSTNode))

    def _comprehension_valued(self, node: cst.GeneratorExp | cst.ListComp | cst.SetComp, host: bool) -> bool:
        """``[t.shape for t in tensors]`` reads shapes only: the loop names are tensors when the iterable holds
        tensors, and what counts is the element and the conditions."""
        added: list[str] = []
        for_in: cst.CompFor | None = node.for_in
        conditions: list[cst.BaseExpression] = []
        while for_in is not None:
            if self.tensor_valued(for_in.iter, host):
                names = [n.value for n in _walk(for_in.target) if isinstance(n, cst.Name)]
                added.extend(n for n in names if n not in self.tensors)
                self.tensors.update(names)
            conditions.extend(c.test for c in for_in.ifs)
            for_in = for_in.inner_for_in
        try:
            return self.tensor_valued(node.elt, host) or any(self.tensor_valued(c, host) for c in conditions)
        finally:
            self.tensors.difference_update(added)

    def _is_tensor_op(self, callee: str) -> bool:
        raise NotImplementedError

    def _expressions(self, root: cst.CSTNode) -> None:
        # a lambda's body runs when something calls it (e.g. tf.py_function, eagerly), not in the traced graph
        for node in [root, *_walk_own(root)] if not isinstance(root, cst.Lambda) else ():
            if isinstance(node, cst.IfExp):
                self._test(node.test)
            elif isinstance(node, cst.Call):
                self._call(node)
            elif isinstance(node, cst.Subscript) and self._boolean_mask(node):
                self.add(node, "data-dependent-shape", self.ctx.code(node))
            elif isinstance(node, (cst.Attribute, cst.Name)):
                self._dtype(node)

    def _boolean_mask(self, node: cst.Subscript) -> bool:
        if not self.tensor_valued(node.value):
            return False
        for element in node.slice:
            index = element.slice
            if isinstance(index, cst.Index) and isinstance(index.value, cst.Comparison) and \
                    self.tensor_valued(index.value):
                return True
        return False

    def _self_call(self, node: cst.Call) -> None:
        """Remember ``self.helper(...)`` with the arguments (positions, keywords) that pass tensors."""
        self.self_calls.append((node.func.attr.value, frozenset(self._tensor_arguments(node))))  # type: ignore

    def _tensor_arguments(self, node: cst.Call) -> list[str | int]:
        marked: list[str | int] = []
        for index, arg in enumerate(a for a in node.args if a.keyword is None and not a.star):
            if self.tensor_valued(arg.value):
                marked.append(index)
        for arg in node.args:
            if arg.keyword is not None and self.tensor_valued(arg.value):
                marked.append(arg.keyword.value)
        return marked

    def _call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name) and \
                node.func.value.value == "self":
            self._self_call(node)
        callee = self.ctx.callee(node)
        method = node.func.attr.value if isinstance(node.func, cst.Attribute) else None
        receiver_is_tensor = isinstance(node.func, cst.Attribute) and callee is None and \
            self.tensor_valued(node.func.value)
        if method == "numpy" and not node.args and callee is None:
            self.add(node, "host-numpy", self.ctx.code(node))
        elif method in ("item", "tolist") and not node.args and callee is None:
            self.add(node, "scalar-extract", self.ctx.code(node))
        elif isinstance(node.func, cst.Name) and node.func.value in _CASTS and node.args and \
                self.ctx.qualname(node.func) is None and self.tensor_valued(node.args[0].value, host=False):
            self.add(node, "python-cast", self.ctx.code(node))
        elif callee is not None and (callee.startswith("numpy.random") or callee.startswith("random.")):
            self.add(node, "python-rng", callee)
        elif callee is not None and (callee.startswith("numpy.") or callee.startswith("math.")) and \
                any(self.tensor_valued(arg.value, host=False) for arg in node.args):
            self.add(node, "numpy-on-tensor", callee)
        elif callee in ("tensorflow.py_function", "tensorflow.numpy_function"):
            self.add(node, "py-function", callee)
        elif callee is not None and callee in self.data_dependent_ops(node):
            self.add(node, "data-dependent-shape", callee)
        elif receiver_is_tensor and method in self.data_dependent_methods:
            self.add(node, "data-dependent-shape", method)
        elif receiver_is_tensor and method in ("double",):
            self.add(node, "float64", method)
        elif receiver_is_tensor and method and method.endswith("_") and not method.endswith("__") and \
                isinstance(node.func.value, cst.Name) and node.func.value.value in self.inputs:
            self.add(node, "input-mutation", node.func.value.value)

    data_dependent_methods: frozenset = frozenset()

    def data_dependent_ops(self, node: cst.Call) -> set[str]:
        return set()

    def _dtype(self, node: cst.BaseExpression) -> None:
        name = self.ctx.qualname(node)
        if name in self.float64_names:
            self.add(node, "float64", name)
        elif name in self.complex_names:
            self.add(node, "complex", name)
        elif name is not None and any(name == s or name.startswith(s + ".") for s in self.string_ragged_names):
            self.add(node, "string-ragged", name)

    float64_names: frozenset = frozenset()
    complex_names: frozenset = frozenset()
    string_ragged_names: frozenset = frozenset()


class _TorchScan(_Scan):
    data_dependent_methods = frozenset({"nonzero", "unique", "unique_consecutive", "masked_select"})
    float64_names = frozenset({"torch.float64", "torch.double"})
    complex_names = frozenset({"torch.complex64", "torch.complex128", "torch.cfloat", "torch.cdouble"})

    def _is_tensor_op(self, callee: str) -> bool:
        return callee.startswith("torch.") and not callee.startswith(("torch.nn.", "torch.Size", "torch.jit"))

    def data_dependent_ops(self, node: cst.Call) -> set[str]:
        ops = {"torch.nonzero", "torch.unique", "torch.unique_consecutive", "torch.masked_select",
               "torch.argwhere"}
        if len(node.args) == 1:
            ops.add("torch.where")
        return ops


class _KerasScan(_Scan):
    float64_names = frozenset({"tensorflow.float64", "tensorflow.double"})
    complex_names = frozenset({"tensorflow.complex64", "tensorflow.complex128"})
    string_ragged_names = frozenset({"tensorflow.string", "tensorflow.ragged", "tensorflow.RaggedTensor",
                                     "tensorflow.strings"})

    def add(self, node: cst.CSTNode, construct: str, detail: str = "") -> None:
        # constructs whose effect does not depend on where they appear keep their plain key
        key = construct if construct in ("py-function", "string-ragged", "input-mutation") else "keras-" + construct
        if construct == "input-mutation":
            return  # TensorFlow tensors are immutable: `x += 1` rebinds
        self.found.append(_Found(node, key, detail))

    def _is_tensor_op(self, callee: str) -> bool:
        return (callee.startswith("tensorflow.") and not callee.startswith("tensorflow.keras")) or \
            callee.startswith("keras.ops.")

    def data_dependent_ops(self, node: cst.Call) -> set[str]:
        ops = {"tensorflow.boolean_mask", "tensorflow.unique", "tensorflow.where", "keras.ops.unique"}
        if len(node.args) != 1:
            ops.discard("tensorflow.where")
        return ops


# -- verdicts ---------------------------------------------------------------------------------------------------
def _targets_for(framework: str) -> dict[str, str]:
    return TORCH_TARGETS if framework == PYTORCH else KERAS_TARGETS


def _message(found: _Found, construct: Construct, why: str) -> str:
    detail = f" (`{found.detail}`)" if found.detail and construct.key not in ("container-output",) else ""
    fix = f"; {construct.fix}" if construct.fix else ""
    return f"{construct.what[:1].upper()}{construct.what[1:]}{detail}: {why}{fix}"


def _verdicts(model: _ModelFacts, position) -> tuple[TargetVerdict, ...]:
    verdicts = []
    for target, label in _targets_for(model.framework).items():
        blocking: list[Blocker] = []
        cautions: list[Blocker] = []
        for found in model.found:
            construct = CONSTRUCTS[found.construct]
            effect = construct.effects.get(target)
            if effect is None:
                continue
            status, why = effect
            start, end = position(found.node)
            blocker = Blocker(start[0], start[1], end[0], end[1], construct.key, _message(found, construct, why))
            (blocking if status == BLOCKED else cautions).append(blocker)
        legacy = model.framework == PYTORCH and target == "torchscript"
        if blocking:
            status, shown = BLOCKED, blocking
        elif cautions or legacy:
            status, shown = CAUTION, cautions
        else:
            status, shown = READY, []
        shown = sorted(set(shown), key=lambda b: (b.line, b.column, b.construct))
        verdicts.append(TargetVerdict(target, label, status, tuple(shown),
                                      TARGET_NOTES[(model.framework, target)]))
    return tuple(verdicts)


def _recommend(model: ModelAdvice, scenarios: Sequence[str]) -> tuple[Recommendation, ...]:
    recommendations = []
    for scenario in scenarios:
        paths = SCENARIO_PATHS[(scenario, model.framework)]
        by_status = {status: [t for t in paths if model.verdict(t).status == status] for status in
                     (READY, CAUTION, BLOCKED)}
        choice = (by_status[READY] or by_status[CAUTION] or [paths[0]])[0]
        verdict = model.verdict(choice)
        why = SCENARIO_WHY[(scenario, model.framework)]
        if choice != paths[0]:
            first = model.verdict(paths[0])
            lines = ", ".join(str(b.line) for b in first.blockers if first.status == BLOCKED)
            why = f"{first.label} is {first.status}" + (f" (line {lines})" if lines else "") + f"; {why}"
        if verdict.status == BLOCKED:
            why = f"no path is ready: fix the blocking lines first; {why}"
        recommendations.append(Recommendation(scenario, choice, verdict.label, verdict.status, why,
                                              export_snippet(model, choice)))
    return tuple(recommendations)


def _positions(module: cst.Module):
    table = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)

    def position(node: cst.CSTNode) -> tuple[tuple[int, int], tuple[int, int]]:
        code_range = table[node]
        return (code_range.start.line, code_range.start.column), (code_range.end.line, code_range.end.column)

    return position


def advise(source: str, path: str = "<string>", scenarios: Sequence[str] = DEPLOYMENT_SCENARIOS) -> Advice:
    """Per model in ``source``: a verdict for each target of its framework and a recommendation per scenario."""
    try:
        module = parse_module(source)
    except cst.ParserSyntaxError as exc:
        return Advice((), f"SyntaxError at line {exc.raw_line}: {exc.message.strip().splitlines()[0]}")
    except RecursionError:
        return Advice((), "SyntaxError: nesting too deep to parse")
    return advise_module(module, source, path, scenarios)


def advise_module(module: cst.Module, source: str, path: str = "<string>",
                  scenarios: Sequence[str] = DEPLOYMENT_SCENARIOS) -> Advice:
    ctx = Context(module, source, path)
    facts = find_models(module, ctx)
    if not facts:
        return Advice(())
    position = _positions(module)
    models = []
    for model in facts:
        (line, column), _ = position(model.name_node or model.node.name)  # type: ignore[attr-defined]
        _, (end_line, end_column) = position(model.node)
        advice = ModelAdvice(model.name, model.framework, model.kind, line, column, _verdicts(model, position), (),
                             model.constructor, model.example_input, model.example_input_guessed,
                             any(f.construct in _NEEDS_STRICT for f in model.found), end_line, end_column)
        models.append(replace(advice, recommendations=_recommend(advice, scenarios)))
    return Advice(tuple(models))


# -- what the DP rules ask -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioBlocker:
    """A node that blocks a declared scenario's first-choice target (for the DP rules, which report nodes)."""

    node: cst.CSTNode
    model: str
    scenario: str
    target_label: str
    message: str


def scenario_blockers(ctx: Context, scenario: str) -> list[ScenarioBlocker]:
    """The constructs that block ``scenario``'s first-choice target, per model, as nodes."""
    blockers = []
    for model in _cached_models(ctx):
        target = SCENARIO_PATHS[(scenario, model.framework)][0]
        label = _targets_for(model.framework)[target]
        for found in model.found:
            construct = CONSTRUCTS[found.construct]
            effect = construct.effects.get(target)
            if effect is not None and effect[0] == BLOCKED:
                blockers.append(ScenarioBlocker(found.node, model.name, scenario, label,
                                                _message(found, construct, effect[1])))
    return blockers


_LAST: list = [None, None]  # (ctx, models): the three DP rules share one analysis per checked module


def _cached_models(ctx: Context) -> list[_ModelFacts]:
    if _LAST[0] is not ctx:
        _LAST[0], _LAST[1] = ctx, _models_by_statement(ctx)
    return _LAST[1]


# -- example inputs and export snippets ---------------------------------------------------------------------------
def _constructor(cls: cst.ClassDef) -> str:
    init = _methods(cls).get("__init__")
    required = []
    if init is not None:
        required = [p for p in init.params.params[1:] if p.default is None]
        required += [p for p in init.params.kwonly_params if p.default is None]
    return f"{cls.name.value}()" if not required else f"{cls.name.value}(...)"


def _int(node: cst.BaseExpression | None) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    return None


def _arg(call: cst.Call, index: int, keyword: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[index].value if index < len(positional) else None


def _first_layer_calls(cls: cst.ClassDef, ctx: Context) -> list[cst.Call]:
    """Layer constructors in ``__init__``, the one ``forward``/``call`` applies first to its input leading."""
    init = _methods(cls).get("__init__")
    if init is None:
        return []
    assigned: dict[str, cst.Call] = {}
    order: list[cst.Call] = []
    for node in _walk(init):
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call):
            call = node.value
            if ctx.callee(call) in ("torch.nn.Sequential", "keras.Sequential", "keras.models.Sequential"):
                inner = [a.value for a in call.args if isinstance(a.value, cst.Call)]
                if not inner and call.args and isinstance(call.args[0].value, cst.List):
                    inner = [e.value for e in call.args[0].value.elements if isinstance(e.value, cst.Call)]
                call = inner[0] if inner else call
            for target in node.targets:
                key = dotted(target.target)
                if key:
                    assigned[key] = call
            order.append(call)
    entry = _methods(cls).get("forward") or _methods(cls).get("call")
    if entry is not None and len(entry.params.params) > 1:
        first_input = entry.params.params[1].name.value
        for node in _walk(entry):
            # the layer applied to the input itself, however deeply the calls nest
            if isinstance(node, cst.Call) and dotted(node.func) in assigned and any(
                    isinstance(a.value, cst.Name) and a.value.value == first_input for a in node.args):
                return [assigned[dotted(node.func)]] + order
    return order


def _example_input(cls: cst.ClassDef, ctx: Context, framework: str) -> tuple[str, bool]:
    """Code for one example input, inferred from the first layer; a stated guess when it cannot be inferred."""
    for call in _first_layer_calls(cls, ctx):
        callee = ctx.callee(call) or ""
        last = callee.rsplit(".", 1)[-1]
        if framework == PYTORCH:
            first = _int(_arg(call, 0, {"Linear": "in_features", "Embedding": "num_embeddings"}.get(
                last, "in_channels" if last.startswith("Conv") else "input_size" if last in ("LSTM", "GRU", "RNN")
                else "num_features")))
            if first is None:
                continue
            if last == "Linear":
                return f"torch.randn(2, {first})", False
            if last in ("Conv1d", "BatchNorm1d"):
                return f"torch.randn(2, {first}, 16)", True  # the length is assumed
            if last in ("Conv2d", "BatchNorm2d"):
                return f"torch.randn(2, {first}, 16, 16)", True  # height and width are assumed
            if last in ("Conv3d", "BatchNorm3d"):
                return f"torch.randn(2, {first}, 8, 8, 8)", True
            if last == "Embedding":
                return f"torch.randint(0, {first}, (2, 8))", False
            if last in ("LSTM", "GRU", "RNN"):
                batch_first = _arg(call, 99, "batch_first")
                if isinstance(batch_first, cst.Name) and batch_first.value == "True":
                    return f"torch.randn(2, 8, {first})", False
                return f"torch.randn(8, 2, {first})", False
        else:
            if last == "Embedding":
                first = _int(_arg(call, 0, "input_dim"))
                if first is not None:
                    return f"np.random.randint(0, {first}, size=(2, 8))", False
            if last == "Conv2D":
                return 'np.random.rand(2, 16, 16, 3).astype("float32")', True
            if last == "Conv1D":
                return 'np.random.rand(2, 16, 3).astype("float32")', True
    if framework == PYTORCH:
        return "torch.randn(2, 16)", True
    return 'np.random.rand(2, 16).astype("float32")', True


_TENSOR_FACTORIES = {"torch.randn", "torch.rand", "torch.zeros", "torch.ones", "torch.empty", "torch.randint"}
_MODULE_CHAIN = {"to", "eval", "train", "cpu", "cuda", "float", "half", "double"}


def _example_call_input(module: cst.Module, ctx: Context, class_name: str) -> str | None:
    """The input an example call in the module passes to the model, when it is written out in full:
    ``Net()(torch.randn(1, 3, 32, 32))``, or ``net = Net().eval()`` then ``net(x)`` with ``x = torch.randn(...)``.
    Only sizes written as numbers count: the snippet must run on its own."""
    instances: set[str] = set()
    tensors: dict[str, cst.Call] = {}
    calls: list[cst.Call] = []
    for node in _walk(module):
        if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            name = node.targets[0].target.value
            if _constructs(node.value, class_name):
                instances.add(name)
            elif isinstance(node.value, cst.Call) and ctx.callee(node.value) in _TENSOR_FACTORIES:
                tensors[name] = node.value
        elif isinstance(node, cst.Call):
            calls.append(node)
    for call in calls:
        func = call.func
        if not ((isinstance(func, cst.Name) and func.value in instances) or _constructs(func, class_name)):
            continue
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        if len(positional) != 1 or len(call.args) != 1:
            continue
        value = positional[0]
        if isinstance(value, cst.Name):
            value = tensors.get(value.value)
        if isinstance(value, cst.Call) and ctx.callee(value) in _TENSOR_FACTORIES and _literal_sizes(value):
            return ctx.code(value)
    return None


def _constructs(node: cst.BaseExpression, class_name: str) -> bool:
    """``Net(...)``, possibly followed by ``.to(device)``, ``.eval()`` and the like."""
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _MODULE_CHAIN:
        node = node.func.value
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == class_name


def _literal_sizes(call: cst.Call) -> bool:
    def literal(value: cst.BaseExpression) -> bool:
        if isinstance(value, (cst.Tuple, cst.List)):
            return all(literal(element.value) for element in value.elements)
        return isinstance(value, cst.Integer)

    for arg in call.args:
        if arg.keyword is None and not literal(arg.value):
            return False
        if arg.keyword is not None and not isinstance(arg.value, (cst.Attribute, cst.Integer, cst.Name)):
            return False
    return True


def _stem(model: ModelAdvice) -> str:
    """The artifact's file name: snake case of the model's name, acronyms kept whole (TinyCNN -> tiny_cnn)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", model.name).lower()


def export_snippet(model: ModelAdvice, target: str) -> str:
    """Python code that exports ``model`` to ``target`` (it parses; run, it writes the artifact to the current
    folder). Packages that are not dependencies of the model's framework are named in a comment."""
    stem = _stem(model)
    if model.framework == PYTORCH:
        return _torch_snippet(model, target, stem)
    return _keras_snippet(model, target, stem)


def _guess_comment(model: ModelAdvice) -> str:
    return "  # assumed input shape: replace with your model's" if model.example_input_guessed else ""


def _torch_snippet(model: ModelAdvice, target: str, stem: str) -> str:
    ctor = model.constructor
    head = [f"# Export {model.name}: {TORCH_TARGETS[target]}"]
    setup = [
        f"model = {ctor}.eval()  # load your trained weights before exporting",
        f"example_inputs = ({model.example_input},){_guess_comment(model)}",
    ]
    strict = ", strict=True" if model.strict_export else ""
    if target == "torch.export":
        return "\n".join(head + ["import torch", ""] + setup + [
            f"exported = torch.export.export(model, example_inputs{strict})",
            f'torch.export.save(exported, "{stem}.pt2")',
            "# Ahead-of-time compiled for serving (needs a C++ compiler):",
            f'# torch._inductor.aoti_compile_and_package(exported, package_path="{stem}_aoti.pt2")',
        ]) + "\n"
    if target == "onnx":
        return "\n".join(head + ["import torch", ""] + setup + [
            f'torch.onnx.export(model, example_inputs, "{stem}.onnx", dynamo=True)',
        ]) + "\n"
    if target == "executorch":
        return "\n".join(head + [
            "# needs the `executorch` package (pip install executorch)",
            "import torch",
            "from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner",
            "from executorch.exir import to_edge_transform_and_lower",
            "",
        ] + setup + [
            f"exported = torch.export.export(model, example_inputs{strict})",
            "program = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()]).to_executorch()",
            f'with open("{stem}.pte", "wb") as file:',
            "    file.write(program.buffer)",
        ]) + "\n"
    if target == "litert-torch":
        return "\n".join(head + [
            "# needs the `litert-torch` package (pip install litert-torch; formerly ai-edge-torch)",
            "import litert_torch",
            "import torch",
            "",
        ] + setup + [
            "edge_model = litert_torch.convert(model, example_inputs)",
            f'edge_model.export("{stem}.tflite")',
        ]) + "\n"
    if target == "torchscript":
        return "\n".join(head + [
            "# Legacy: torch.jit is deprecated in favour of torch.export; use only for runtimes that need it",
            "import torch",
            "",
            f"model = {ctor}.eval()  # load your trained weights before exporting",
            "scripted = torch.jit.script(model)  # script keeps Python control flow; trace would bake it",
            f'scripted.save("{stem}_scripted.pt")',
        ]) + "\n"
    raise KeyError(target)


def _keras_build(model: ModelAdvice) -> list[str]:
    if model.kind == "keras.Sequential" or model.constructor.isidentifier():  # an instance the module builds
        lines = [f"model = {model.constructor}  # from your module; load your trained weights before exporting"]
        if model.constructor == "model":
            lines = ["# `model` is the one your module builds; load your trained weights before exporting"]
    else:
        lines = [f"model = {model.constructor}  # load your trained weights before exporting"]
    if model.example_input is not None:
        lines.append(f"example = {model.example_input}{_guess_comment(model)}")
        lines.append("model(example)  # subclassed models create their weights on the first call")
    return lines


def _keras_snippet(model: ModelAdvice, target: str, stem: str) -> str:
    head = [f"# Export {model.name}: {KERAS_TARGETS[target]}"]
    imports = ["import keras"] + (["import numpy as np"] if model.example_input is not None else [])
    build = _keras_build(model)
    if target == "savedmodel":
        return "\n".join(head + imports + [""] + build + [
            f'model.export("{stem}_serving/1")  # TF Serving loads numbered versions under {stem}_serving/',
        ]) + "\n"
    if target == "keras":
        return "\n".join(head + imports + [""] + build + [
            f'model.save("{stem}.keras")',
            f'reloaded = keras.saving.load_model("{stem}.keras")',
        ]) + "\n"
    if target == "litert":
        return "\n".join(head + imports + ["import tensorflow as tf", ""] + build + [
            "converter = tf.lite.TFLiteConverter.from_keras_model(model)",
            "converter.optimizations = [tf.lite.Optimize.DEFAULT]  # post-training dynamic-range quantization",
            f'with open("{stem}.tflite", "wb") as file:',
            "    file.write(converter.convert())",
        ]) + "\n"
    if target == "tfjs":
        return "\n".join(head + imports + [""] + build + [
            f'model.export("{stem}_savedmodel")',
            "# then convert it for the browser (needs the `tensorflowjs` package):",
            f"#   tensorflowjs_converter --input_format=tf_saved_model {stem}_savedmodel {stem}_web_model",
        ]) + "\n"
    if target == "onnx":
        called = [] if model.example_input is not None else [
            # Keras's ONNX exporter refuses a model that was never called (a functional model is built, not called)
            "dummy = [keras.ops.zeros([1] + [size or 1 for size in x.shape[1:]]) for x in model.inputs]",
            "model(dummy[0] if len(dummy) == 1 else dummy)  # the ONNX exporter traces a model called once",
        ]
        return "\n".join(head + ["# needs the `tf2onnx` package with the TensorFlow backend"] + imports + [""]
                         + build + called + [f'model.export("{stem}.onnx", format="onnx")']) + "\n"
    raise KeyError(target)


# -- editor helpers (the server maps these to code lenses, hovers and code actions) --------------------------------
def lens_title(model: ModelAdvice) -> str:
    """``Deploy: torch.export ready · ONNX blocked (line 42) · ...`` for a code lens above the model."""
    parts = []
    for verdict in model.targets:
        text = f"{verdict.label} {verdict.status}"
        lines = sorted({b.line for b in verdict.blockers})
        if verdict.status == BLOCKED and lines:
            text += f" (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines[:3]))}" + \
                    (", …" if len(lines) > 3 else "") + ")"
        if model.framework == PYTORCH and verdict.target == "torchscript":
            text += ", legacy"
        parts.append(text)
    return "Deploy: " + " · ".join(parts)


def target_explanation(model: ModelAdvice, target: str) -> str:
    """Markdown for a hover on one target of the lens: status, why, the lines, what the target is."""
    verdict = model.verdict(target)
    lines = [f"**{model.name} → {verdict.label}: {verdict.status}**", ""]
    for blocker in verdict.blockers:
        lines.append(f"- line {blocker.line}: {blocker.message}")
    if verdict.blockers:
        lines.append("")
    lines.append(verdict.note)
    return "\n".join(lines)


def snippet_title(model: ModelAdvice, target: str) -> str:
    return f"Insert export snippet for {model.verdict(target).label}"


def snippet_edit(source: str, model: ModelAdvice, target: str) -> Edit:
    """The edit for "Insert export snippet for TARGET": the snippet under ``if __name__ == "__main__":`` at the end
    of the file, so every class it needs is defined and it runs when the file is run, not when it is imported."""
    body = "".join(f"    {line}\n" if line else "\n" for line in export_snippet(model, target).splitlines())
    lines = source.split("\n")
    end = Position(len(lines), len(lines[-1]))
    separator = "\n\n" if source.endswith("\n") else "\n\n\n"
    if not source.strip():
        separator = ""
    return Edit(Range(end, end), f'{separator}if __name__ == "__main__":\n{body}')
