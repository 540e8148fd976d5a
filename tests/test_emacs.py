"""The Emacs files of editors/emacs, loaded by a real Emacs in batch mode (Debian 12: Emacs 28 with `elpa-eglot` and
`elpa-lsp-mode`): the command each would run, the message when tensorlint is missing, and the diagnostics of the real
server arriving in the buffer, with the project settings of the documented `.dir-locals.el`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EMACS = shutil.which("emacs")
EMACS_DIR = Path(__file__).resolve().parents[1] / "editors" / "emacs"
EGLOT = EMACS_DIR / "tensorlint-eglot.el"
LSP_MODE = EMACS_DIR / "tensorlint-lsp-mode.el"
TENSORLINT = Path(sys.executable).with_name("tensorlint")

pytestmark = pytest.mark.skipif(EMACS is None, reason="emacs is not installed (Debian: apt install emacs-nox)")

SOURCE = 'import torch\nx = torch.randn(2)\nx.to("cuda")\nstate = torch.load("w.pt")\n'


def _has(feature: str) -> bool:
    result = subprocess.run([EMACS, "--batch", "--eval", f"(kill-emacs (if (require '{feature} nil t) 0 1))"],
                            capture_output=True, timeout=60)
    return result.returncode == 0


def _emacs(tmp_path: Path, program: str, *, with_tensorlint: bool) -> str:
    """Runs ``program`` (Emacs Lisp) in batch mode in ``tmp_path`` with PATH holding only tensorlint (or not);
    returns what it printed with `message`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if with_tensorlint and not (bin_dir / "tensorlint").exists():
        (bin_dir / "tensorlint").symlink_to(TENSORLINT)
    script = tmp_path / "run.el"
    script.write_text(program)
    env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]), "HOME": str(tmp_path)}
    result = subprocess.run([EMACS, "--batch", "-l", str(script)], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr  # batch-mode `message` writes to stderr


def _dir_locals_example() -> str:
    """The .dir-locals.el form the eglot file documents (the commented line after "in .dir-locals.el")."""
    text = EGLOT.read_text()
    match = re.search(r"in \.dir-locals\.el[^\n]*\n(?:;;[^\n]*\n)*?;;\s+(\(\(.*\)\)\)\)\))\n", text)
    assert match, "the eglot file documents a .dir-locals.el example"
    return match.group(1)


WAIT_FOR_FLYMAKE = """
(let ((deadline (+ (float-time) 60)))
  (while (and (< (float-time) deadline) (null (flymake-diagnostics)))
    (accept-process-output nil 0.2)))
(message "DIAGNOSTICS %S" (sort (mapcar (lambda (d) (let ((text (flymake-diagnostic-text d)))
                                                  (string-match "\\\\[\\\\([A-Z]+[0-9]+\\\\)\\\\]" text)
                                                  (match-string 1 text)))
                                        (flymake-diagnostics))
                                #'string<))
"""


@pytest.mark.skipif(not TENSORLINT.exists(), reason="no tensorlint console script beside this Python")
def test_eglot_runs_tensorlint_serve_with_the_documented_dir_locals_on_this_emacs(tmp_path):
    if not _has("eglot"):
        pytest.skip("eglot is not available (Emacs < 29 without elpa-eglot)")
    (tmp_path / "model.py").write_text(SOURCE)
    # the documented project settings, asking to ignore PT002: they must reach the server on Emacs 27/28 too
    (tmp_path / ".dir-locals.el").write_text(_dir_locals_example().replace("PT005", "PT002") + "\n")
    out = _emacs(tmp_path, f"""
(load "{EGLOT}")
(setq enable-local-variables :all)
(find-file "model.py")
(message "CONTACT %S" (funcall (cdr (assoc '(python-mode python-ts-mode) eglot-server-programs))))
(message "CONFIG %S" eglot-workspace-configuration)
(run-hooks 'post-command-hook)  ; eglot-ensure connects after the command that opened the file
{WAIT_FOR_FLYMAKE}
""", with_tensorlint=True)
    assert 'CONTACT ("tensorlint" "serve")' in out
    assert 'CONFIG (:tensorlint (:ignore ["PT002"]))' in out
    assert 'DIAGNOSTICS ("PT006")' in out, out[-3000:]


def test_eglot_says_what_to_do_when_tensorlint_is_missing(tmp_path):
    if not _has("eglot"):
        pytest.skip("eglot is not available (Emacs < 29 without elpa-eglot)")
    out = _emacs(tmp_path, f"""
(load "{EGLOT}")
(condition-case err (tensorlint-server-contact)
  (user-error (message "USER-ERROR %s" (error-message-string err))))
""", with_tensorlint=False)
    assert "USER-ERROR tensorlint: `tensorlint' not found on `exec-path'." in out.replace("\u2018", "`").replace(
        "\u2019", "'")
    assert "tensorlint-command" in out and "Searching for program" not in out


@pytest.mark.skipif(not TENSORLINT.exists(), reason="no tensorlint console script beside this Python")
def test_lsp_mode_add_on_server_starts_and_reports(tmp_path):
    if not _has("lsp-mode"):
        pytest.skip("lsp-mode is not installed (Debian: apt install elpa-lsp-mode)")
    (tmp_path / "model.py").write_text(SOURCE)
    out = _emacs(tmp_path, f"""
(require 'lsp-mode)
(load "{LSP_MODE}")
(let ((client (gethash 'tensorlint lsp-clients)))
  (message "ADD-ON %S COMMAND %S" (lsp--client-add-on? client) tensorlint-lsp-command))
(setq lsp-auto-guess-root t lsp-enabled-clients '(tensorlint) lsp-session-file (expand-file-name "session")
      lsp-modeline-workspace-status-enable nil lsp-modeline-code-actions-enable nil
      lsp-modeline-diagnostics-enable nil lsp-headerline-breadcrumb-enable nil)
(find-file "model.py")
(lsp)
(let ((deadline (+ (float-time) 60)))
  (while (and (< (float-time) deadline) (null (gethash (buffer-file-name) (lsp-diagnostics t))))
    (accept-process-output nil 0.2)))
(message "DIAGNOSTICS %S" (sort (mapcar (lambda (d) (lsp:diagnostic-code? d))
                                        (gethash (buffer-file-name) (lsp-diagnostics t)))
                                #'string<))
""", with_tensorlint=True)
    assert 'ADD-ON t COMMAND ("tensorlint" "serve")' in out
    assert 'DIAGNOSTICS ("PT002" "PT006")' in out, out[-3000:]


def test_lsp_mode_knows_when_tensorlint_is_missing(tmp_path):
    if not _has("lsp-mode"):
        pytest.skip("lsp-mode is not installed (Debian: apt install elpa-lsp-mode)")
    out = _emacs(tmp_path, f"""
(require 'lsp-mode)
(load "{LSP_MODE}")
(message "PRESENT %S" (funcall (plist-get (lsp--client-new-connection (gethash 'tensorlint lsp-clients)) :test?)))
""", with_tensorlint=False)
    assert "PRESENT nil" in out
