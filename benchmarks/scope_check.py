"""Which rules can see one top-level statement at a time: compare each rule's findings on real code when it runs
as a module-scope rule (one instance for the whole walk) and as a statement-scope rule (a fresh instance per
top-level statement; see ``Rule.scope``).

    python benchmarks/scope_check.py PATHS... [--jobs N]

A rule that is statement-scope in the catalog should lose nothing here; one that is module-scope shows what it
would lose. Prints, per rule, findings as module / as statement / lost / gained.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import sys
from pathlib import Path

from tensorlint.analyzers import Settings, check_source
from tensorlint.analyzers.rule import MODULE_SCOPE, STATEMENT_SCOPE, all_rules


def _candidates() -> dict[str, type]:
    return {code: cls for code, cls in all_rules().items()
            if not (hasattr(cls, "visit_Module") or hasattr(cls, "leave_Module"))}


def _check(path: str) -> tuple[set, set]:
    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set(), set()
    settings = Settings()
    results = []
    for scope in (MODULE_SCOPE, STATEMENT_SCOPE):
        for cls in _candidates().values():
            cls.scope = scope
        found = check_source(source, path, settings).findings
        results.append({(path, f.code, f.range.start.line, f.range.start.column, f.message) for f in found})
    return results[0], results[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--show", type=int, default=3, help="lost findings to print per rule")
    args = parser.parse_args(argv)
    files = sorted(str(p) for root in args.paths for p in ([Path(root)] if Path(root).is_file()
                                                          else Path(root).rglob("*.py")))
    as_module: set = set()
    as_statement: set = set()
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        for module_found, statement_found in pool.map(_check, files, chunksize=8):
            as_module |= module_found
            as_statement |= statement_found
    counts = collections.Counter(f[1] for f in as_module)
    counts_statement = collections.Counter(f[1] for f in as_statement)
    lost = collections.defaultdict(list)
    for finding in as_module - as_statement:
        lost[finding[1]].append(finding)
    gained = collections.Counter(f[1] for f in as_statement - as_module)
    print(f"{len(files)} files")
    print("| rule | as module | as statement | lost | gained |")
    print("|---|---:|---:|---:|---:|")
    for code in sorted(_candidates()):
        print(f"| {code} | {counts[code]} | {counts_statement[code]} | {len(lost[code])} | {gained[code]} |")
    for code, findings in sorted(lost.items()):
        for path, _, line, column, message in sorted(findings)[: args.show]:
            print(f"lost {code} {path}:{line}:{column} {message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
