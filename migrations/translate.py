"""PyTorch <-> Keras 3 source translation, the public API: str in, frozen dataclasses out (never imports torch or
keras).

Three granularities share one layer translator driven by :mod:`.catalog`:

* one layer constructor or functional call (:func:`translate_call`, :func:`translate_call_at`, :func:`translate_line`);
* a whole ``nn.Sequential`` / ``keras.Sequential`` (a module-level assignment or a builder returning one);
* a whole ``nn.Module`` class -> ``keras.Model`` subclass, and a ``keras.Model`` subclass or a functional/Sequential
  builder function -> ``nn.Module`` (:func:`translate_symbol`, :func:`translate_to_new_file`).

Layout ``preserve`` (default) keeps the source's tensor layout: a translated torch CNN takes NCHW input in Keras
(spatial layers wrapped in ``ChannelsFirst``, ``BatchNormalization(axis=1)``, plain ``Flatten()`` which then keeps
torch's order) and a translated Keras CNN takes NHWC input in torch (spatial modules wrapped in ``MoveChannels``).
``native`` writes idiomatic target-layout code and marks what depends on the layout with TODOs.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from . import catalog
from .generated_helpers import KERAS_HELPERS, TORCH_HELPERS, WEIGHT_HELPERS
from .common import (
    KERAS, NATIVE, PRESERVE, TODO_TAG, TORCH, code_of, framework_of_name, imports_for, indent_lines,
    normalized_for_models, ParsedSource, Shape, TranslationError, weight_statements, with_todos,
)
from .closure import bound_names, closure
from .functional_builders import called_builder, names_used
from .package_functions import package_functions, with_package_builders
from .layer_translator import LayerTranslator, LayerOut
from .op_translator import OpTranslator, op_for
from .model_translator import ModelTranslator, CopyRecord, imports_source_framework
from .keras_to_torch import subclasses_keras_elsewhere, translate_keras_symbol
from .torch_to_keras import translate_torch_symbol


@dataclass(frozen=True)
class Translation:
    """``source``: the translated code (a module for a symbol, an expression for one call); ``weight_transfer``:
    the ``copy_weights(source, target)`` code; ``notes``: defaults that differ and other things to know;
    ``todos``: how many ``# TODO(tensorlint)`` markers the code carries."""

    source: str
    weight_transfer: str
    notes: tuple[str, ...]
    todos: int
    imports: tuple[str, ...] = ()  # import lines the code needs
    helpers: str = ""  # helper definitions the code needs (module level)
    direction: str = ""  # "torch->keras" or "keras->torch"
    kind: str = "call"  # "call": `source` is one expression; "module": `source` is a whole module

    def module_text(self) -> str:
        """One self-contained module: imports, helpers, the translated code (as `layer = ...` for one call) and
        copy_weights."""
        if self.kind == "module":
            return self.source
        imports = sorted(set(self.imports) | {"import numpy as np"},
                         key=lambda line: (line.startswith("from"), line))
        parts = ["\n".join(imports), self.helpers.strip(), f"layer = {self.source}", self.weight_transfer]
        return "\n\n\n".join(p for p in parts if p) + "\n"


@dataclass(frozen=True)
class CallEdit:
    """Replace the call at ``range`` (1-based lines, 0-based columns) by ``new_text``; add ``imports`` (lines) and
    ``helpers`` (module-level definitions) when they are not there yet."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    new_text: str
    imports: tuple[str, ...]
    helpers: str
    title: str
    translation: Translation


@dataclass(frozen=True)
class NewFile:
    name: str  # e.g. "Net_keras.py"
    text: str
    translation: Translation


@dataclass(frozen=True)
class Symbol:
    """A translatable top-level definition: a model class, a builder function or a Sequential assignment."""

    name: str
    kind: str  # "class" | "function" | "sequential"
    framework: str  # source framework
    line: int
    end_line: int


# -- module assembly ---------------------------------------------------------------------------------------------
def _header(symbol: str, to: str, layout: str) -> str:
    direction = "PyTorch -> Keras" if to == KERAS else "Keras -> PyTorch"
    return f'"""{symbol}: translated by tensorlint ({direction}, layout {layout}).\n\n' \
           f'copy_weights(source, target) copies every parameter and buffer from an instance of the original ' \
           f'into an\ninstance of this translation; call both once on an input first so lazily built weights ' \
           f'exist.\n"""'


def _module(symbol: str, to: str, layout: str, body: str, copy: str, helpers: set[str], extra_imports=()) -> str:
    imports = {"import numpy as np"} | set(extra_imports)
    imports |= imports_for(body)
    if to == KERAS:
        imports |= {"import keras"}
        helper_text = [KERAS_HELPERS[name].strip() for name in sorted(helpers)]
    else:
        imports |= {"import torch", "from torch import nn"}
        helper_text = [TORCH_HELPERS[name].strip() for name in sorted(helpers)]
    ordered = sorted(imports, key=lambda line: (line.startswith("from"), line))
    parts = [_header(symbol, to, layout), "\n".join(ordered), *helper_text, body.strip(), copy.strip(),
             WEIGHT_HELPERS.strip()]
    return "\n\n\n".join(p for p in parts if p) + "\n"


# -- public: one call --------------------------------------------------------------------------------------------
def translate_call(code: str, to: str, layout: str = PRESERVE, input_shape: tuple | None = None,
                   context: str = "") -> Translation:
    """Translate one layer constructor call or functional op (``code``, an expression) to ``to``.

    ``context`` is source text whose imports say what the names mean (defaults: the usual spellings);
    ``input_shape`` is the per-sample input shape in the source's layout when known (it fills sizes Keras infers
    and torch needs). The Translation's ``weight_transfer`` defines ``copy_weights(source, target)`` for one layer.
    """
    preamble = context or "import torch\nfrom torch import nn\nimport torch.nn.functional as F\nimport keras\n" \
                          "from keras import layers\nimport tensorflow as tf\n"
    source = ParsedSource(preamble + "\n" + code.strip() + "\n")
    statement = source.module.body[-1]
    expr = statement.body[0].value if isinstance(statement, cst.SimpleStatementLine) and isinstance(
        statement.body[0], cst.Expr) else None
    if not isinstance(expr, cst.Call):
        raise TranslationError("expected one call expression, e.g. nn.Linear(3, 4)")
    return _translate_call_node(source, expr, to, layout, input_shape)


def _translate_call_node(source: ParsedSource, call: cst.Call, to: str, layout: str,
                         input_shape: tuple | None) -> Translation:
    canonical = source.resolve(call.func)
    if framework_of_name(canonical) == to or (to == TORCH and canonical and canonical.startswith("tensorflow")):
        if not (canonical or "").startswith("tensorflow"):
            raise TranslationError(f"{canonical} is already {'Keras' if to == KERAS else 'PyTorch'}")
    shape = Shape.of(input_shape, channels_first=(to == KERAS))
    op = op_for(source, call, to)
    if op is not None:
        translator = OpTranslator(source, to, layout)
        new = translator.translate(call)
        text = code_of(new)
        todos = translator.todos
        return Translation(with_todos(text, todos), "", tuple(dict.fromkeys(translator.notes)), len(todos),
                           tuple(sorted(imports_for(text))), "", _direction(to))
    if canonical is None or framework_of_name(canonical) is None:
        raise TranslationError(f"`{code_of(call.func)}` is not a PyTorch or Keras name this module imports")
    out = LayerTranslator(to, layout).translate(call, canonical, shape)
    helpers = KERAS_HELPERS if to == KERAS else TORCH_HELPERS
    helper_text = "\n\n".join(helpers[name].strip() for name in sorted(out.helpers))
    copy = _layer_copy(out, to)
    text = with_todos(out.expr, out.todos)
    imports = imports_for(text + helper_text)
    return Translation(text, copy, tuple(dict.fromkeys(out.notes)), len(out.todos), tuple(sorted(imports)),
                       helper_text, _direction(to))


def _direction(to: str) -> str:
    return "torch->keras" if to == KERAS else "keras->torch"


def _layer_copy(out: LayerOut, to: str) -> str:
    lines = ['def copy_weights(source, target):',
             '    """Copy the source layer\'s tensors into the translated layer (both called once)."""']
    if out.call_adapter or "{layer}" in out.target_access:
        access = out.target_access.replace("{layer}", "0")
    else:
        access = out.target_access
    statements = weight_statements(out.weights, to, "source", f"target{access}")
    lines += indent_lines(statements) if statements else ["    pass  # no parameters or buffers"]
    return "\n".join(lines) + "\n\n\n" + WEIGHT_HELPERS.strip() + "\n"


def _top_level_spans(module: cst.Module):
    """(statement, first line of its code incl. leading comments, its code) for each top-level statement,
    without computing positions for the whole module (that costs twice a parse)."""
    line = 1 + len(module.header)
    spans = []
    for statement in module.body:
        code = module.code_for_node(statement)
        spans.append((statement, line, code))
        line += code.count("\n")
    return spans


def _positions_near(source: ParsedSource, line: int):
    """(node, start, end) with absolute (line, column) pairs for the nodes of the top-level statement holding
    `line`; positions are computed for that statement only."""
    for statement, first, code in _top_level_spans(source.module):
        last = first + code.count("\n") - 1
        if first <= line <= last:
            snippet = cst.parse_module(code)
            positions = cst.metadata.MetadataWrapper(snippet, unsafe_skip_copy=True).resolve(
                cst.metadata.PositionProvider)
            offset = first - 1
            return [(node, (span.start.line + offset, span.start.column), (span.end.line + offset, span.end.column))
                    for node, span in positions.items()]
    return []


def translate_call_at(source_text: str, line: int, column: int, to: str | None = None,
                      layout: str = PRESERVE) -> CallEdit | None:
    """The code action on a layer call or op at (line 1-based, column 0-based): None when there is none there.
    ``to`` defaults to the other framework."""
    source = ParsedSource(source_text)
    best = None
    for node, start, end in _positions_near(source, line):
        if not isinstance(node, cst.Call):
            continue
        if start <= (line, column) <= end:
            framework = framework_of_name(source.resolve(node.func))
            method = node.func.attr.value if isinstance(node.func, cst.Attribute) else None
            if framework is None and not (method in catalog.OPS_BY_METHOD or method in catalog.ONE_WAY_BY_METHOD):
                continue
            if best is None or start >= best[1]:
                best = (node, start, end, framework)
    if best is None:
        return None
    node, start, end, framework = best
    target = to or (KERAS if framework == TORCH else TORCH)
    try:
        translation = _translate_call_node(source, node, target, layout, None)
    except TranslationError:
        return None
    title = f"Translate to {'Keras' if target == KERAS else 'PyTorch'}"
    return CallEdit(start[0], start[1], end[0], end[1], translation.source,
                    translation.imports, translation.helpers, title, translation)


def translate_line(source_text: str, line: int, to: str | None = None, layout: str = PRESERVE) -> Translation:
    """``FILE:LINE``: the (outermost) layer call on that line as a self-contained module."""
    source = ParsedSource(source_text)
    calls = [(start[1], node) for node, start, _ in _positions_near(source, line)
             if isinstance(node, cst.Call) and start[0] == line
             and framework_of_name(source.resolve(node.func)) and not _is_op_call(source, node)]
    if not calls:
        raise TranslationError(f"no PyTorch or Keras layer call on line {line}")
    _, node = min(calls, key=lambda item: item[0])
    framework = framework_of_name(source.resolve(node.func))
    target = to or (KERAS if framework == TORCH else TORCH)
    return _translate_call_node(source, node, target, layout, None)


def _is_op_call(source: ParsedSource, call: cst.Call) -> bool:
    canonical = source.resolve(call.func) or ""
    return canonical in catalog.OPS_BY_TORCH or canonical.startswith("keras.ops.") or (
        framework_of_name(canonical) == TORCH and not canonical.startswith("torch.nn.") or
        canonical.startswith("torch.nn.functional."))


# -- public: a whole symbol ----------------------------------------------------------------------------------------
def symbols(source_text: str) -> tuple[Symbol, ...]:
    """The translatable top-level definitions of a module (for code actions and `tensorlint translate`)."""
    source = ParsedSource(source_text)
    found = []
    for statement, first, code in _top_level_spans(source.module):
        kind, framework, name = _symbol_kind(source, statement)
        if kind:
            leading = len(getattr(statement, "leading_lines", ()))
            found.append(Symbol(name, kind, framework, first + leading, first + code.rstrip("\n").count("\n")))
    return tuple(found)


def _symbol_kind(source: ParsedSource, statement) -> tuple[str | None, str | None, str]:
    if isinstance(statement, cst.ClassDef):
        framework = source.class_framework(statement.name.value)
        return ("class", framework, statement.name.value) if framework else (None, None, statement.name.value)
    if isinstance(statement, cst.FunctionDef):
        framework = _builder_framework(source, statement)
        return ("function", framework, statement.name.value) if framework else (None, None, statement.name.value)
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and isinstance(
            statement.body[0], cst.Assign) and isinstance(statement.body[0].value, cst.Call):
        assign = statement.body[0]
        target = assign.targets[0].target
        canonical = source.resolve(assign.value.func)
        if isinstance(target, cst.Name) and canonical in ("torch.nn.Sequential", "keras.Sequential",
                                                          "keras.models.Sequential"):
            return "sequential", framework_of_name(canonical), target.value
    return None, None, ""


def _builder_framework(source: ParsedSource, function: cst.FunctionDef, seen: frozenset = frozenset()) -> str | None:
    found: list[str] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            canonical = source.resolve(call.func)
            if canonical in ("keras.Model", "keras.models.Model", "keras.Sequential", "keras.models.Sequential",
                             "keras.Input", "keras.layers.Input"):
                found.append(KERAS)
            elif canonical == "torch.nn.Sequential":
                found.append(TORCH)

    function.visit(Finder())
    if found:
        return found[0]
    called = called_builder(function, source.functions)  # `def ResNet50(...): return ResNet(...)`
    if called is not None and called.name.value not in seen:
        return _builder_framework(source, called, seen | {function.name.value})
    return None


_NATIVE_NOTE = ("native layout: inputs must be channels-last (N, H, W, C) for Keras / channels-first (N, C, H, W) for "
                "torch; transpose them before calling the translation")


def translate_symbol(source_text: str, symbol: str, to: str | None = None, layout: str = PRESERVE,
                     origin: str = "", path: str | None = None, also: tuple[str, ...] = (),
                     init_args: str | None = None) -> Translation:
    """Translate a model class, a builder function or a Sequential assignment into one self-contained module:
    imports, helpers, the translation under the same name, and copy_weights(source, target).

    PyTorch -> Keras translates the symbol's whole closure (:mod:`.torch_to_keras`; ``path``, the source file,
    lets it follow relative imports into the package; ``also``: more top-level names to bring along, e.g. those
    a constructor call names, such as `make_layers` in `VGG(make_layers(cfgs["A"]))`; ``init_args``: the argument
    list the symbol will be built with, which decides a Keras builder's `if`s on its arguments instead of its
    defaults). So does Keras -> PyTorch of a Keras Layer/Model subclass (:mod:`.keras_to_torch`); Keras functional
    and Sequential builders go through :mod:`.model_translator`."""
    source_text, package_notes = with_package_builders(source_text, path)
    source = normalized_for_models(ParsedSource(source_text))
    statement = next((s for s in source.module.body if _symbol_kind(source, s)[2] == symbol), None)
    if statement is None:
        names = ", ".join(s.name for s in symbols(source_text)) or "none"
        raise TranslationError(f"no model class, builder function or Sequential named {symbol!r} "
                               f"(translatable here: {names})")
    kind, framework, _ = _symbol_kind(source, statement)
    if kind is None and isinstance(statement, cst.ClassDef) and path and \
            subclasses_keras_elsewhere(source_text, symbol, path):
        kind, framework = "class", KERAS
    if kind is None:
        raise TranslationError(f"{symbol!r} is neither a torch nn.Module / Keras Model class, a builder function "
                               "nor a Sequential assignment")
    to = to or (KERAS if framework == TORCH else TORCH)
    if to not in (KERAS, TORCH):
        raise TranslationError(f"unknown target {to!r}: use 'keras' or 'torch'")
    if framework == to:
        raise TranslationError(f"{symbol!r} is already {'Keras' if to == KERAS else 'PyTorch'}")
    if layout not in (PRESERVE, NATIVE):
        raise TranslationError(f"unknown layout {layout!r}: use 'preserve' or 'native'")
    if to == KERAS or kind == "class":
        translated = translate_torch_symbol(source_text, symbol, layout, origin, path, also) if to == KERAS else \
            translate_keras_symbol(source_text, symbol, layout, origin, path, init_args)
        notes = list(translated.notes)
        if layout == NATIVE:
            notes.append(_NATIVE_NOTE)
        return Translation(translated.text, "", tuple(dict.fromkeys(notes)), translated.todos,
                           tuple(line for line in translated.text.splitlines() if line.startswith(("import ", "from "))),
                           "", _direction(to), "module")
    model = ModelTranslator(source, to, layout)
    model.init_args = init_args
    model.notes += package_notes
    if kind == "class":
        model.translate_class(symbol)
        body = "\n\n".join(model.translated_classes)
    elif kind == "function":
        text, records, _ = model.builder(statement)
        model.copy_functions.append(model.copy_function(symbol, records))
        brought: list[str] = []
        if to == TORCH:  # `imagenet_utils.correct_pad(x, 3)` in a layer created in forward
            defined = {name for s in source.module.body for name in bound_names(s)}
            text, brought, package_notes = package_functions(source, text, path, layout, defined)
            model.notes += package_notes
        body = "\n\n".join([*_plain_python_used(source, model, text, symbol), *brought, *model.translated_classes,
                              text])
    else:
        assign = statement.body[0]
        records: list[CopyRecord] = []
        text, _ = model.sequential(assign.value, records, "", "")
        model.copy_functions.append(model.copy_function(symbol, records))
        body = "\n\n".join(model.translated_classes + [f"{symbol} = {text}\n"])
    what = "torch" if to == KERAS else "Keras"
    copy_weights = (f"def copy_weights(source, target):\n"
                    f'    """Copy every parameter and buffer (norm statistics included) from the {what} `{symbol}` '
                    f'into its\n    translation. Call both models once on an input first so lazily built weights '
                    f'exist."""\n    _copy_{symbol}(source, target)\n')
    copy = "\n\n".join([copy_weights] + model.copy_functions)
    module_text = _module(f"{origin + ':' if origin else ''}{symbol}", to, layout, body, copy, model.helpers)
    if layout == NATIVE:
        model.notes.append(_NATIVE_NOTE)
    todos = module_text.count(TODO_TAG)
    return Translation(module_text, copy, tuple(dict.fromkeys(model.notes)), todos,
                       tuple(line for line in module_text.splitlines() if line.startswith(("import ", "from "))),
                       "", _direction(to), "module")


def _plain_python_used(source: ParsedSource, model: ModelTranslator, generated: str, symbol: str) -> list[str]:
    """The source's top-level definitions that a translated builder still uses (`first_block_filters =
    _make_divisible(32 * alpha, 8)` in its __init__), verbatim, with the imports they use: plain Python that
    creates no layer (helpers that do were inlined, or carry a TODO)."""
    used = names_used(cst.parse_module(generated))
    defined = {name for statement in source.module.body if not _imports_only(statement)
               for name in bound_names(statement)}
    # plain modules the generated __init__ still calls (`copy.deepcopy(blocks_args)`, `math.ceil`): their imports
    defined |= {name for statement in source.module.body if _imports_only(statement) and
                not imports_source_framework(statement, model.source_framework) for name in bound_names(statement)}
    wanted = (used & defined) - {symbol}
    if not wanted:
        return []
    kept = []
    for statement in closure(source.module, wanted).statements:
        if _imports_only(statement) and imports_source_framework(statement, model.source_framework) or \
                model._contains_layers(statement) or symbol in bound_names(statement) or \
                isinstance(statement, cst.ClassDef) and source.class_framework(statement.name.value):
            continue  # framework classes are translated (model.translated_classes), never copied verbatim
        kept.append(cst.Module([]).code_for_node(statement.with_changes(leading_lines=())).strip())
    return kept


def _imports_only(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)


def translate_to_new_file(source_text: str, symbol: str, to: str | None = None, layout: str = PRESERVE,
                          origin: str = "", path: str | None = None) -> NewFile:
    """The code action "Translate NAME to Keras/PyTorch in a new file": the file name (NAME_keras.py or
    NAME_torch.py, to be created beside the source) and its text."""
    translation = translate_symbol(source_text, symbol, to, layout, origin, path)
    suffix = "keras" if translation.direction == "torch->keras" else "torch"
    return NewFile(f"{symbol}_{suffix}.py", translation.source, translation)


def hover_at(source_text: str, line: int, column: int) -> str | None:
    """Markdown for a hover on a catalogued layer or op name at (line 1-based, column 0-based), else None."""
    try:
        source = ParsedSource(source_text)
    except TranslationError:
        return None
    best = None
    for node, start, end in _positions_near(source, line):
        if not isinstance(node, (cst.Name, cst.Attribute)):
            continue
        if start <= (line, column) < end:
            canonical = source.resolve(node)
            if canonical and (best is None or len(canonical) > len(best)):
                best = canonical
    return catalog.card_for(best) if best else None
