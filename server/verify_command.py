"""`tensorlint verify FILE:SYMBOL --to keras|torch --input-shape 2,3,32,32 [...]`: translate, run both, compare."""

from __future__ import annotations

import argparse
import json
import sys

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


def _shape(value: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in value.replace(" ", "").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated sizes such as 2,3,32,32, got {value!r}") from None
    if not shape or any(size <= 0 for size in shape):
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {value!r}")
    return shape


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


def _tolerance(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 1e-4, got {value!r}") from None
    if not number >= 0:
        raise argparse.ArgumentTypeError(f"tolerances are >= 0, got {value!r}")
    return number


def register(commands) -> None:
    from ..migrations.verify import DEVICES, DTYPES  # stdlib-only module: torch/keras load when verify runs

    parser = commands.add_parser(
        "verify", help="translate a model and prove the translation numerically (runs your code)",
        description="Translate SYMBOL, build the original and the translation with --init-args (default: their "
                    "default constructor arguments), randomise every weight of the original (norm statistics "
                    "included), copy them with the generated copy_weights, run both in inference mode on the same "
                    "random input and compare every output. Exit 0 pass, 1 fail, 2 usage error. Needs torch and keras: "
                    "pip install 'tensorlint[verify]'.")
    parser.add_argument("target", metavar="FILE:SYMBOL")
    parser.add_argument("--to", choices=("keras", "torch"), required=True, help="the framework to translate to")
    parser.add_argument("--input-shape", type=_shape, action="append", required=True, metavar="N,C,H,W",
                        help="the input's shape, batch included (repeat for models taking several inputs)")
    parser.add_argument("--dtype", choices=DTYPES,
                        help="input dtype (default: int64 when the model has an Embedding, else float32)")
    parser.add_argument("--high", type=_positive_int, metavar="N",
                        help="integer inputs are drawn from [0, N) (default: the smallest Embedding vocabulary)")
    parser.add_argument("--device", choices=DEVICES, default="cpu",
                        help="cpu (default); cuda: PyTorch on CUDA, Keras on TensorFlow's GPU or else on the torch "
                             "backend; all: cpu, then cuda when present")
    parser.add_argument("--atol", type=_tolerance, default=1e-4, help="absolute tolerance (default 1e-4)")
    parser.add_argument("--rtol", type=_tolerance, default=1e-4, help="relative tolerance (default 1e-4)")
    parser.add_argument("--layout", choices=("preserve", "native"), default="preserve",
                        help="the translation's layout (native changes the input layout, so preserve is what "
                             "verify can compare on one input)")
    parser.add_argument("--translation", metavar="PATH",
                        help="verify this (e.g. hand-edited) module from `tensorlint translate` instead of a fresh "
                             "translation")
    parser.add_argument("--init-args", metavar="EXPR",
                        help="the constructor's (or builder's) arguments as Python source, e.g. \"BasicBlock, "
                             "[2, 2, 2, 2], num_classes=10\"; evaluated in each side's own module, so BasicBlock "
                             "is the original class for the original and the translated one for the translation "
                             "(default: no arguments)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run_verify)


def _fail(message: str) -> int:
    print(f"tensorlint: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def run_verify(args) -> int:
    from ..migrations.verify import VerifyUsageError, verify

    path, sep, symbol = args.target.rpartition(":")
    if not sep or not path or not symbol.isidentifier():
        return _fail(f"expected FILE:SYMBOL, got {args.target!r}")
    try:
        report = verify(path, symbol, args.to, args.input_shape, dtype=args.dtype, high=args.high,
                        device=args.device, atol=args.atol, rtol=args.rtol, layout=args.layout,
                        translation_path=args.translation, init_args=args.init_args)
    except VerifyUsageError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted")
    if args.format == "json":
        print(json.dumps(report.as_json(), indent=2))
    else:
        _print_text(report, args)
    return EXIT_PASS if report.passed else EXIT_FAIL


def _print_text(report, args) -> None:
    write = sys.stdout.write
    built = f", built as {report.symbol}({report.init_args})" if report.init_args is not None else ""
    write(f"{args.target} ({report.direction}, layout {args.layout}, atol {args.atol:g}, rtol {args.rtol:g}, "
          f"{report.todos} TODO{'s' if report.todos != 1 else ''}{built})\n")
    for result in report.results:
        high = f" below {result.input_high}" if result.input_high is not None else ""
        write(f"{result.device} (Keras backend {result.keras_backend}, {result.input_dtype} input{high}):\n")
        for index, output in enumerate(result.outputs):
            verdict = "PASS" if output.passed else "FAIL"
            if output.missing_in:
                write(f"  output {index} {list(output.shape)}: the {output.missing_in} returns no such output  "
                      f"{verdict}\n")
                continue
            if output.expected_shape is not None:
                write(f"  output {index}: shape {list(output.shape)} but the original gives "
                      f"{list(output.expected_shape)}  {verdict}\n")
                continue
            write(f"  output {index} {list(output.shape)}: max abs diff {output.max_abs_diff:.3g}, "
                  f"max rel diff {output.max_rel_diff:.3g}  {verdict}\n")
        if result.failure:
            write(f"  FAIL: {result.failure}\n")
        timing = ", ".join(f"{name} {seconds * 1000:.1f} ms" for name, seconds in result.timing.items())
        write(f"  timing: {timing}\n")
    for skipped in report.skipped:
        write(f"{skipped} (skipped)\n")
    if report.passed:
        write(f"PASS: {report.symbol} and its translation agree\n")
    elif any(result.failure for result in report.results):
        todos = f" (it has {report.todos} TODO{'s' if report.todos != 1 else ''})" if report.todos else ""
        write(f"FAIL: the translation of {report.symbol} could not be compared{todos}\n")
    else:
        write(f"FAIL: {report.symbol} and its translation differ\n")
