;;; tensorlint-lsp-mode.el --- tensorlint next to your main Python server, with lsp-mode  -*- lexical-binding: t; -*-

;; lsp-mode runs "add-on" servers alongside the main one for a language, so pyright/pylsp keep completion and
;; hover while tensorlint adds its diagnostics and code actions. lsp-mode itself comes from MELPA, or on
;; Debian/Ubuntu from `sudo apt install elpa-lsp-mode'.  Load this file after lsp-mode, and start lsp-mode in
;; Python buffers (nothing starts without the hook, unless you already have it for your main server):
;;   (with-eval-after-load 'lsp-mode (load "/path/to/editors/emacs/tensorlint-lsp-mode.el"))
;;   (add-hook 'python-mode-hook #'lsp-deferred)
;;   (add-hook 'python-ts-mode-hook #'lsp-deferred)   ; Emacs 29+
;; When `tensorlint' is not found, lsp-mode says the server is not installed: install tensorlint where Emacs
;; finds it (the project's virtual environment on `exec-path') or set `tensorlint-lsp-command' to its full path.

(require 'lsp-mode)

(defcustom tensorlint-lsp-command '("tensorlint" "serve")
  "Command that starts the tensorlint language server."
  :type '(repeat string)
  :group 'lsp-mode)

(defcustom tensorlint-lsp-settings nil
  "[tool.tensorlint] keys sent as initializationOptions, as a plist, e.g. (:ignore [\"PT005\"]).
Keys left out are decided by pyproject.toml."
  :type 'plist
  :group 'lsp-mode)

(lsp-register-client
 (make-lsp-client
  :new-connection (lsp-stdio-connection (lambda () tensorlint-lsp-command))
  :activation-fn (lsp-activate-on "python")
  :server-id 'tensorlint
  :add-on? t
  :priority -2
  :initialization-options (lambda () tensorlint-lsp-settings)))

(provide 'tensorlint-lsp-mode)
;;; tensorlint-lsp-mode.el ends here
