import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: str | os.PathLike | None = None, stdin: str | bytes | None = None,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real `tensorlint` entry point in a subprocess (the public surface)."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([sys.executable, "-m", "tensorlint.server", *args], cwd=cwd, input=data,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def repo_root() -> Path:
    return REPO
