"""The rule framework: one small class per rule, registered by its code.

A rule declares ``visit_<NodeType>`` / ``leave_<NodeType>`` methods like a libcst visitor; the engine runs every
enabled rule in one batched traversal and hands each rule a :class:`~.context.Context` (import table, enclosing
scopes, simple bindings) as ``self.ctx``. A rule reports nodes; the engine turns them into positioned findings.
"""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from .findings import Severity

if TYPE_CHECKING:
    from .context import Context


@dataclass(frozen=True)
class Invalid:
    """An example the rule must flag; ``fixed`` is the text after its fix, when it has one."""

    code: str
    fixed: str | None = None


@dataclass(frozen=True)
class PendingEdit:
    """An edit expressed on nodes; the engine positions it only when it is reported."""

    node: cst.CSTNode
    new_text: str
    mode: str = "replace"  # "replace" | "insert_before" | "insert_after" | "insert_line_before"


@dataclass(frozen=True)
class PendingFix:
    title: str
    edits: tuple[PendingEdit, ...]
    safe: bool = True


@dataclass(frozen=True)
class Report:
    rule: "Rule"
    node: cst.CSTNode
    message: str
    fix: PendingFix | None
    # the top-level statement that holds ``node`` (and the fix's nodes), when a report made outside the walk of
    # that statement (from leave_Module) knows it: an editor then positions it from that statement alone
    statement: cst.CSTNode | None = None


_REGISTRY: dict[str, type["Rule"]] = {}

MODULE_SCOPE = "module"
STATEMENT_SCOPE = "statement"

_ALL_FRAMEWORKS = frozenset({"torch", "tensorflow", "keras"})
# What a rule needs by default, by code prefix: PyTorch rules a module that mentions torch, TensorFlow/Keras
# rules one that mentions tensorflow or keras, porting and deployment rules one that mentions any of them.
DEFAULT_FRAMEWORKS: dict[str, frozenset[str]] = {
    "PT": frozenset({"torch"}),
    "TF": frozenset({"tensorflow", "keras"}),
    "XF": _ALL_FRAMEWORKS,
    "DP": _ALL_FRAMEWORKS,
}
# ``needs_each_of`` of a porting rule that only speaks when a file holds code of both frameworks
PORTING_FILE: tuple[frozenset[str], ...] = (frozenset({"torch"}), frozenset({"tensorflow", "keras"}))


class Rule:
    """Base class. Subclasses set ``code``, ``name``, ``severity``, ``message``, ``valid``, ``invalid`` and a
    docstring with the sections *What it does*, *Why is this bad*, *Example*, *Use instead*."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    message: ClassVar[str]
    fixable: ClassVar[bool] = False
    valid: ClassVar[tuple[str, ...]] = ()
    invalid: ClassVar[tuple[Invalid, ...]] = ()
    # The frameworks ("torch", "tensorflow", "keras") a module must mention for this rule to find anything: the
    # engine skips the rule on other modules (and skips parsing when no enabled rule is left). None means the
    # default for the code's prefix (see DEFAULT_FRAMEWORKS); frozenset() means "runs on every module".
    needs_frameworks: ClassVar[frozenset[str] | None] = None
    # Words of which the module must contain at least one (e.g. ``("step",)`` for a rule about ``x.step()``);
    # empty means no such condition. Like ``needs_frameworks``, it only lets the engine skip work.
    needs_any_of: ClassVar[tuple[str, ...]] = ()
    # Groups of framework words of which the module must mention one each, on top of ``needs_frameworks``: a
    # porting rule that compares a file's torch layers with its Keras layers needs both (see PORTING_FILE).
    needs_each_of: ClassVar[tuple[frozenset[str], ...]] = ()
    # What a finding may depend on. MODULE_SCOPE (the default): anything in the module; one instance sees the
    # whole walk. STATEMENT_SCOPE: only the top-level statement it is in (a class, a function, one line of a
    # script), plus the module-wide facts the Context holds when the walk reaches that statement (the import
    # table, the module's own classes, the module-level bindings made before it). The engine gives such a rule
    # a fresh instance for every top-level statement, and an editor re-checks only the statements an edit
    # touched, reusing the other statements' findings. A statement rule therefore keeps no state between
    # top-level statements, never reads other statements (``ctx.module.body``, ``ctx.source``) and has no
    # ``visit_Module``/``leave_Module``.
    scope: ClassVar[str] = MODULE_SCOPE
    # Optional, for a MODULE_SCOPE rule: the state it keeps between top-level statements, so that an editor can
    # re-check it incrementally too. ``accumulates`` names lists that statements only append to (what one
    # statement appended is replayed when the statement is not walked again); ``carries`` names every other
    # attribute a statement may read or change (sets, dicts, flags: their values before a statement are part of
    # what its walk is keyed by, their values after it are restored when it is skipped). A rule that declares
    # them (``()`` for "none") promises that what it does while the walk is in one top-level statement (its
    # reports there, what it appends and sets) depends only on that statement, the module facts
    # (:meth:`Context.module_facts`) and the ``carries`` values, unless it says otherwise for that statement
    # with :meth:`reads_other_statements`; ``visit_Module`` and ``leave_Module`` always run and may read
    # everything. The names may be properties (``carries`` ones with a setter). A module rule that declares
    # neither (None) and has a handler below the Module is walked over every statement on every check.
    accumulates: ClassVar[tuple[str, ...] | None] = None
    carries: ClassVar[tuple[str, ...] | None] = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls) or "code" not in cls.__dict__:
            return
        if cls.scope not in (MODULE_SCOPE, STATEMENT_SCOPE):
            raise ValueError(f"rule {cls.code}: scope must be {MODULE_SCOPE!r} or {STATEMENT_SCOPE!r}")
        if cls.scope == STATEMENT_SCOPE and (hasattr(cls, "visit_Module") or hasattr(cls, "leave_Module")):
            raise ValueError(f"rule {cls.code} sees one top-level statement at a time: it cannot visit the Module")
        existing = _REGISTRY.get(cls.code)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"rule code {cls.code} is used by {existing.__qualname__} and {cls.__qualname__}")
        _REGISTRY[cls.code] = cls

    def __init__(self, ctx: "Context") -> None:
        self.ctx = ctx

    @classmethod
    def incremental(cls) -> bool:
        """Whether an editor may skip this module rule on top-level statements it already walked (see
        ``accumulates``/``carries``)."""
        if cls.scope == STATEMENT_SCOPE:
            return False
        if cls.accumulates is not None or cls.carries is not None:
            return True
        return not any(attr.startswith(("visit_", "leave_")) and attr not in ("visit_Module", "leave_Module")
                       for attr in dir(cls))

    def statement_key(self) -> tuple:
        """The ``carries`` values, frozen: with the statement's text and the module facts, what the rule does in
        a top-level statement depends on nothing else."""
        return tuple(_frozen(getattr(self, name)) for name in self.carries or ())

    def statement_mark(self) -> tuple[int, ...]:
        return tuple(len(getattr(self, name)) for name in self.accumulates or ())

    def statement_effect(self, mark: tuple[int, ...]) -> tuple:
        """What the walk of one top-level statement did to the state, given its ``statement_mark`` before it."""
        appended = tuple(tuple(getattr(self, name)[length:]) for name, length in zip(self.accumulates or (), mark))
        return appended, tuple(_copied(getattr(self, name)) for name in self.carries or ())

    def replay_statement(self, effect: tuple) -> None:
        """Does to the state what ``statement_effect`` recorded, without walking the statement."""
        appended, carried = effect
        for name, items in zip(self.accumulates or (), appended):
            if items:
                getattr(self, name).extend(items)
        for name, value in zip(self.carries or (), carried):
            setattr(self, name, _copied(value))

    def reads_other_statements(self) -> None:
        """Says that what the rule does in the current top-level statement depends on other statements (it read
        ``ctx.module``, a ``ModuleIndex``): an editor then walks this statement again on every check instead of
        reusing what the rule did there."""
        self.ctx.read_other_statements = True

    @classmethod
    def required_frameworks(cls) -> frozenset[str]:
        """What ``needs_frameworks`` says, or the default for the rule's code prefix; empty means always run."""
        if cls.needs_frameworks is not None:
            return frozenset(cls.needs_frameworks)
        return DEFAULT_FRAMEWORKS.get(cls.code[:2], frozenset())

    # -- reporting ---------------------------------------------------------------------------------------------
    def report(self, node: cst.CSTNode, message: str | None = None, fix: PendingFix | None = None, *,
               statement: cst.CSTNode | None = None) -> None:
        """Reports ``node``. A report made after the walk left ``node``'s top-level statement (in
        ``leave_Module``) may name that statement (``ctx.statement`` when the node was seen), so that an editor
        positions it from that statement alone instead of the whole module."""
        self.ctx.reports.append(Report(self, node, message or self.message, fix, statement))

    @staticmethod
    def replace(node: cst.CSTNode, new_text: str) -> PendingEdit:
        return PendingEdit(node, new_text, "replace")

    @staticmethod
    def insert_before(node: cst.CSTNode, text: str) -> PendingEdit:
        return PendingEdit(node, text, "insert_before")

    @staticmethod
    def insert_after(node: cst.CSTNode, text: str) -> PendingEdit:
        return PendingEdit(node, text, "insert_after")

    # -- documentation -----------------------------------------------------------------------------------------
    @classmethod
    def documentation(cls) -> str:
        # cleandoc, not dedent: the docstrings start on the quote line, so only the lines after it are indented
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        """The first sentence of *What it does*."""
        doc = cls.documentation()
        body = doc.split("## What it does", 1)[-1].strip().split("\n\n", 1)[0]
        return " ".join(body.split())


def _frozen(value):
    if isinstance(value, (set, frozenset)):
        return frozenset(value)
    if isinstance(value, dict):
        return tuple(value.items())
    if isinstance(value, list):
        return tuple(value)
    return value


def _copied(value):
    return value.copy() if isinstance(value, (set, dict, list)) else value


def all_rules() -> dict[str, type[Rule]]:
    """Every registered rule, loading the installed rule packs first (entry point group ``tensorlint.rule_packs``)."""
    _load_rule_packs()
    return dict(sorted(_REGISTRY.items()))


_PACKS_LOADED = False
# The server loads the packs on its analysis thread while the main thread may read the rules (settings naming
# codes): a reader waits until every pack is loaded instead of seeing half a registry.
_PACKS_LOCK = threading.RLock()
_LOADING_THREAD: int | None = None  # the thread importing the packs (a pack that reads the rules gets what is there)


def _load_rule_packs() -> None:
    global _PACKS_LOADED, _LOADING_THREAD
    if _PACKS_LOADED or _LOADING_THREAD == threading.get_ident():
        return
    with _PACKS_LOCK:
        if _PACKS_LOADED:
            return  # loaded by another thread while this one waited
        _LOADING_THREAD = threading.get_ident()
        try:
            import importlib
            from importlib.metadata import entry_points

            from . import rules as _core  # noqa: F401  (the core pack: always present, even from a checkout)

            for entry in entry_points(group="tensorlint.rule_packs"):
                try:
                    importlib.import_module(entry.value)
                except ImportError:
                    # A rule pack that cannot be imported must not take the core rules down with it.
                    continue
            _PACKS_LOADED = True
        finally:
            _LOADING_THREAD = None
