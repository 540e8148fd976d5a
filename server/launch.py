"""The `tensorlint` command's entry point: the command line imported with Python's cyclic collector off.

Starting up creates about 10^5 objects that live as long as the process (lsprotocol's ~560 classes, pygls,
libcst's node types, the rules); CPython 3.11's collector would scan them again and again while they load,
freeing nothing: ~15% of the server's start. Once loaded they are frozen out of later collections (``gc.freeze``),
which then scan only what the running command allocates.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def loading() -> Iterator[None]:
    """Imports made with the collector off; what they created is frozen afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def main() -> int:
    with loading():
        from .cli import main as run_command
    return run_command()
