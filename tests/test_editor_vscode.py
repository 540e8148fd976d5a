"""The VS Code extension's launch logic, through node's own test runner (the extension is JavaScript)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parents[1] / "editors" / "vscode"
NODE = shutil.which("node")


def _node_major() -> int:
    out = subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True).stdout
    return int(out.strip().lstrip("v").split(".")[0])


@pytest.mark.skipif(NODE is None, reason="node is not installed; the VS Code extension's tests need node >= 18")
def test_vscode_launch_logic_passes_node_test_runner():
    if _node_major() < 18:
        pytest.skip("node >= 18 is needed for `node --test`")
    # launch.js depends on nothing but node itself, so no `npm install` is needed to test it.
    result = subprocess.run([NODE, "--test", "test/"], cwd=EXTENSION, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout
    assert "# pass 0" not in result.stdout


def test_vscode_manifest_contributes_the_commands_and_settings_the_extension_uses():
    import json
    import re

    manifest = json.loads((EXTENSION / "package.json").read_text())
    source = (EXTENSION / "src" / "extension.js").read_text()
    registered = set(re.findall(r'registerCommand\("([^"]+)"', source))
    contributed = {command["command"] for command in manifest["contributes"]["commands"]}
    assert registered == contributed
    read_settings = set(re.findall(r'config\.get\("([^"]+)"\)', source)) | set(
        re.findall(r'"(select|ignore|extendSelect|perFileIgnores|deployment|debounce|maxFileSizeKb)"', source)
    )
    declared = {key.removeprefix("tensorlint.") for key in manifest["contributes"]["configuration"]["properties"]}
    assert read_settings <= declared
    assert manifest["main"] == "./src/extension.js"
    assert (EXTENSION / manifest["main"]).is_file()
