"""The dependency closure of one top-level symbol: every top-level definition it reaches and the imports those use.

Real model files define a model through helpers (``conv3x3``), constants (``cfgs``), classes passed as values
(``block=BasicBlock``), base classes and typing imports; a translation (and ``verify``'s build of the original)
needs all of them and nothing else. A definition is *reached* when its name appears anywhere in a reached
statement: called, subclassed, passed as a value, used in a default, an annotation or a decorator. That is an
over-approximation (a local that shadows a module name pulls the module's definition in), never a miss.

Relative imports (``from .mlp import Mlp``, ``from ..utils import helper``) and absolute imports of the file's own
package (``from keras_hub.src.api_export import keras_hub_export`` inside ``keras_hub/``, when that package is not
installed elsewhere: an installed package is imported as usual) are followed into the package's files when the
source's path is known, so a class extracted from a package comes with the package code it
needs, without importing the package (whose ``__init__`` may import the world); what cannot be followed stays an
import statement for the caller to judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import libcst as cst

from ..analyzers.traversal import nodes_of_type


@dataclass(frozen=True)
class Closure:
    """``statements``: the reached top-level statements in source order, imports trimmed to the names used;
    ``inlined``: definitions pulled in from other files of the package, placed before them (dependencies first);
    ``unresolved``: relative imports that could not be followed (their module file is missing)."""

    statements: tuple[cst.BaseStatement, ...]
    inlined: tuple[cst.BaseStatement, ...] = ()
    unresolved: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default=())  # files the inlined definitions come from

    def module(self, header: cst.Module | None = None) -> cst.Module:
        base = header or cst.Module([])
        futures = [s for s in (*self.inlined, *self.statements) if _is_future_import(s)]
        rest = [s for s in (*self.inlined, *self.statements) if not _is_future_import(s)]
        return base.with_changes(body=[*futures[:1], *_dedupe_imports(rest)])

    def code(self, header: cst.Module | None = None) -> str:
        return self.module(header).code


def _is_future_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and any(
        isinstance(small, cst.ImportFrom) and isinstance(small.module, cst.Name) and small.module.value == "__future__"
        for small in statement.body)


def _dedupe_imports(statements: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
    """The same import line or definition twice (a helper two inlined files both reach, an import the symbol's own
    file repeats) is written once."""
    seen: set[str] = set()
    kept = []
    empty = cst.Module([])
    for statement in statements:
        text = empty.code_for_node(statement.with_changes(leading_lines=())).strip()
        if text in seen:
            continue
        seen.add(text)
        kept.append(statement)
    return kept


def _binds_by_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)


# -- what a top-level statement binds and uses ---------------------------------------------------------------------
def _alias_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None:
        return alias.asname.name.value
    name = alias.name
    while isinstance(name, cst.Attribute):  # `import a.b` binds `a`
        name = name.value
    return name.value


def target_names(target: cst.BaseExpression) -> list[str]:
    """The names an assignment target binds (`a`, `a, (b, *c)`); none for attributes and subscripts."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [name for element in target.elements for name in target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return []


def bound_names(statement: cst.BaseStatement) -> list[str]:
    """The module-level names one top-level statement binds."""
    if isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
        return [statement.name.value]
    if isinstance(statement, cst.SimpleStatementLine):
        names = []
        for small in statement.body:
            if isinstance(small, cst.Import):
                names += [_alias_name(alias) for alias in small.names]
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                names += [_alias_name(alias) for alias in small.names]
            elif isinstance(small, cst.Assign):
                names += [name for target in small.targets for name in target_names(target.target)]
            elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                names += target_names(small.target)
        return names
    if isinstance(statement, (cst.If, cst.Try, cst.With, cst.For, cst.While)):
        # `try: import x except ImportError: x = None`, `if TYPE_CHECKING: ...`: whatever the block binds
        names = []
        for inner in nodes_of_type(statement, (cst.SimpleStatementLine, cst.ClassDef, cst.FunctionDef)):
            names += bound_names(inner)
        return names
    return []


def used_names(statement: cst.CSTNode) -> set[str]:
    """Every name the statement mentions (loads, stores and attribute roots alike: an over-approximation)."""
    used = {node.value for node in nodes_of_type(statement, cst.Name)}
    if isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
        used.discard(statement.name.value)
    return used


def _trim_import(statement: cst.SimpleStatementLine, wanted: set[str]) -> cst.SimpleStatementLine | None:
    """The import statement with only the aliases whose names are wanted (None when none is)."""
    body = []
    for small in statement.body:
        if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
            names = [alias for alias in small.names if _alias_name(alias) in wanted]
            if names:
                last = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                small = small.with_changes(names=[*names[:-1], last])
                if isinstance(small, cst.ImportFrom) and small.rpar is not None and len(names) == 1:
                    small = small.with_changes(lpar=None, rpar=None)
                body.append(small)
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            body.append(small)  # `from x import *`: kept whole, it may bind anything
    if not body:
        return None
    last = body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
    return statement.with_changes(body=[*body[:-1], last])


def package_root(path: Path) -> Path | None:
    """The folder holding the outermost package ``path`` belongs to (its folder and each one above with an
    ``__init__.py``); None for a file outside any package."""
    top = path.parent
    if not (top / "__init__.py").is_file():
        return None
    while (top.parent / "__init__.py").is_file() and top.parent != top:
        top = top.parent
    return top.parent


def installed_elsewhere(package: str, root: Path) -> bool:
    """Whether ``import package`` finds a copy outside ``root`` (found, not imported: nothing runs)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return False
    locations = [*(spec.submodule_search_locations or ())] if spec is not None else []
    return any(not Path(location).resolve().is_relative_to(root.resolve()) for location in locations)


def _relative_module_path(path: Path, node: cst.ImportFrom) -> Path | None:
    """The file a relative `from .a.b import x` names, beside ``path``, or an absolute `from pkg.a import x` of the
    package ``path`` belongs to; None for any other import."""
    parts = []
    module = node.module
    while isinstance(module, cst.Attribute):
        parts.insert(0, module.attr.value)
        module = module.value
    if isinstance(module, cst.Name):
        parts.insert(0, module.value)
    level = len(node.relative)
    if level == 0:
        root = package_root(path)
        if root is None or not parts or not (root / parts[0] / "__init__.py").is_file() or \
                parts[0] != path.relative_to(root).parts[0] or installed_elsewhere(parts[0], root):
            return None
        folder = root
    else:
        folder = path.parent
        for _ in range(level - 1):
            folder = folder.parent
    base = folder.joinpath(*parts)
    for candidate in (base.with_suffix(".py") if parts else None, base / "__init__.py"):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


# -- the closure ---------------------------------------------------------------------------------------------------
def closure(module: cst.Module, names: set[str] | str, path: str | Path | None = None,
            _visiting: frozenset = frozenset(), keep: Callable[[str], bool] | None = None, prepare=None,
            _files: dict | None = None) -> Closure:
    """The top-level statements of ``module`` that ``names`` (a symbol or several) reach, in source order.

    With ``path`` (the module's file), relative imports of reached names are followed into their files and the
    definitions found there are inlined (their own closures first). ``keep(qualified_name)``: names of absolute
    imports to keep as imports rather than inline (those a translation maps itself, e.g. timm's DropPath).
    ``prepare(module, path)``, when given, rewrites each followed file before its closure is taken, as the caller
    did ``module`` (e.g. dropping decorators)."""
    files = {} if _files is None else _files  # each followed file parsed (and prepared) once per closure
    wanted_roots = {names} if isinstance(names, str) else set(names)
    binders: dict[str, list[int]] = {}
    for index, statement in enumerate(module.body):
        for name in bound_names(statement):
            binders.setdefault(name, []).append(index)
    # a `from __future__` import changes how the whole file compiles (annotations), whatever names it binds
    reached: set[int] = {index for index, statement in enumerate(module.body) if _is_future_import(statement)}
    source_path = Path(path) if path else None
    star_binders, star_statements = _relative_star_imports(module, source_path, files) if source_path else ({}, {})
    star_names: dict[int, list[str]] = {}  # per `from .x import *` reached: the names it must provide
    wanted: set[str] = set()
    pending = list(wanted_roots)
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        wanted.add(name)
        if name not in binders and name in star_binders:  # `from .activations import *` provides it
            star_names.setdefault(star_binders[name], []).append(name)
        for index in binders.get(name, ()):
            if index in reached:
                continue
            reached.add(index)
            statement = module.body[index]
            if not _binds_by_import(statement):
                pending += used_names(statement) - wanted
    statements: list[cst.BaseStatement] = []
    inlined: list[cst.BaseStatement] = []
    unresolved: list[str] = []
    sources: list[str] = []
    for index in sorted(reached | set(star_names)):
        statement = module.body[index]
        if index in star_names:  # the star import as the import of the names it provides here
            statement = _naming(star_statements[index], star_names[index])
        if _is_future_import(statement):
            statements.append(statement)
            continue
        if not _binds_by_import(statement):
            statements.append(statement)
            continue
        trimmed = _trim_import(statement, wanted)
        if trimmed is None:
            continue
        kept_body = []
        for small in trimmed.body:
            if keep is not None and isinstance(small, cst.ImportFrom) and small.relative and source_path and \
                    not isinstance(small.names, cst.ImportStar):
                absolute = _absolute_import(source_path, small)  # `from ..ops.x import A` as the package names it
                if absolute is not None and any(
                        keep(f"{cst.Module([]).code_for_node(absolute.module)}.{cst.Module([]).code_for_node(a.name)}")
                        for a in small.names):
                    small = absolute
            if keep is not None and isinstance(small, cst.ImportFrom) and not small.relative and \
                    small.module is not None and not isinstance(small.names, cst.ImportStar):
                module_name = cst.Module([]).code_for_node(small.module)
                mapped = [a for a in small.names if keep(f"{module_name}.{cst.Module([]).code_for_node(a.name)}")]
                if mapped:
                    kept_body.append(_with_aliases(small, mapped))
                    rest = [a for a in small.names if a not in mapped]
                    if not rest:
                        continue
                    small = _with_aliases(small, rest)
            target = _relative_module_path(source_path, small) if (
                source_path and isinstance(small, cst.ImportFrom)) else None
            if isinstance(small, cst.ImportFrom) and source_path is not None and (small.relative or target):
                if target is None or isinstance(small.names, cst.ImportStar):
                    unresolved.append(cst.Module([]).code_for_node(small))
                    kept_body.append(small)
                    continue
                key = (str(target), tuple(sorted(_alias_name(a) for a in small.names)))
                if key in _visiting:
                    continue
                inner = _inline(target, small, _visiting | {key}, keep, prepare, files)
                if inner is None:
                    unresolved.append(cst.Module([]).code_for_node(small))
                    kept_body.append(small)
                    continue
                inlined += [s for s in (*inner.inlined, *inner.statements) if s not in inlined]
                unresolved += inner.unresolved
                sources += [str(target), *inner.sources]
                continue
            kept_body.append(small)
        if kept_body:
            last = kept_body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
            statements.append(trimmed.with_changes(body=[*kept_body[:-1], last]))
    return Closure(tuple(statements), tuple(inlined), tuple(dict.fromkeys(unresolved)),
                   tuple(dict.fromkeys(sources)))


def _relative_star_imports(module: cst.Module, path: Path,
                           files: dict) -> tuple[dict[str, int], dict[int, cst.ImportFrom]]:
    """The public names each `from .x import *` of the module provides (name -> the index of the last star import
    that binds it, as Python lets the last one win), and those imports by index; a star import whose file is not
    found provides nothing (it stays unresolved)."""
    binders: dict[str, int] = {}
    imports: dict[int, cst.ImportFrom] = {}
    for index, statement in enumerate(module.body):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not (isinstance(small, cst.ImportFrom) and small.relative and isinstance(small.names, cst.ImportStar)):
                continue
            target = _relative_module_path(path, small)
            other = _parsed(target, files) if target else None
            if other is None:
                continue
            imports[index] = small
            for statement_there in other.body:
                for name in bound_names(statement_there):
                    if not name.startswith("_"):
                        binders[name] = index
    return binders, imports


def _naming(star: cst.ImportFrom, names: list[str]) -> cst.SimpleStatementLine:
    aliases = [cst.ImportAlias(name=cst.Name(name)) for name in sorted(names)]
    return cst.SimpleStatementLine(body=[star.with_changes(names=_with_aliases(star, aliases).names, lpar=None,
                                                           rpar=None)])


def _absolute_import(path: Path, node: cst.ImportFrom) -> cst.ImportFrom | None:
    """`from ..ops.stochastic_depth import X` in torchvision/models/convnext.py as `from
    torchvision.ops.stochastic_depth import X`; None outside a package."""
    root = package_root(path)
    if root is None:
        return None
    folder = path.parent
    for _ in range(len(node.relative) - 1):
        folder = folder.parent
    parts = list(folder.relative_to(root).parts)
    if node.module is not None:
        parts += cst.Module([]).code_for_node(node.module).split(".")
    if not parts:
        return None
    return node.with_changes(relative=[], module=cst.parse_expression(".".join(parts)))


def _with_aliases(node: cst.ImportFrom, aliases: list[cst.ImportAlias]) -> cst.ImportFrom:
    aliases = [*aliases[:-1], aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    if len(aliases) == 1:
        return node.with_changes(names=aliases, lpar=None, rpar=None)
    return node.with_changes(names=aliases)


def _parsed(target: Path, files: dict, prepare=None) -> cst.Module | None:
    """``target`` parsed (and prepared), once per closure: a model reaches the same layer files from many places
    (timm's EfficientNet inlines timm/layers' files hundreds of times over)."""
    key = (str(target), prepare is not None)
    if key not in files:
        try:
            other = cst.parse_module(target.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
            other = None
        files[key] = prepare(other, target) if other is not None and prepare is not None else other
    return files[key]


def _inline(target: Path, node: cst.ImportFrom, visiting: frozenset,
            keep: Callable[[str], bool] | None = None, prepare=None, files: dict | None = None) -> Closure | None:
    """The closure, in ``target``, of the names ``node`` imports; renamed imports (`import x as y`) get an
    assignment `y = x` after the definitions."""
    files = {} if files is None else files
    other = _parsed(target, files, prepare)
    if other is None:
        return None
    names = {alias.name.value for alias in node.names if isinstance(alias.name, cst.Name)}
    bound = {name for statement in other.body for name in bound_names(statement)}
    if not names <= bound:  # a package's __init__ may provide a name through `from .activations import *`
        bound |= set(_relative_star_imports(other, target, files)[0])
    if not names <= bound:
        return None
    inner = closure(other, names, target, visiting, keep=keep, prepare=prepare, _files=files)
    renames = [cst.parse_statement(f"{alias.asname.name.value} = {alias.name.value}\n")
               for alias in node.names if alias.asname is not None and isinstance(alias.name, cst.Name)]
    return Closure((*inner.statements, *renames), inner.inlined, inner.unresolved, inner.sources)
