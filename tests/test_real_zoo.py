"""The real-model zoo in CI: a small, fast subset of benchmarks/real_zoo.py's MODELS (third-party classes and
builders extracted verbatim from pinned wheels), each through `tensorlint verify` (the CLI, one process per model)
at atol = rtol = 1e-4, both directions, CPU always and CUDA when present. The whole zoo runs with
`python benchmarks/real_zoo.py` (table in docs/real-zoo.md).

The wheels are downloaded with pip (cached, git-ignored); these tests skip only when the package index cannot be
reached."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from verify_helpers import devices, verify_json

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import real_zoo  # noqa: E402  (the zoo's one table; stdlib only at import)

BY_NAME = {model.name: model for model in real_zoo.MODELS}

# The CI subset (the fastest models of each direction) and, for those that do not pass yet, why: a strict xfail,
# so a translator fix that makes one pass fails here until its entry is removed.
CI_SUBSET: dict[str, str | None] = {
    "timm-Mlp": None,
    "torchvision-BasicBlock": None,
    "torchvision-Fire": None,
    "keras-hub-TransformerEncoder": None,
    "keras-hub-RMSNormalization": None,
    "keras.applications-VGG16": None,
    "keras.applications-MobileNet": None,
    "keras.applications-MobileNetV2": None,
    "timm-MixerBlock": None,
    "keras-hub-TransformerDecoder": None,
    "torchvision-CNBlock": None,
    "timm-Attention": None,
    # the second zoo: functional convolution, tiling and broadcasting, buffers written in __init__ (BlurPool2d);
    # adaptive pooling to a size known at run time (SelectAdaptivePool2d)
    "timm-BlurPool2d": None,
    "timm-SelectAdaptivePool2d": None,
    # the second zoo, Keras side: sine position encoding and ALiBi bias from keras.ops
    "keras-hub-SinePositionEncoding": None,
    "keras-hub-AlibiBias": None,
}


@pytest.fixture(scope="session")
def wheels():
    """Every pinned wheel downloaded and extracted once (cached between runs)."""
    roots = {}
    for package in real_zoo.WHEELS:
        try:
            roots[package] = real_zoo.wheel_root(package)
        except real_zoo.WheelUnavailable as exc:
            if exc.unreachable:
                pytest.skip(f"the package index cannot be reached to download {package}: {exc}")
            raise
    return roots


@pytest.fixture(params=devices())
def device(request):
    return request.param


def test_zoo_is_big_enough_and_covers_both_directions():
    assert len(BY_NAME) == len(real_zoo.MODELS) >= 24, "model names must be unique"
    by_direction = {direction: [m for m in real_zoo.MODELS if m.direction == direction]
                    for direction in (real_zoo.TORCH_TO_KERAS, real_zoo.KERAS_TO_TORCH)}
    assert all(len(models) >= 8 for models in by_direction.values()), {k: len(v) for k, v in by_direction.items()}
    assert {m.package for m in real_zoo.MODELS} == set(real_zoo.WHEELS)
    assert set(CI_SUBSET) <= set(BY_NAME)
    assert {BY_NAME[name].direction for name in CI_SUBSET} == set(by_direction)


def test_every_entry_names_a_definition_in_its_wheel_with_valid_init_args(wheels):
    from tensorlint.migrations.verify import check_init_args

    for model in real_zoo.MODELS:
        path = wheels[model.package] / model.file
        assert path.is_file(), model
        assert real_zoo.defines(path, model.symbol), model
        if model.init_args is not None:
            check_init_args(model.init_args)


def _ci_cases():
    for name, gap in CI_SUBSET.items():
        marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
        yield pytest.param(name, id=name, marks=marks)


@pytest.mark.parametrize("name", list(_ci_cases()))
def test_real_model_verifies(wheels, name, device):
    model = BY_NAME[name]
    path = wheels[model.package] / model.file
    code, report, stderr = verify_json(*real_zoo.verify_arguments(model, path), "--device", device)
    assert report is not None, stderr
    failures = [run["failure"] for run in report["runs"] if run["failure"]]
    assert not failures, failures
    assert report["passed"] and code == 0, report["outputs"]
    assert report["todos"] == 0, f"{report['todos']} TODOs left"
    assert report["init_args"] == model.init_args


def test_benchmark_writes_the_table(wheels, tmp_path):
    """One command runs translate and verify per model and writes the table with the pass rate per direction."""
    name = "keras-hub-RMSNormalization"
    out = tmp_path / "real-zoo.md"
    completed = subprocess.run([sys.executable, str(BENCHMARKS / "real_zoo.py"), "--only", name, "--out", str(out)],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    table = out.read_text()
    row = next(line for line in table.splitlines() if line.startswith(f"| {name} |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[2] == "keras->torch" and cells[3] == "`input_dim=8`" and cells[4] == "2,5,8"
    assert float(cells[8]) > 0
    passes = CI_SUBSET[name] is None  # what test_real_model_verifies expects of the same model
    assert (cells[5] == "pass") == passes, row
    assert f"| keras->torch | {int(passes)} | 1 | {100 * int(passes)}% |" in table
