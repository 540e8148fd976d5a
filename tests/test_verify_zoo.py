"""The model zoo: every model passes `tensorlint verify` (the CLI, one subprocess per model) at atol = rtol = 1e-4,
torch -> keras and keras -> torch, on CPU always and on CUDA when present."""

from __future__ import annotations

import ast

import pytest

from verify_helpers import ZOO, devices, verify_json

TOLERANCE = 1e-4


def _zoo(name: str) -> dict[str, list[str]]:
    """The ZOO table of a zoo file, read without importing the file (no torch/keras at collection time)."""
    tree = ast.parse((ZOO / name).read_text())
    table = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], "id", None) == "ZOO")
    return ast.literal_eval(table)


# Known translation gaps: strict xfails, so closing a gap turns its entry into a failure to remove.
GAPS: dict[tuple[str, str], str] = {}


def _cases():
    for file, to in (("torch_zoo.py", "keras"), ("keras_zoo.py", "torch"), ("keras_spellings.py", "torch")):
        for symbol, flags in _zoo(file).items():
            gap = GAPS.get((file, symbol))
            marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
            yield pytest.param(file, symbol, to, flags, id=f"{symbol}-to-{to}", marks=marks)


@pytest.fixture(params=devices())
def device(request):
    return request.param


@pytest.mark.parametrize("file,symbol,to,flags", list(_cases()))
def test_zoo_model_verifies(file, symbol, to, flags, device):
    code, report, stderr = verify_json(f"{ZOO / file}:{symbol}", "--to", to, *flags, "--device", device,
                                       "--atol", str(TOLERANCE), "--rtol", str(TOLERANCE))
    assert report is not None, stderr
    failures = [run["failure"] for run in report["runs"] if run["failure"]]
    assert not failures, failures
    assert report["passed"] and code == 0, report["outputs"]
    assert report["device"] == device and report["outputs"]
    assert all(output["passed"] for output in report["outputs"]), report["outputs"]


def test_zoo_is_big_enough():
    """At least ten models each way that are expected to pass (known gaps not counted)."""
    for file in ("torch_zoo.py", "keras_zoo.py"):
        assert len([symbol for symbol in _zoo(file) if (file, symbol) not in GAPS]) >= 10, file
