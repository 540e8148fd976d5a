"""What a rule may ask while the engine walks a module: names, enclosing scopes and simple bindings."""

from __future__ import annotations

from typing import Iterable

import libcst as cst

from .flow import binding_key
from .frameworks import TORCH, KERAS, ImportTable, framework_of

TORCH_MODULE = "torch.nn.Module"
KERAS_LAYER = "keras.layers.Layer"
KERAS_MODEL = "keras.Model"
TORCH_DATASET = "torch.utils.data.Dataset"

_KERAS_MODEL_BASES = {"keras.Model", "keras.models.Model", "keras.Sequential", "keras.models.Sequential"}
_TORCH_DATASET_BASES = {"torch.utils.data.Dataset", "torch.utils.data.IterableDataset", "torch.utils.data.dataset.Dataset"}


class Context:
    """Per-module facts, kept up to date by the engine as it walks (rules only read them)."""

    def __init__(self, module: cst.Module, source: str, path: str = "<string>", settings: dict | None = None,
                 document_memory: dict | None = None):
        self.module = module
        self.source = source
        self.path = path
        self.settings = settings or {}
        # what several rules share within this check (an analysis computed once for all of them)
        self.shared: dict = {}
        # what module rules keep between versions of one document (an editor's checker owns it, so it lives and
        # dies with the document's tree); a fresh dict for a one-off check
        self.document_memory = document_memory if document_memory is not None else {}
        self.imports = ImportTable()
        self.imports.collect(module.body)
        # node -> canonical name: several rules ask about the same Call; emptied when an import adds a name
        self._resolved: dict[cst.CSTNode, str | None] = {}
        self.reports: list = []
        self.class_stack: list[cst.ClassDef] = []
        self.function_stack: list[cst.FunctionDef] = []
        self.loop_stack: list[cst.For | cst.While] = []
        self.with_stack: list[cst.With] = []
        self._with_depths: list[int] = []  # len(function_stack) when each `with` opened
        self.guard_stack: list[tuple[cst.If | cst.IfExp, int]] = []  # with len(function_stack) when entered
        self._bindings: list[dict[str, str]] = [{}]
        self._local_class_bases: dict[str, list[str]] = {}
        self._class_kinds: dict[str, str | None] = {}
        self._collect_local_classes(module.body)
        self._facts: ModuleFacts | None = None  # see module_facts; None once an import or binding changed them
        self._class_facts: ModuleFacts | None = None
        self.read_other_statements = False  # see Rule.reads_other_statements; reset by the engine per statement
        # the top-level statement the walk is in (None in visit_Module and leave_Module): what a rule that reports
        # a node later, from leave_Module, records with it (Rule.report's ``statement``)
        self.statement: cst.CSTNode | None = None

    # -- names --------------------------------------------------------------------------------------------------
    def qualname(self, node: cst.BaseExpression | None) -> str | None:
        if node is None:
            return None
        resolved = self._resolved
        if node in resolved:
            return resolved[node]
        name = resolved[node] = self.imports.resolve(node)
        return name

    def callee(self, call: cst.Call) -> str | None:
        """The canonical name of what a call calls: an import path, or a binding's type for ``x.method``."""
        return self.qualname(call.func)

    def add_import(self, node: cst.Import | cst.ImportFrom) -> None:
        """Record an import the walk reached (module-level ones are already in the table)."""
        if isinstance(node, cst.Import):
            self.imports.add_import(node)
        else:
            self.imports.add_import_from(node)
        self._resolved.clear()
        self._facts = None

    def framework(self, node: cst.BaseExpression) -> str | None:
        return framework_of(self.qualname(node))

    def spelling(self, path: str) -> str | None:
        """How this module can spell a canonical name with its own imports, or None."""
        spellings = self.imports.aliases_for(path)
        return spellings[0] if spellings else None

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    # -- classes ------------------------------------------------------------------------------------------------
    def _collect_local_classes(self, statements: Iterable[cst.CSTNode]) -> None:
        for statement in statements:
            if isinstance(statement, cst.ClassDef):
                bases = []
                for arg in statement.bases:
                    resolved = self.imports.resolve(arg.value)
                    if resolved is None and isinstance(arg.value, cst.Name):
                        resolved = "<local>." + arg.value.value
                    if resolved:
                        bases.append(resolved)
                self._local_class_bases[statement.name.value] = bases

    def class_kind(self, name: str, _seen: frozenset = frozenset()) -> str | None:
        """``torch.nn.Module``, ``keras.Model``, ``keras.layers.Layer``, ``torch.utils.data.Dataset`` or None
        for a class defined at module level."""
        if name in self._class_kinds:
            return self._class_kinds[name]
        kind = None
        for base in self._local_class_bases.get(name, ()):
            kind = self._base_kind(base, _seen | {name})
            if kind:
                break
        self._class_kinds[name] = kind
        return kind

    def _base_kind(self, base: str, seen: frozenset) -> str | None:
        if base.startswith("<local>."):
            local = base[len("<local>."):]
            return None if local in seen else self.class_kind(local, seen)
        if base in _TORCH_DATASET_BASES:
            return TORCH_DATASET
        if base in _KERAS_MODEL_BASES:
            return KERAS_MODEL
        fw = framework_of(base)
        last = base.rsplit(".", 1)[-1]
        if fw == TORCH and base.startswith("torch.nn.") and last[:1].isupper():
            return TORCH_MODULE
        if fw == KERAS and (base.startswith("keras.layers.") or base == "keras.Layer"):
            return KERAS_LAYER
        return None

    def kind_of_classdef(self, node: cst.ClassDef) -> str | None:
        return self.class_kind(node.name.value)

    def enclosing_class(self) -> cst.ClassDef | None:
        return self.class_stack[-1] if self.class_stack else None

    def enclosing_function(self) -> cst.FunctionDef | None:
        return self.function_stack[-1] if self.function_stack else None

    def in_method_of(self, *kinds: str) -> bool:
        """Inside a method (at any depth) of a module-level class of one of ``kinds``."""
        cls = self.enclosing_class()
        return cls is not None and bool(self.function_stack) and self.kind_of_classdef(cls) in kinds

    def enter_with(self, node: cst.With) -> None:
        self.with_stack.append(node)
        self._with_depths.append(len(self.function_stack))

    def leave_with(self) -> None:
        self.with_stack.pop()
        self._with_depths.pop()

    def withs_in_function(self) -> list[cst.With]:
        """The `with` statements around the current node inside the current function (innermost last)."""
        depth = len(self.function_stack)
        return [w for w, d in zip(self.with_stack, self._with_depths) if d == depth]

    def enter_guard(self, node: cst.If | cst.IfExp) -> None:
        self.guard_stack.append((node, len(self.function_stack)))

    def leave_guard(self) -> None:
        self.guard_stack.pop()

    def guards_in_function(self) -> list[tuple[cst.If | cst.IfExp, cst.CSTNode, cst.CSTNode | None]]:
        """The ``if`` statements and conditional expressions around the current node inside the current
        function (innermost last), each with its body and its ``else`` part (None when it has none)."""
        depth = len(self.function_stack)
        return [(node, node.body, node.orelse) for node, d in self.guard_stack if d == depth]

    def decorated_with(self, function: cst.FunctionDef, path: str) -> bool:
        for decorator in function.decorators:
            target = decorator.decorator
            if isinstance(target, cst.Call):
                target = target.func
            if self.qualname(target) == path:
                return True
        return False

    def in_tf_function(self) -> bool:
        return any(self.decorated_with(f, "tensorflow.function") for f in self.function_stack)

    # -- bindings -----------------------------------------------------------------------------------------------
    def bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        """Remember what a simple assignment bound: ``opt = torch.optim.SGD(...)`` -> ``torch.optim.SGD``."""
        key = binding_key(target)
        if key is None:
            return
        meaning = None
        if isinstance(value, cst.Call):
            meaning = self.callee(value)
            if meaning is None and binding_key(value.func) is not None:
                bound = self.binding_of(value.func)
                # calling an instance: `loss = criterion(out, y)` -> "torch.nn.CrossEntropyLoss()"
                meaning = bound + "()" if bound else None
            if meaning is None and isinstance(value.func, cst.Name):
                kind = self.class_kind(value.func.value)
                meaning = kind and f"{kind}:{value.func.value}"
            if meaning is None and isinstance(value.func, cst.Attribute):
                # ``model.to(device)``, ``x.cuda()`` keep the receiver's meaning
                if value.func.attr.value in ("to", "cuda", "cpu", "float", "double", "half", "eval", "train"):
                    meaning = self.binding_of(value.func.value)
        elif isinstance(value, (cst.Name, cst.Attribute)):
            meaning = self.binding_of(value)
        scope = self._bindings[-1]
        if len(self._bindings) == 1:
            self._facts = None
        if meaning:
            scope[key] = meaning
        else:
            scope.pop(key, None)

    def module_facts(self) -> "ModuleFacts":
        """Everything outside the current top-level statement that a statement-scope rule can learn from this
        context: the import table, the module's own classes and the module-level bindings made so far. Equal
        facts and equal statement text give equal findings (what lets an editor reuse them)."""
        if self._facts is None:
            if self._class_facts is None:  # the module's classes are known before the walk and never change
                self._class_facts = ModuleFacts(tuple((name, tuple(bases))
                                                      for name, bases in self._local_class_bases.items()))
            self._facts = ModuleFacts((tuple(self.imports.aliases.items()), tuple(self._bindings[0].items()),
                                       self._class_facts))
        return self._facts

    def restore_facts(self, facts: "ModuleFacts") -> None:
        """Between two top-level statements: put the import table and the module-level bindings where a walk
        of the statements so far would have left them (``facts`` is what :meth:`module_facts` said then)."""
        if facts == self.module_facts():
            return
        aliases, bindings, _classes = facts.value
        self.imports.restore(aliases)
        self._bindings[0] = dict(bindings)
        self._resolved.clear()
        self._facts = facts

    def binding_of(self, node: cst.BaseExpression) -> str | None:
        """What the last simple assignment to ``name`` / ``self.attr`` in the enclosing scopes bound, or None."""
        key = binding_key(node)
        if key is None:
            return None
        for scope in reversed(self._bindings):
            if key in scope:
                return scope[key]
        return None

    def is_module_binding(self, node: cst.BaseExpression) -> bool:
        meaning = self.binding_of(node)
        if not meaning or meaning.endswith("()"):
            return False
        if meaning.startswith(TORCH_MODULE + ":") or meaning.startswith((KERAS_MODEL + ":", KERAS_LAYER + ":")):
            return True
        last = meaning.rsplit(".", 1)[-1]
        return meaning.startswith("torch.nn.") and last[:1].isupper()

    def push_scope(self) -> None:
        self._bindings.append({})

    def pop_scope(self) -> None:
        self._bindings.pop()


class ModuleFacts:
    """A hashable snapshot of :meth:`Context.module_facts`, its hash computed once."""

    __slots__ = ("value", "_hash")

    def __init__(self, value: tuple) -> None:
        self.value = value
        self._hash = hash(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModuleFacts) and self._hash == other._hash and self.value == other.value
