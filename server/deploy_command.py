"""`tensorlint deploy`: which deployment paths each model can take today, what blocks the others, and how to
export it (the advisor's verdicts plus a text or json reporter)."""

from __future__ import annotations

import json
import sys
import textwrap

EXIT_CLEAN, EXIT_BLOCKED, EXIT_ERROR = 0, 1, 2


def _scenarios(value: str) -> list[str]:
    import argparse

    from ..analyzers.config import DEPLOYMENT_SCENARIOS

    names = [s.strip().lower() for s in value.split(",") if s.strip()]
    for name in names:
        if name not in DEPLOYMENT_SCENARIOS:
            raise argparse.ArgumentTypeError(
                f"unknown scenario {name!r} (choose from {', '.join(DEPLOYMENT_SCENARIOS)})")
    return names


def register(commands) -> None:
    deploy = commands.add_parser(
        "deploy", help="per model: which deployment targets it can reach, the lines that block the others, "
                       "and an export snippet for each scenario")
    deploy.add_argument("paths", nargs="*", default=None, help="files or folders (default: .)")
    deploy.add_argument("--scenario", type=_scenarios, action="append", metavar="SCENARIO",
                        help="server, mobile or web (repeat or comma-separate; default: `deployment` from "
                             "[tool.tensorlint], else all three)")
    deploy.add_argument("--format", choices=("text", "json"), default="text")
    deploy.add_argument("--config", metavar="PATH", help="a pyproject.toml to use instead of the nearest one")
    deploy.set_defaults(handler=run_deploy)


def run_deploy(args) -> int:
    from ..analyzers import decode, load_pyproject
    from ..analyzers.config import DEPLOYMENT_SCENARIOS
    from ..analyzers.deployment import BLOCKED, advise
    from ..analyzers.workspace import discover, settings_lookup_factory

    config = load_pyproject(args.config) if args.config else None
    lookup = settings_lookup_factory(config)
    requested = [s for group in (args.scenario or []) for s in group]
    try:
        files = list(discover(args.paths or ["."], lookup))
    except FileNotFoundError as exc:
        print(f"tensorlint: error: no such file or directory: {exc.args[0]}", file=sys.stderr)
        return EXIT_ERROR

    results = []  # (path, Advice, declared scenarios)
    failed = False
    for path in files:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            failed = True
            continue
        text, undecodable = decode(data, path)
        if undecodable is not None:
            print(f"{path}: {undecodable.message}", file=sys.stderr)
            failed = True
            continue
        declared = tuple(dict.fromkeys(requested)) or lookup(path).deployment
        advice = advise(text, path, declared or DEPLOYMENT_SCENARIOS)
        if advice.error:
            print(f"{path}: {advice.error}; not analysed", file=sys.stderr)
            failed = True
            continue
        results.append((path, advice, declared))

    if args.format == "json":
        models = [model_json(model, path) for path, advice, _ in results for model in advice.models]
        json.dump(models, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        report_text(results, sys.stdout)

    if failed:
        return EXIT_ERROR
    # exit 1 when a declared scenario has no path for some model, so CI can gate on it
    blocked = any(r.status == BLOCKED for _, advice, declared in results if declared
                  for model in advice.models for r in model.recommendations)
    return EXIT_BLOCKED if blocked else EXIT_CLEAN


def model_json(model, path: str) -> dict:
    """The issue's contract (1-based rows and columns, as `tensorlint check --format json`), extended with
    `filename` so a run over several files says where each model lives."""
    return {
        "name": model.name,
        "filename": path,
        "framework": model.framework,
        "location": {"row": model.line, "column": model.column + 1},
        "targets": {
            verdict.target: {
                "status": verdict.status,
                "blockers": [{"row": b.line, "column": b.column + 1, "message": b.message}
                             for b in verdict.blockers],
            }
            for verdict in model.targets
        },
        "recommendations": [
            {"scenario": r.scenario, "target": r.target, "status": r.status, "why": r.why, "snippet": r.snippet}
            for r in model.recommendations
        ],
    }


def report_text(results, out) -> None:
    if not any(advice.models for _, advice, _ in results):
        out.write("No models found (nn.Module / keras.Model / keras.layers.Layer subclasses, or functions that "
                  "return a Keras model).\n")
        return
    for path, advice, declared in results:
        for model in advice.models:
            _model_text(path, model, declared, out)


def _model_text(path, model, declared, out) -> None:
    kind = f"Keras {model.kind}" if model.kind == "builder function" else model.kind
    out.write(f"{path}:{model.line}:{model.column + 1}: {model.name} ({kind})\n")
    width = max(len(v.label) for v in model.targets)
    reasons: dict[tuple[int, str], list[str]] = {}  # one line per reason, naming the targets it affects
    for verdict in model.targets:
        lines = sorted({b.line for b in verdict.blockers})
        shown = ", ".join(map(str, lines))
        if model.framework == "pytorch" and verdict.target == "torchscript":
            shown = (shown + "; " if shown else "") + "legacy: torch.jit is deprecated in favour of torch.export"
        out.write(f"  {verdict.label:<{width}}  {verdict.status:<7}  {shown}".rstrip() + "\n")
        for blocker in verdict.blockers:
            reasons.setdefault((blocker.line, blocker.message), []).append(f"{verdict.label} {verdict.status}")
    for (line, message), targets in sorted(reasons.items()):
        text = f"line {line}: {message} [{', '.join(targets)}]"
        out.write(textwrap.fill(text, 116, initial_indent="    ", subsequent_indent="      ", break_on_hyphens=False) + "\n")
    label = "declared" if declared else "all scenarios; declare yours with `deployment` in [tool.tensorlint]"
    out.write(f"  Recommended ({label}):\n")
    for rec in model.recommendations:
        out.write(textwrap.fill(f"{rec.scenario}: {rec.label} ({rec.status}): {rec.why}", 116,
                                initial_indent="    ", subsequent_indent="      ", break_on_hyphens=False) + "\n")
        if rec.status != "blocked":
            out.write(textwrap.indent(rec.snippet, "      | ", lambda line: True))
    out.write("\n")
