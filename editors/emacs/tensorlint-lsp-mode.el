;;; tensorlint-lsp-mode.el --- tensorlint next to your main Python server, with lsp-mode  -*- lexical-binding: t; -*-

;; lsp-mode runs "add-on" servers alongside the main one for a language, so pyright/pylsp keep completion and
;; hover while tensorlint adds its diagnostics and code actions. Load after lsp-mode:
;;   (with-eval-after-load 'lsp-mode (load "/path/to/editors/emacs/tensorlint-lsp-mode.el"))

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
