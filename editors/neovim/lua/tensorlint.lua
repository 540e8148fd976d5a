-- tensorlint for Neovim 0.7 and later, through the built-in LSP client.
--
-- Put this file on your runtimepath as lua/tensorlint.lua (e.g. ~/.config/nvim/lua/tensorlint.lua) and call
--   require("tensorlint").setup()
-- from init.lua. A FileType autocmd starts `tensorlint serve` once per project root and attaches every Python
-- buffer of that project to it: vim.lsp.start on 0.8+, vim.lsp.start_client + buf_attach_client on 0.7.
-- On 0.11+ you can use lsp/tensorlint.lua with vim.lsp.enable("tensorlint") instead.

local M = {}

M.defaults = {
  -- the server command; e.g. { "/path/to/.venv/bin/tensorlint", "serve" } when tensorlint is not on PATH
  cmd = { "tensorlint", "serve" },
  filetypes = { "python" },
  -- the nearest directory holding one of these (in this order of preference) is the project root
  root_markers = { "pyproject.toml", "setup.cfg", "setup.py", ".git" },
  -- [tool.tensorlint] keys (select, ignore, extend-select, per-file-ignores, deployment, debounce,
  -- max-file-size-kb); sent as initializationOptions and answered for the section "tensorlint".
  -- Keys left out are decided by pyproject.toml.
  settings = {},
  on_attach = nil,
  capabilities = nil,
}

local clients_by_root = {} -- Neovim 0.7 only: root directory -> client id

local function find_root(path, markers)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  for _, marker in ipairs(markers) do
    local file = vim.fn.findfile(marker, dir .. ";")
    if file ~= "" then
      return vim.fn.fnamemodify(file, ":p:h")
    end
    local folder = vim.fn.finddir(marker, dir .. ";")
    if folder ~= "" then
      -- ":p" of a directory ends in "/", so ":h" once drops the slash and once more the marker itself
      return vim.fn.fnamemodify(folder, ":p:h:h")
    end
  end
  return dir
end

local function client_config(opts, root)
  return {
    name = "tensorlint",
    cmd = opts.cmd,
    root_dir = root,
    init_options = opts.settings,
    settings = { tensorlint = opts.settings },
    on_attach = opts.on_attach,
    capabilities = opts.capabilities,
  }
end

function M.attach(bufnr, opts)
  opts = opts or M.options or M.defaults
  local path = vim.api.nvim_buf_get_name(bufnr)
  if path == "" or vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  local root = find_root(path, opts.root_markers)
  local config = client_config(opts, root)
  if vim.lsp.start then
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local client_id = clients_by_root[root]
  local client = client_id and vim.lsp.get_client_by_id(client_id)
  if not client or client.is_stopped() then
    client_id = vim.lsp.start_client(config)
    clients_by_root[root] = client_id
  end
  if client_id then
    vim.lsp.buf_attach_client(bufnr, client_id)
  end
  return client_id
end

function M.setup(user_opts)
  M.options = vim.tbl_deep_extend("force", {}, M.defaults, user_opts or {})
  local group = vim.api.nvim_create_augroup("tensorlint", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = M.options.filetypes,
    callback = function(args)
      M.attach(args.buf, M.options)
    end,
  })
  -- buffers opened before setup() ran
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(M.options.filetypes, vim.bo[bufnr].filetype) then
      M.attach(bufnr, M.options)
    end
  end
end

return M
