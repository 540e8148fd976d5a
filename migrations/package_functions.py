"""Plain functions of another module of the source's package that a translated Keras builder still calls when the
model runs (`imagenet_utils.correct_pad(x, 3)` of keras.applications, computing ZeroPadding2D's padding from the
tensor's spatial size): brought along from the package's file with what they reach there, called by their own
name, and their Keras backend queries of a tensor written for the torch tensors of the translation's layout.
A function that builds layers or uses other Keras API is not brought along (its call stays, with a TODO)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import libcst as cst

from .closure import closure
from .common import KERAS, NATIVE, TODO_TAG, code_of, ParsedSource
from .model_translator import imports_source_framework


def _image_data_format(layout: str) -> str:
    # layout preserve keeps Keras's channels-last tensors in torch; native moves them to torch's channels-first
    return repr("channels_first" if layout == NATIVE else "channels_last")


# canonical Keras backend call -> its torch expression, from the call's arguments and the translation's layout
_BACKEND_QUERIES = {
    "keras.backend.int_shape": lambda args, layout: f"tuple({args[0]}.shape)" if len(args) == 1 else None,
    "keras.backend.image_data_format": lambda args, layout: _image_data_format(layout) if not args else None,
    "keras.config.image_data_format": lambda args, layout: _image_data_format(layout) if not args else None,
}


class _BackendQueries(cst.CSTTransformer):
    def __init__(self, source: ParsedSource, layout: str):
        super().__init__()
        self.source, self.layout = source, layout
        self.unmapped: list[str] = []

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        canonical = self.source.resolve(original.func) or ""
        query = _BACKEND_QUERIES.get(canonical)
        if query is not None and not any(arg.keyword or arg.star for arg in updated.args):
            text = query([code_of(arg.value) for arg in updated.args], self.layout)
            if text is not None:
                return cst.parse_expression(text)
        if canonical.split(".")[0] == "keras":
            self.unmapped.append(canonical)
        return updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        canonical = self.source.resolve(original) or ""
        if canonical.split(".")[0] == "keras" and canonical not in _BACKEND_QUERIES:
            self.unmapped.append(canonical)
        return updated


def _module_file(statement: cst.ImportFrom, alias: cst.ImportAlias, path: Path) -> Path | None:
    """The file of the module `from PKG import alias` binds (`from keras.src.applications import imagenet_utils`):
    in the source's own copy of the package when the source sits in one, else where Python would find the package
    (found, not imported)."""
    if not isinstance(alias.name, cst.Name) or statement.module is None and not statement.relative:
        return None
    parts = code_of(statement.module).split(".") if statement.module is not None else []
    if statement.relative:
        folder = path.parent
        for _ in range(len(statement.relative) - 1):
            folder = folder.parent
        roots = [folder]
    else:
        roots = [folder.parent for folder in path.resolve().parents if folder.name == parts[0]][:1]
        try:
            spec = importlib.util.find_spec(parts[0])
        except (ImportError, ValueError):
            spec = None
        roots += [Path(location).parent for location in (spec.submodule_search_locations or ())] if spec else []
    for root in roots:
        candidate = root.joinpath(*parts, alias.name.value + ".py")
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(source: ParsedSource, path: Path, names: set[str]) -> dict[str, Path]:
    """Those of ``names`` the source binds to a module file by `from PKG import module` -> that file."""
    modules: dict[str, Path] = {}
    for statement in source.module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    name = alias.asname.name.value if alias.asname is not None else code_of(alias.name)
                    found = _module_file(small, alias, path) if name in names else None
                    if found is not None:
                        modules[name] = found
    return modules


class _CalledByName(cst.CSTTransformer):
    def __init__(self, renames: dict[tuple[str, str], str]):
        super().__init__()
        self.renames = renames

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        if isinstance(updated.value, cst.Name) and (updated.value.value, updated.attr.value) in self.renames:
            return cst.Name(self.renames[(updated.value.value, updated.attr.value)])
        return updated


def package_functions(source: ParsedSource, generated: str, path: str | Path | None, layout: str,
                      taken: set[str]) -> tuple[str, list[str], list[str]]:
    """``generated`` with each `module.function` it still reads, of a module file of the source's package, called
    as `function`; the definitions brought along (source order, the module's imports of non-Keras code kept), or a
    TODO for a function using Keras API beyond the shape queries; notes. ``taken``: names the generated module already defines (a function of the same name is not brought)."""
    if path is None:
        return generated, [], []
    module = cst.parse_module(generated)
    roots = {node.value.value for node in _attributes(module) if isinstance(node.value, cst.Name)}
    modules = _imported_modules(source, Path(path), roots)
    wanted: dict[str, set[str]] = {}
    for node in _attributes(module):
        if isinstance(node.value, cst.Name) and node.value.value in modules:
            wanted.setdefault(node.value.value, set()).add(node.attr.value)
    renames: dict[tuple[str, str], str] = {}
    definitions: list[str] = []
    notes: list[str] = []
    for alias, names in sorted(wanted.items()):
        text = modules[alias].read_text(encoding="utf-8")
        other = ParsedSource(text)
        functions = {s.name.value for s in other.module.body if isinstance(s, cst.FunctionDef)}
        for name in sorted(names):
            if name not in functions or name in taken:
                continue
            statements = [s for s in closure(other.module, {name}).statements
                          if not imports_source_framework(s, KERAS)]
            queries = _BackendQueries(other, layout)
            translated = [s.visit(queries) for s in statements]
            if queries.unmapped:
                definitions.append(f"{TODO_TAG} {alias}.{name}() of {modules[alias].name} uses "
                                   f"{', '.join(sorted(set(queries.unmapped)))} (no PyTorch counterpart here): write it "
                                   "for torch tensors")
                continue
            renames[(alias, name)] = name
            for statement in translated:
                code = cst.Module([]).code_for_node(statement.with_changes(leading_lines=())).strip()
                if code not in definitions:
                    definitions.append(code)
            notes.append(f"{alias}.{name}() ({modules[alias].name}) was brought along: the translation calls it when "
                         "the model runs, with Keras's shape queries written for torch tensors")
    return module.visit(_CalledByName(renames)).code, definitions, notes


def _attributes(module: cst.Module) -> list[cst.Attribute]:
    from ..analyzers.traversal import nodes_of_type

    return list(nodes_of_type(module, cst.Attribute))



_GRAPH_BUILDING = ("keras.layers.", "keras.Model", "keras.models.", "keras.Input", "keras.Sequential")


def with_package_builders(source_text: str, path: str | Path | None) -> tuple[str, list[str]]:
    """``source_text`` with the builders of other modules of its package that it calls by module attribute
    (`return resnet.ResNet(stack_fn, ...)`, `resnet.stack_residual_blocks_v2(x, 64, 3)` of keras.applications'
    resnet_v2.py) defined in it, with what they reach in their file, and called by their own name: a builder
    written as a wrapper of another module's builder is then translated as one of the same file is (expanded and
    inlined). Functions that build no layers stay where they are (:func:`package_functions` brings those along);
    a name the file defines itself is left alone. Returns the text and notes."""
    if path is None:
        return source_text, []
    try:
        source = ParsedSource(source_text)
    except Exception:  # noqa: BLE001 - the translator reports unparsable sources itself
        return source_text, []
    attributes = [node for node in _attributes(source.module) if isinstance(node.value, cst.Name)]
    modules = _imported_modules(source, Path(path), {node.value.value for node in attributes})
    own = {name for statement in source.module.body for name in _defined_names(statement)}
    renames: dict[tuple[str, str], str] = {}
    brought: list[cst.BaseStatement] = []
    notes: list[str] = []
    for alias, file in sorted(modules.items()):
        other = ParsedSource(file.read_text(encoding="utf-8"))
        functions = {s.name.value: s for s in other.module.body if isinstance(s, cst.FunctionDef)}
        wanted = sorted({node.attr.value for node in attributes if node.value.value == alias} & set(functions) - own)
        wanted = [name for name in wanted if _builds_graph(other, functions[name])]
        if not wanted:
            continue
        renames.update({(alias, name): name for name in wanted})
        brought += [statement for statement in closure(other.module, set(wanted)).statements
                    if not set(_defined_names(statement)) & own]
        notes.append(f"{', '.join(f'{alias}.{name}()' for name in wanted)} ({file.name}) build the model: brought "
                     "into the translation and translated with it")
    if not brought:
        return source_text, []
    body = list(source.module.visit(_CalledByName(renames)).body)
    first = next((i for i, s in enumerate(body) if not _imports_only(s)), len(body))
    module = source.module.with_changes(body=[*body[:first], *brought, *body[first:]])
    return module.code, notes


def _imports_only(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)


def _defined_names(statement: cst.BaseStatement) -> list[str]:
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return [statement.name.value]
    if _imports_only(statement):
        return []
    from .closure import bound_names

    return list(bound_names(statement))


def _builds_graph(source: ParsedSource, function: cst.FunctionDef, seen: frozenset = frozenset()) -> bool:
    """Whether the function creates Keras layers or models, itself or through the file's functions it calls."""
    from ..analyzers.traversal import nodes_of_type

    calls = list(nodes_of_type(function, cst.Call))
    if any((source.resolve(call.func) or "").startswith(_GRAPH_BUILDING) for call in calls):
        return True
    seen = seen | {function.name.value}
    called = {call.func.value for call in calls if isinstance(call.func, cst.Name)} - seen
    return any(_builds_graph(source, source.functions[name], seen) for name in called if name in source.functions)
