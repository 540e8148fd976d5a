"""A real editor in the tests: headless Neovim with the config from editors/neovim/ gets tensorlint's
diagnostics from `tensorlint serve`, applies the quick fix through its code-action menu and writes the file."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NVIM = shutil.which("nvim")
DRIVER = REPO / "tests" / "neovim" / "drive.lua"



pytestmark = pytest.mark.skipif(
    NVIM is None,
    reason="Neovim is not installed (CI installs Debian's package: `apt-get install -y neovim`, see .ci/run)",
)

MODEL = '''\
import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(x)


model = Classifier()
model.load_state_dict(torch.load({path}))
model.eval()
'''


def run_neovim(tmp_path: Path, target: Path, code: str) -> dict:
    result_file = tmp_path / "result.json"
    home = tmp_path / "home"
    env = {
        **os.environ,
        # a bare Neovim: no user config, state or logs outside the temporary folder
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TENSORLINT_NVIM_CONFIG": str(REPO / "editors" / "neovim"),
        # the interpreter running the tests, so the server is this checkout's tensorlint
        "TENSORLINT_NVIM_CMD": json.dumps([sys.executable, "-m", "tensorlint.server", "serve"]),
        "TENSORLINT_NVIM_TARGET": str(target),
        "TENSORLINT_NVIM_CODE": code,
        "TENSORLINT_NVIM_RESULT": str(result_file),
    }
    completed = subprocess.run(
        [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {DRIVER}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )
    lsp_logs = "\n".join(p.read_text(errors="replace")[-4000:] for p in home.rglob("lsp.log"))
    assert result_file.exists(), f"Neovim wrote no result (exit {completed.returncode}):\n{completed.stdout}\n" \
                                 f"{completed.stderr}\n{lsp_logs}"
    result = json.loads(result_file.read_text())
    assert result["ok"], f"{result.get('error')}\nresult: {result}\nLSP log:\n{lsp_logs}"
    return result


@pytest.mark.parametrize("checkpoint", ['"classifier.pt"', '"modèle_😀_分类.pt"'], ids=["ascii", "non-ascii"])
def test_neovim_shows_tensorlint_diagnostics_and_applies_the_quick_fix(tmp_path, checkpoint):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.tensorlint]\n")
    target = project / "train.py"
    target.write_text(MODEL.format(path=checkpoint), encoding="utf-8")

    result = run_neovim(tmp_path, target, "PT006")

    assert result["client_name"] == "tensorlint"
    finding = next(d for d in result["diagnostics"] if d["code"] == "PT006")
    # Neovim's lines and byte columns are 0-based; `torch.load(` starts in column 22 of line 15
    assert (finding["lnum"], finding["col"]) == (14, len("model.load_state_dict("))
    assert finding["end_col"] == len(f"model.load_state_dict(torch.load({checkpoint})".encode())
    assert "weights_only" in finding["message"]
    assert any("weights_only" in line for line in result["rendered"] if "torch.load" in line)
    assert result["chosen"] == "Pass `weights_only=True`"

    written = target.read_text(encoding="utf-8")
    assert written == MODEL.format(path=f"{checkpoint}, weights_only=True")
    ast.parse(written)
    assert not any(d["code"] == "PT006" for d in result["diagnostics_after"])
    assert result["stopped"], "the server did not shut down when Neovim stopped the client"


def test_neovim_configs_load_in_neovim(tmp_path):
    """Both variants are valid Lua for the installed Neovim: the 0.11 table and the 0.7+ module's API."""
    probe = tmp_path / "probe.lua"
    out = tmp_path / "out.json"
    probe.write_text(f"""
vim.opt.runtimepath:prepend({json.dumps(str(REPO / "editors" / "neovim"))})
local config = dofile({json.dumps(str(REPO / "editors" / "neovim" / "lsp" / "tensorlint.lua"))})
local module = require("tensorlint")
module.setup({{ cmd = {{ "tensorlint-not-started", "serve" }} }})
local autocmds = vim.api.nvim_get_autocmds({{ group = "tensorlint", event = "FileType" }})
local file = io.open({json.dumps(str(out))}, "w")
file:write(vim.fn.json_encode({{
  cmd = config.cmd, filetypes = config.filetypes, root_markers = config.root_markers,
  module_cmd = module.options.cmd, autocmd_patterns = vim.tbl_map(function(a) return a.pattern end, autocmds),
}}))
file:close()
vim.cmd("qall!")
""")
    subprocess.run([NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {probe}"],
                   cwd=tmp_path, capture_output=True, text=True, timeout=60,
                   env={**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")})
    loaded = json.loads(out.read_text())
    assert loaded["cmd"] == ["tensorlint", "serve"] and loaded["filetypes"] == ["python"]
    assert loaded["root_markers"][0] == "pyproject.toml"
    assert loaded["module_cmd"] == ["tensorlint-not-started", "serve"]
    assert loaded["autocmd_patterns"] == ["python"]
