"""`tensorlint` command line: engine calls plus a reporter, nothing else."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from typing import Sequence

from ..analyzers.config import check_selectors
from ..analyzers import ConfigError, Settings, all_rules, check_source, decode, fix_source, load_pyproject
from ..analyzers.lines import lines_with_breaks
from ..analyzers.workspace import Job, discover, default_jobs, run_jobs, settings_lookup_factory, FileResult
from ..analyzers.workspace import MISSING, NOTEBOOK_SUFFIXES, SOURCE_SUFFIXES
from . import installed_version, reporters

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _VersionAction(argparse.Action):
    """``--version``, reading the version only when asked (finding it scans every installed distribution)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"tensorlint {installed_version()}")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 2, as argparse does, with our prefix
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"tensorlint: error: {message}\n")


def _codes(value: str) -> list[str]:
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    try:
        check_selectors(codes)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return codes


def _worker_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of worker processes")
    return count


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tensorlint", description="Find PyTorch and TensorFlow/Keras pitfalls; translate and "
                                                    "deploy models.")
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    check = commands.add_parser("check", help="check files for pitfalls")
    check.add_argument("paths", nargs="*", default=None, help="files or folders (default: .)")
    check.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    check.add_argument("--select", type=_codes, help="only these codes or prefixes (comma separated)")
    check.add_argument("--extend-select", type=_codes, help="codes or prefixes added to the selection")
    check.add_argument("--ignore", type=_codes, help="codes or prefixes to skip (comma separated)")
    check.add_argument("--fix", action="store_true", help="apply safe fixes and report what remains")
    check.add_argument("--unsafe-fixes", action="store_true", help="with --fix/--diff, apply unsafe fixes too")
    check.add_argument("--diff", action="store_true", help="print the fixes as a diff; change nothing")
    check.add_argument("--stdin-filename", metavar="NAME", help="read the source from stdin, report it as NAME")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write .tensorlint_cache/")
    check.add_argument("--jobs", "-j", type=_worker_count, default=None, help="worker processes (default: all cores)")
    check.add_argument("--config", metavar="PATH", help="a pyproject.toml to use instead of the nearest one")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply `exclude` to files named on the command line too (for pre-commit)")
    check.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary or progress")
    check.set_defaults(handler=run_check)

    rules = commands.add_parser("rules", help="list rules or show one rule's documentation")
    rules.add_argument("code", nargs="?", help="a rule code, e.g. PT001")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.set_defaults(handler=run_rules)

    # Each further command lives in its own module with `register(commands)`; they import their machinery
    # lazily so `tensorlint check` stays fast.
    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(module, __package__).register(commands)
    return parser


# `.module` names (relative to this package) whose register(commands) adds a subcommand
COMMAND_MODULES: list[str] = [
    ".deploy_command",
    ".translate_command",
    ".serve_command",
    ".verify_command",
]


def _unrecognized(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """argparse's message for arguments nobody took, with the nearest option the command does have."""
    message = f"unrecognized arguments: {' '.join(extras)}"
    options = [option for action in parser._actions for option in action.option_strings]
    for extra in extras:
        close = difflib.get_close_matches(extra.split("=", 1)[0], options, n=1)
        if extra.startswith("-") and close:
            return f"{message} (did you mean {close[0]}?)"
    return message


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        # reported by the command that was given (its usage, its options), not by the top-level parser
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        command = commands.choices.get(args.command, parser) if getattr(args, "command", None) else parser
        command.error(_unrecognized(command, extras))
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"tensorlint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR
    except BrokenPipeError:  # `tensorlint rules | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLEAN


# -- check -------------------------------------------------------------------------------------------------------
def _apply_overrides(settings: Settings, args) -> Settings:
    return settings.with_overrides(select=args.select, ignore=args.ignore, extend_select=args.extend_select)


def _progress(enabled: bool):
    if not enabled:
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
        if done == total:
            sys.stderr.write("\r" + " " * (width + 30) + "\r")
        sys.stderr.flush()

    return show


def _warn_engine_codes(args) -> None:
    """`--ignore TL001` and the like: those are not rules, and saying nothing would look like it worked."""
    from ..analyzers.engine import ENGINE_CODES

    given = [*(args.select or ()), *(args.extend_select or ()), *(args.ignore or ())]
    for code in dict.fromkeys(c for c in given if c.startswith("TL")):
        meaning = ENGINE_CODES.get(code, ("", "not a rule code"))[1]
        print(f"tensorlint: warning: {code} is reported by tensorlint itself, not by a rule; selecting or ignoring "
              f"it has no effect. {meaning}", file=sys.stderr)


def run_check(args) -> int:
    _warn_engine_codes(args)
    config = load_pyproject(args.config) if args.config else None
    lookup = settings_lookup_factory(config)
    unsafe = args.unsafe_fixes

    if args.stdin_filename is not None:
        return _check_stdin(args, lookup, unsafe)

    paths = args.paths or ["."]
    skipped: list[tuple[str, str]] = []
    files = list(discover(paths, lookup, force_exclude=args.force_exclude,
                          suffixes=SOURCE_SUFFIXES + NOTEBOOK_SUFFIXES, skipped=skipped))
    cache_root = None if (args.no_cache or args.fix or args.diff) else os.getcwd()
    jobs = [Job(path, _apply_overrides(lookup(path), args), args.fix, args.diff, unsafe, cache_root)
            for path in files]
    processes = args.jobs if args.jobs else default_jobs()
    show_progress = sys.stderr.isatty() and not args.quiet and len(jobs) > 200
    results = run_jobs(jobs, processes, _progress(show_progress))
    # as ruff: a path that is not there is an error line (exit 2), and every other path is still checked
    results += [FileResult(path, (), problems=(reason,)) for path, reason in skipped if reason == MISSING]
    for path, reason in skipped:
        if reason != MISSING and not args.quiet:
            print(f"{path}: note: {reason}", file=sys.stderr)
    return _finish(args, results)


def _check_stdin(args, lookup, unsafe: bool) -> int:
    name = args.stdin_filename
    settings = _apply_overrides(lookup(name), args)
    data = sys.stdin.buffer.read()
    text, undecodable = decode(data, name)
    if undecodable is not None:
        return _finish(args, [FileResult(name, (undecodable,))])
    notebook = name.endswith(".ipynb")
    if args.fix or args.diff:
        if notebook:  # same contract as fix_source; the notebook's JSON comes back with only the fixed cells changed
            from ..analyzers.notebook import fix_notebook as fixer
        else:
            fixer = fix_source
        new_text, applied, remaining = fixer(text, name, settings, unsafe=unsafe)
        if args.fix:
            sys.stdout.write(new_text)  # as ruff: the fixed source goes to stdout, findings to stderr
            _report(args, [FileResult(name, remaining, (), applied)], sys.stderr, applied)
            return _exit(args, remaining)
        return _finish(args, [FileResult(name, remaining, (), applied, new_text if new_text != text else None, text)])
    if notebook:
        from ..analyzers.notebook import check_notebook, notebook_findings

        result = check_notebook(text, name, settings)
        return _finish(args, [FileResult(name, notebook_findings(result), result.errors)])
    result = check_source(text, name, settings)
    return _finish(args, [FileResult(name, result.findings, result.errors)])


def _exit(args, findings) -> int:
    return EXIT_CLEAN if args.exit_zero or not findings else EXIT_FINDINGS


def _report(args, results: list[FileResult], out, fixed: int) -> None:
    if args.format == "json":
        reporters.report_json(results, out)
    elif args.format == "sarif":
        reporters.report_sarif(results, out, installed_version())
    elif args.format == "github":
        reporters.report_github(results, out)
    else:
        reporters.report_text(results, out, fixed=fixed, summary=not args.quiet)


def _finish(args, results: list[FileResult]) -> int:
    fixed = sum(r.fixed for r in results)
    problems = [f"{r.path}: error: {problem}" for r in results for problem in r.problems]
    for line in problems:
        print(line, file=sys.stderr)
    if args.diff:
        changed = False
        for result in results:
            if result.new_source is not None:
                changed = True
                sys.stdout.writelines(difflib.unified_diff(
                    lines_with_breaks(result.old_source), lines_with_breaks(result.new_source),
                    fromfile=result.path, tofile=result.path))
        if not args.quiet:
            print(f"Would fix {fixed} finding{'s' if fixed != 1 else ''}.", file=sys.stderr)
        if args.exit_zero:
            return EXIT_CLEAN
        return EXIT_ERROR if problems else EXIT_FINDINGS if changed else EXIT_CLEAN
    _report(args, results, sys.stdout, fixed)
    if problems or any(r.errors for r in results):
        return EXIT_ERROR if not args.exit_zero else EXIT_CLEAN
    return _exit(args, [f for r in results for f in r.findings])


# -- rules -------------------------------------------------------------------------------------------------------
def run_rules(args) -> int:
    from ..analyzers.engine import ENGINE_CODES

    rules = all_rules()
    if args.code:
        rule = rules.get(args.code.upper())
        if rule is None and args.code.upper() in ENGINE_CODES:
            code = args.code.upper()
            name, meaning = ENGINE_CODES[code]
            if args.format == "json":
                print(json.dumps({"code": code, "name": name, "severity": "error", "fixable": False,
                                  "summary": meaning, "documentation": meaning}, indent=2))
            else:
                print(f"# {name} ({code})\n\nReported by tensorlint itself, not by a rule: no selection or `--ignore` "
                      f"turns it off.\n\n{meaning}")
            return EXIT_CLEAN
        if rule is None:
            print(f"tensorlint: error: unknown rule {args.code!r}", file=sys.stderr)
            return EXIT_ERROR
        if args.format == "json":
            print(json.dumps(_rule_json(rule) | {"documentation": rule.documentation()}, indent=2))
        else:
            fix = " (fix available)" if rule.fixable else ""
            print(f"# {rule.name} ({rule.code})\n\nSeverity: {rule.severity}{fix}\n\n{rule.documentation()}")
        return EXIT_CLEAN
    if args.format == "json":
        print(json.dumps([_rule_json(r) for r in rules.values()], indent=2))
    else:
        for rule in rules.values():
            fix = "[*]" if rule.fixable else "   "
            print(f"{rule.code} {fix} {str(rule.severity):<7}  {rule.name:<36} {rule.summary()}")
    return EXIT_CLEAN


def _rule_json(rule) -> dict:
    return {"code": rule.code, "name": rule.name, "severity": str(rule.severity), "fixable": rule.fixable,
            "summary": rule.summary()}


if __name__ == "__main__":
    sys.exit(main())
