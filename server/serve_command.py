"""`tensorlint serve`: run the language server (stdio by default)."""

from __future__ import annotations

import re


def _address(value: str) -> str:
    import argparse

    if not re.fullmatch(r"[^\s:]*:\d{1,5}", value) or not 0 < int(value.rpartition(":")[2]) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT (e.g. 127.0.0.1:2087), got {value!r}")
    return value


def register(commands) -> None:
    serve = commands.add_parser("serve", help="run the language server (LSP over stdio, or TCP with --tcp)")
    serve.add_argument("--tcp", type=_address, metavar="HOST:PORT", help="listen on a TCP address instead of stdio")
    serve.add_argument("--stdio", action="store_true", help="speak LSP over stdin/stdout (the default)")
    serve.set_defaults(handler=run_serve)


def run_serve(args) -> int:
    import logging
    import sys

    from .launch import loading

    with loading():
        from .lsp import serve

    # stdout carries the protocol: anything logged goes to stderr
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(name)s: %(message)s")
    return serve(args.tcp)
