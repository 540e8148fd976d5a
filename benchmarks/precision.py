"""Precision of the rule catalog on real model code (issue #5, item 4).

    python benchmarks/precision.py run /work/corpus/transformers /work/corpus/timm /work/corpus/keras_hub /work/corpus/torchvision --out /tmp/findings.json    # every finding of every rule
    python benchmarks/precision.py sample /tmp/findings.json --per-rule 15      # findings to review, with code
    python benchmarks/precision.py table /tmp/findings.json [more.json ...] --verdicts benchmarks/precision_verdicts.json

The corpus is a folder of third-party ``.py`` files and ``.ipynb`` notebooks (checked cell by cell) (never committed). ``run`` checks each file with all rules
(two processes); ``sample`` draws a seeded random sample per rule and prints each finding with the lines around
it; ``table`` joins the counts with the reviewer's verdicts (``{"CODE": {"path:line": true|false}}``, true = the
finding is right) into the Markdown table of benchmarks/precision.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def _check(path: str) -> list[dict]:
    from tensorlint.analyzers import Settings, check_source
    from tensorlint.analyzers.notebook import NOTEBOOK_SUFFIX, check_notebook, notebook_findings

    try:
        source = Path(path).read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return []
    if path.endswith(NOTEBOOK_SUFFIX):
        result = check_notebook(source, path, Settings())
        findings, errors = notebook_findings(result), result.errors
    else:
        result = check_source(source, path, Settings())
        findings, errors = result.findings, result.errors
    # TL001 (syntax error) counts: a cell that IPython runs must not be reported as broken
    return [{"code": f.code, "path": path, "line": f.range.start.line, "message": f.message,
             "severity": f.severity.value if hasattr(f.severity, "value") else str(f.severity),
             "fixable": f.fix is not None, **({"cell": f.cell} if getattr(f, "cell", None) else {})}
            for f in findings if not f.code.startswith("TL") or f.code == "TL001"] + \
           [{"code": "CRASH", "path": path, "line": 0, "message": e, "severity": "error", "fixable": False}
            for e in errors]


def _where(finding: dict) -> str:
    """``path:line``, or ``path:cellN:line`` for a finding in a notebook cell (the key of the verdicts file)."""
    cell = finding.get("cell")
    return f"{finding['path']}:cell{cell}:{finding['line']}" if cell else f"{finding['path']}:{finding['line']}"


def _lines(corpus: Path, finding: dict) -> list[str]:
    text = (corpus / finding["path"]).read_text(encoding="utf-8")
    if finding.get("cell"):
        from tensorlint.analyzers.notebook import read_notebook

        return read_notebook(text).cells[finding["cell"] - 1].source.splitlines()
    return text.splitlines()


def run(folders: list[Path], out: Path, jobs: int) -> None:
    corpus = Path(os.path.commonpath([str(f.resolve()) for f in folders]))
    files = sorted(str(p) for folder in folders for pattern in ("*.py", "*.ipynb")
                   for p in folder.resolve().rglob(pattern) if ".ipynb_checkpoints" not in p.parts)
    findings: list[dict] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for chunk in pool.map(_check, files, chunksize=16):
            findings.extend(chunk)
    for finding in findings:
        finding["path"] = str(Path(finding["path"]).relative_to(corpus))
    out.write_text(json.dumps({"corpus": str(corpus), "files": len(files), "findings": findings}, indent=1))
    counts = Counter(f["code"] for f in findings)
    print(f"{len(files)} files, {len(findings)} findings")
    for code, count in sorted(counts.items()):
        print(f"  {code}: {count}")


def _sample(findings: list[dict], per_rule: int, seed: int) -> dict[str, list[dict]]:
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for finding in findings:
        by_rule[finding["code"]].append(finding)
    rng = random.Random(seed)
    return {code: (items if len(items) <= per_rule else rng.sample(items, per_rule))
            for code, items in sorted(by_rule.items())}


def sample(data: dict, per_rule: int, seed: int, only: str | None, context: int) -> None:
    corpus = Path(data["corpus"])
    for code, items in _sample(data["findings"], per_rule, seed).items():
        if only and not code.startswith(only):
            continue
        for finding in items:
            lines = _lines(corpus, finding)
            start, line = max(0, finding["line"] - 1 - context), finding["line"] - 1
            print(f"=== {code} {_where(finding)}  {finding['message']}")
            for number in range(start, min(len(lines), line + context + 1)):
                print(f"{'>' if number == line else ' '}{number + 1:5d} {lines[number]}")


def table(runs: list[dict], verdicts: dict) -> None:
    from tensorlint.analyzers import all_rules

    rules = all_rules()
    counts = Counter(f["code"] for data in runs for f in data["findings"])
    print("| rule | severity | findings on corpus | reviewed | right | precision |")
    print("|---|---|---|---|---|---|")
    for code, rule in rules.items():
        reviewed = verdicts.get(code, {})
        right = sum(1 for v in reviewed.values() if v)
        precision = f"{right / len(reviewed):.0%}" if reviewed else "n/a"
        severity = rule.severity.value if hasattr(rule.severity, "value") else str(rule.severity)
        print(f"| {code} {rule.name} | {severity} | {counts.get(code, 0)} | {len(reviewed)} | {right} | {precision} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run")
    run_parser.add_argument("corpus", type=Path, nargs="+", help="folders of .py files and .ipynb notebooks")
    run_parser.add_argument("--out", type=Path, required=True)
    run_parser.add_argument("--jobs", type=int, default=2)
    sample_parser = commands.add_parser("sample")
    sample_parser.add_argument("findings", type=Path)
    sample_parser.add_argument("--per-rule", type=int, default=15)
    sample_parser.add_argument("--seed", type=int, default=0)
    sample_parser.add_argument("--only", help="rule code prefix")
    sample_parser.add_argument("--context", type=int, default=4)
    table_parser = commands.add_parser("table")
    table_parser.add_argument("findings", type=Path, nargs="+", help="one or more outputs of `run`")
    table_parser.add_argument("--verdicts", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "run":
        missing = [str(folder) for folder in args.corpus if not folder.is_dir()]
        if missing:
            print(f"error: not a folder: {', '.join(missing)}", file=sys.stderr)
            return 2
        run(args.corpus, args.out, args.jobs)
    elif args.command == "sample":
        sample(json.loads(args.findings.read_text()), args.per_rule, args.seed, args.only, args.context)
    else:
        table([json.loads(path.read_text()) for path in args.findings], json.loads(args.verdicts.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
