"""The translate sweep in CI: a fixed, cheap subset of benchmarks/translate_sweep.py (a few files per pinned wheel),
where every translatable symbol's `tensorlint translate` output must parse and import exactly as printed. The whole
sweep runs with `python benchmarks/translate_sweep.py` (figures in docs/translate-sweep.md).

The wheels are downloaded with pip (cached, git-ignored); this test skips only when the package index cannot be
reached."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import translate_sweep  # noqa: E402  (stdlib only at import)
from real_zoo import WheelUnavailable, wheel_root  # noqa: E402

CI_FILES = {
    "torchvision": {"torchvision/models/resnet.py", "torchvision/models/squeezenet.py",
                    "torchvision/models/detection/anchor_utils.py"},
    "timm": {"timm/layers/mlp.py", "timm/models/mlp_mixer.py"},
    "keras-hub": {"keras_hub/src/layers/modeling/transformer_encoder.py",
                  "keras_hub/src/layers/modeling/position_embedding.py",
                  "keras_hub/src/models/blip2/blip2_qformer.py"},
    "keras": {"keras/src/applications/vgg16.py", "keras/src/applications/densenet.py",
              "keras/src/applications/nasnet.py", "keras/src/applications/inception_resnet_v2.py"},
}


@pytest.fixture(scope="module")
def wheels():
    for package in CI_FILES:
        try:
            wheel_root(package)
        except WheelUnavailable as exc:
            if exc.unreachable:
                pytest.skip(f"the package index cannot be reached to download {package}: {exc}")
            raise


def test_every_symbol_of_the_ci_files_translates_to_a_module_that_parses_and_imports(wheels):
    results = translate_sweep.sweep(list(CI_FILES), translate_sweep.DEFAULT_CACHE, None, 120.0, echo=lambda line: None,
                                    only_files=CI_FILES)
    files = {(r.case.package, r.case.file) for r in results}
    assert files == {(package, file) for package, chosen in CI_FILES.items() for file in chosen}, \
        "every CI file lists at least one translatable symbol"
    assert {r.case.direction for r in results} == {"torch->keras", "keras->torch"}
    failures = [f"{r.case.package} {r.case.target} --to {r.case.to}: {r.outcome}: {r.detail}"
                for r in results if r.outcome in translate_sweep.FAILURES]
    assert not failures, "\n".join(failures)


def test_todo_reasons_that_differ_only_by_name_or_number_share_a_cause():
    cause, names = translate_sweep.todo_cause("torch.meshgrid has no Keras equivalent in the catalog")
    assert (cause, names) == ("NAME has no Keras equivalent in the catalog", ("torch.meshgrid",))
    assert translate_sweep.todo_cause("torch.linspace has no Keras equivalent in the catalog")[0] == cause
    assert translate_sweep.todo_cause("`x[:, 0] = ...` assigns into a tensor in place")[0] == \
        translate_sweep.todo_cause("`mask[i, 3] = ...` assigns into a tensor in place")[0] == \
        "`…` assigns into a tensor in place"
    assert translate_sweep.todo_cause("dim=dims is not a literal: scale by n / (n - 1)")[0] == \
        "dim=… is not a literal: scale by n / (n - N)"


def test_the_table_counts_todo_causes_per_direction_with_an_example_symbol(tmp_path):
    def result(package, symbol, to, reasons):
        case = translate_sweep.Case(package, f"{package}/m.py", symbol, to)
        return translate_sweep.Result(case, translate_sweep.OK, len(reasons), 1.0, todo_reasons=tuple(reasons))

    text = "import torch\n# TODO(tensorlint): torch.tensor has no Keras equivalent in the catalog\n" \
           "y = (  # TODO(tensorlint): Tensor.numel() has no Keras equivalent in the catalog\n    x.numel()\n)\n"
    assert translate_sweep.todo_reasons(text) == ("torch.tensor has no Keras equivalent in the catalog",
                                                  "Tensor.numel() has no Keras equivalent in the catalog")
    results = [result("timm", "A", "keras", ["torch.tensor has no Keras equivalent in the catalog",
                                             "torch.meshgrid has no Keras equivalent in the catalog"]),
               result("timm", "B", "keras", ["torch.tensor has no Keras equivalent in the catalog"]),
               result("keras", "C", "torch", ["keras.layers.Rescaling has no PyTorch equivalent in the catalog"])]
    table = translate_sweep.write_table(results, tmp_path / "sweep.md", "python benchmarks/translate_sweep.py", 60.0)
    assert "### torch->keras: 3 TODOs, 1 causes" in table
    assert "| 1 | 3 | 2 | NAME has no Keras equivalent in the catalog | `torch.tensor` 2, `torch.meshgrid` 1 | " \
           "`timm timm/m.py:A` |" in table
    assert "### keras->torch: 1 TODOs, 1 causes" in table and "`keras.layers.Rescaling` 1" in table
