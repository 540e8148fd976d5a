"""Whole models: nn.Module classes <-> keras.Model subclasses, Sequentials and functional builders, with the records
that copy_weights is generated from."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

import libcst as cst

from . import catalog
from .common import (
    KERAS, TODO_TAG, TORCH, UNKNOWN, code_of, framework_of_name, indent_lines, literal, literal_value, ParsedSource,
    Shape, TranslationError, snake_case, todo_lines, weight_statements, with_todos,
)
from .functional_builders import (BuilderExpansion, _bound_inside, _Substitute, assigned_names, called_builder,
                                  calls_of, given_arguments, names_used)
from .layer_translator import LayerTranslator, LayerOut
from .op_translator import OpTranslator, python_containers
from .tensor_aliases import aliased_updates


# -- whole models --------------------------------------------------------------------------------------------------
@dataclass
class CopyRecord:
    """One weighted thing to copy: a catalog layer, a local custom class, or a loop over a list of either."""

    source_path: str  # appended to "source", e.g. ".features[0]"
    target_path: str  # appended to "target", e.g. ".features.layers[0]"
    out: LayerOut | None = None
    custom: str | None = None  # local class name (copied by its own _copy_<name>)
    keras_lookup: str | None = None  # functional models: expression finding the Keras layer in `source`
    layers_count: int = 1
    loop: "CopyRecord | None" = None


def _indent_block(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line.strip() else line for line in text.splitlines())


def _dedent_code(node: cst.CSTNode) -> str:
    import textwrap

    return textwrap.dedent(code_of(node))


def _leading_todos(statement: cst.BaseStatement, reasons: list[str]) -> cst.BaseStatement:
    if not reasons:
        return statement
    comments = todo_lines(reasons)
    return statement.with_changes(leading_lines=[*statement.leading_lines, *comments])


def _self_attr(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


class ModelTranslator:
    def __init__(self, source: ParsedSource, to: str, layout: str):
        self.source, self.to, self.layout = source, to, layout
        self.layers = LayerTranslator(to, layout, model_level=True)
        self.helpers: set[str] = set()
        self.notes: list[str] = []
        self.todos = 0
        self.copy_functions: list[str] = []
        self.translated_classes: list[str] = []
        # the function that copies a layer of a user class of the source (`_copy_<Class>`, generated with the
        # class; a Keras -> torch class translation copies them with its generic, path-walking copy_weights)
        self.custom_copier = lambda class_name: f"_copy_{class_name}"
        self.done_classes: set[str] = set()
        self.source_framework = KERAS if to == TORCH else TORCH
        self.renames: dict[str, str] = {}
        # torch -> Keras: names of the function being translated that hold Python containers (item assignment on
        # them is not a tensor write; see op_translator.python_containers)
        self.containers: frozenset[str] = frozenset()
        # the function being translated: its augmented assignments on names that may change a shared tensor, per
        # top-level statement (see tensor_aliases.aliased_updates)
        self.updates: dict[cst.BaseStatement, dict[int, str]] = {}
        self.init_args: str | None = None  # a builder's arguments (`--init-args`): its ifs are decided with them

    # -- layers --
    def _layer(self, call: cst.Call, shape: Shape = UNKNOWN) -> LayerOut | None:
        canonical = self.source.resolve(call.func)
        if canonical is None or framework_of_name(canonical) != self.source_framework:
            return None
        if canonical in ("torch.nn.Sequential", "keras.Sequential", "keras.models.Sequential", "torch.nn.ModuleList"):
            return None
        out = self.layers.translate(call, canonical, shape)
        self.helpers |= out.helpers
        self.notes += out.notes
        return out

    def _expr_with_todos(self, out: LayerOut) -> str:
        self.todos += len(out.todos)
        return with_todos(out.expr, out.todos)

    def _layers_count(self, call: cst.Call) -> int:
        for arg in call.args:
            if arg.keyword and arg.keyword.value == "num_layers":
                value = literal_value(code_of(arg.value))
                return value if isinstance(value, int) else 1
        if len(call.args) > 2 and call.args[2].keyword is None:
            value = literal_value(code_of(call.args[2].value))
            return value if isinstance(value, int) else 1
        return 1

    def sequential(self, call: cst.Call, records: list[CopyRecord], source_prefix: str, target_prefix: str,
                   shape: Shape = UNKNOWN) -> tuple[str, Shape]:
        """nn.Sequential(a, b) <-> keras.Sequential([a, b]); fills `records` for copy_weights."""
        if self.to == KERAS:
            items = [arg.value for arg in call.args if not arg.keyword]
            if any(arg.star for arg in call.args):
                self.todos += 1
                return with_todos(code_of(call), ["nn.Sequential(*...) is not translated statically"]), UNKNOWN
        else:
            items = []
            if call.args and isinstance(call.args[0].value, (cst.List, cst.Tuple)):
                items = [element.value for element in call.args[0].value.elements]
            elif call.args:
                self.todos += 1
                return with_todos(code_of(call), ["keras.Sequential(...) without a literal list"]), UNKNOWN
        texts: list[str] = []
        index = 0
        for item in items:
            if self.to == TORCH and isinstance(item, cst.Call) and self.source.resolve(item.func) in (
                    "keras.Input", "keras.layers.Input", "keras.layers.InputLayer"):
                shape = self._input_shape(item)
                continue
            if self.to == TORCH and isinstance(item, cst.Call):
                shape = self._shape_hint(item, shape)
            text, shape = self.item(item, records, f"{source_prefix}{self._source_index(index)}",
                                    f"{target_prefix}{self._target_index(index)}", shape)
            texts.append(text)
            index += 1
        if self.to == KERAS:
            body = ",\n".join(_indent_block(t) for t in texts)
            return (f"keras.Sequential([\n{body},\n])" if texts else "keras.Sequential()"), shape
        body = ",\n".join(_indent_block(t) for t in texts)
        return (f"nn.Sequential(\n{body},\n)" if texts else "nn.Sequential()"), shape

    def _source_index(self, index: int) -> str:
        return f"[{index}]" if self.to == KERAS else f".layers[{index}]"

    def _target_index(self, index: int) -> str:
        return f".layers[{index}]" if self.to == KERAS else f"[{index}]"

    def _shape_hint(self, call: cst.Call, shape: Shape) -> Shape:
        for arg in call.args:
            if arg.keyword and arg.keyword.value == "input_shape":
                value = literal_value(code_of(arg.value))
                if isinstance(value, tuple):
                    return Shape.of(value, channels_first=False)
        return shape

    def _input_shape(self, call: cst.Call) -> Shape:
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value == "shape":
                value = literal_value(code_of(arg.value))
                if isinstance(value, tuple):
                    return Shape.of(value, channels_first=False)
                break
        return UNKNOWN

    def item(self, node: cst.BaseExpression, records: list[CopyRecord], source_path: str, target_path: str,
             shape: Shape = UNKNOWN) -> tuple[str, Shape]:
        """A module/layer-valued expression: a catalog layer, a Sequential, a local model class, or a TODO."""
        if isinstance(node, cst.Call):
            canonical = self.source.resolve(node.func)
            if canonical in ("torch.nn.Sequential", "keras.Sequential", "keras.models.Sequential"):
                return self.sequential(node, records, source_path, target_path, shape)
            if isinstance(node.func, cst.Name) and node.func.value in self.source.classes and \
                    self.source.class_framework(node.func.value) == self.source_framework:
                self.translate_class(node.func.value)
                records.append(CopyRecord(source_path, target_path, custom=node.func.value))
                keeps = _keeps_input_shape(self.source.classes[node.func.value])
                return self._translate_expression(node), shape if keeps else UNKNOWN
            out = self._layer(node, shape)
            if out is not None:
                count = self._layers_count(node) if out.call_adapter == "TorchRecurrent" else 1
                if out.weights:
                    records.append(CopyRecord(source_path, target_path, out, layers_count=count))
                return self._expr_with_todos(out), out.shape_out
        self.todos += 1
        return with_todos(code_of(node), [f"`{code_of(node)[:60]}` is not a layer the catalog knows"]), UNKNOWN

    def _translate_expression(self, node: cst.CSTNode, layer_attrs=None) -> str:
        translator = OpTranslator(self.source, self.to, self.layout, layer_attrs, containers=self.containers)
        new = node.visit(translator)
        self.todos += len(translator.todos) + len(translator.placed_todos)
        return with_todos(code_of(new), translator.todos)

    # -- copy code --
    def copy_lines(self, records: list[CopyRecord], source: str = "source", target: str = "target") -> list[str]:
        lines: list[str] = []
        for record in records:
            src = record.keras_lookup or f"{source}{record.source_path}"
            dst = f"{target}{record.target_path}"
            if record.loop is not None:
                inner = self.copy_lines([record.loop], "source_item", "target_item")
                lines.append(f"for source_item, target_item in zip({src}, {dst}):")
                lines += indent_lines(inner)
            elif record.custom:
                lines.append(f"{self.custom_copier(record.custom)}({src}, {dst})")
            elif record.out is not None:
                access = record.out.target_access
                if "{layer}" in access:
                    for index in range(record.layers_count):
                        lines += weight_statements(record.out.weights, self.to, src,
                                                   dst + access.replace("{layer}", str(index)), index)
                else:
                    lines += weight_statements(record.out.weights, self.to, src, dst + access)
        return lines

    def copy_function(self, name: str, records: list[CopyRecord]) -> str:
        lines = self.copy_lines(records)
        body = "\n".join(indent_lines(lines)) if lines else "    pass  # no parameters or buffers"
        what = "torch module" if self.to == KERAS else "Keras model"
        return (f"def _copy_{name}(source, target):\n"
                f'    """Copy every parameter and buffer of a {what} `{name}` into its translation."""\n{body}\n')

    # -- classes --
    def translate_class(self, name: str) -> None:
        if name in self.done_classes:
            return
        self.done_classes.add(name)
        node = self.source.classes[name]
        reserved = _KERAS_MODEL_ATTRIBUTES if self.to == KERAS else _TORCH_MODULE_ATTRIBUTES
        outer = self.renames
        self.renames = {attr: f"{attr}_" for attr in self._layer_attrs(self._methods(node)) if attr in reserved}
        if self.renames:
            self.notes.append(f"{name}: attributes {sorted(self.renames)} are reserved by the target framework "
                              f"and were renamed with a trailing underscore")
        if self.to == KERAS:
            text, records = self._torch_class_to_keras(node)
        else:
            text, records = self._keras_class_to_torch(node)
        self.renames = outer
        self.translated_classes.append(text)
        self.copy_functions.append(self.copy_function(name, records))

    def _class_header(self, node: cst.ClassDef) -> str:
        base = "keras.Model" if self.to == KERAS else "nn.Module"
        bases = []
        for arg in node.bases:
            resolved = self.source.resolve(arg.value)
            if resolved in ("torch.nn.Module", "keras.Model", "keras.models.Model", "keras.layers.Layer",
                            "keras.Layer"):
                bases.append(base)
            elif isinstance(arg.value, cst.Name) and arg.value.value in self.source.classes:
                self.translate_class(arg.value.value)
                bases.append(arg.value.value)
            else:
                bases.append(code_of(arg.value))
        return f"class {node.name.value}({', '.join(bases)}):"

    def _methods(self, node: cst.ClassDef) -> dict[str, cst.FunctionDef]:
        return {s.name.value: s for s in node.body.body if isinstance(s, cst.FunctionDef)}

    def _init_statements(self, init: cst.FunctionDef, records: list[CopyRecord],
                         shapes: dict[str, Shape]) -> list[str]:
        lines: list[str] = []
        for statement in init.body.body:
            lines.append(self._init_statement(statement, records, shapes))
        return lines

    def _init_statement(self, statement: cst.BaseStatement, records: list[CopyRecord],
                        shapes: dict[str, Shape]) -> str:
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            small = statement.body[0]
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and _is_super_init(small.value):
                return _comments(statement) + "super().__init__()"
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                attr = _self_attr(small.targets[0].target)
                if attr is not None:
                    new_attr = self.renames.get(attr, attr)
                    value = self._module_value(small.value, records, f".{attr}", f".{new_attr}",
                                               shapes.get(attr, UNKNOWN))
                    if value is not None:
                        return _comments(statement) + f"self.{new_attr} = {value}"
        if isinstance(statement, (cst.If, cst.For)) and self._contains_layers(statement):
            self.todos += 1
            return f"{TODO_TAG} layers built under control flow are not translated\n" + _dedent_code(statement)
        return self._translate_statement(statement)

    def _contains_layers(self, node: cst.CSTNode) -> bool:
        found = []

        class Finder(cst.CSTVisitor):
            def visit_Call(inner, call: cst.Call) -> None:
                if framework_of_name(self.source.resolve(call.func)) == self.source_framework and \
                        self.source.resolve(call.func).split(".")[1] in ("nn", "layers"):
                    found.append(call)

        node.visit(Finder())
        return bool(found)

    def _merges_only(self, node: cst.CSTNode) -> bool:
        """Every layer ``node`` creates is a merge applied at once (`layers.Add()([a, b])`), which forward computes
        as an op: nothing to create in __init__."""
        created: list[cst.Call] = []
        merged: set[int] = set()
        translator = self

        class Finder(cst.CSTVisitor):
            def visit_Call(self, call: cst.Call) -> None:
                canonical = translator.source.resolve(call.func) or ""
                if canonical.startswith("keras.layers."):
                    created.append(call)
                if isinstance(call.func, cst.Call) and catalog.OPS_BY_KERAS.get(
                        translator.source.resolve(call.func.func) or "") is not None:
                    merged.add(id(call.func))

        node.visit(Finder())
        return all(id(call) in merged for call in created)

    def _module_value(self, value: cst.BaseExpression, records: list[CopyRecord], source_path: str,
                      target_path: str, shape: Shape) -> str | None:
        if isinstance(value, cst.Call):
            canonical = self.source.resolve(value.func)
            if canonical == "torch.nn.ModuleList":
                inner = value.args[0].value if value.args else cst.List([])
                return self._list_value(inner, records, source_path, target_path)
            if canonical in ("torch.nn.Sequential", "keras.Sequential", "keras.models.Sequential") or \
                    self._layer_like(value):
                text, _ = self.item(value, records, source_path, target_path, shape)
                return text
        if isinstance(value, (cst.List, cst.ListComp)) and self._contains_layers(value):
            text = self._list_value(value, records, source_path, target_path)
            if self.to == KERAS:
                self.notes.append(f"`{source_path.lstrip('.')}` is a plain list of torch modules (not an "
                                  "nn.ModuleList): torch does not register them, Keras tracks them")
            return f"nn.ModuleList({text})" if self.to == TORCH else text
        return None

    def _layer_like(self, call: cst.Call) -> bool:
        canonical = self.source.resolve(call.func)
        if framework_of_name(canonical) == self.source_framework:
            return True
        return isinstance(call.func, cst.Name) and call.func.value in self.source.classes

    def _list_value(self, node: cst.BaseExpression, records: list[CopyRecord], source_path: str,
                    target_path: str) -> str:
        if isinstance(node, (cst.List, cst.Tuple)):
            texts = []
            for index, element in enumerate(node.elements):
                text, _ = self.item(element.value, records, f"{source_path}[{index}]", f"{target_path}[{index}]")
                texts.append(text)
            return "[\n" + ",\n".join(_indent_block(t) for t in texts) + ",\n]" if texts else "[]"
        if isinstance(node, cst.ListComp):
            inner_records: list[CopyRecord] = []
            text, _ = self.item(node.elt, inner_records, "", "")
            if len(inner_records) == 1:
                records.append(CopyRecord(source_path, target_path, loop=inner_records[0]))
            elif inner_records:
                self.todos += 1
                text = with_todos(text, ["several weighted layers per list element: copy them by hand"])
            return f"[{text} {code_of(node.for_in).strip()}]"
        self.todos += 1
        return with_todos(code_of(node), ["a module list that is not a literal list or comprehension"])

    def _translate_statement(self, statement: cst.BaseStatement, layer_attrs=None, training_param=False) -> str:
        if imports_source_framework(statement, self.source_framework):
            return ""  # the translation's own imports are at the top of the module
        translator = OpTranslator(self.source, self.to, self.layout, layer_attrs, training_param,
                                  containers=self.containers, aliased_updates=self.updates.get(statement))
        if self.renames:
            statement = statement.visit(_RenameSelfAttributes(self.renames))
        new = statement.visit(translator)
        self.todos += len(translator.todos) + len(translator.placed_todos)
        self.notes += translator.notes
        new = _leading_todos(new, translator.todos)
        return _dedent_code(new).rstrip("\n")

    def _function(self, header: str, body_lines: list[str]) -> str:
        body = "\n".join(_indent_block(line) for line in body_lines if line.strip()) or "    pass"
        return f"{header}\n{body}"

    def _torch_class_to_keras(self, node: cst.ClassDef) -> tuple[str, list[CopyRecord]]:
        methods = self._methods(node)
        records: list[CopyRecord] = []
        parts: list[str] = []
        outer = self.containers
        for statement in node.body.body:
            self.containers = python_containers(statement, node) if isinstance(statement, cst.FunctionDef) \
                else frozenset()
            if isinstance(statement, cst.FunctionDef):
                name = statement.name.value
                if name == "__init__":
                    header = code_of(statement.params)
                    lines = self._init_statements(statement, records, {})
                    parts.append(self._function(f"def __init__({header}):", lines))
                elif name == "forward":
                    params = code_of(statement.params)
                    extra = "" if "training" in params else ", training=None"
                    self.updates = aliased_updates(self.source, statement, KERAS, node, self.containers)
                    lines = [self._translate_statement(s, self._layer_attrs(methods)) for s in statement.body.body]
                    parts.append(self._function(f"def call({params}{extra}):", lines))
                else:
                    self.updates = aliased_updates(self.source, statement, KERAS, node, self.containers)
                    lines = [self._translate_statement(s, self._layer_attrs(methods)) for s in statement.body.body]
                    parts.append(self._function(f"def {name}({code_of(statement.params)}):", lines))
                self.updates = {}
            else:
                parts.append(self._translate_statement(statement))
        self.containers = outer
        body = "\n\n".join(_indent_block(p) for p in parts if p.strip())
        return f"{self._class_header(node)}\n{body}\n", records

    def _layer_attrs(self, methods: dict[str, cst.FunctionDef]) -> dict[str, str]:
        attrs: dict[str, str] = {}
        init = methods.get("__init__")
        if init is None:
            return attrs
        for statement in init.body.body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1:
                        attr = _self_attr(small.targets[0].target)
                        if attr and isinstance(small.value, cst.Call):
                            attrs[attr] = code_of(small.value.func)
        return attrs

    def _keras_class_to_torch(self, node: cst.ClassDef) -> tuple[str, list[CopyRecord]]:
        methods = self._methods(node)
        call = methods.get("call")
        shapes = self._attr_input_shapes(call, methods) if call is not None else {}
        records: list[CopyRecord] = []
        parts: list[str] = []
        attrs = self._layer_attrs(methods)
        build = methods.get("build")
        if build is not None:
            attrs.update(self._layer_attrs({"__init__": build}))
        if build is not None and "__init__" not in methods:
            parts.append(self._function("def __init__(self):", ["super().__init__()"] +
                                        self._build_statements(build, records, shapes)))
        for statement in node.body.body:
            if isinstance(statement, cst.FunctionDef):
                name = statement.name.value
                if name == "__init__":
                    params = _drop_param(code_of(statement.params), "**kwargs")
                    lines = self._init_statements(statement, records, shapes)
                    if build is not None:
                        lines += self._build_statements(build, records, shapes)
                    parts.append(self._function(f"def __init__({params}):", lines))
                elif name == "build":
                    continue  # its sublayers are created in __init__ (_build_statements)
                elif name == "call":
                    params = _drop_param(_drop_param(code_of(statement.params), "training"), "mask")
                    self.updates = aliased_updates(self.source, statement, TORCH, node, python_containers(statement))
                    lines = [self._translate_statement(s, attrs, training_param=True) for s in statement.body.body]
                    parts.append(self._function(f"def forward({params}):", lines))
                elif name in ("build", "get_config", "compute_output_shape"):
                    self.notes.append(f"{name}() is Keras-specific and was dropped")
                else:
                    self.updates = aliased_updates(self.source, statement, TORCH, node, python_containers(statement))
                    lines = [self._translate_statement(s, attrs, training_param=True) for s in statement.body.body]
                    parts.append(self._function(f"def {name}({code_of(statement.params)}):", lines))
                self.updates = {}
            else:
                parts.append(self._translate_statement(statement))
        body = "\n\n".join(_indent_block(p) for p in parts if p.strip())
        return f"{self._class_header(node)}\n{body}\n", records

    def _build_statements(self, build: cst.FunctionDef, records: list[CopyRecord],
                          shapes: dict[str, Shape]) -> list[str]:
        """Keras -> torch: what build() creates, for __init__. Sublayers and plain attributes that do not depend
        on build()'s input shape are created in __init__ as torch does (Lazy* modules take the sizes); a weight
        (`self.add_weight`) or anything read from the input shape is a counted TODO there, the statement kept as a
        comment. Keras's own bookkeeping (`super().build(...)`, `self.built = True`) has no torch counterpart."""
        shape_params = {p.name.value for p in (*build.params.params, *build.params.kwonly_params)} - {"self"}
        lines: list[str] = []
        for statement in build.body.body:
            code = _dedent_code(statement).strip("\n")
            if _is_keras_build_bookkeeping(statement):
                continue
            used = names_used(statement) & shape_params
            adds_weight = re.search(r"\bself\.add_(weight|variable)\(", code) is not None
            if not used and not adds_weight:
                lines.append(self._init_statement(statement, records, shapes))
                continue
            if adds_weight:
                reason = ("build() creates a Keras weight with self.add_weight: create an nn.Parameter of that shape "
                          "in __init__ (and copy it by hand: copy_weights does not know it)")
            else:
                reason = (f"build() reads {', '.join(sorted(used))}, which torch does not pass: create this in "
                          "__init__ with the size it will have (or a Lazy* module)")
            self.todos += 1
            lines.append(f"{TODO_TAG} {reason}\n" + "\n".join(f"# {line}" for line in code.splitlines()))
        return lines

    def _attr_input_shapes(self, call: cst.FunctionDef, methods) -> dict[str, Shape]:
        """Keras -> torch: the feature count reaching each layer attribute, followed through `call` in order."""
        init = methods.get("__init__")
        constructors: dict[str, cst.Call] = {}
        if init is not None:
            for statement in init.body.body:
                if isinstance(statement, cst.SimpleStatementLine):
                    for small in statement.body:
                        if isinstance(small, cst.Assign) and len(small.targets) == 1:
                            attr = _self_attr(small.targets[0].target)
                            if attr and isinstance(small.value, cst.Call):
                                constructors[attr] = small.value
        env: dict[str, Shape] = {}
        result: dict[str, Shape] = {}
        probe = LayerTranslator(TORCH, self.layout, model_level=True)
        for statement in call.body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not isinstance(small, cst.Assign) or len(small.targets) != 1:
                    continue
                target = small.targets[0].target
                value = small.value
                shape = UNKNOWN
                if isinstance(value, cst.Call) and _self_attr(value.func) in constructors and value.args:
                    attr = _self_attr(value.func)
                    first = value.args[0].value
                    incoming = env.get(first.value, UNKNOWN) if isinstance(first, cst.Name) else UNKNOWN
                    result.setdefault(attr, incoming)
                    constructor = constructors[attr]
                    canonical = self.source.resolve(constructor.func)
                    if canonical and framework_of_name(canonical) == KERAS:
                        shape = probe.translate(constructor, canonical, incoming).shape_out
                elif isinstance(value, cst.BinaryOperation) and isinstance(value.left, cst.Name):
                    shape = env.get(value.left.value, UNKNOWN)
                if isinstance(target, cst.Name):
                    env[target.value] = shape
        return result

    # -- builders and assignments --
    def builder(self, function: cst.FunctionDef) -> tuple[str, list[CopyRecord], str]:
        """A function building a model: returns (code, records, how copy addresses the model)."""
        translator = self
        found: set[str] = set()

        class FunctionalMarkers(cst.CSTVisitor):
            def visit_Call(self, call: cst.Call) -> None:
                canonical = translator.source.resolve(call.func)
                if translator._is_input_call(call):
                    found.add("input")
                elif canonical in ("keras.Model", "keras.models.Model", "keras.models.Functional"):
                    found.add("model")
                elif canonical in ("keras.Sequential", "keras.models.Sequential"):
                    found.add("sequential")

        seen: set[str] = set()
        called = function
        while called is not None and called.name.value not in seen:  # a wrapper is what the builder it returns is
            seen.add(called.name.value)
            called.visit(FunctionalMarkers())
            called = called_builder(called, self.source.functions)
        # keras.Input inside a Sequential's list only gives the input shape
        functional = "model" in found or ("input" in found and "sequential" not in found)
        if self.to == TORCH and functional:
            return self._functional_builder(function)
        return self._sequential_builder(function)

    def _is_input_call(self, node) -> bool:
        return isinstance(node, cst.Call) and self.source.resolve(node.func) in ("keras.Input", "keras.layers.Input")

    def _sequential_builder(self, function: cst.FunctionDef) -> tuple[str, list[CopyRecord], str]:
        records: list[CopyRecord] = []
        lines: list[str] = []
        sequential_vars: dict[str, list[int]] = {}
        shape = UNKNOWN
        outer, self.containers = self.containers, python_containers(function)
        for statement in function.body.body:
            handled = False
            if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
                small = statement.body[0]
                value = getattr(small, "value", None)
                if isinstance(value, cst.Call) and self.source.resolve(value.func) in (
                        "torch.nn.Sequential", "keras.Sequential", "keras.models.Sequential"):
                    text, shape = self.sequential(value, records, "", "", shape)
                    if isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name):
                        sequential_vars[small.targets[0].target.value] = [len(records)]
                        lines.append(f"{small.targets[0].target.value} = {text}")
                    elif isinstance(small, cst.Return):
                        lines.append(f"return {text}")
                    else:
                        lines.append(text)
                    handled = True
                elif isinstance(small, cst.Expr) and isinstance(value, cst.Call) and isinstance(
                        value.func, cst.Attribute) and value.func.attr.value in ("add", "append") and isinstance(
                        value.func.value, cst.Name) and value.func.value.value in sequential_vars and value.args:
                    owner = value.func.value.value
                    layer = value.args[0].value
                    if self.to == TORCH and self._is_input_call(layer):
                        shape = self._input_shape(layer)
                        handled = True
                    else:
                        position = self._next_position(owner)
                        if self.to == TORCH and isinstance(layer, cst.Call):
                            shape = self._shape_hint(layer, shape)
                        text, shape = self.item(layer, records, self._source_index(position),
                                                self._target_index(position), shape)
                        method = "append" if self.to == TORCH else "add"
                        lines.append(f"{owner}.{method}({text})")
                        handled = True
                elif isinstance(small, cst.Expr) and isinstance(value, cst.Call) and isinstance(
                        value.func, cst.Attribute) and value.func.attr.value in ("compile", "summary", "build"):
                    self.notes.append(f"{code_of(value.func)}(...) is Keras-specific and was dropped")
                    handled = True
            if not handled:
                lines.append(self._translate_statement(statement))
        self.containers = outer
        params = code_of(function.params)
        return self._function(f"def {function.name.value}({params}):", lines) + "\n", records, "sequential"

    def _next_position(self, owner: str) -> int:
        counters = self.__dict__.setdefault("_positions", {})
        counters[owner] = counters.get(owner, -1) + 1
        return counters[owner]

    def _functional_builder(self, function: cst.FunctionDef) -> tuple[str, list[CopyRecord], str]:
        """keras.Input ... keras.Model(inputs, outputs) -> an nn.Module class plus the builder returning it."""
        class_name = "".join(part.capitalize() for part in function.name.value.split("_")) or "Model"
        if class_name in self.source.classes or class_name == function.name.value:
            class_name += "Module"
        env: dict[str, Shape] = {}
        init_lines = ["super().__init__()"]
        forward_lines: list[str] = []
        inputs: list[str] = []
        outputs = "None"
        records: list[CopyRecord] = []
        layer_vars: dict[str, str] = {}
        used_names: set[str] = set()
        creation_counts: dict[str, int] = {}

        def attribute_for(call: cst.Call, preferred: str | None) -> str:
            name = preferred or snake_case(code_of(call.func).rsplit(".", 1)[-1])
            name = re.sub(r"\W", "_", name)
            if keyword.iskeyword(name):
                name += "_"
            candidate, n = name, 1
            while candidate in used_names:
                candidate, n = f"{name}_{n}", n + 1
            used_names.add(candidate)
            return candidate

        def lookup(call: cst.Call) -> str:
            for arg in call.args:
                if arg.keyword and arg.keyword.value == "name" and isinstance(literal_value(code_of(arg.value)), str):
                    return f"source.get_layer({code_of(arg.value)})"
            # the creation index counts the class's layers Keras names itself (conv2d, conv2d_1, ...): a layer given
            # a name takes no number
            class_short = code_of(call.func).rsplit(".", 1)[-1]
            index = creation_counts.get(class_short, 0)
            creation_counts[class_short] = index + 1
            return f"_keras_layers_by_creation(source, {class_short!r})[{index}]"

        # Keras creates `layers.A()(layers.B()(x))`'s A before B, but its input size is B's output: the outer
        # layer's name and creation index are reserved first, the layer itself is translated after its arguments
        reserved: dict[int, tuple[str, str]] = {}  # id(application) -> (attribute, creation lookup)
        applied_shapes: dict[int, Shape] = {}  # id(application inside an expression) -> its output shape
        tensor_lists: dict[str, cst.BaseExpression] = {}  # a name bound to a list display of tensors -> that list

        def reserve(application: cst.Call, preferred: str | None = None) -> tuple[str, str]:
            if id(application) not in reserved:
                reserved[id(application)] = (attribute_for(application.func, preferred), lookup(application.func))
            return reserved[id(application)]

        def new_layer(call: cst.Call, shape: Shape, preferred: str | None,
                      reservation: tuple[str, str] | None = None, applied_here: bool = True) -> tuple[str, Shape]:
            """The layer's module, created in __init__ (`self.attr`, returned), or in forward where the arguments
            of a weightless layer applied where it is created read a tensor (returned as the expression)."""
            attr, lookup_expr = reservation or (attribute_for(call, preferred), lookup(call))
            call = call.visit(_StaticShapes(env))  # `Conv2D(int(x.shape[3] * 0.5))`: __init__ has no x
            sub: list[CopyRecord] = []
            text, out_shape = self.item(call, sub, "", f".{attr}", shape)
            for record in sub:
                record.keras_lookup = lookup_expr + record.source_path
                records.append(record)
            tensors_read = sorted(names_used(call) & ({n for n in env if not n.startswith("<")} | forward_bound))
            if tensors_read and not sub and applied_here:
                # `ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3))`: Keras computes the arguments from the
                # tensor's static shape when it builds the graph; a layer without weights is created in forward
                # from the tensor it is applied to, so every input size gets the arguments Keras would compute
                self.notes.append(f"layer {attr!r} reads the tensor {', '.join(tensors_read)} in its arguments: it "
                                  "has no weights and is created in forward")
                return f"({text})", out_shape_of(call, out_shape)
            if tensors_read:
                # a layer with weights (or one created once and applied later) must exist in __init__, which has
                # no tensor
                text = with_todos(text, [f"this layer's arguments read the tensor {', '.join(tensors_read)} (Keras "
                                         "computes them from its static shape): write them as values"])
            init_lines.append(f"self.{attr} = {text}")
            return f"self.{attr}", out_shape_of(call, out_shape)

        def out_shape_of(call: cst.Call, out_shape: Shape) -> Shape:
            spatial = {entry.spatial for entry in catalog.keras_entries(self.source.resolve(call.func) or "")}
            if out_shape.rank is None and len(spatial) == 1 and 0 not in spatial:
                # a Conv2D's output has rank 4 whatever its input's (a `Concatenate(axis=3)` after it joins features)
                out_shape = Shape(out_shape.features, spatial.pop() + 2, out_shape.dims)
            return out_shape

        def shape_of(node: cst.BaseExpression) -> Shape:
            if isinstance(node, cst.Name):
                return env.get(node.value, UNKNOWN)
            if isinstance(node, (cst.List, cst.Tuple)) and node.elements:
                return shape_of(node.elements[0].value)
            if isinstance(node, cst.BinaryOperation):  # residual sums keep the feature count
                left, right = shape_of(node.left), shape_of(node.right)
                return left if left.features is not None else right
            if isinstance(node, cst.Arg):
                return shape_of(node.value)
            return applied_shapes.get(id(node), UNKNOWN)

        def merged_shape(call: cst.Call) -> Shape:
            canonical = self.source.resolve(call.func.func)
            inputs_node = call.args[0].value if call.args else None
            if isinstance(inputs_node, cst.Name):  # `branches = [branch_0, branch_1]; Concatenate()(branches)`
                inputs_node = tensor_lists.get(inputs_node.value, inputs_node)
            shapes = [shape_of(e.value) for e in inputs_node.elements] if isinstance(
                inputs_node, (cst.List, cst.Tuple)) else []
            if not shapes:
                return UNKNOWN
            if canonical != "keras.layers.Concatenate":
                return shapes[0]
            axis = next((literal_value(code_of(a.value)) for a in call.func.args if a.keyword is None or
                         a.keyword.value == "axis"), -1)
            if axis not in (-1, (shapes[0].rank or 0) - 1) or any(s.features is None for s in shapes):
                return Shape(None, shapes[0].rank)
            if all(isinstance(s.features, int) for s in shapes):
                return Shape(sum(s.features for s in shapes), shapes[0].rank)
            return Shape(" + ".join(str(s.features) for s in shapes), shapes[0].rank)

        def call_arguments(args) -> str:
            texts = []
            for arg in args:
                text = self._translate_expression(arg.value.visit(InlineLayers()))
                texts.append(f"{arg.keyword.value}={text}" if arg.keyword else text)
            return ", ".join(texts)

        translator = self

        class InlineLayers(cst.CSTTransformer):
            """Layers created and applied inside a larger expression: `x + layers.Dense(8)(h)`."""

            def visit_Call(self, node: cst.Call) -> None:
                if isinstance(node.func, cst.Call) and translator._layer_like(node.func):
                    reserve(node)

            def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
                if not (isinstance(updated.func, cst.Call) and translator._layer_like(updated.func)):
                    return updated
                merged = OpTranslator(translator.source, TORCH, translator.layout).merge_call(updated.func,
                                                                                              updated.args)
                if merged is not None:
                    return merged
                module, out_shape = new_layer(updated.func, shape_of(original.args[0].value) if original.args
                                              else UNKNOWN, None, reserve(original))
                applied_shapes[id(original)] = out_shape
                return cst.parse_expression(f"{module}({call_arguments(updated.args)})")

        layer_attrs: dict[str, str] = {}
        docstring = None
        body_statements = list(function.body.body)
        if body_statements and isinstance(body_statements[0], cst.SimpleStatementLine) and isinstance(
                body_statements[0].body[0], cst.Expr) and isinstance(body_statements[0].body[0].value,
                                                                     cst.SimpleString):
            docstring = code_of(body_statements[0].body[0].value)
            body_statements = body_statements[1:]
        input_aliases: dict[str, str] = {}
        init_bound: set[str] = set()  # names __init__ computes (the builder's values the layers are built with)
        forward_bound: set[str] = set()  # names forward() binds (tensors)
        expansion = BuilderExpansion(self.source.functions, self._contains_layers, self.source.resolve)
        body_statements = expansion.expand(function, body_statements,
                                           given_arguments(function, self.init_args))
        init_lines += expansion.guards
        self.notes += expansion.notes
        body_statements = [statement.visit(_MergeFunctionsAsLayers(self.source)) for statement in body_statements]
        for statement in body_statements:
            small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(
                statement.body) == 1 else None
            value = getattr(small, "value", None)
            target = small.targets[0].target if isinstance(small, cst.Assign) and len(small.targets) == 1 else None
            target_name = target.value if isinstance(target, cst.Name) else None
            if self._is_input_call(value) and target_name:
                inputs.append(target_name)
                input_aliases[target_name] = target_name
                env[target_name] = self._input_shape(value)
                continue
            if isinstance(value, cst.Name) and target_name and value.value in input_aliases:
                input_aliases[target_name] = input_aliases[value.value]  # `inputs = img_input` (keras.applications)
            if isinstance(value, cst.Call) and (self.source.resolve(value.func) in (
                    "keras.Model", "keras.models.Model", "keras.models.Functional") or _is_super_init(value)):
                # a builder's keras.Model(inputs, outputs), or a functional subclass's super().__init__(inputs, outputs)
                model_inputs, model_outputs = None, None
                for position, arg in enumerate(value.args):
                    if arg.star:
                        continue  # `**kwargs` passed on to the Model (name, dtype): not the graph
                    key = arg.keyword.value if arg.keyword else ("inputs", "outputs")[min(position, 1)]
                    if key == "inputs":
                        model_inputs = arg.value
                    elif key == "outputs":
                        model_outputs = arg.value
                if model_inputs is not None:
                    if isinstance(model_inputs, cst.Dict) and all(isinstance(e, cst.DictElement) and
                                                                  literal(code_of(e.key))[0]
                                                                  for e in model_inputs.elements):
                        # `inputs={"token_ids": a, "padding_mask": b}`: Keras flattens a dict by sorted key, the
                        # order in which the translation's forward() takes them
                        elements = sorted(model_inputs.elements, key=lambda e: literal(code_of(e.key))[1])
                        names = [e.value for e in elements]
                        self.notes.append("the Keras model takes a dict of inputs; forward() takes them as positional "
                                          "arguments in Keras's flattening order (sorted keys): "
                                          + ", ".join(literal(code_of(e.key))[1] for e in elements))
                    else:
                        names = [e.value for e in model_inputs.elements] if isinstance(
                            model_inputs, (cst.List, cst.Tuple)) else [model_inputs]
                    inputs = [input_aliases.get(code_of(n), code_of(n)) for n in names]
                    if not all(name.isidentifier() for name in inputs):  # `inputs=base_model.input`, a dict
                        spelled = " ".join(code_of(model_inputs).split())
                        raise TranslationError(f"the model's inputs `{spelled[:80]}` are not names of keras.Input "
                                               "tensors (another model's input, a dict): not translated")
                if model_outputs is not None:
                    outputs = code_of(model_outputs)
                continue
            if isinstance(small, cst.Return):
                continue
            if isinstance(small, cst.Expr) and isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) \
                    and value.func.attr.value in ("compile", "summary", "build", "load_weights") and \
                    isinstance(value.func.value, cst.Name) and value.func.value.value not in env:
                # `model.compile(...)` configures training, not the forward pass (as in Sequential builders);
                # `model.load_weights(...)` loads Keras weights: load them into the Keras model, then copy_weights
                self.notes.append(f"{code_of(value.func)}(...) is Keras-specific and was dropped")
                continue
            if isinstance(small, cst.Expr) and isinstance(value, cst.Call) and (
                    self.source.resolve(value.func) or "").startswith(_KERAS_BUILD_TIME_CHECKS):
                # `imagenet_utils.validate_activation(...)`: checks the builder's arguments, builds nothing
                self.notes.append(f"{code_of(value.func)}(...) checks Keras arguments at build time and was dropped")
                continue
            # a layer created and kept (shared): `dense = layers.Dense(8)`
            if target_name and isinstance(value, cst.Call) and self._layer_like(value) and \
                    self.source.resolve(value.func) not in catalog.OPS_BY_KERAS and \
                    not (self.source.resolve(value.func) or "").startswith(_KERAS_FUNCTION_MODULES):
                layer_vars[target_name] = value
                continue
            # a layer created and applied at once: `x = layers.Dense(8)(x)`; or a shared one applied: `a = dense(x)`
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Call) and self._layer_like(value.func):
                merged = OpTranslator(self.source, TORCH, self.layout).merge_call(value.func, value.args)
                if merged is not None:
                    merged_text = self._translate_expression(merged)
                    forward_lines.append(f"{code_of(target)} = {merged_text}" if target is not None else merged_text)
                    if target_name:
                        env[target_name] = merged_shape(value)
                    continue
                preferred = None
                for arg in value.func.args:
                    if arg.keyword and arg.keyword.value == "name" and isinstance(literal_value(code_of(arg.value)), str):
                        preferred = literal_value(code_of(arg.value))
                reservation = reserve(value, preferred)
                call_args = call_arguments(value.args)  # layers applied inside the arguments come first
                module, out_shape = new_layer(value.func, shape_of(value.args[0].value) if value.args else UNKNOWN,
                                              preferred, reservation)
                layer_attrs[module.removeprefix("self.")] = ""
                forward_lines.append(f"{code_of(target)} = {module}({call_args})" if target is not None
                                     else f"{module}({call_args})")
                if target_name:
                    env[target_name] = out_shape
                continue
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in layer_vars:
                name = value.func.value
                if name not in layer_attrs:
                    module, out_shape = new_layer(layer_vars[name], shape_of(value.args[0].value) if value.args
                                                  else UNKNOWN, name, applied_here=False)
                    layer_attrs[name] = module
                    env[f"<layer>{name}"] = out_shape
                call_args = call_arguments(value.args)
                forward_lines.append(f"{code_of(target)} = {layer_attrs[name]}({call_args})" if target is not None
                                     else f"{layer_attrs[name]}({call_args})")
                if target_name:
                    env[target_name] = env.get(f"<layer>{name}", UNKNOWN)
                continue
            if isinstance(statement, cst.If) and self._contains_layers(statement) and self._merges_only(statement) \
                    and not names_used(
                    statement.test.visit(_StaticShapes(env))) & ({n for n in env if not n.startswith("<")} |
                                                                 forward_bound):
                # `if in_channels == filters and stride == 1: x = layers.Add()([inputs, x])`: the test is decided when
                # the model is built (forward reads the values __init__ computed); the branches create no weights.
                # A name both branches bind has the shape of either (a residual sum keeps its features).
                for branch in (statement.body, statement.orelse.body if statement.orelse else None):
                    for line in getattr(branch, "body", ()):
                        small = line.body[0] if isinstance(line, cst.SimpleStatementLine) else None
                        if isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name):
                            bound = small.value
                            target = small.targets[0].target.value
                            if _elementwise_merge_of(self.source, bound, target) and \
                                    env.get(target, UNKNOWN).features is not None:
                                # `x = Add()([shortcut, x])`: run or not, x keeps its shape (the branch runs only
                                # where the shapes agree), whatever shortcut's was when it was bound
                                continue
                            shape = merged_shape(bound) if isinstance(bound, cst.Call) and isinstance(
                                bound.func, cst.Call) else shape_of(bound)
                            if shape.features is not None or small.targets[0].target.value not in env:
                                env[small.targets[0].target.value] = shape
            elif isinstance(statement, (cst.If, cst.For, cst.While)) and self._contains_layers(statement):
                # not decided by the builder's defaults (see functional_builders): the graph depends on run-time
                # values, or a loop would create a new layer per iteration
                self.todos += 1
                forward_lines.append(f"{TODO_TAG} layers created under run-time control flow are not translated "
                                     "(only `if`s on the builder's arguments, decided with its defaults, are)\n"
                                     + _dedent_code(statement).rstrip("\n"))
                continue
            graph_names = {name for name in env if not name.startswith("<")} | forward_bound
            not_inlined = [f"{name}() builds Keras layers and was not inlined: {reason}"
                           for name, reason in expansion.not_inlined.items() if name in calls_of(statement)]
            if isinstance(statement, (cst.For, cst.While)):
                # a loop the expansion could not unroll (its values are computed when Keras runs the builder, or
                # it binds several names) still calls helpers that create layers: torch needs them in __init__
                builders = sorted(name for name in calls_of(statement) if name in expansion.functions and
                                  self._contains_layers(expansion.functions[name]) and name not in
                                  expansion.not_inlined)
                not_inlined += [f"{name}() builds Keras layers inside a loop that could not be unrolled when "
                                "translating (`for` over values computed at run time): unroll it, or build the "
                                "layers in __init__" for name in builders]
            if not_inlined:
                self.todos += len(not_inlined)
                forward_lines.append(self._translate_statement(_leading_todos(statement, not_inlined)))
                continue
            sized = statement.visit(_StaticShapes(env))  # `in_channels = inputs.shape[-1]`, the size known
            if not names_used(sized) & graph_names and not self._contains_layers(sized):
                # a value the layers are built with (`filters = int(filters * alpha)` of an inlined helper): the
                # builder computes it before creating them, so does __init__
                init_lines.append(self._translate_statement(sized, training_param=False))
                init_bound.update(assigned_names(statement))
                if isinstance(statement, cst.FunctionDef):  # `def depth(d): ...`, which forward may call too
                    init_bound.add(statement.name.value)
                continue
            statement = statement.visit(InlineLayers())
            text = self._translate_statement(statement, training_param=False)
            forward_lines.append(text)
            forward_bound.update(assigned_names(statement))
            if target_name:
                env[target_name] = shape_of(value) if isinstance(value, (cst.BinaryOperation, cst.Name)) else \
                    UNKNOWN
                if isinstance(value, (cst.List, cst.Tuple)):
                    tensor_lists[target_name] = value
                else:
                    tensor_lists.pop(target_name, None)
        try:
            generated = cst.parse_module("\n".join(init_lines + forward_lines) + "\n")
            unbound_reads = names_used(generated) - assigned_names(generated) - {
                p.name.value for p in (*function.params.params, *function.params.kwonly_params,
                                       *function.params.posonly_params)}
        except cst.ParserSyntaxError:
            unbound_reads = set()
        for name, call in layer_vars.items():
            if name not in layer_attrs and name in unbound_reads:
                # `stem = Sequential([...]); stages.append(stem)`: a layer kept as a value (in a list, passed on) and
                # applied elsewhere; the translation reads the name but never created the module
                self.todos += 1
                creates_layer = (self.source.resolve(call.func) or "").startswith(("keras.layers.", "keras.Sequential",
                                                                                   "keras.models.")) or \
                    isinstance(call.func, cst.Name) and call.func.value in self.source.classes
                init_lines.append(f"{TODO_TAG} `{name} = {code_of(call.func)}(...)` " + (
                    "creates a layer that is used as a value (stored or passed on), not applied where it is created: "
                    "create it here and apply it in forward" if creates_layer else
                    "runs when Keras builds the model and was left out, but the translation reads its value: compute "
                    "it here"))
            elif name not in layer_attrs:
                if (self.source.resolve(call.func) or "").startswith("keras.layers.") or \
                        isinstance(call.func, cst.Name) and call.func.value in self.source.classes:
                    self.notes.append(f"layer `{name}` is created but never applied; it was dropped")
                else:  # `input_shape = imagenet_utils.obtain_input_shape(...)`, `path = file_utils.get_file(...)`
                    self.notes.append(f"`{name} = {code_of(call.func)}(...)` runs when Keras builds the model and "
                                      "the graph does not use it; it was dropped")
        params = code_of(function.params)
        # what forward() reads of __init__'s values and the builder's arguments: kept on the module
        parameter_names = {p.name.value for p in (*function.params.params, *function.params.kwonly_params,
                                                  *function.params.posonly_params)}
        read = names_used(cst.parse_module("\n".join(forward_lines + [f"return {outputs}"]) + "\n"))
        kept = sorted((read & (init_bound | parameter_names)) - forward_bound - set(inputs))
        attributes = {}
        for name in kept:
            attribute = f"_{name}"
            while attribute in used_names:
                attribute = f"_{attribute}"
            used_names.add(attribute)
            init_lines.append(f"self.{attribute} = {name}")
            attributes[name] = f"self.{attribute}"
        forward_lines = _reading_attributes(forward_lines, attributes)
        init = self._function(f"def __init__(self{', ' + params if params.strip() else ''}):", init_lines)
        forward = self._function(f"def forward(self, {', '.join(inputs)}):", forward_lines + [f"return {outputs}"])
        doc = f"    {docstring}\n\n" if docstring else ""
        class_text = f"class {class_name}(nn.Module):\n{doc}{_indent_block(init)}\n\n{_indent_block(forward)}\n"
        call_args = ", ".join(_param_forwarding(function.params))
        builder = f"def {function.name.value}({params}):\n    return {class_name}({call_args})\n"
        return class_text + "\n\n" + builder, records, "functional"


# Keras functions (not layer constructors): a call to one is an op applied to tensors, never a layer kept for later
_KERAS_FUNCTION_MODULES = ("keras.ops.", "keras.random.", "keras.activations.", "keras.backend.")
# Keras's functional merge shortcuts: `layers.add([a, b], name=n)` is `layers.Add(name=n)([a, b])`
_MERGE_FUNCTIONS = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "average": "Average",
                    "maximum": "Maximum", "minimum": "Minimum", "concatenate": "Concatenate", "dot": "Dot"}


class _MergeFunctionsAsLayers(cst.CSTTransformer):
    """`layers.add([x, y])` written as the layer it creates and applies, `layers.Add()([x, y])`, so that the graph
    walk translates it as it does every merge layer."""

    def __init__(self, source: ParsedSource):
        super().__init__()
        self.source = source

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        canonical = self.source.resolve(original.func) or ""
        module, _, function = canonical.rpartition(".")
        if module != "keras.layers" or function not in _MERGE_FUNCTIONS or not isinstance(updated.func,
                                                                                         cst.Attribute):
            return updated
        inputs = [arg for arg in updated.args if arg.keyword is None and not arg.star]
        options = [arg for arg in updated.args if arg.keyword is not None]
        if len(inputs) != 1 or len(inputs) + len(options) != len(updated.args):
            return updated
        layer = cst.Call(func=updated.func.with_changes(attr=cst.Name(_MERGE_FUNCTIONS[function])),
                         args=[arg.with_changes(comma=cst.MaybeSentinel.DEFAULT) if i == len(options) - 1 else arg
                               for i, arg in enumerate(options)])
        return cst.Call(func=layer, args=[inputs[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)])

# attribute names a translated class may not assign (properties or methods of keras.Model / nn.Module)
_KERAS_MODEL_ATTRIBUTES = {"layers", "weights", "variables", "trainable_weights", "non_trainable_weights",
                           "trainable_variables", "losses", "metrics", "name", "input", "output", "inputs",
                           "outputs", "built", "dtype", "trainable", "optimizer", "path", "dtype_policy",
                           "input_spec", "compute_dtype", "variable_dtype", "supports_masking"}
_TORCH_MODULE_ATTRIBUTES = {"training", "modules", "children", "parameters", "buffers", "apply", "to", "cuda",
                            "cpu", "type", "float", "double", "half", "train", "eval", "forward", "state_dict",
                            "named_modules", "register_buffer", "add_module", "zero_grad"}


def _reading_attributes(forward_lines: list[str], attributes: dict[str, str]) -> list[str]:
    """forward's lines reading each value __init__ kept (`in_channels` -> `self._in_channels`) where they read it;
    loaded into a local first where a comprehension or a lambda binds the same name."""
    if not attributes:
        return forward_lines
    try:
        module = cst.parse_module("\n".join(forward_lines) + "\n")
    except cst.ParserSyntaxError:
        module = None
    shadowed = _bound_inside(module) & set(attributes) if module is not None else set(attributes)
    loads = [f"{name} = {attributes[name]}" for name in sorted(shadowed)]
    if module is None:
        return loads + forward_lines
    replaced = module.visit(_Substitute({name: code for name, code in attributes.items() if name not in shadowed}))
    return loads + [replaced.code.rstrip("\n")]


def _elementwise_merge_of(source: ParsedSource, value: cst.BaseExpression, name: str) -> bool:
    """`layers.Add()([a, name])` (Subtract, Multiply, Average, Maximum, Minimum): an element-wise merge that takes
    ``name`` among its inputs."""
    if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Call) and value.args and
            isinstance(value.args[0].value, (cst.List, cst.Tuple))):
        return False
    canonical = source.resolve(value.func.func) or ""
    return canonical in ("keras.layers.Add", "keras.layers.Subtract", "keras.layers.Multiply",
                         "keras.layers.Average", "keras.layers.Maximum", "keras.layers.Minimum") and any(
        isinstance(e.value, cst.Name) and e.value.value == name for e in value.args[0].value.elements)


def _keeps_input_shape(klass: cst.ClassDef) -> bool:
    """Whether the class's `call` returns an element-wise sum/difference/product/quotient of its input (or of the
    items of its input list) and values that are not inputs (`inputs[0] + inputs[1] * self.scale`): its output then
    has the (first) input's shape, which the graph walk passes on."""
    call = next((s for s in klass.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "call"), None)
    params = [p.name.value for p in call.params.params] if call is not None else []
    if len(params) < 2 or not isinstance(call.body, cst.IndentedBlock):
        return False
    body = [s for s in call.body.body if not (isinstance(s, cst.SimpleStatementLine) and
                                               isinstance(s.body[0], cst.Expr) and
                                               isinstance(s.body[0].value, cst.SimpleString))]
    if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine) or \
            not isinstance(body[0].body[0], cst.Return) or body[0].body[0].value is None:
        return False
    inputs = params[1]
    element_wise = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)

    def leaves(node) -> list[bool] | None:
        """Per leaf: is it the input (or an item of it)? None when the expression is not element-wise."""
        if isinstance(node, cst.BinaryOperation):
            if not isinstance(node.operator, element_wise):
                return None
            left, right = leaves(node.left), leaves(node.right)
            return None if left is None or right is None else left + right
        if isinstance(node, cst.Name) and node.value == inputs:
            return [True]
        if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name) and node.value.value == inputs:
            return [True] if isinstance(literal_value(code_of(node.slice[0].slice.value)) if isinstance(
                node.slice[0].slice, cst.Index) else None, int) else None
        if isinstance(node, (cst.Integer, cst.Float)) or (
                isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self"):
            return [False]
        return None

    found = leaves(body[0].body[0].value)
    return bool(found) and any(found)


class _StaticShapes(cst.CSTTransformer):
    """`x.shape[-1]` of a graph tensor whose size the graph walk knows -> that size (a channels-last Keras tensor's
    last axis is its features), so a value computed from it can be computed in __init__."""

    def __init__(self, env: dict[str, Shape]):
        super().__init__()
        self.env = env

    def leave_Subscript(self, original: cst.Subscript, updated: cst.Subscript) -> cst.BaseExpression:
        value = updated.value
        if not (isinstance(value, cst.Attribute) and value.attr.value == "shape" and isinstance(value.value, cst.Name)
                and value.value.value in self.env and len(updated.slice) == 1 and
                isinstance(updated.slice[0].slice, cst.Index)):
            return updated
        shape = self.env[value.value.value]
        axis = literal_value(code_of(updated.slice[0].slice.value))
        if not isinstance(axis, int) or isinstance(axis, bool) or not shape.rank:
            return updated
        axis = axis + shape.rank if axis < 0 else axis
        if axis == shape.rank - 1 and shape.features is not None:
            size = shape.features
        elif shape.dims and 1 <= axis < shape.rank and isinstance(shape.dims[axis - 1], int):
            size = shape.dims[axis - 1]
        else:
            return updated
        return cst.parse_expression(f"({size})" if isinstance(size, str) else str(size))


class _RenameSelfAttributes(cst.CSTTransformer):
    def __init__(self, renames: dict[str, str]):
        super().__init__()
        self.renames = renames

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        attr = _self_attr(updated)
        if attr in self.renames:
            return updated.with_changes(attr=cst.Name(self.renames[attr]))
        return updated


def imports_source_framework(statement: cst.BaseStatement, framework: str) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    paths = []
    for small in statement.body:
        if isinstance(small, cst.Import):
            paths += [code_of(alias.name) for alias in small.names]
        elif isinstance(small, cst.ImportFrom) and small.module is not None:
            paths.append(code_of(small.module))
        else:
            return False
    roots = {TORCH: ("torch",), KERAS: ("keras", "tensorflow", "tf_keras")}[framework]
    return bool(paths) and all(path.split(".")[0] in roots for path in paths)


def _param_forwarding(params: cst.Parameters) -> list[str]:
    names = [p.name.value for p in params.params] + [p.name.value for p in params.kwonly_params]
    return [f"{n}={n}" for n in names]


def _drop_param(params: str, name: str) -> str:
    parts = [p.strip() for p in _split_params(params)]
    kept = [p for p in parts if p and p.split("=")[0].split(":")[0].strip() != name]
    return ", ".join(kept)


def _split_params(params: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in params:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


# Keras utilities a builder calls for their checks only (the result unused): keras.applications' validate_*
_KERAS_BUILD_TIME_CHECKS = ("keras.applications.validate_", "keras.utils.validate_")


def _is_keras_build_bookkeeping(statement: cst.BaseStatement) -> bool:
    """`super().build(input_shape)` and `self.built = True`: Keras marks the layer built; torch has no such step."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        func = small.value.func
        return isinstance(func, cst.Attribute) and func.attr.value == "build" and isinstance(func.value, cst.Call) \
            and code_of(func.value.func) == "super"
    return isinstance(small, cst.Assign) and len(small.targets) == 1 and \
        code_of(small.targets[0].target).strip() == "self.built"


def _comments(statement: cst.BaseStatement) -> str:
    lines = [line.comment.value for line in getattr(statement, "leading_lines", ()) if line.comment]
    return "".join(f"{c}\n" for c in lines)


def _is_super_init(call: cst.Call) -> bool:
    func = call.func
    return isinstance(func, cst.Attribute) and func.attr.value == "__init__" and (
        isinstance(func.value, cst.Call) and code_of(func.value.func) == "super" or code_of(func.value).endswith("Module")
        or code_of(func.value).endswith("Model"))
