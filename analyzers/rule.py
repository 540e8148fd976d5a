"""The rule framework: one small class per rule, registered by its code.

A rule declares ``visit_<NodeType>`` / ``leave_<NodeType>`` methods like a libcst visitor; the engine runs every
enabled rule in one batched traversal and hands each rule a :class:`~.context.Context` (import table, enclosing
scopes, simple bindings) as ``self.ctx``. A rule reports nodes; the engine turns them into positioned findings.
"""

from __future__ import annotations

import inspect
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


_REGISTRY: dict[str, type["Rule"]] = {}


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

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls) or "code" not in cls.__dict__:
            return
        existing = _REGISTRY.get(cls.code)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"rule code {cls.code} is used by {existing.__qualname__} and {cls.__qualname__}")
        _REGISTRY[cls.code] = cls

    def __init__(self, ctx: "Context") -> None:
        self.ctx = ctx

    # -- reporting ---------------------------------------------------------------------------------------------
    def report(self, node: cst.CSTNode, message: str | None = None, fix: PendingFix | None = None) -> None:
        self.ctx.reports.append(Report(self, node, message or self.message, fix))

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


def all_rules() -> dict[str, type[Rule]]:
    """Every registered rule, loading the installed rule packs first (entry point group ``tensorlint.rule_packs``)."""
    _load_rule_packs()
    return dict(sorted(_REGISTRY.items()))


_PACKS_LOADED = False


def _load_rule_packs() -> None:
    global _PACKS_LOADED
    if _PACKS_LOADED:
        return
    _PACKS_LOADED = True
    import importlib
    from importlib.metadata import entry_points

    from . import rules as _core  # noqa: F401  (the core pack: always present, even when run from a checkout)

    for entry in entry_points(group="tensorlint.rule_packs"):
        try:
            importlib.import_module(entry.value)
        except ImportError:
            # A rule pack that cannot be imported must not take the core rules down with it.
            continue
