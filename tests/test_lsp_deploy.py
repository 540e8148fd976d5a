"""The deployment advisor in the language server: hover on a model name, and DP### diagnostics driven by the
`deployment` setting (initializationOptions, workspace/configuration, workspace/didChangeConfiguration)."""

from __future__ import annotations

import asyncio
import textwrap

import pytest
from lsprotocol import types

from test_deploy_cli import BRANCHY
from test_lsp import capabilities, session

# Gate blocks every torch.export-based target (line 11, 1-based: a Python `if` on a tensor's value); Plain blocks none.
TORCH = BRANCHY
BRANCH = ("Python control flow on a tensor's value (`x.sum() > 0`): torch.export cannot branch on a "
          "data-dependent value; use torch.cond / torch.where")
# the DP diagnostic's range: `x.sum() > 0` on line 11 (0-based 10), columns 11..22
BRANCH_RANGE = types.Range(types.Position(10, 11), types.Position(10, 22))
DP002 = f"Gate: blocks ExecuTorch for the declared `mobile` deployment: {BRANCH}"
DP003 = f"Gate: blocks ONNX for the declared `web` deployment: {BRANCH}"

KERAS = textwrap.dedent('''\
    import keras


    class Scaled(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(4)

        def call(self, inputs):
            return self.dense(inputs) * float(inputs.numpy().std())
''')


def hover_params(uri: str, line: int, character: int) -> types.HoverParams:
    return types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line, character))


def summary(diagnostics) -> list[tuple]:
    return [(d.code, d.message, d.range, d.severity, d.source) for d in diagnostics]


async def next_publish(s, uri: str, count: int, timeout: float = 20.0) -> types.PublishDiagnosticsParams:
    """The first publish for ``uri`` after the first ``count`` publishes of the session."""

    def found():
        return next((p for p in s.published[count:] if p.uri == uri), None)

    async with s.arrived:
        await asyncio.wait_for(s.arrived.wait_for(found), timeout)
    return found()


# -- hover on a model name -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("character", [6, 8, 10])  # start, middle and just after `Gate` on `class Gate(nn.Module):`
async def test_hover_on_a_torch_model_name_shows_each_targets_verdict(tmp_path, character):
    uri = (tmp_path / "gate.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, TORCH)
        await s.diagnostics(uri, 1)
        hover = await s.client.text_document_hover_async(hover_params(uri, 4, character))
        assert hover is not None
        assert hover.contents.kind == types.MarkupKind.Markdown
        assert hover.range == types.Range(types.Position(4, 6), types.Position(4, 10))
        sections = hover.contents.value.split("\n\n---\n\n")
        assert [section.splitlines()[0] for section in sections] == [
            "**Gate → torch.export: blocked**", "**Gate → ONNX: blocked**", "**Gate → ExecuTorch: blocked**",
            "**Gate → LiteRT (litert-torch): blocked**", "**Gate → TorchScript: caution**"]
        assert f"- line 11: {BRANCH}" in sections[0].splitlines()
        assert "AOTInductor" in sections[0]  # the target's note
        assert "- line 11: Python control flow on a tensor's value (`x.sum() > 0`): works with torch.jit.script" \
            in sections[4]
        assert "Legacy" in sections[4] and "TorchServe" in sections[4]


async def test_hover_on_a_clean_model_says_ready_and_names_no_lines(tmp_path):
    uri = (tmp_path / "gate.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, TORCH)
        await s.diagnostics(uri, 1)
        hover = await s.client.text_document_hover_async(hover_params(uri, 15, 8))  # `Plain`
        assert hover.range == types.Range(types.Position(15, 6), types.Position(15, 11))
        text = hover.contents.value
        for label in ("torch.export", "ONNX", "ExecuTorch", "LiteRT (litert-torch)"):
            assert f"**Plain → {label}: ready**" in text
        assert "**Plain → TorchScript: caution**" in text
        assert "- line " not in text and "Gate" not in text


async def test_hover_elsewhere_on_the_class_line_shows_no_verdicts(tmp_path):
    uri = (tmp_path / "gate.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, TORCH)
        await s.diagnostics(uri, 1)
        for character in (2, 12):  # the `class` keyword; the `nn` of the base class
            hover = await s.client.text_document_hover_async(hover_params(uri, 4, character))
            assert hover is None or "→" not in hover.contents.value, (character, hover)
        # inside forward, on the blocking line: no verdicts either (hover shows them on the model's name only)
        hover = await s.client.text_document_hover_async(hover_params(uri, 10, 15))
        assert hover is None or "Gate →" not in hover.contents.value


async def test_hover_on_a_keras_model_name_shows_the_keras_targets(tmp_path):
    uri = (tmp_path / "scaled.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, KERAS)
        await s.diagnostics(uri, 1)
        hover = await s.client.text_document_hover_async(hover_params(uri, 3, 8))
        assert hover.range == types.Range(types.Position(3, 6), types.Position(3, 12))
        sections = hover.contents.value.split("\n\n---\n\n")
        assert [section.splitlines()[0] for section in sections] == [
            "**Scaled → SavedModel: blocked**", "**Scaled → .keras: blocked**", "**Scaled → LiteRT: blocked**",
            "**Scaled → TensorFlow.js: blocked**", "**Scaled → ONNX (tf2onnx): blocked**"]
        numpy = ("- line 10: `.numpy()` on a tensor in `call` (`inputs.numpy()`): symbolic tensors have no "
                 "`.numpy()` while the graph is traced; use keras.ops / tf ops")
        assert numpy in sections[2].splitlines()  # LiteRT
        assert sections[1].splitlines()[2].startswith(
            "- line 4: A custom Keras class that is not registered (`Scaled`)")


async def test_hover_follows_the_edited_model(tmp_path):
    """After an edit removes the blocking `if`, the hover (for the new version) says ready."""
    uri = (tmp_path / "gate.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, TORCH)
        await s.diagnostics(uri, 1)
        before = await s.client.text_document_hover_async(hover_params(uri, 4, 8))
        assert "**Gate → ExecuTorch: blocked**" in before.contents.value
        # lines 11-13 (0-based 10..12) become one branch-free return
        s.change(uri, 2, (10, 0), (13, 0), "        return torch.where(x.sum() > 0, self.fc(x), x)\n")
        await s.diagnostics(uri, 2)
        after = await s.client.text_document_hover_async(hover_params(uri, 4, 8))
        assert "**Gate → ExecuTorch: ready**" in after.contents.value
        assert "- line " not in after.contents.value


# -- DP diagnostics from the `deployment` setting -------------------------------------------------------------------
async def test_no_deployment_setting_no_dp_diagnostics(tmp_path):
    uri = (tmp_path / "gate.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, TORCH)
        assert await s.diagnostics(uri, 1) == []


async def test_deployment_from_initialization_options_publishes_the_mobile_blocker(tmp_path):
    uri = (tmp_path / "gate.py").as_uri()
    async with session(tmp_path, options={"deployment": ["mobile"]}) as s:
        s.open(uri, TORCH)
        assert summary(await s.diagnostics(uri, 1)) == [
            ("DP002", DP002, BRANCH_RANGE, types.DiagnosticSeverity.Warning, "tensorlint")]


async def test_deployment_nested_under_a_tensorlint_key_in_initialization_options(tmp_path):
    uri = (tmp_path / "gate.py").as_uri()
    async with session(tmp_path, options={"tensorlint": {"deployment": ["web"]}}) as s:
        s.open(uri, TORCH)
        assert summary(await s.diagnostics(uri, 1)) == [
            ("DP003", DP003, BRANCH_RANGE, types.DiagnosticSeverity.Warning, "tensorlint")]


async def test_deployment_from_workspace_configuration(tmp_path):
    uri = (tmp_path / "scaled.py").as_uri()
    async with session(tmp_path, configuration={"": {"tensorlint": {"deployment": ["mobile"]}}}) as s:
        s.open(uri, KERAS)
        (diagnostic,) = await s.diagnostics(uri, 1)
        assert diagnostic.code == "DP002"
        assert diagnostic.message == (
            "Scaled: blocks LiteRT for the declared `mobile` deployment: `.numpy()` on a tensor in `call` "
            "(`inputs.numpy()`): symbolic tensors have no `.numpy()` while the graph is traced; use keras.ops / tf ops")
        assert diagnostic.range == types.Range(types.Position(9, 42), types.Position(9, 56))


async def test_a_clean_model_gets_no_dp_diagnostic_even_with_every_scenario_declared(tmp_path):
    uri = (tmp_path / "clean.py").as_uri()
    clean = TORCH[TORCH.index("class Plain"):]
    async with session(tmp_path, options={"deployment": ["server", "mobile", "web"]}) as s:
        s.open(uri, "import torch\nfrom torch import nn\n\n\n" + clean)
        assert await s.diagnostics(uri, 1) == []


async def test_did_change_configuration_turns_the_dp_diagnostic_on_and_off(tmp_path):
    uri = (tmp_path / "gate.py").as_uri()
    async with session(tmp_path, configuration={"": {"tensorlint": {}}}) as s:
        s.open(uri, TORCH)
        assert await s.diagnostics(uri, 1) == []

        count = len(s.published)
        s.client.set_configuration({"deployment": ["mobile"]}, section="tensorlint")
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        published = await next_publish(s, uri, count)
        assert published.version == 1
        assert summary(published.diagnostics) == [
            ("DP002", DP002, BRANCH_RANGE, types.DiagnosticSeverity.Warning, "tensorlint")]

        count = len(s.published)
        s.client.set_configuration({"deployment": ["server", "web"]}, section="tensorlint")
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        published = await next_publish(s, uri, count)
        assert [d.code for d in published.diagnostics] == ["DP001", "DP003"]

        count = len(s.published)
        s.client.set_configuration({"deployment": []}, section="tensorlint")
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        published = await next_publish(s, uri, count)
        assert published.version == 1 and list(published.diagnostics) == []


async def test_did_change_configuration_with_pushed_settings(tmp_path):
    """A client without workspace/configuration pushes its settings in didChangeConfiguration itself."""
    uri = (tmp_path / "gate.py").as_uri()
    async with session(tmp_path, caps=capabilities(configuration=False)) as s:
        s.open(uri, TORCH)
        assert await s.diagnostics(uri, 1) == []

        count = len(s.published)
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"tensorlint": {"deployment": ["mobile"]}}))
        published = await next_publish(s, uri, count)
        assert summary(published.diagnostics) == [
            ("DP002", DP002, BRANCH_RANGE, types.DiagnosticSeverity.Warning, "tensorlint")]

        count = len(s.published)
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"tensorlint": {}}))
        published = await next_publish(s, uri, count)
        assert list(published.diagnostics) == []


async def test_dp_diagnostic_follows_edits_and_its_hover_shows_the_rule(tmp_path):
    uri = (tmp_path / "gate.py").as_uri()
    async with session(tmp_path, options={"deployment": ["mobile"]}) as s:
        s.open(uri, TORCH)
        (diagnostic,) = await s.diagnostics(uri, 1)
        assert diagnostic.code == "DP002"
        hover = await s.client.text_document_hover_async(hover_params(uri, 10, 15))
        assert "### DP002 mobile-deployment-blocker" in hover.contents.value
        # an edit above the model moves the diagnostic down one line (incremental re-check of later statements)
        s.change(uri, 2, (0, 0), (0, 0), "import os\n")
        (moved,) = await s.diagnostics(uri, 2)
        assert (moved.code, moved.range) == ("DP002", types.Range(types.Position(11, 11), types.Position(11, 22)))
        # removing the blocking `if` (now lines 12-14) clears it
        s.change(uri, 3, (11, 0), (14, 0), "        return torch.where(x.sum() > 0, self.fc(x), x)\n")
        assert await s.diagnostics(uri, 3) == []
