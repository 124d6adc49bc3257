-- End-to-end test of editors/nvim/lsp/forewarn.lua in a real, headless Neovim 0.11+:
-- vim.lsp.enable('forewarn') starts the real `forewarn lsp` (env FOREWARN_BIN) on a fixture
-- script; the test waits for the diagnostics, checks line, column, severity and message, asks
-- for code actions, applies them, and checks the buffer text.
--
-- Run: FOREWARN_BIN=target/debug/forewarn nvim --headless --clean -l editors/nvim/test/run.lua
-- Exits 0 when every check passed, 1 with a message naming the failed check otherwise.

local TIMEOUT_MS = 15000
local passed = 0

local function fail(msg)
  io.stderr:write('FAIL: ' .. msg .. '\n')
  local log = vim.lsp.log.get_filename()
  if vim.uv.fs_stat(log) then
    -- The server's stderr is in there too: the end of it usually says why.
    local tail = vim.list_slice(vim.fn.readfile(log), math.max(1, #vim.fn.readfile(log) - 40))
    io.stderr:write('--- end of the Neovim LSP log ' .. log .. ' ---\n' .. table.concat(tail, '\n') .. '\n')
  end
  io.stderr:write(passed .. ' passed, 1 failed\n')
  os.exit(1)
end

local function check(cond, msg)
  if not cond then
    fail(msg)
  end
  passed = passed + 1
end

local bin = os.getenv('FOREWARN_BIN')
check(bin and vim.fn.executable(bin) == 1, 'set FOREWARN_BIN to the forewarn binary (got ' .. tostring(bin) .. ')')
check(vim.fn.has('nvim-0.11') == 1, 'Neovim 0.11 or later is needed for vim.lsp.config, this is ' .. tostring(vim.version()))

-- editors/nvim is the "plugin": its lsp/forewarn.lua is found on 'runtimepath'.
local here = vim.fs.dirname(vim.fs.abspath(debug.getinfo(1, 'S').source:sub(2)))
local plugin = vim.fs.dirname(here)
vim.opt.runtimepath:prepend(plugin)
vim.lsp.log.set_level(vim.env.FOREWARN_NVIM_LSP_LOG or 'warn')

-- A workspace of our own with its own store, so no user store is read or written.
local tmp = vim.fn.tempname()
vim.fn.mkdir(tmp, 'p')
local store = vim.fs.joinpath(tmp, 'store.db')
local init = vim.system({ bin, '--store', store, 'store', 'init' }, { text = true }):wait()
check(init.code == 0, 'forewarn --store ' .. store .. ' store init exited ' .. init.code .. ': ' .. (init.stderr or '') .. (init.stdout or ''))
-- An empty .forewarn.toml marks the workspace root (root_markers).
vim.fn.writefile({}, vim.fs.joinpath(tmp, '.forewarn.toml'))
for _, name in ipairs({ 'legacy.ps1', 'deploy.sh' }) do
  vim.fn.writefile(vim.fn.readfile(vim.fs.joinpath(here, 'fixtures', name), 'b'), vim.fs.joinpath(tmp, name), 'b')
end

local config = vim.lsp.config.forewarn
check(config ~= nil and config.cmd and config.cmd[1] == 'forewarn', 'lsp/forewarn.lua was not found on runtimepath')
vim.lsp.config('forewarn', {
  cmd = { bin, 'lsp' },
  cmd_env = { FOREWARN_STORE = store },
  settings = { forewarn = { store = store } },
})
vim.lsp.enable('forewarn')

--- Opens `name` from the workspace and returns its buffer and the attached forewarn client.
local function open(name, filetype)
  vim.cmd.edit(vim.fn.fnameescape(vim.fs.joinpath(tmp, name)))
  local buf = vim.api.nvim_get_current_buf()
  check(vim.bo[buf].filetype == filetype, name .. ': filetype ' .. vim.bo[buf].filetype .. ', expected ' .. filetype)
  local client
  vim.wait(TIMEOUT_MS, function()
    client = vim.lsp.get_clients({ bufnr = buf, name = 'forewarn' })[1]
    return client ~= nil and client.initialized
  end, 20)
  check(client ~= nil, name .. ': the forewarn client did not attach (filetypes in lsp/forewarn.lua?)')
  check(client.initialized, name .. ': the server did not finish initialize within ' .. TIMEOUT_MS .. ' ms')
  check(client.root_dir == vim.fs.normalize(vim.uv.fs_realpath(tmp)) or client.root_dir == tmp,
    name .. ': root_dir ' .. tostring(client.root_dir) .. ', expected the folder holding .forewarn.toml')
  return buf, client
end

local function forewarn_diagnostics(buf)
  return vim.tbl_filter(function(d)
    return d.source == 'forewarn'
  end, vim.diagnostic.get(buf))
end

--- Waits for a forewarn diagnostic on 0-based `lnum` and returns it.
local function wait_diagnostic(buf, lnum, what)
  local found
  vim.wait(TIMEOUT_MS, function()
    for _, d in ipairs(forewarn_diagnostics(buf)) do
      if d.lnum == lnum then
        found = d
        return true
      end
    end
    return false
  end, 20)
  if not found then
    fail(what .. ': no forewarn diagnostic on line ' .. (lnum + 1) .. ' within ' .. TIMEOUT_MS .. ' ms; got '
      .. vim.inspect(forewarn_diagnostics(buf)))
  end
  return found
end

--- Every code action the server offers for `diag`, resolved to carry its edit.
local function code_actions(buf, client, diag)
  local lsp_diag = diag.user_data and diag.user_data.lsp
  check(lsp_diag ~= nil, 'the diagnostic keeps its LSP form in user_data.lsp')
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    range = lsp_diag.range,
    context = { diagnostics = { lsp_diag }, triggerKind = 1 },
  }
  local responses, err = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, TIMEOUT_MS)
  check(responses ~= nil, 'textDocument/codeAction: ' .. tostring(err))
  local response = responses[client.id]
  check(response and not response.error, 'textDocument/codeAction failed: ' .. vim.inspect(response))
  local actions = response.result or {}
  check(#actions > 0, 'no code actions for ' .. vim.inspect(lsp_diag))
  for i, action in ipairs(actions) do
    if action.edit == nil and action.data ~= nil then
      local resolved = client:request_sync('codeAction/resolve', action, TIMEOUT_MS, buf)
      check(resolved and resolved.result, 'codeAction/resolve of "' .. action.title .. '" failed: ' .. vim.inspect(resolved))
      actions[i] = resolved.result
    end
    check(actions[i].kind == 'quickfix', '"' .. action.title .. '" is not a quickfix')
    check(actions[i].edit ~= nil, '"' .. action.title .. '" has no edit')
  end
  return actions
end

--- The TextEdits of a WorkspaceEdit, from `changes` or `documentChanges`.
local function text_edits(edit)
  local all = {}
  for _, edits in pairs(edit.changes or {}) do
    vim.list_extend(all, edits)
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    vim.list_extend(all, change.edits or {})
  end
  return all
end

local function lines(buf)
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
end

-- 1. PowerShell for Windows Server 2008: Get-LocalUser is an error, after emoji and CJK text.
do
  local buf, client = open('legacy.ps1', 'ps1')
  check(client.offset_encoding == 'utf-8', 'Neovim offers UTF-8, the server should pick it; got ' .. client.offset_encoding)
  local line = lines(buf)[3]
  local diag = wait_diagnostic(buf, 2, 'legacy.ps1')
  -- Neovim stores byte columns whatever the encoding on the wire.
  local col = line:find('Get-LocalUser', 1, true) - 1
  check(diag.col == col and diag.end_lnum == 2 and diag.end_col == col + #'Get-LocalUser',
    ('legacy.ps1: range %d:%d-%d:%d, expected 2:%d-2:%d'):format(diag.lnum, diag.col, diag.end_lnum, diag.end_col, col, col + 13))
  check(diag.severity == vim.diagnostic.severity.ERROR, 'legacy.ps1: severity ' .. tostring(diag.severity) .. ', expected ERROR (blocking)')
  check(diag.message:find('windows-server-2008', 1, true) ~= nil, 'legacy.ps1: the message does not name the target: ' .. diag.message)
  check(diag.message:find('LocalAccounts', 1, true) or diag.message:find('Get-LocalUser', 1, true),
    'legacy.ps1: the message does not say what fails: ' .. diag.message)

  local actions = code_actions(buf, client, diag)
  local comment
  for _, a in ipairs(actions) do
    check(not a.isPreferred, 'legacy.ps1: "' .. a.title .. '" is preferred, but this pattern has no fix')
    -- The comment action inserts whole comment lines above the flagged line, no suppression.
    local edits = text_edits(a.edit)
    local inserts = #edits > 0
    for _, e in ipairs(edits) do
      local r = e.range
      inserts = inserts and r.start.line == 2 and r.start.character == 0 and r['end'].line == 2
        and r['end'].character == 0 and e.newText:match('^%s*#') ~= nil
        and not e.newText:find('forewarn: ignore', 1, true)
    end
    if comment == nil and inserts then
      comment = a
    end
  end
  check(comment ~= nil, 'legacy.ps1: no "insert as comment" action among ' .. vim.inspect(vim.tbl_map(function(a) return a.title end, actions)))
  vim.lsp.util.apply_workspace_edit(comment.edit, client.offset_encoding)
  local after = lines(buf)
  local moved
  for i = 3, #after do
    if after[i] == line then
      moved = i
      break
    end
  end
  check(moved and moved > 3, 'legacy.ps1: the flagged line should move down under the comment:\n' .. table.concat(after, '\n'))
  for i = 3, moved - 1 do
    check(after[i]:match('^%s*#') ~= nil, 'legacy.ps1: inserted line ' .. i .. ' is not a PowerShell comment: ' .. after[i])
  end
  check(table.concat(after, '\n', 3, moved - 1):find('Win32_UserAccount', 1, true) ~= nil,
    'legacy.ps1: the inserted comment lacks the recommended solution:\n' .. table.concat(after, '\n'))
end

-- 2. bash for Debian 12: the preferred fix turns `python` into `python3`; the edit clears it.
do
  local buf, client = open('deploy.sh', 'sh')
  local diag = wait_diagnostic(buf, 3, 'deploy.sh')
  local line = lines(buf)[4]
  local col = line:find('python', 1, true) - 1
  check(diag.col == col and diag.end_col == col + #'python',
    ('deploy.sh: columns %d-%d, expected %d-%d'):format(diag.col, diag.end_col, col, col + 6))
  check(diag.severity == vim.diagnostic.severity.WARN, 'deploy.sh: severity ' .. tostring(diag.severity) .. ', expected WARN (major)')
  check(diag.message:find('debian-12', 1, true) ~= nil, 'deploy.sh: the message does not name the target: ' .. diag.message)

  local preferred = vim.tbl_filter(function(a)
    return a.isPreferred
  end, code_actions(buf, client, diag))
  check(#preferred == 1, 'deploy.sh: expected exactly one preferred fix, got ' .. #preferred)
  vim.lsp.util.apply_workspace_edit(preferred[1].edit, client.offset_encoding)
  local fixed = lines(buf)[4]
  check(fixed == 'echo "🐍 résumé →"; python3 x.py', 'deploy.sh: after the fix, line 4 is: ' .. fixed)

  -- Neovim sends the edit as didChange; the server re-checks and the finding goes away.
  local cleared = vim.wait(TIMEOUT_MS, function()
    for _, d in ipairs(forewarn_diagnostics(buf)) do
      if d.lnum == 3 then
        return false
      end
    end
    return true
  end, 20)
  check(cleared, 'deploy.sh: python3 is still flagged after the fix: ' .. vim.inspect(forewarn_diagnostics(buf)))
end

for _, client in ipairs(vim.lsp.get_clients({ name = 'forewarn' })) do
  client:stop()
end
vim.wait(5000, function()
  return #vim.lsp.get_clients({ name = 'forewarn' }) == 0
end, 20)
vim.fn.delete(tmp, 'rf')
io.stdout:write(('nvim: %d passed, 0 failed\n'):format(passed))
