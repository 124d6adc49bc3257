--- forewarn for Neovim 0.11+: warns before a PowerShell, shell or batch script runs a command
--- known to fail on the system it targets (https://neovim.io/doc/user/lsp.html#lsp-config).
---
--- Put the directory holding this `lsp/` folder on 'runtimepath' (or copy this file to
--- `~/.config/nvim/lsp/forewarn.lua`), then call `vim.lsp.enable('forewarn')`.
--- Override any field with `vim.lsp.config('forewarn', { … })`.

---@type vim.lsp.Config
return {
  cmd = { 'forewarn', 'lsp' },
  filetypes = { 'ps1', 'sh', 'bash', 'zsh', 'dosbatch' },
  root_markers = { '.forewarn.toml', '.git' },
  -- Send the languageIds VS Code sends, which the server knows (DESIGN.md §5).
  get_language_id = function(_, filetype)
    local ids = { ps1 = 'powershell', sh = 'shellscript', bash = 'shellscript', zsh = 'shellscript', dosbatch = 'bat' }
    return ids[filetype] or filetype
  end,
  -- Read by the server from initializationOptions and workspace/didChangeConfiguration
  -- (DESIGN.md §8). Unset keys fall back to `.forewarn.toml`, FOREWARN_STORE and the defaults:
  --   store    = '/path/to/patterns.db',       -- the pattern store (SQLite)
  --   target   = 'debian-12',                  -- default target: a host in the store or a tag
  --   targets  = { ['legacy/**'] = 'windows-server-2008' },  -- path globs -> targets
  --   severity = 'info',                       -- lowest reported: info|minor|major|blocking
  settings = {
    forewarn = {
      severity = 'info',
    },
  },
  -- The server gets its settings before the first diagnostics, not only after initialization.
  before_init = function(params, config)
    local forewarn = config.settings and config.settings.forewarn
    if forewarn ~= nil then
      params.initializationOptions = vim.tbl_deep_extend(
        'force',
        params.initializationOptions or {},
        { forewarn = forewarn }
      )
    end
  end,
}
