"""``[tool.tensorlint]`` settings: rule selection, per-file ignores, excludes, deployment scenarios."""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import Any, Callable, Iterable

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None  # type: ignore[assignment]

DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".venv", "venv", ".env", "env", "__pycache__", "build", "dist", "node_modules",
    ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tensorlint_cache", "site-packages",
    "*.egg-info", ".ipynb_checkpoints",
)
DEPLOYMENT_SCENARIOS = ("server", "mobile", "web")

# key -> (type check, description): one place that says which keys exist, for validation and for the docs
KNOWN_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "select": (list, "rule codes or prefixes to enable (default: all)"),
    "ignore": (list, "rule codes or prefixes to disable"),
    "extend-select": (list, "codes or prefixes enabled on top of `select`"),
    "extend-ignore": (list, "codes or prefixes disabled on top of `ignore`"),
    "per-file-ignores": (dict, "glob -> codes ignored in matching files"),
    "exclude": (list, "globs of paths never checked (replaces the defaults)"),
    "extend-exclude": (list, "globs of paths never checked, on top of the defaults"),
    "deployment": (list, "deployment scenarios you ship to: server, mobile, web"),
    "max-file-size-kb": (int, "files larger than this get one informational finding instead of analysis"),
}


class ConfigError(ValueError):
    """A configuration mistake, worded for the user."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    deployment: tuple[str, ...] = ()
    max_file_size_kb: int = 1024
    root: str = "."  # the folder that relative globs are relative to
    source: str | None = None  # the file these settings came from
    _enabled_cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def options(self) -> dict[str, Any]:
        return {"deployment": self.deployment}

    def fingerprint(self) -> str:
        return repr((self.select, self.ignore, self.extend_select, self.per_file_ignores, self.deployment))

    def with_overrides(self, *, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
                       extend_select: Iterable[str] | None = None) -> "Settings":
        changes: dict[str, Any] = {"_enabled_cache": {}}
        if select is not None:
            changes["select"] = tuple(select)
        if ignore is not None:
            changes["ignore"] = self.ignore + tuple(ignore)
        if extend_select is not None:
            changes["extend_select"] = self.extend_select + tuple(extend_select)
        return replace(self, **changes)

    def file_ignores(self, path: str) -> tuple[str, ...]:
        if not self.per_file_ignores:
            return ()
        rel = _relative(path, self.root)
        codes: list[str] = []
        for pattern, ignored in self.per_file_ignores:
            if _glob_match(rel, pattern):
                codes.extend(ignored)
        return tuple(codes)

    def enabled_rules(self, path: str = "<string>") -> list:
        from .rule import all_rules

        extra_ignores = self.file_ignores(path)
        cached = self._enabled_cache.get(extra_ignores)
        if cached is not None:
            return cached
        selected = []
        for code, rule in all_rules().items():
            if is_enabled(code, self.select + self.extend_select, self.ignore + extra_ignores):
                selected.append(rule)
        self._enabled_cache[extra_ignores] = selected
        return selected

    def is_excluded(self, path: str | os.PathLike) -> bool:
        rel = _relative(str(path), self.root)
        parts = PurePath(rel).parts
        for pattern in self.exclude:
            if any(fnmatch.fnmatch(part, pattern) for part in parts) or _glob_match(rel, pattern):
                return True
        return False


def _specificity(selector: str) -> int:
    return 0 if selector.upper() == "ALL" else len(selector)


def _matches(code: str, selector: str) -> bool:
    selector = selector.strip().upper()
    return selector == "ALL" or code.startswith(selector)


def is_enabled(code: str, select: Iterable[str], ignore: Iterable[str]) -> bool:
    """As in ruff: the most specific matching selector wins; on a tie, ignore wins."""
    best_select = max((_specificity(s) for s in select if _matches(code, s)), default=-1)
    best_ignore = max((_specificity(s) for s in ignore if _matches(code, s)), default=-1)
    return best_select >= 0 and best_select > best_ignore


def _relative(path: str, root: str) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _glob_match(rel: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    return (fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(PurePath(rel).name, pattern)
            or fnmatch.fnmatch(rel, pattern + "/*") or rel.startswith(pattern + "/"))


_KIND = {list: "a list", dict: "a table", int: "an integer", str: "a string", bool: "true or false"}


def _string_list(key: str, value: Any, at: Callable[[str], str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{at(key)}: `{key}` must be a list of strings")
    return tuple(value)


def settings_from_table(table: dict[str, Any], root: str = ".", source: str = "<settings>",
                        where: Callable[[str], str] | None = None) -> Settings:
    """Validate one ``[tool.tensorlint]`` table (or LSP settings with the same keys) into Settings. ``where``
    names the place of a key in error messages (``path:line``); by default, ``source``."""
    at = where or (lambda _key: source)
    for key, value in table.items():
        if key not in KNOWN_KEYS:
            known = ", ".join(sorted(KNOWN_KEYS))
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise ConfigError(f"{at(key)}: unknown key `{key}` in [tool.tensorlint]{hint} (known keys: {known})")
        expected, _ = KNOWN_KEYS[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{at(key)}: `{key}` must be {_KIND.get(expected, str(expected))}")
    kwargs: dict[str, Any] = {"root": root, "source": source}
    for key in ("select", "ignore", "extend-select"):
        if key in table:
            kwargs[key.replace("-", "_")] = tuple(c.upper() for c in _string_list(key, table[key], at))
    if "extend-ignore" in table:
        kwargs["ignore"] = kwargs.get("ignore", ()) + tuple(c.upper() for c in _string_list(
            "extend-ignore", table["extend-ignore"], at))
    if "per-file-ignores" in table:
        pairs = []
        for pattern, codes in table["per-file-ignores"].items():
            pairs.append((pattern, tuple(c.upper() for c in _string_list(f"per-file-ignores.{pattern}", codes, at))))
        kwargs["per_file_ignores"] = tuple(pairs)
    if "exclude" in table:
        kwargs["exclude"] = _string_list("exclude", table["exclude"], at)
    if "extend-exclude" in table:
        kwargs["exclude"] = kwargs.get("exclude", DEFAULT_EXCLUDE) + _string_list(
            "extend-exclude", table["extend-exclude"], at)
    if "deployment" in table:
        scenarios = _string_list("deployment", table["deployment"], at)
        unknown = [s for s in scenarios if s not in DEPLOYMENT_SCENARIOS]
        if unknown:
            raise ConfigError(f"{at('deployment')}: unknown deployment scenario {unknown[0]!r} "
                              f"(choose from {', '.join(DEPLOYMENT_SCENARIOS)})")
        kwargs["deployment"] = scenarios
    if "max-file-size-kb" in table:
        kwargs["max_file_size_kb"] = int(table["max-file-size-kb"])
    return Settings(**kwargs)


def load_pyproject(path: str | os.PathLike) -> Settings:
    path = Path(path)
    if tomllib is None:
        raise ConfigError(f"{path}: reading pyproject.toml needs Python 3.11+ (tomllib)")
    try:
        text = path.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    table = data.get("tool", {}).get("tensorlint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.tensorlint] must be a table")
    return settings_from_table(table, root=str(path.parent), source=str(path),
                               where=lambda key: f"{path}:{_key_line(text, key)}")


_TABLE_HEADER = re.compile(r"^\s*\[\s*tool\s*\.\s*tensorlint\s*(?:\.\s*(?P<sub>[^\]]+?)\s*)?\]")


def _key_line(text: str, key: str) -> int:
    """The 1-based line where ``key`` (``per-file-ignores.GLOB`` for one entry) is set in the [tool.tensorlint]
    table of pyproject.toml ``text``; the table's header line when the key's own line cannot be told."""
    name, _, entry = key.partition(".")
    header_line, in_table, subtable = 1, False, None
    for number, line in enumerate(text.splitlines(), 1):
        header = _TABLE_HEADER.match(line)
        if header:
            in_table, subtable = True, (header.group("sub") or "").strip('"\' ')
            if not subtable:
                header_line = number
            elif subtable == name and not entry:
                return number
            continue
        if line.lstrip().startswith("["):
            in_table = False
            continue
        if not in_table:
            continue
        wanted = entry if subtable == name and entry else (None if subtable else name)
        if wanted is not None and re.match(rf"""^\s*["']?{re.escape(wanted)}["']?\s*=""", line):
            return number
    return header_line


def _has_tensorlint_table(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "[tool.tensorlint" in text


def find_pyproject(start: str | os.PathLike) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` that has a ``[tool.tensorlint]`` table (as ruff does)."""
    here = Path(os.path.abspath(start))
    if here.is_file() or not here.exists():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _has_tensorlint_table(candidate):
            return candidate
    return None


def settings_for(path: str | os.PathLike, cache: dict | None = None) -> Settings:
    """The settings that govern ``path`` (its nearest configured pyproject, or the defaults)."""
    pyproject = find_pyproject(path)
    if pyproject is None:
        return Settings(root=os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or "."))
    if cache is not None:
        if pyproject not in cache:
            cache[pyproject] = load_pyproject(pyproject)
        return cache[pyproject]
    return load_pyproject(pyproject)


def settings_with(path: str | os.PathLike, overrides: dict[str, Any], source: str = "editor settings") -> Settings:
    """The settings for ``path`` with ``overrides`` (keys as in ``[tool.tensorlint]``, e.g. an editor's settings)
    merged over the table of the pyproject that governs it; the merged table is validated as one. A ``None`` value
    means "not set in the editor" (clients send null for settings left at their default), so the file decides."""
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if not overrides:
        return settings_for(path)
    pyproject = find_pyproject(path)
    table: dict[str, Any] = {}
    root = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
    if pyproject is not None:
        load_pyproject(pyproject)  # the file's own mistakes are reported against the file
        with open(pyproject, "rb") as handle:
            table = dict(tomllib.load(handle).get("tool", {}).get("tensorlint", {}))
        root = str(pyproject.parent)
    table.update(overrides)
    return settings_from_table(table, root=root, source=f"{pyproject or root} + {source}")
