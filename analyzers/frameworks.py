"""Which framework each name means, resolved from the module's own import table.

No qualified-name provider, no scope analysis: a dictionary from local alias to dotted import path, filled from the
imports the engine sees, is enough for the spellings model code uses (``import torch.nn as nn``, ``from torch import
nn``, ``import tensorflow as tf``, ``tf.keras.layers.Dense``, ``from keras import layers``, ``keras.src...``).
"""

from __future__ import annotations

from typing import Iterable

import libcst as cst

TORCH = "torch"
KERAS = "keras"
TENSORFLOW = "tensorflow"

def dotted(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of Names and Attributes, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _module_path(node: cst.BaseExpression) -> str:
    name = dotted(node)
    return name or ""


def canonical(path: str) -> str:
    """Collapse spellings of one public name to one string.

    ``tensorflow.keras.X`` and ``tf_keras.X`` become ``keras.X`` (rules that care which Keras it is ask
    :meth:`ImportTable.keras_flavor`); implementation paths become public ones: ``torch.nn.modules.linear.Linear``
    is ``torch.nn.Linear`` and ``keras.src.layers.core.dense.Dense`` is ``keras.layers.Dense``.
    """
    if path.startswith("tensorflow.keras."):
        path = "keras." + path[len("tensorflow.keras."):]
    elif path == "tensorflow.keras":
        path = "keras"
    elif path.startswith("tensorflow.python.keras."):
        path = "keras." + path[len("tensorflow.python.keras."):]
    elif path.startswith("tf_keras."):
        path = "keras." + path[len("tf_keras."):]
    elif path == "tf_keras":
        path = "keras"
    if path.startswith("torch.nn.modules."):
        path = "torch.nn." + path.rsplit(".", 1)[1]
    elif path.startswith("keras.src."):
        rest = path[len("keras.src."):].split(".")
        path = "keras." + (rest[0] if len(rest) == 1 else f"{rest[0]}.{rest[-1]}")
    return path


def framework_of(path: str | None) -> str | None:
    if not path:
        return None
    head = path.split(".", 1)[0]
    if head == "torch" or head == "torchvision":
        return TORCH
    if head == "keras":
        return KERAS
    if head == "tensorflow":
        return TENSORFLOW
    return None


class ImportTable:
    """Local alias -> full dotted import path (as written, before canonicalisation)."""

    __slots__ = ("aliases", "_frameworks")

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self._frameworks: dict[str, bool] = {}  # imports_framework answers, until the next import

    def add_import(self, node: cst.Import) -> None:
        self._frameworks.clear()
        for alias in node.names:
            target = _module_path(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.aliases[alias.asname.name.value] = target
            else:
                top = target.split(".", 1)[0]
                self.aliases[top] = top

    def restore(self, aliases: Iterable[tuple[str, str]]) -> None:
        """The table as it was when ``aliases`` were its items."""
        self.aliases = dict(aliases)
        self._frameworks.clear()

    def add_import_from(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        self._frameworks.clear()
        module = _module_path(node.module)
        for alias in node.names:
            name = _module_path(alias.name)
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.aliases[local] = f"{module}.{name}"

    def collect(self, statements: Iterable[cst.CSTNode]) -> None:
        """Fill the table from top-level statements (a cheap pre-pass: no traversal)."""
        for statement in statements:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Import):
                        self.add_import(small)
                    elif isinstance(small, cst.ImportFrom):
                        self.add_import_from(small)
            elif isinstance(statement, cst.If) or isinstance(statement, cst.Try):
                # ``try: import torch`` / ``if TYPE_CHECKING:`` blocks at module level
                self.collect(statement.body.body)

    def raw(self, node: cst.BaseExpression) -> str | None:
        """The full dotted path a Name/Attribute chain refers to, or None when its head is not imported."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        target = self.aliases.get(head)
        if target is None:
            return None
        return f"{target}.{rest}" if rest else target

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """The canonical dotted name of an expression, e.g. ``nn.Linear`` -> ``torch.nn.Linear``."""
        path = self.raw(node)
        return canonical(path) if path is not None else None

    def keras_flavor(self, node: cst.BaseExpression) -> str | None:
        """``"tf.keras"`` for TensorFlow's bundled Keras 2, ``"keras"`` for Keras 3, None when not Keras."""
        path = self.raw(node)
        if path is None:
            return None
        if path.startswith(("tensorflow.keras", "tensorflow.python.keras", "tf_keras")):
            return "tf.keras"
        if path == "keras" or path.startswith("keras."):
            return "keras"
        return None

    def imports_framework(self, framework: str) -> bool:
        answer = self._frameworks.get(framework)
        if answer is None:
            answer = self._frameworks[framework] = any(
                framework_of(canonical(path)) == framework for path in self.aliases.values())
        return answer

    def aliases_for(self, path: str) -> list[str]:
        """Local spellings of ``path`` (canonical), shortest first: ``torch.nn.ModuleList`` -> ``nn.ModuleList``."""
        spellings = []
        for local, target in self.aliases.items():
            target_c = canonical(target)
            if path == target_c:
                spellings.append(local)
            elif path.startswith(target_c + "."):
                spellings.append(local + path[len(target_c):])
        return sorted(spellings, key=len)
