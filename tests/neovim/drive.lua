-- Drives a headless Neovim through what a user does: load the tensorlint config from editors/neovim/ (the variant
-- for this Neovim version), open a model file, wait for tensorlint's diagnostics, run the code-action command and
-- pick the quick fix, write the buffer. Writes what happened as JSON to $TENSORLINT_NVIM_RESULT.
-- Inputs (environment): TENSORLINT_NVIM_CONFIG (editors/neovim), TENSORLINT_NVIM_CMD (JSON list: the server
-- command), TENSORLINT_NVIM_TARGET (the file to fix), TENSORLINT_NVIM_CODE (the rule code to fix).

local v = vim.version()
local result = { version = string.format("%d.%d.%d", v.major, v.minor, v.patch) }
local config_dir = os.getenv("TENSORLINT_NVIM_CONFIG")
local cmd = vim.fn.json_decode(os.getenv("TENSORLINT_NVIM_CMD"))
local target = os.getenv("TENSORLINT_NVIM_TARGET")
local code = os.getenv("TENSORLINT_NVIM_CODE")
local TIMEOUT = 60000

local function clients_of(bufnr)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ bufnr = bufnr })
  end
  return vim.tbl_values(vim.lsp.buf_get_clients(bufnr))
end

local function all_clients()
  return vim.lsp.get_clients and vim.lsp.get_clients() or vim.lsp.get_active_clients()
end

local function wait_for(what, predicate)
  if not vim.wait(TIMEOUT, predicate, 50) then
    error("timed out waiting for " .. what)
  end
end

local function tensorlint_diagnostics(bufnr)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == "tensorlint" or (d.code and tostring(d.code):match("^%u%u%d%d%d$")) then
      table.insert(found, {
        lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
        severity = d.severity, code = d.code, message = d.message, source = d.source,
      })
    end
  end
  return found
end

local function has_code(diagnostics, wanted)
  for _, d in ipairs(diagnostics) do
    if d.code == wanted then
      return d
    end
  end
  return nil
end

-- The lines as Neovim renders them with diagnostics as virtual text: "<source line>  <virtual text>".
local function rendered_lines(bufnr)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local virtual = {}
  -- vim.diagnostic draws virtual text in anonymous namespaces, which nvim_get_namespaces() does not list
  local last_namespace = vim.api.nvim_create_namespace("tensorlint-test-probe")
  for ns = 1, last_namespace do
    local ok, marks = pcall(vim.api.nvim_buf_get_extmarks, bufnr, ns, 0, -1, { details = true })
    for _, mark in ipairs(ok and marks or {}) do
      local details = mark[4] or {}
      if details.virt_text then
        local text = {}
        for _, chunk in ipairs(details.virt_text) do
          table.insert(text, chunk[1])
        end
        virtual[mark[2]] = (virtual[mark[2]] or "") .. table.concat(text)
      end
    end
  end
  local out = {}
  for index, line in ipairs(lines) do
    local extra = virtual[index - 1]
    table.insert(out, extra and (line .. "  " .. extra) or line)
  end
  return out
end

local function main()
  vim.opt.runtimepath:prepend(config_dir)
  vim.diagnostic.config({ virtual_text = true, signs = true, underline = true })
  if vim.fn.has("nvim-0.11") == 1 then
    result.variant = "lsp/tensorlint.lua + vim.lsp.enable (0.11+)"
    vim.lsp.config("tensorlint", { cmd = cmd })
    vim.lsp.enable("tensorlint")
  else
    result.variant = "lua/tensorlint.lua setup() (0.7+)"
    require("tensorlint").setup({ cmd = cmd })
  end
  vim.cmd("filetype on")
  vim.cmd("edit " .. vim.fn.fnameescape(target))
  local bufnr = vim.api.nvim_get_current_buf()

  wait_for("the tensorlint client to attach", function()
    return #clients_of(bufnr) > 0
  end)
  local client = clients_of(bufnr)[1]
  result.client_name = client.name
  result.offset_encoding = client.offset_encoding

  wait_for(code .. " diagnostics", function()
    return has_code(tensorlint_diagnostics(bufnr), code) ~= nil
  end)
  result.diagnostics = tensorlint_diagnostics(bufnr)
  result.rendered = rendered_lines(bufnr)

  -- The user's path: cursor on the finding, the code-action command, pick the quick fix from the menu.
  local finding = has_code(result.diagnostics, code)
  vim.api.nvim_win_set_cursor(0, { finding.lnum + 1, finding.col })
  result.offered = {}
  local chosen = false
  vim.ui.select = function(items, _, on_choice)
    local pick
    for _, item in ipairs(items) do
      local action = item.action or item[2]
      table.insert(result.offered, { title = action.title, kind = action.kind })
      if not pick and action.kind == "quickfix" and not action.title:match("^Ignore") then
        pick = item
        result.chosen = action.title
      end
    end
    chosen = true
    on_choice(pick)
  end
  local before = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
  vim.lsp.buf.code_action()
  wait_for("the code-action menu", function()
    return chosen
  end)
  if not result.chosen then
    error("no quick fix among the offered code actions")
  end
  wait_for("the quick fix to change the buffer", function()
    return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") ~= before
  end)
  vim.cmd("write")

  -- The server sees the edit (didChange) and withdraws the finding.
  wait_for("the fixed finding to disappear", function()
    return has_code(tensorlint_diagnostics(bufnr), code) == nil
  end)
  result.diagnostics_after = tensorlint_diagnostics(bufnr)

  vim.lsp.stop_client(all_clients())
  result.stopped = vim.wait(10000, function()
    return #all_clients() == 0
  end, 50)
end

local ok, err = xpcall(main, debug.traceback)
result.ok = ok
if not ok then
  result.error = tostring(err)
end
local out = io.open(os.getenv("TENSORLINT_NVIM_RESULT"), "w")
out:write(vim.fn.json_encode(result))
out:close()
vim.cmd(ok and "qall!" or "cquit! 1")
