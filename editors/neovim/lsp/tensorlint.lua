-- tensorlint for Neovim 0.11+: put this file on your runtimepath as lsp/tensorlint.lua
-- (e.g. ~/.config/nvim/lsp/tensorlint.lua) and add to init.lua:
--   vim.lsp.enable("tensorlint")
-- Override any field with vim.lsp.config("tensorlint", { ... }), e.g. cmd or settings.
return {
  cmd = { "tensorlint", "serve" },
  filetypes = { "python" },
  root_markers = { "pyproject.toml", "setup.cfg", "setup.py", ".git" },
  -- [tool.tensorlint] keys (select, ignore, extend-select, per-file-ignores, deployment, debounce,
  -- max-file-size-kb); keys left out are decided by pyproject.toml.
  init_options = {},
  settings = { tensorlint = {} },
}
