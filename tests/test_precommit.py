"""The pre-commit hooks, installed by pre-commit itself from this repository into a throwaway git repo."""

import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is needed for pre-commit")


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_hooks_check_and_fix_in_a_throwaway_repo(tmp_path, repo_root):
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    _git(work, "config", "user.email", "t@example.com")
    _git(work, "config", "user.name", "t")
    (work / "train.py").write_text("import torch\nsd = torch.load('m.pt')\n")
    _git(work, "add", "train.py")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    pre_commit = [sys.executable, "-m", "pre_commit"]

    check = subprocess.run([*pre_commit, "try-repo", str(repo_root), "tensorlint", "--all-files"],
                           cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "PT006" in check.stdout
    assert (work / "train.py").read_text() == "import torch\nsd = torch.load('m.pt')\n"

    fix = subprocess.run([*pre_commit, "try-repo", str(repo_root), "tensorlint-fix", "--all-files"],
                         cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert fix.returncode == 1, fix.stdout + fix.stderr  # files were modified: pre-commit fails the run
    assert (work / "train.py").read_text() == "import torch\nsd = torch.load('m.pt', weights_only=True)\n"
