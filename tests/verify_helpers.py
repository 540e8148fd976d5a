"""Running `tensorlint verify` as a user does: the installed console script in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ZOO = Path(__file__).parent / "zoo"


def tensorlint_command() -> list[str]:
    script = Path(sys.executable).with_name("tensorlint")
    return [str(script)] if script.exists() else [shutil.which("tensorlint") or "tensorlint"]


def run_cli(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run([*tensorlint_command(), *args], capture_output=True, text=True, env=environment,
                          timeout=timeout)


def verify_json(*args: str, env: dict | None = None) -> tuple[int, dict | None, str]:
    completed = run_cli("verify", *args, "--format", "json", env=env)
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        report = None
    return completed.returncode, report, completed.stderr


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def devices():
    """`cpu` always; `cuda` when torch sees a GPU (skipped with the reason otherwise)."""
    return ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not cuda_available(),
                                                                 reason="no CUDA device visible to torch"))]
