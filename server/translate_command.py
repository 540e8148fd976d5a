"""`tensorlint translate FILE:SYMBOL|FILE:LINE --to keras|torch [--layout preserve|native] [-o OUT]`."""

from __future__ import annotations

import os
import sys

EXIT_CLEAN, EXIT_ERROR = 0, 2


def register(commands) -> None:
    parser = commands.add_parser(
        "translate", help="translate a model, Sequential or layer call between PyTorch and Keras",
        description="Print (or write) one self-contained module: imports, the translated SYMBOL under the same "
                    "name, and copy_weights(source, target). FILE:LINE translates the layer call on that line.")
    parser.add_argument("target", metavar="FILE:SYMBOL|FILE:LINE")
    parser.add_argument("--to", choices=("keras", "torch"), required=True, help="the framework to translate to")
    parser.add_argument("--layout", choices=("preserve", "native"), default="preserve",
                        help="preserve (default): same input layout as the source; native: idiomatic target "
                             "layout (inputs must be transposed)")
    parser.add_argument("-o", "--output", metavar="OUT", help="write the module here instead of stdout")
    parser.add_argument("--init-args", metavar="EXPR",
                        help="the arguments SYMBOL will be built with, as Python argument source (e.g. "
                             "\"include_top=False, classes=10\"): names they mention are translated too, and a "
                             "Keras builder's ifs on its arguments are decided with them instead of its defaults")
    parser.set_defaults(handler=run_translate)


def _fail(message: str) -> int:
    print(f"tensorlint: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def run_translate(args) -> int:
    from ..analyzers import decode
    from ..migrations.translate import TranslationError, translate_line, translate_symbol

    path, sep, what = args.target.rpartition(":")
    if not sep or not path or not what:
        return _fail(f"expected FILE:SYMBOL or FILE:LINE, got {args.target!r}")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return _fail(f"no such file: {path}")
    except OSError as exc:
        return _fail(f"cannot read {path}: {exc.strerror}")
    text, undecodable = decode(data, path)
    if undecodable is not None:
        return _fail(f"{path}: {undecodable.message}")
    broken = _syntax_error(text, path)
    if broken is not None:  # reported as `check` reports it: the same line, column and message
        return _fail(f"{path}:{broken.range.start.line}:{broken.range.start.column + 1}: {broken.message}")
    try:
        if what.isdigit():
            translation = translate_line(text, int(what), args.to, args.layout)
        else:
            also = ()
            if args.init_args is not None:
                from ..migrations.verify import VerifyUsageError, check_init_args, names_in

                try:
                    check_init_args(args.init_args)
                except VerifyUsageError as exc:
                    return _fail(str(exc))
                also = tuple(sorted(names_in(args.init_args)))
            translation = translate_symbol(text, what, args.to, args.layout, origin=os.path.basename(path), path=path,
                                           also=also, init_args=args.init_args)
        module = translation.module_text()
    except TranslationError as exc:
        return _fail(f"{path}: {exc}")
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(module)
        except OSError as exc:
            return _fail(f"cannot write {args.output}: {exc.strerror}")
    else:
        sys.stdout.write(module)
    _summary(args, translation, what)
    return EXIT_CLEAN


def _syntax_error(text: str, path: str):
    """The engine's TL001 finding for ``text``, or None when it parses."""
    from ..analyzers import Settings, check_source

    findings = check_source(text, path, Settings(select=())).findings  # no rules: only the parse is checked
    return findings[0] if findings else None


def _summary(args, translation, what: str) -> None:
    where = f" -> {args.output}" if args.output else ""
    todos = translation.todos
    subject = f"the call on line {what}" if what.isdigit() else what
    print(f"Translated {subject} ({translation.direction}, layout {args.layout}){where}: "
          f"{todos} TODO{'s' if todos != 1 else ''}, {len(translation.notes)} note"
          f"{'s' if len(translation.notes) != 1 else ''}.", file=sys.stderr)
    for note in translation.notes:
        print(f"  note: {note}", file=sys.stderr)
    if todos:
        print("  search the output for '# TODO(tensorlint):'", file=sys.stderr)
