# Nightly SQL Express backup on ACME-DC01: dump, zip, checksum, copy to the NAS.
$ErrorActionPreference = 'Stop'
$here = Split-Path -Parent $MyInvocation.MyCommand.Definition
$stamp = Get-Date -Format 'yyyyMMdd-HHmm'
$dumpDir = 'D:\Backup\sql'
$zip = "D:\Backup\acme-sql-$stamp.zip"

& sqlcmd -S '.\SQLEXPRESS' -E -Q "BACKUP DATABASE [Dental] TO DISK = N'$dumpDir\Dental.bak' WITH INIT"
if ($LASTEXITCODE -ne 0) { throw "sqlcmd failed with $LASTEXITCODE" }

Compress-Archive -Path "$dumpDir\*" -DestinationPath $zip
$hash = (Get-FileHash -Algorithm SHA256 -Path $zip).Hash
Set-Content -Path "$zip.sha256" -Value $hash

& robocopy 'D:\Backup' '\\acme-nas01\backup\sql' '*.zip' '*.sha256' /R:2 /W:10 /NP # forewarn: ignore=17692730
if ($LASTEXITCODE -ge 8) { throw "robocopy failed with $LASTEXITCODE" }

Get-ChildItem -Path 'D:\Backup' -Filter '*.zip' |
    Where-Object { $_.LastWriteTime -lt (Get-Date).AddDays(-14) } |
    Remove-Item

# Register this script once as a scheduled task (run by hand after changes).
if ($args -contains '-Install') {
    schtasks /Create /TN 'Acme SQL backup' /TR "powershell.exe -NoProfile -File $here\backup-sql.ps1" /SC DAILY /ST 01:30 /RU SYSTEM /F
}
