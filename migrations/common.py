"""Shared pieces of the translation machinery: names, code-text helpers, static shapes, argument binding,
weight-copy statements and the parsed source with its import table (pure: never imports torch or keras)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from ..analyzers.engine import parse
from ..analyzers.frameworks import ImportTable
from ..analyzers.traversal import nodes_of_type
from .catalog import WeightMap, literal

KERAS, TORCH = "keras", "torch"
PRESERVE, NATIVE = "preserve", "native"
TODO_TAG = "# TODO(tensorlint):"


class TranslationError(ValueError):
    """The request cannot be served (no such symbol, nothing translatable at a position, syntax error)."""


# -- small code helpers ------------------------------------------------------------------------------------------
_EMPTY = cst.Module([])


def code_of(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


def spell(canonical: str) -> str:
    if canonical.startswith("keras.layers."):
        return "layers." + canonical[len("keras.layers."):]
    if canonical.startswith("torch.nn.functional."):
        return "F." + canonical[len("torch.nn.functional."):]
    if canonical.startswith("torch.nn."):
        return "nn." + canonical[len("torch.nn."):]
    return canonical


_IMPORTS = {
    "layers.": "from keras import layers",
    "keras.": "import keras",
    "F.": "import torch.nn.functional as F",
    "nn.": "from torch import nn",
    "torch.": "import torch",
    "math.": "import math",
    "itertools.": "import itertools",
}


def imports_for(code: str) -> set[str]:
    found = set()
    for prefix, line in _IMPORTS.items():
        if re.search(r"(?<![\w.])" + re.escape(prefix), code):
            found.add(line)
    return found


def render_call(func: str, positional: list[str], keywords: list[tuple[str, str]]) -> str:
    parts = list(positional) + [f"{name}={value}" for name, value in keywords]
    return f"{func}({', '.join(parts)})"


def one_line(reason: str) -> str:
    """A TODO reason folded onto one line: a reason quoting multi-line source code would otherwise end its comment
    at the first line break and leave the rest as code."""
    return " ".join(reason.split())


def in_place_reason(methods) -> str:
    """Why in-place tensor methods (`x.add_(3.).clamp_(0., 6.)`) have no Keras form: one reason for all of them."""
    named = [f"Tensor.{name}()" for name in dict.fromkeys(methods)]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    verb = "mutates its tensor" if len(named) == 1 else "mutate their tensors"
    return f"in-place {listed} {verb}; Keras tensors are immutable: assign the result of the out-of-place op instead"


_IN_PLACE_REASON = re.compile(r"in-place Tensor\.(\w+)\(\) mutates its tensor; ")


def todo_lines(reasons) -> list[cst.EmptyLine]:
    """`# TODO(tensorlint): reason` comment lines, one per distinct reason, to put above a statement; the in-place
    methods of one statement share one (`x.add_(3.).clamp_(0., 6.).div_(6.)`: one cause, one TODO)."""
    reasons = list(dict.fromkeys(reasons))
    in_place = [match.group(1) for match in map(_IN_PLACE_REASON.match, reasons) if match]
    if len(in_place) > 1:
        first = next(index for index, reason in enumerate(reasons) if _IN_PLACE_REASON.match(reason))
        reasons = [reason for reason in reasons if not _IN_PLACE_REASON.match(reason)]
        reasons.insert(first, in_place_reason(in_place))
    return [cst.EmptyLine(comment=cst.Comment(f"{TODO_TAG} {one_line(reason)}")) for reason in reasons]


def with_todos(expr: str, todos: list[str]) -> str:
    """An expression carrying TODO comments that still parses wherever an expression may stand."""
    if not todos:
        return expr
    comments = "\n".join(f"    {TODO_TAG} {one_line(reason)}" for reason in todos[1:])
    middle = f"\n{comments}" if comments else ""
    return f"(  {TODO_TAG} {one_line(todos[0])}{middle}\n    {expr}\n)"


def literal_value(code: str):
    ok, value = literal(code)
    return value if ok else None


def is_literal(code: str) -> bool:
    return literal(code)[0]


def as_tuple(code: str, rank: int):
    ok, value = literal(code)
    if not ok:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (value,) * rank
    if isinstance(value, (tuple, list)) and len(value) == rank:
        return tuple(value)
    if isinstance(value, (tuple, list)) and len(value) == 1:
        return tuple(value) * rank
    return None


def snake_case(name: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    text = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", text).lower()
    text = re.sub(r"(\d)_d(?=_|$)", r"\1d", text)
    return text


# -- shapes known statically (per sample, in the source's layout) -----------------------------------------------
@dataclass(frozen=True)
class Shape:
    """What is known about a layer's input: the channel/feature count (the channel axis of the source layout)
    and the rank including the batch axis. None where unknown."""

    features: int | str | None = None
    rank: int | None = None
    dims: tuple | None = None  # per-sample dims when fully known

    @staticmethod
    def of(per_sample: tuple | None, channels_first: bool) -> "Shape":
        if not per_sample:
            return Shape()
        dims = tuple(per_sample)
        features = dims[0] if channels_first and len(dims) > 1 else dims[-1]
        return Shape(features, len(dims) + 1, dims)


UNKNOWN = Shape()


def bind_arguments(call: cst.Call, signature: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """Arguments by parameter name (as source code)."""
    bound: dict[str, str] = {}
    errors: list[str] = []
    position = 0
    for arg in call.args:
        if arg.star:
            errors.append(f"`{arg.star}{code_of(arg.value)}` cannot be mapped statically")
            continue
        if arg.keyword is not None:
            bound[arg.keyword.value] = code_of(arg.value)
            continue
        if position >= len(signature):
            errors.append(f"unexpected positional argument `{code_of(arg.value)}`")
            continue
        bound[signature[position]] = code_of(arg.value)
        position += 1
    return bound, errors


# -- weight transfer code ----------------------------------------------------------------------------------------
def _names_in(expr: str, table: str) -> list[str]:
    return re.findall(table + r"\['([^']+)'\]", expr)


def weight_statements(weights: tuple[WeightMap, ...], to: str, source: str, target: str,
                      layer_index: int | None = None) -> list[str]:
    """Statements copying one layer's tensors from ``source`` (expression) into ``target`` (expression)."""
    if not weights:
        return []
    table = "t" if to == KERAS else "k"
    lines = [f"{table} = {'_torch_arrays' if to == KERAS else '_keras_arrays'}({source})"]
    entries, reshape = [], []
    for weight in weights:
        expr = weight.expr.replace("src.", f"{source}.")
        name = weight.target
        if layer_index is not None:
            expr = expr.replace("_l0", f"_l{layer_index}")
            name = name.replace("_l0", f"_l{layer_index}")
        if weight.optional:
            needed = _names_in(expr, table)
            condition = " and ".join(f"{n!r} in {table}" for n in dict.fromkeys(needed))
            expr = f"{expr} if {condition} else None"
        entries.append(f"{name!r}: {expr}")
        if weight.reshape:
            reshape.append(name)
    setter = "_set_keras" if to == KERAS else "_set_torch"
    body = ",\n    ".join(entries)
    extra = f", reshape={tuple(reshape)!r}" if reshape else ""
    lines.append(f"{setter}({target}, {{\n    {body},\n}}{extra})")
    return lines


def indent_lines(lines: list[str], prefix: str = "    ") -> list[str]:
    return [prefix + line if line else line for line in "\n".join(lines).splitlines()]


# -- resolution context ------------------------------------------------------------------------------------------
class _OneStatementPerLine(cst.CSTTransformer):
    """``def f(self): a(); b = c`` as the same statements on lines of their own: the translators work statement by
    statement and then need only indented blocks of one-statement lines."""

    def leave_SimpleStatementSuite(self, original: cst.SimpleStatementSuite,
                                   updated: cst.SimpleStatementSuite) -> cst.IndentedBlock:
        return cst.IndentedBlock(body=[
            cst.SimpleStatementLine(body=[small.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)])
            for small in updated.body])

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine):
        if len(updated.body) < 2:
            return updated
        smalls = [small.with_changes(semicolon=cst.MaybeSentinel.DEFAULT) for small in updated.body]
        lines = [cst.SimpleStatementLine(body=[small]) for small in smalls]
        lines[0] = lines[0].with_changes(leading_lines=updated.leading_lines)
        lines[-1] = lines[-1].with_changes(trailing_whitespace=updated.trailing_whitespace)
        return cst.FlattenSentinel(lines)


class _SplitTupleAssignments(cst.CSTTransformer):
    """``a, b = f(x), g(y)`` as two assignments (when no right-hand side reads a name the line assigns, so the order
    cannot matter): the model translators follow layer applications one assigned name at a time."""

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine):
        if len(updated.body) != 1 or not isinstance(updated.body[0], cst.Assign):
            return updated
        assign = updated.body[0]
        if len(assign.targets) != 1:
            return updated
        target, value = assign.targets[0].target, assign.value
        if not (isinstance(target, cst.Tuple) and isinstance(value, cst.Tuple)
                and len(target.elements) == len(value.elements)):
            return updated
        if any(isinstance(e, cst.StarredElement) or not isinstance(e.value, cst.Name) for e in target.elements) \
                or any(isinstance(e, cst.StarredElement) for e in value.elements):
            return updated
        assigned = {e.value.value for e in target.elements}
        if assigned & _identifiers_in(value):
            return updated
        lines = [cst.SimpleStatementLine(body=[cst.Assign(targets=[cst.AssignTarget(t.value)], value=v.value)])
                 for t, v in zip(target.elements, value.elements)]
        lines[0] = lines[0].with_changes(leading_lines=updated.leading_lines)
        lines[-1] = lines[-1].with_changes(trailing_whitespace=updated.trailing_whitespace)
        return cst.FlattenSentinel(lines)


class _NamedModelOutputs(cst.CSTTransformer):
    """``return keras.Model(inputs, layers.Dense(4)(x))`` as ``output = layers.Dense(4)(x)`` followed by
    ``return keras.Model(inputs, output)``: every model output of a functional builder is a named tensor, which is
    what the Keras -> torch builder translation follows."""

    def __init__(self, source: "ParsedSource"):
        super().__init__()
        self.source = source
        self.taken = _identifiers_in(source.module)

    def _fresh(self) -> str:
        number = 0
        while (name := "output" if number == 0 else f"output_{number}") in self.taken:
            number += 1
        self.taken.add(name)
        return name

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine):
        small = updated.body[0] if len(updated.body) == 1 else None
        call = small.value if isinstance(small, (cst.Return, cst.Assign)) else None
        if not isinstance(call, cst.Call) or self.source.resolve(call.func) not in ("keras.Model", "keras.models.Model"):
            return updated
        positional = [index for index, arg in enumerate(call.args) if arg.keyword is None]
        index = next((i for i, arg in enumerate(call.args) if arg.keyword and arg.keyword.value == "outputs"),
                     positional[1] if len(positional) > 1 else None)
        if index is None:
            return updated
        hoisted: list[cst.SimpleStatementLine] = []

        def named(expression: cst.BaseExpression) -> cst.BaseExpression:
            if isinstance(expression, cst.Name):
                return expression
            name = self._fresh()
            hoisted.append(cst.SimpleStatementLine(body=[cst.Assign(targets=[cst.AssignTarget(cst.Name(name))],
                                                                    value=expression)]))
            return cst.Name(name)

        outputs = call.args[index].value
        if isinstance(outputs, (cst.List, cst.Tuple)) and not any(
                isinstance(e, cst.StarredElement) for e in outputs.elements):
            outputs = outputs.with_changes(elements=[e.with_changes(value=named(e.value)) for e in outputs.elements])
        elif not isinstance(outputs, (cst.List, cst.Tuple, cst.Dict)):
            outputs = named(outputs)
        if not hoisted:
            return updated
        args = list(call.args)
        args[index] = args[index].with_changes(value=outputs)
        last = updated.with_changes(body=[small.with_changes(value=call.with_changes(args=args))], leading_lines=())
        hoisted[0] = hoisted[0].with_changes(leading_lines=updated.leading_lines)
        return cst.FlattenSentinel([*hoisted, last])


def _identifiers_in(node: cst.CSTNode) -> set[str]:
    return {name.value for name in nodes_of_type(node, cst.Name)}


def normalized_for_models(source: "ParsedSource") -> "ParsedSource":
    """The source with the spellings the model translators do not follow rewritten into ones they do (same
    behaviour): one statement per line, tuple assignments split, functional model outputs named."""
    module = source.module.visit(_OneStatementPerLine()).visit(_SplitTupleAssignments())
    module = module.visit(_NamedModelOutputs(ParsedSource(module.code)))
    return ParsedSource(module.code)


class ParsedSource:
    def __init__(self, text: str):
        try:
            self.module = parse(text)
        except cst.ParserSyntaxError as exc:
            raise TranslationError(f"syntax error at line {exc.raw_line}: "
                                   f"{(exc.message or 'invalid syntax').strip().splitlines()[0]}") from None
        self.text = text
        self.imports = ImportTable()
        self.imports.collect(self.module.body)
        # imports local to builders and methods (`import tensorflow as tf` inside a function) name things too
        for statement in self.module.body:
            bodies = [statement] if isinstance(statement, cst.FunctionDef) else [
                s for s in statement.body.body if isinstance(s, cst.FunctionDef)] if isinstance(
                statement, cst.ClassDef) else []
            for function in bodies:
                if isinstance(function.body, cst.IndentedBlock):
                    self.imports.collect(function.body.body)
        self.classes = {s.name.value: s for s in self.module.body if isinstance(s, cst.ClassDef)}
        self.functions = {s.name.value: s for s in self.module.body if isinstance(s, cst.FunctionDef)}

    def resolve(self, node: cst.BaseExpression) -> str | None:
        return self.imports.resolve(node)

    def names_from(self, expression: cst.BaseExpression, roots: tuple[str, ...]) -> bool:
        """Whether ``expression`` (translated code, say) still names something this source imported from a module
        under ``roots`` (an import the translation drops)."""
        names = [expression] if isinstance(expression, cst.Name) else nodes_of_type(expression, cst.Name)
        return any((self.resolve(cst.Name(name.value)) or "").startswith(roots) for name in names)

    def class_framework(self, name: str, seen=()) -> str | None:
        node = self.classes.get(name)
        if node is None or name in seen:
            return None
        for base in node.bases:
            resolved = self.resolve(base.value)
            if resolved in ("torch.nn.Module",):
                return TORCH
            if resolved in ("keras.Model", "keras.models.Model", "keras.Layer") or (
                    resolved or "").startswith("keras.layers.") and resolved.rsplit(".", 1)[-1][:1].isupper():
                return KERAS  # keras.layers.Layer, or a Keras layer subclassed (class A(keras.layers.Dense))
            if isinstance(base.value, cst.Name):
                inherited = self.class_framework(base.value.value, (*seen, name))
                if inherited:
                    return inherited
        return None


def framework_of_name(canonical: str | None) -> str | None:
    if not canonical:
        return None
    if canonical.startswith("torch"):  # torch, torchvision
        return TORCH
    if canonical.startswith("timm."):  # PyTorch image models: only what the catalog maps (DropPath, drop_path)
        from .catalog import TORCH_LIBRARY_NAMES

        return TORCH if canonical in TORCH_LIBRARY_NAMES else None
    if canonical.startswith("keras"):
        return KERAS
    return None
