"""Truth tests for the PyTorch side of the deployment advisor: every `ready` below is a real export on CPU, every
`blocked` a real export that fails (or an artifact that computes something else), for the reason the advisor
names, at the lines marked `# BLOCKS` in tests/deploy_examples/torch_models.py."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch", reason="the truth tests need torch (the `test` extra installs it)")
onnx = pytest.importorskip("onnx", reason="the ONNX truth tests need onnx (the `test` extra installs it)")
pytest.importorskip("onnxscript", reason="torch.onnx.export(dynamo=True) needs onnxscript (the `test` extra)")

from onnx.reference import ReferenceEvaluator  # noqa: E402

from deploy_truth import blocking_lines, load_examples, marked, run_snippet  # noqa: E402
from tensorlint.analyzers.deployment import BLOCKED, CAUTION, READY, export_snippet  # noqa: E402

EXPORT_FAMILY = ("torch.export", "onnx", "executorch", "litert-torch")


@pytest.fixture(scope="module")
def examples():
    torch.manual_seed(0)
    return load_examples("torch_models")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation and ONNX exporter chatter
        yield


def _export(model, example):
    return torch.export.export(model.eval(), (example,))


def _onnx(model, example, path):
    torch.onnx.export(model.eval(), (example,), str(path), dynamo=True, verbose=False)
    onnx.checker.check_model(str(path))
    return ReferenceEvaluator(str(path))


def _run_onnx(session, example):
    name = session.input_names[0]
    return [torch.from_numpy(out) for out in session.run(None, {name: example.numpy()})]


def test_markers_are_exactly_the_blocking_lines(examples):
    _, models, lines = examples
    flagged = set()
    for model in models.values():
        for verdict in model.targets:
            if verdict.status == BLOCKED:
                flagged |= {b.line for b in verdict.blockers}
    assert flagged == marked(lines)


# -- ready: the real exports work and compute what the model computes ---------------------------------------------
def test_clean_model_is_ready_and_exports(examples, tmp_path):
    module, models, _ = examples
    advice = models["Clean"]
    assert {t: advice.verdict(t).status for t in EXPORT_FAMILY} == dict.fromkeys(EXPORT_FAMILY, READY)
    model, example = module.Clean().eval(), torch.randn(3, 8)
    exported = _export(model, example)
    torch.testing.assert_close(exported.module()(example), model(example))
    session = _onnx(model, example, tmp_path / "clean.onnx")
    torch.testing.assert_close(_run_onnx(session, example)[0], model(example), rtol=1e-4, atol=1e-5)


def test_torchscript_is_legacy_caution_but_scripts(examples):
    module, models, _ = examples
    verdict = models["Clean"].verdict("torchscript")
    assert verdict.status == CAUTION and "deprecate" in verdict.note
    model = module.Clean().eval()
    example = torch.randn(2, 8)
    torch.testing.assert_close(torch.jit.script(model)(example), model(example))


@pytest.mark.parametrize("name", ["Clean", "ConvNet"])
def test_torch_export_snippet_runs(examples, tmp_path, monkeypatch, name):
    module, models, _ = examples
    namespace = run_snippet(models[name], "torch.export", module, tmp_path, monkeypatch)
    stem = name.lower() if name == "Clean" else "conv_net"
    reloaded = torch.export.load(str(tmp_path / f"{stem}.pt2"))
    example = namespace["example_inputs"]
    torch.testing.assert_close(reloaded.module()(*example), namespace["model"](*example))


def test_onnx_snippet_runs(examples, tmp_path, monkeypatch):
    module, models, _ = examples
    namespace = run_snippet(models["ConvNet"], "onnx", module, tmp_path, monkeypatch)
    example = namespace["example_inputs"][0]
    session = ReferenceEvaluator(str(tmp_path / "conv_net.onnx"))
    torch.testing.assert_close(_run_onnx(session, example)[0], namespace["model"](example), rtol=1e-4, atol=1e-5)


def test_torchscript_snippet_runs(examples, tmp_path, monkeypatch):
    module, models, _ = examples
    namespace = run_snippet(models["Clean"], "torchscript", module, tmp_path, monkeypatch)
    loaded = torch.jit.load(str(tmp_path / "clean_scripted.pt"))
    example = torch.randn(2, 8)
    torch.testing.assert_close(loaded(example), namespace["model"](example))


@pytest.mark.parametrize("target,package", [("executorch", "executorch"), ("litert-torch", "litert_torch")])
def test_mobile_snippets_run_when_their_package_is_installed(examples, tmp_path, monkeypatch, target, package):
    module, models, _ = examples
    pytest.importorskip(package, reason=f"`{package}` (an optional deployment package) is not installed")
    run_snippet(models["Clean"], target, module, tmp_path, monkeypatch)
    assert list(tmp_path.iterdir())


# -- caution: exports work; the caution names what to check ---------------------------------------------------------
@pytest.mark.parametrize("name,construct", [("ItemInArithmetic", "scalar-extract"),
                                            ("MutatesInput", "input-mutation")])
def test_caution_constructs_still_export(examples, name, construct):
    module, models, _ = examples
    verdict = models[name].verdict("torch.export")
    assert verdict.status == CAUTION and {b.construct for b in verdict.blockers} == {construct}
    model = getattr(module, name)().eval()
    example = torch.randn(3, 8)
    exported = _export(model, example.clone())
    fresh = torch.randn(3, 8) * 5
    torch.testing.assert_close(exported.module()(fresh.clone()), model(fresh.clone()))


def test_dict_output_exports_and_onnx_flattens_it(examples, tmp_path):
    module, models, _ = examples
    advice = models["DictOutput"]
    assert advice.verdict("torch.export").status == READY
    assert advice.verdict("onnx").status == CAUTION
    model, example = module.DictOutput().eval(), torch.randn(2, 8)
    assert set(_export(model, example).module()(example)) == {"logits", "probabilities"}
    session = _onnx(model, example, tmp_path / "dict.onnx")
    outputs = _run_onnx(session, example)
    assert len(outputs) == 2  # a flat list: the dict's keys are gone
    torch.testing.assert_close(outputs[0], model(example)["logits"], rtol=1e-4, atol=1e-5)


# -- blocked: the real exports fail (or bake a constant) for the stated reason ----------------------------------------
@pytest.mark.parametrize("name", ["BranchOnValue", "Composite"])
def test_tensor_control_flow_blocks_export(examples, tmp_path, name):
    module, models, lines = examples
    advice = models[name]
    for target in EXPORT_FAMILY:
        assert blocking_lines(advice, target) and blocking_lines(advice, target) <= marked(lines)
    assert advice.verdict("torch.export").blockers[0].construct == "tensor-control-flow"
    model = getattr(module, name)().eval()
    with pytest.raises(Exception, match="data-dependent"):
        _export(model, torch.randn(2, 8))
    with pytest.raises(Exception, match="torch.export"):
        _onnx(model, torch.randn(2, 8), tmp_path / "branch.onnx")


def test_tensor_control_flow_scripts_with_torchscript(examples):
    module, models, _ = examples
    assert models["BranchOnValue"].verdict("torchscript").status == CAUTION
    model = module.BranchOnValue().eval()
    scripted = torch.jit.script(model)
    for example in (torch.ones(2, 8) * 3, -torch.ones(2, 8) * 3):  # both branches survive scripting
        torch.testing.assert_close(scripted(example), model(example))


@pytest.mark.parametrize("name,match", [("NumpyRoundTrip", r"\.numpy\(\)"), ("NumpyOnTensor", r"\.numpy\(\)"),
                                        ("FloatOfTensor", "data-dependent")])
def test_host_round_trips_need_strict_export(examples, tmp_path, monkeypatch, name, match):
    """Default torch.export fails on them; strict export (TorchDynamo) and the ONNX exporter trace them right, and
    the advisor's snippet says strict=True."""
    module, models, _ = examples
    advice = models[name]
    for target in EXPORT_FAMILY:
        assert advice.verdict(target).status == CAUTION
    assert advice.strict_export
    model = getattr(module, name)().eval()
    example, fresh = torch.ones(2, 8), torch.randn(2, 8) * 4
    with pytest.raises(Exception, match=match):
        torch.export.export(model, (example,))
    exported = torch.export.export(model, (example,), strict=True).module()
    torch.testing.assert_close(exported(fresh), model(fresh))
    session = _onnx(model, example, tmp_path / f"{name}.onnx")
    torch.testing.assert_close(_run_onnx(session, fresh)[0], model(fresh), rtol=1e-4, atol=1e-4)
    namespace = run_snippet(advice, "torch.export", module, tmp_path, monkeypatch)
    assert "strict=True" in export_snippet(advice, "torch.export")
    assert isinstance(namespace["exported"], torch.export.ExportedProgram)


def test_python_random_is_baked_into_the_export(examples):
    module, models, lines = examples
    advice = models["PythonRandom"]
    assert blocking_lines(advice, "torch.export") and blocking_lines(advice, "torch.export") <= marked(lines)
    model = module.PythonRandom().eval()
    example = torch.randn(2, 8)
    exported = _export(model, example).module()
    torch.testing.assert_close(exported(example), exported(example))  # one number, frozen at export
    assert not torch.allclose(model(example), model(example))  # eager draws a new one each call


def test_python_random_is_baked_into_the_onnx_file(examples, tmp_path):
    module, models, _ = examples
    assert models["PythonRandom"].verdict("onnx").status == BLOCKED
    model = module.PythonRandom().eval()
    example = torch.randn(2, 8)
    session = _onnx(model, example, tmp_path / "random.onnx")
    torch.testing.assert_close(_run_onnx(session, example)[0], _run_onnx(session, example)[0])


@pytest.mark.parametrize("name,match", [("NumpyRoundTrip", "numpy"), ("NumpyOnTensor", ""),
                                        ("PythonRandom", "random|uniform")])
def test_torchscript_blocked_constructs_fail_to_script(examples, name, match):
    module, models, _ = examples
    assert models[name].verdict("torchscript").status == BLOCKED
    with pytest.raises(Exception, match=match):
        torch.jit.script(getattr(module, name)())


# -- every verdict on every example model, not only the hand-picked ones ---------------------------------------------
def _torch_claims():
    _, models, _ = load_examples("torch_models")
    for name, advice in models.items():
        for target in ("torch.export", "onnx"):
            # blocked verdicts are proven by the failure tests above, one reason each
            if advice.verdict(target).status != BLOCKED:
                yield pytest.param(name, target, id=f"{name}-{target}")


@pytest.mark.parametrize("name,target", list(_torch_claims()))
def test_every_non_blocked_verdict_exports(examples, tmp_path, name, target):
    module, models, _ = examples
    advice = models[name]
    model = getattr(module, name)().eval()
    example = eval(advice.example_input, {"torch": torch})  # the input the advisor's snippet would use
    if target == "torch.export":
        exported = torch.export.export(model, (example.clone(),), strict=advice.strict_export).module()
        expected, got = model(example.clone()), exported(example.clone())
    else:
        session = _onnx(model, example.clone(), tmp_path / "model.onnx")
        expected, got = model(example.clone()), _run_onnx(session, example.clone())
    flat_expected = list(expected.values()) if isinstance(expected, dict) else [expected]
    flat_got = list(got.values()) if isinstance(got, dict) else got if isinstance(got, list) else [got]
    for want, have in zip(flat_expected, flat_got):
        torch.testing.assert_close(have, want.detach(), rtol=1e-4, atol=1e-4)


def test_inserted_snippet_runs_when_the_file_runs(examples, tmp_path):
    """What the editor's "Insert export snippet" action writes, run as a script."""
    import subprocess
    import sys

    from deploy_truth import EXAMPLES
    from tensorlint.analyzers import apply_edits
    from tensorlint.analyzers.deployment import snippet_edit

    _, models, _ = examples
    source = (EXAMPLES / "torch_models.py").read_text()
    script = tmp_path / "models.py"
    script.write_text(apply_edits(source, [snippet_edit(source, models["ConvNet"], "torch.export")]))
    subprocess.run([sys.executable, str(script)], cwd=tmp_path, check=True, capture_output=True, timeout=300)
    exported = torch.export.load(str(tmp_path / "conv_net.pt2"))
    assert exported.module()(torch.randn(2, 3, 16, 16)).shape == (2, 2)


def test_the_torch_export_snippet_uses_the_example_calls_input_and_runs(tmp_path, monkeypatch):
    """A model that only accepts 32x32 inputs exports with the snippet's input, taken from the module's own call."""
    import types

    from tensorlint.analyzers.deployment import advise

    source = (
        "import torch\nfrom torch import nn\n\n\nclass TinyCNN(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.conv = nn.Conv2d(3, 4, 3)\n        self.fc = nn.Linear(4 * 30 * 30, 2)\n\n"
        "    def forward(self, x):\n        return self.fc(self.conv(x).flatten(1))\n\n\n"
        "net = TinyCNN().eval()\nprint(net(torch.randn(1, 3, 32, 32)).shape)\n")
    module = types.ModuleType("tiny_cnn_example")
    exec(compile(source, "tiny_cnn_example.py", "exec"), module.__dict__)
    [model] = advise(source).models
    run_snippet(model, "torch.export", module, tmp_path, monkeypatch)
    exported = torch.export.load(str(tmp_path / "tiny_cnn.pt2"))
    assert exported.module()(torch.randn(1, 3, 32, 32)).shape == (1, 2)
