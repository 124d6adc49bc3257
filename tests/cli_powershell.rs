//! `forewarn check` on PowerShell an MSP engineer writes for Windows Server 2008 R2 to 2022, with
//! a store seeded from the default library: the real binary, its JSON report. What argument
//! mode reads as text, what a version or Windows release check rules out, `curl` in Windows
//! PowerShell, splatting.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

/// A new store with the default library and a host `srv08` (Server 2008 R2 with WMF 5.1).
struct Store {
    dir: tempfile::TempDir,
}

impl Store {
    fn new() -> Store {
        let store = Store {
            dir: tempfile::tempdir().unwrap(),
        };
        store.run(&["store", "init"]);
        store.run(&[
            "store",
            "host",
            "add",
            "srv08",
            "--tag",
            "windows-server-2008-r2",
            "--tag",
            "powershell-5.1",
        ]);
        store
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("patterns.db")
    }

    fn command(&self) -> Command {
        let mut c = common::forewarn(&self.path());
        c.current_dir(self.dir.path()).stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) {
        let out = self.command().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The findings of `check --format json --target TARGET` on a file holding `script`.
    fn check(&self, name: &str, script: &str, target: &str) -> Vec<Value> {
        let file = self.dir.path().join(name);
        std::fs::write(&file, script).unwrap();
        let out = self
            .command()
            .args(["check", "--format", "json", "--target", target])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "check {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
        v["findings"].as_array().unwrap().clone()
    }
}

fn signatures(findings: &[Value]) -> Vec<&str> {
    findings
        .iter()
        .map(|f| f["signature"].as_str().unwrap())
        .collect()
}

/// Each finding's line and signature.
fn lines_and_signatures(findings: &[Value]) -> Vec<(u64, &str)> {
    findings
        .iter()
        .map(|f| {
            (
                f["start"]["line"].as_u64().unwrap(),
                f["signature"].as_str().unwrap(),
            )
        })
        .collect()
}

fn line_of(script: &str, needle: &str) -> u64 {
    let at = script.find(needle).unwrap();
    script[..at].matches('\n').count() as u64 + 1
}

fn has(findings: &[Value], signature: &str) -> bool {
    signatures(findings).contains(&signature)
}

const COALESCE: &str = "Null-coalescing operators ?? and ??= need PowerShell 7";
const IN: &str = "-in / -notin operators need PowerShell 3.0";
const TERNARY: &str = "Ternary operator ? : needs PowerShell 7";
const CUSTOM: &str = "[pscustomobject] needs PowerShell 3.0";
const ROOT: &str = "$PSScriptRoot is empty in PowerShell 2.0 scripts";
const BASIC: &str =
    "Invoke-WebRequest without -UseBasicParsing fails where Internet Explorer is not set up";
const CURL_EXE: &str = "curl.exe is missing before Windows 10 1803 / Server 2019";

#[test]
fn wildcards_and_parameter_names_are_no_operators_but_expressions_are() {
    let store = Store::new();
    let script = "\
Get-ChildItem C:\\Temp\\??.tmp
Get-ChildItem C:\\Temp -Filter ??.tmp
Remove-Item C:\\Temp\\~DF??.tmp
dir C:\\logs\\ex??????.log
& openssl.exe pkcs12 -in C:\\c.pfx -out c.pem
certutil -encode -in x
$name = $env:COMPUTERNAME ?? 'localhost'
$mode = $force ? 'all' : 'new'
if ($role -in 'web', 'sql') { 'ok' }
";
    let found = store.check("cleanup.ps1", script, "windows-server-2022");
    let lines = lines_and_signatures(&found);
    assert_eq!(
        lines,
        [
            (line_of(script, "$name"), COALESCE),
            (line_of(script, "$mode"), TERNARY)
        ],
        "only the operators: {found:#?}"
    );
    let found = store.check("cleanup2.ps1", script, "windows-server-2008-r2");
    assert!(found
        .iter()
        .any(|f| f["signature"] == IN && f["start"]["line"] == line_of(script, "if ($role")));
    assert_eq!(signatures(&found).iter().filter(|s| **s == IN).count(), 1);
}

#[test]
fn a_version_check_rules_out_runtime_constructs_but_not_parse_errors_or_missing_modules() {
    let store = Store::new();
    let script = "\
if (-not $PSScriptRoot) { $PSScriptRoot = Split-Path -Parent $MyInvocation.MyCommand.Definition }
if ($PSVersionTable.PSVersion.Major -ge 3) {
    $o = [pscustomobject]@{ Name = 'x' }
    $lib = Join-Path $PSScriptRoot 'lib'
}
if ($PSVersionTable.PSVersion.Major -lt 3) { $o = New-Object PSObject } else { $o = [pscustomobject]@{} }
";
    let found = store.check("report.ps1", script, "windows-server-2008-r2");
    assert_eq!(signatures(&found), Vec::<&str>::new(), "{found:#?}");
    // Outside the check, on 2008 R2 as shipped, both fail.
    let bare = "$o = [pscustomobject]@{ Name = 'x' }\n$lib = Join-Path $PSScriptRoot 'lib'\n";
    let found = store.check("bare.ps1", bare, "windows-server-2008-r2");
    assert!(has(&found, CUSTOM) && has(&found, ROOT), "{found:#?}");
    // `-in` is a parse error: Windows PowerShell 2.0 refuses the whole script.
    let parse = "if ($PSVersionTable.PSVersion.Major -ge 3) { $ok = $x -in $list }\n";
    assert!(has(
        &store.check("in.ps1", parse, "windows-server-2008-r2"),
        IN
    ));

    // WMF 5.1 on Server 2008 R2 brings PowerShell 5.1, not the modules of Server 2012.
    let modules = "\
if ($PSVersionTable.PSVersion.Major -ge 5) {
    Get-NetAdapter
    New-ScheduledTaskTrigger -Daily -At 2am
    Get-SmbShare
    Resolve-DnsName x
}
";
    let found = store.check("net.ps1", modules, "srv08");
    for signature in [
        "NetTCPIP / NetAdapter / DnsClient cmdlets need Windows Server 2012",
        "ScheduledTasks cmdlets need Windows Server 2012",
        "SmbShare cmdlets need Windows Server 2012",
        "Resolve-DnsName needs Windows Server 2012",
    ] {
        assert!(has(&found, signature), "{signature}: {found:#?}");
    }
    // A cmdlet of PowerShell itself is what the check is for.
    let json = "if ($PSVersionTable.PSVersion.Major -ge 3) { $o | ConvertTo-Json }\n";
    assert_eq!(
        signatures(&store.check("json.ps1", json, "srv08")),
        Vec::<&str>::new()
    );
}

#[test]
fn curl_is_invoke_webrequest_in_windows_powershell_and_curl_in_pwsh() {
    let store = Store::new();
    let script = "curl https://example.com/a.zip -OutFile a.zip\n";
    let found = store.check("get.ps1", script, "windows-server-2016");
    assert!(has(&found, BASIC), "{found:#?}");
    assert!(!has(&found, CURL_EXE), "{found:#?}");
    let pwsh = format!("#Requires -Version 7\n{script}");
    let found = store.check("get7.ps1", &pwsh, "windows-server-2016");
    assert!(has(&found, CURL_EXE), "{found:#?}");
    assert!(!has(&found, BASIC), "{found:#?}");
}

#[test]
fn a_splatted_command_gets_no_edit_that_adds_a_parameter() {
    let store = Store::new();
    let splat =
        "$p = @{ Uri = 'https://example.com'; UseBasicParsing = $true }\nInvoke-WebRequest @p\n";
    let plain = "Invoke-WebRequest -Uri https://example.com\n";
    let fix = |script: &str, name: &str| -> Value {
        let found = store.check(name, script, "windows-server-2016");
        found
            .iter()
            .find(|f| f["signature"] == BASIC)
            .unwrap_or_else(|| panic!("{found:#?}"))["fix"]
            .clone()
    };
    assert!(fix(splat, "splat.ps1").is_null());
    assert!(fix(plain, "plain.ps1")["replacement"]
        .as_str()
        .unwrap()
        .contains("-UseBasicParsing"));
}

#[test]
fn common_version_and_windows_release_checks_guard_their_blocks() {
    let store = Store::new();
    // Server 2008 R2 as shipped.
    store.run(&[
        "store",
        "host",
        "add",
        "legacy08",
        "--tag",
        "windows-server-2008-r2",
        "--tag",
        "powershell-2.0",
    ]);
    let script = "\
if ($PSVersionTable.PSVersion.Major -ge 5 -and $PSVersionTable.PSVersion.Minor -ge 1) { Get-LocalUser }
if (5 -le $PSVersionTable.PSVersion.Major) { $o | ConvertTo-Json }
if ($Host.Version.Major -ge 4) { $h = Get-FileHash -Path a -Algorithm SHA256 }
switch ($PSVersionTable.PSVersion.Major) {
    2 { Get-WmiObject Win32_Service }
    5 { Get-CimInstance Win32_Service }
    default { Get-CimInstance Win32_Process }
}
if ([Environment]::OSVersion.Version -ge [version]'6.2') { Get-NetIPAddress }
if ([System.Environment]::OSVersion.Version.Major -ge 10) { Get-SmbShare }
if ([version](Get-WmiObject Win32_OperatingSystem).Version -ge [version]'6.2') { Resolve-DnsName x }
if ((Get-WmiObject Win32_OperatingSystem).Version -ge '10.0') { Get-Disk }
Get-ScheduledTask
if ([Environment]::OSVersion.Version -lt [version]'6.2') { throw 'needs Windows Server 2012' }
Register-ScheduledTask -TaskName x -Action $a
";
    let found = store.check("guards.ps1", script, "legacy08");
    let lines = lines_and_signatures(&found);
    let cim = "CIM cmdlets need PowerShell 3.0";
    assert_eq!(
        lines,
        [
            // `default` runs on 2.0 too; as text, '6.1.7601' is greater than '10.0'.
            (line_of(script, "default"), cim),
            (
                line_of(script, "Get-Disk"),
                "Storage cmdlets need Windows Server 2012"
            ),
            (
                line_of(script, "Get-ScheduledTask"),
                "ScheduledTasks cmdlets need Windows Server 2012"
            ),
        ],
        "{found:#?}"
    );
    // The same commands unguarded all warn.
    let bare = "Get-LocalUser\n$o | ConvertTo-Json\nGet-NetIPAddress\nResolve-DnsName x\n";
    assert_eq!(store.check("bare.ps1", bare, "legacy08").len(), 4);
}

const REQUIRES: &str = "#Requires -Version names a newer PowerShell than the target runs";

/// A script that declares `#Requires -Version 5.1` gets one finding on a Server 2008 R2 host
/// still on PowerShell 2.0 (PowerShell refuses it before it runs anything), not one per cmdlet
/// it uses; on the same release with WMF 5.1 it gets none, and its cmdlets are checked for 5.1.
#[test]
fn a_requires_line_is_the_one_failure_on_an_older_powershell() {
    let store = Store::new();
    store.run(&[
        "store",
        "host",
        "add",
        "old08",
        "--tag",
        "windows-server-2008-r2",
        "--tag",
        "powershell-2.0",
    ]);
    let body = "\
$users = Get-LocalUser | Where-Object { $_.Enabled }
$cfg = Invoke-RestMethod http://config.local/app | ConvertTo-Json
$row = [pscustomobject]@{ Name = $env:COMPUTERNAME }
Compress-Archive -Path C:\\logs -DestinationPath C:\\logs.zip
Invoke-Command -ComputerName old08 { Get-LocalUser }
";
    let script = format!("#Requires -Version 5.1\n{body}");
    // Without the line, each cmdlet fails on its own on PowerShell 2.0.
    let bare = store.check("bare.ps1", body, "old08");
    assert!(bare.len() >= 5, "{:?}", signatures(&bare));
    assert!(!has(&bare, REQUIRES));

    let old = store.check("audit.ps1", &script, "old08");
    let lines = lines_and_signatures(&old);
    // The script's own code runs on 5.1 or not at all; the block sent to old08 runs on
    // old08's own PowerShell 2.0, whatever the local line says.
    let remote = line_of(&script, "{ Get-LocalUser }");
    assert_eq!(
        lines,
        [
            (1, REQUIRES),
            (remote, "LocalAccounts cmdlets need PowerShell 5.1")
        ],
        "{old:?}"
    );
    assert_eq!(old[0]["severity"], "blocking");

    // Server 2008 R2 with WMF 5.1: the line holds; only the remote block still fails.
    let wmf = store.check("audit.ps1", &script, "srv08");
    assert_eq!(
        signatures(&wmf),
        ["LocalAccounts cmdlets need PowerShell 5.1"],
        "{wmf:?}"
    );
    let tag = store.check("audit.ps1", &script, "powershell-5.1");
    assert_eq!(
        signatures(&tag),
        ["LocalAccounts cmdlets need PowerShell 5.1"],
        "{tag:?}"
    );

    // A PowerShell 7 script may use `&&` and `??`; Windows PowerShell 5.1 refuses it at its
    // `#Requires` line, which is the one finding.
    let seven = "#Requires -Version 7\nGet-Item a && Get-Item b\n$n = $env:X ?? 'y'\n";
    let on51 = store.check("seven.ps1", seven, "srv08");
    assert_eq!(signatures(&on51), [REQUIRES], "{on51:?}");
    assert!(store.check("seven.ps1", seven, "powershell-7").is_empty());

    // Ignored like any finding.
    let ignored = format!("# forewarn: ignore=6074b71d\n{seven}");
    assert!(store.check("ignored.ps1", &ignored, "srv08").is_empty());
}
