"""`tensorlint deploy`, the DP rules and the editor helpers, through their public surfaces (no framework imports)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tensorlint.analyzers import Settings, check_source
from tensorlint.analyzers.deployment import (
    KERAS_TARGETS, TORCH_TARGETS, advise, export_snippet, lens_title, snippet_title, target_explanation,
)
from tensorlint.server.cli import main

EXAMPLES = Path(__file__).parent / "deploy_examples"

BRANCHY = textwrap.dedent("""\
    import torch
    from torch import nn


    class Gate(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            if x.sum() > 0:
                return self.fc(x)
            return x


    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(x)
""")


def _deploy(capsys, *args) -> tuple[int, str, str]:
    code = main(["deploy", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_has_the_contract_shape(tmp_path, capsys):
    path = tmp_path / "models.py"
    path.write_text(BRANCHY)
    code, out, _ = _deploy(capsys, path, "--format", "json")
    assert code == 0  # no scenario declared: advice only
    data = json.loads(out)
    assert [m["name"] for m in data] == ["Gate", "Plain"]
    gate = data[0]
    assert set(gate) == {"name", "filename", "framework", "location", "targets", "recommendations"}
    assert gate["filename"].endswith(".py")
    assert gate["framework"] == "pytorch"
    assert gate["location"] == {"row": 5, "column": 7}  # 1-based, the class name
    assert list(gate["targets"]) == list(TORCH_TARGETS)
    export = gate["targets"]["torch.export"]
    assert set(export) == {"status", "blockers"} and export["status"] == "blocked"
    (blocker,) = export["blockers"]
    assert set(blocker) == {"row", "column", "message"}
    assert (blocker["row"], blocker["column"]) == (11, 12)  # `x.sum() > 0`, 1-based column
    assert "torch.cond" in blocker["message"]
    assert data[1]["targets"]["torch.export"] == {"status": "ready", "blockers": []}
    assert {r["scenario"] for r in gate["recommendations"]} == {"server", "mobile", "web"}
    for rec in data[1]["recommendations"]:
        assert set(rec) == {"scenario", "target", "status", "why", "snippet"}
        compile(rec["snippet"], "snippet", "exec")


def test_scenario_flag_limits_recommendations_and_gates_the_exit_code(tmp_path, capsys):
    path = tmp_path / "models.py"
    path.write_text(BRANCHY)
    code, out, _ = _deploy(capsys, path, "--format", "json", "--scenario", "web")
    assert code == 1  # Gate has no ready path to the declared browser scenario
    gate, plain = json.loads(out)
    assert [(r["scenario"], r["target"], r["status"]) for r in gate["recommendations"]] == [("web", "onnx", "blocked")]
    assert [(r["scenario"], r["target"], r["status"]) for r in plain["recommendations"]] == [("web", "onnx", "ready")]
    code, _, _ = _deploy(capsys, path, "--scenario", "server,mobile")
    assert code == 1
    path.write_text(BRANCHY.split("class Gate")[0] + "class Plain" + BRANCHY.split("class Plain")[1])
    code, _, _ = _deploy(capsys, path, "--scenario", "server", "--scenario", "mobile")
    assert code == 0


def test_text_is_a_table_per_model(tmp_path, capsys):
    path = tmp_path / "models.py"
    path.write_text(BRANCHY)
    code, out, _ = _deploy(capsys, path, "--scenario", "server")
    assert code == 0  # Gate still has a (legacy) server path: TorchScript's script handles its `if`
    assert "server: TorchScript (caution): torch.export is blocked (line 11)" in out
    assert f"{path}:5:7: Gate (nn.Module)" in out
    assert "torch.export           blocked  11" in out
    assert "TorchScript            caution  11; legacy" in out
    assert "line 11: Python control flow on a tensor's value" in out
    assert "server: torch.export (ready)" in out  # Plain's recommendation, with its snippet
    assert "      | torch.export.save(exported, \"plain.pt2\")" in out


def test_scenarios_come_from_pyproject(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.tensorlint]\ndeployment = ["mobile"]\n')
    path = tmp_path / "models.py"
    path.write_text(BRANCHY)
    code, out, _ = _deploy(capsys, path, "--format", "json")
    assert code == 1
    assert {r["scenario"] for m in json.loads(out) for r in m["recommendations"]} == {"mobile"}
    # the same declaration turns the mobile blockers into DP002 warnings in `tensorlint check`, and only those
    code = main(["check", str(path), "--format", "json", "--no-cache"])
    findings = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [(f["code"], f["location"]["row"]) for f in findings if f["code"].startswith("DP")] == [("DP002", 11)]


def test_undeclared_scenarios_stay_informational():
    assert not [f for f in check_source(BRANCHY, "m.py", Settings()).findings if f.code.startswith("DP")]
    server = check_source(BRANCHY, "m.py", Settings(deployment=("server",))).findings
    (finding,) = [f for f in server if f.code.startswith("DP")]
    assert finding.code == "DP001" and str(finding.severity) == "warning"
    assert finding.message.startswith("Gate: blocks torch.export for the declared `server` deployment")
    assert (finding.range.start.line, finding.range.start.column) == (11, 11)


def test_keras_examples_through_the_cli(capsys):
    code, out, _ = _deploy(capsys, EXAMPLES / "keras_models.py", "--format", "json", "--scenario", "mobile")
    data = {m["name"]: m for m in json.loads(out)}
    assert code == 1  # the py_function model cannot reach LiteRT
    assert list(data["build_clean"]["targets"]) == list(KERAS_TARGETS)
    assert data["build_clean"]["location"] == {"row": 8, "column": 5}
    assert data["PyFunctionInCall"]["recommendations"][0]["status"] == "blocked"
    assert data["build_with_lambda"]["targets"]["keras"]["status"] == "blocked"


def test_bad_input_gets_a_message_not_a_traceback(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text("class Net(nn.Module:\n    pass\n")
    code, out, err = _deploy(capsys, broken)
    assert code == 2 and "SyntaxError" in err and "Traceback" not in err
    code, _, err = _deploy(capsys, tmp_path / "missing.py")
    assert code == 2 and "no such file" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["deploy", "--scenario", "desktop", str(broken)])
    assert exit_info.value.code == 2 and "unknown scenario 'desktop'" in capsys.readouterr().err
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    code, out, _ = _deploy(capsys, empty)
    assert code == 0 and out.startswith("No models found")


def test_editor_helpers():
    gate, plain = advise(BRANCHY).models
    assert lens_title(gate) == ("Deploy: torch.export blocked (line 11) · ONNX blocked (line 11) · ExecuTorch "
                                "blocked (line 11) · LiteRT (litert-torch) blocked (line 11) · TorchScript "
                                "caution, legacy")
    assert lens_title(plain).startswith("Deploy: torch.export ready · ONNX ready")
    hover = target_explanation(gate, "onnx")
    assert hover.startswith("**Gate → ONNX: blocked**") and "- line 11:" in hover and "dynamo=True" in hover
    assert snippet_title(plain, "litert-torch") == "Insert export snippet for LiteRT (litert-torch)"
    from tensorlint.analyzers import apply_edits
    from tensorlint.analyzers.deployment import snippet_edit

    unterminated = BRANCHY.rstrip("\n")  # no newline at the end of the file
    edited = apply_edits(unterminated, [snippet_edit(unterminated, plain, "onnx")])
    assert edited.startswith(unterminated + "\n\n\nif __name__ == \"__main__\":\n    # Export Plain: ONNX\n")
    compile(edited, "edited", "exec")


@pytest.mark.parametrize("stem", ["torch_models", "keras_models"])
def test_every_snippet_parses(stem):
    for model in advise((EXAMPLES / f"{stem}.py").read_text()).models:
        for verdict in model.targets:
            compile(export_snippet(model, verdict.target), f"{model.name}:{verdict.target}", "exec")


@pytest.mark.parametrize("stem", ["torch_models", "keras_models"])
def test_every_snippet_edit_keeps_the_file_valid(stem):
    from tensorlint.analyzers import apply_edits
    from tensorlint.analyzers.deployment import snippet_edit

    source = (EXAMPLES / f"{stem}.py").read_text()
    for model in advise(source).models:
        for verdict in model.targets:
            edited = apply_edits(source, [snippet_edit(source, model, verdict.target)])
            compile(edited, f"{model.name}:{verdict.target}", "exec")
            assert edited.startswith(source) and edited.endswith("\n")


def test_helper_methods_are_scanned_with_what_their_call_site_passes():
    source = textwrap.dedent("""\
        from torch import nn


        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

            def forward(self, x, mask=None):
                if not mask:
                    mask = None
                return self._head(x, True, scale=x.mean())

            def _head(self, h, use_bias, scale):
                if use_bias:
                    h = h + 1
                if scale > 0:
                    h = h * 2
                return self.fc(h)
    """)
    (model,) = advise(source).models
    verdict = model.verdict("torch.export")
    assert [(b.line, b.construct) for b in verdict.blockers] == [(17, "tensor-control-flow")]


def test_a_keras_model_built_at_module_level_is_advised(tmp_path, capsys):
    path = tmp_path / "model.py"
    path.write_text('import keras\nfrom keras import layers\n\n'
                    'model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(4), layers.Dense(2)])\n')
    code, out, _ = _deploy(capsys, path, "--scenario", "server")
    assert code == 0
    assert f"{path}:4:1: model (keras.Sequential)" in out
    assert '      | model.export("model_serving/1")' in out
    [advice] = advise(path.read_text()).models
    assert (advice.name, advice.kind, advice.constructor) == ("model", "keras.Sequential", "model")
    compile(export_snippet(advice, "keras"), "snippet", "exec")


TINY_CNN = textwrap.dedent("""\
    import torch
    from torch import nn


    class TinyCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.fc = nn.Linear(4 * 30 * 30, 2)

        def forward(self, x):
            return self.fc(self.conv(x).flatten(1))
""")


def test_torch_snippets_take_the_input_of_an_example_call_else_mark_the_guess():
    [guessed] = advise(TINY_CNN).models
    snippet = export_snippet(guessed, "torch.export")
    # channels come from Conv2d(3, ...); height and width cannot be read from the code: the line says so
    assert "example_inputs = (torch.randn(2, 3, 16, 16),)  # assumed input shape: replace with your model's" in snippet
    assert 'torch.export.save(exported, "tiny_cnn.pt2")' in snippet  # the acronym stays one word
    for example in ("net = TinyCNN().eval()\nx = torch.randn(1, 3, 32, 32)\nprint(net(x).shape)\n",
                    "if __name__ == '__main__':\n    print(TinyCNN()(torch.randn(1, 3, 32, 32)))\n"):
        [written] = advise(TINY_CNN + "\n\n" + example).models
        assert "example_inputs = (torch.randn(1, 3, 32, 32),)\n" in export_snippet(written, "torch.export")
    # an input whose sizes are names is not copied into a snippet that must run on its own
    [named] = advise(TINY_CNN + "\n\nsize = 32\nTinyCNN()(torch.randn(1, 3, size, size))\n").models
    assert named.example_input_guessed
