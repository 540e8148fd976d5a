"""How much of real model code the static shape engine (analyzers/shapes.py) follows, and its SH findings.

    .venv/bin/python benchmarks/shape_coverage.py FOLDER [FOLDER ...]

For the ``.py`` files under the folders: how many layer applications the shape flow followed, how many of them
with every input size known (an example input or a Keras ``Input`` fixed them), and the problems it found (each one
an SH finding), listed with their place. Notebooks are left out (``tensorlint check`` reads them).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import libcst as cst

from tensorlint.analyzers.frameworks import ImportTable
from tensorlint.analyzers.parsing import parse_module
from tensorlint.analyzers.positions import node_ranges
from tensorlint.analyzers.shapes import Shape, analyze


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args()
    files = applied = concrete = with_shapes = 0
    seconds = 0.0
    problems = []
    for folder in args.folders:
        for path in sorted(folder.rglob("*.py") if folder.is_dir() else [folder]):
            try:
                source = path.read_text(encoding="utf-8")
                module = parse_module(source)
            except (UnicodeDecodeError, cst.ParserSyntaxError, RecursionError, OSError):
                continue
            if "torch" not in source and "keras" not in source:
                continue
            files += 1
            imports = ImportTable()
            imports.collect(module.body)
            start = time.perf_counter()
            analysis = analyze(module, imports, source)
            seconds += time.perf_counter() - start
            nodes = {id(a.node): a for a in analysis.applied}
            applied += len(nodes)
            with_shapes += bool(nodes)
            concrete += sum(1 for a in nodes.values() if isinstance(a.input, Shape) and not a.input.open
                            and a.input.dims and all(isinstance(d, int) for d in a.input.dims))
            if analysis.problems:
                ranges = node_ranges(module, [p.node for p in analysis.problems])
                problems.extend(f"{path}:{ranges[p.node].start.line}: {p.kind}: {p.message}"
                                for p in analysis.problems)
    print(f"{files} files with torch/keras code, {with_shapes} with layer applications followed")
    print(f"{applied} layer applications followed, {concrete} with every input size known")
    print(f"{len(problems)} problems (SH findings); analysis time {seconds:.1f} s")
    for line in problems:
        print("  " + line)


if __name__ == "__main__":
    sys.exit(main())
