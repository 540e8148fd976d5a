"""The analysis engine (ground floor): ``str`` in, frozen dataclasses out. Imports no LSP and no framework."""

from .config import ConfigError, Settings, find_pyproject, load_pyproject, settings_for, settings_from_table
from .engine import SYNTAX_ERROR, UNDECODABLE, CheckResult, check_source, decode, parse
from .findings import Edit, Finding, Fix, Position, Range, Severity
from .fixes import apply_edits, apply_fixes, fix_source
from .rule import Invalid, Rule, all_rules

__all__ = [
    "CheckResult", "ConfigError", "Edit", "Finding", "Fix", "Invalid", "Position", "Range", "Rule", "SYNTAX_ERROR",
    "Settings", "Severity", "UNDECODABLE", "all_rules", "apply_edits", "apply_fixes", "check_source", "decode",
    "find_pyproject", "fix_source", "load_pyproject", "parse", "settings_for", "settings_from_table",
]
