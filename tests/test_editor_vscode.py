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


@pytest.mark.skipif(NODE is None, reason="node is not installed; the VS Code extension's tests need node >= 18")
def test_translate_command_line_built_by_the_extension_runs_the_real_cli(tmp_path):
    """What *tensorlint: Translate Model* runs for a cursor inside a class: launch.js builds the command line
    (interpreter setting -> `python -m tensorlint.server translate FILE:SYMBOL --to keras`), the CLI answers."""
    import json
    import sys

    from tensorlint.server.cli import build_parser

    subcommands = next(a for a in build_parser()._actions if a.dest == "command").choices
    if "translate" not in subcommands:
        pytest.skip("`tensorlint translate` is not part of this build")
    model = tmp_path / "net.py"
    model.write_text(
        "import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.fc = nn.Linear(8, 2)\n\n    def forward(self, x):\n"
        "        return self.fc(x)\n"
    )
    script = (
        "const launch = require(process.argv[1]);"
        "const text = require('fs').readFileSync(process.argv[3], 'utf8');"
        "const invocation = launch.resolveInvocation({interpreter: [process.argv[2]]});"
        "const symbol = launch.symbolForCursor(text, 9, 'self');"  # cursor in forward()
        "console.log(JSON.stringify([invocation.command, ...invocation.args,"
        " ...launch.translateArgs(process.argv[3], symbol, launch.defaultTarget(text))]));"
    )
    built = subprocess.run([NODE, "-e", script, str(EXTENSION / "src" / "launch.js"), sys.executable, str(model)],
                           capture_output=True, text=True, check=True)
    argv = json.loads(built.stdout)
    assert argv[1:] == ["-m", "tensorlint.server", "translate", f"{model}:Net", "--to", "keras"]
    translated = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert translated.returncode == 0, translated.stderr
    compile(translated.stdout, "translation.py", "exec")
    assert "class Net(" in translated.stdout and "keras" in translated.stdout
