;;; tensorlint-eglot.el --- tensorlint diagnostics in Emacs through eglot  -*- lexical-binding: t; -*-

;; Eglot is built into Emacs 29+. On Emacs 27/28 install it first: `sudo apt install elpa-eglot' on Debian/Ubuntu
;; (no package archive needed), or M-x package-install RET eglot RET from GNU ELPA.
;; Load this file from your init file, e.g. (load "/path/to/editors/emacs/tensorlint-eglot.el").
;;
;; Eglot runs ONE server per major mode. This makes tensorlint that server for Python buffers: you get its
;; diagnostics (Flymake), quick fixes (M-x eglot-code-actions, or eglot-code-quickfix) and fix-all, but not the
;; completion/hover of another Python server. To run tensorlint NEXT TO pyright/pylsp, use lsp-mode with
;; tensorlint as an add-on server (tensorlint-lsp-mode.el), or keep eglot for your main server and use the
;; CLI through Flymake/compile (`M-x compile RET tensorlint check RET`, whose output is `path:row:col: ...`).

(require 'eglot)

(defgroup tensorlint nil
  "tensorlint, the PyTorch/Keras pitfall finder, as a language server."
  :group 'tools)

(defcustom tensorlint-command '("tensorlint" "serve")
  "Command that starts the tensorlint language server.
Use the full path when tensorlint lives in a virtual environment that is not on `exec-path',
e.g. (\"~/proj/.venv/bin/tensorlint\" \"serve\")."
  :type '(repeat string))

(defun tensorlint-server-contact (&optional _interactive)
  "The command eglot runs for tensorlint: `tensorlint-command', `~' expanded.
Signals a `user-error' that says what to do when its program is not found, instead of eglot's
\"Searching for program\" error."
  (let* ((program (car tensorlint-command))
         (expanded (if (string-prefix-p "~" program) (expand-file-name program) program)))
    (unless (executable-find expanded)
      (user-error "tensorlint: `%s' not found on `exec-path'.  Install tensorlint where Emacs finds it \
(e.g. `pip install /path/to/tensorlint-checkout' in the project's virtual environment) or set \
`tensorlint-command' to its full path, e.g. (setq tensorlint-command '(\"~/proj/.venv/bin/tensorlint\" \"serve\"))"
                  program))
    (cons expanded (cdr tensorlint-command))))

(add-to-list 'eglot-server-programs `((python-mode python-ts-mode) . tensorlint-server-contact))

;; Settings: [tool.tensorlint] keys, answered on workspace/configuration for the section "tensorlint";
;; keys left out are decided by pyproject.toml. Per project, in .dir-locals.el (the nil key: every mode, which
;; works on Emacs 27 and 28 too; `python-base-mode' exists only from Emacs 29):
;;   ((nil . ((eglot-workspace-configuration . (:tensorlint (:ignore ["PT005"]))))))

(add-hook 'python-mode-hook #'eglot-ensure)
(add-hook 'python-ts-mode-hook #'eglot-ensure)

(defun tensorlint-fix-all ()
  "Apply all of tensorlint's safe fixes to the current buffer (source.fixAll.tensorlint)."
  (interactive)
  (eglot-code-actions (point-min) (point-max) "source.fixAll.tensorlint" t))

(provide 'tensorlint-eglot)
;;; tensorlint-eglot.el ends here
