//! The built-in taxonomy of operations (`triggering_operations`): which well-known commands of
//! each language install packages, control services, manage users, and so on. A pattern that
//! names an operation fires on every command of that class; the forms of a command that only
//! read (`ifconfig eth0`, `crontab -l`, `schtasks /query`) are not in a class about changing.

use rustc_hash::FxHashMap;
use std::sync::OnceLock;

use crate::script::{Command, Language};

pub const PACKAGE_INSTALL: &str = "package_install";
pub const SERVICE_CONTROL: &str = "service_control";
pub const USER_MANAGEMENT: &str = "user_management";
pub const NETWORK_CONFIG: &str = "network_config";
pub const FILE_TRANSFER: &str = "file_transfer";
pub const REMOTE_EXECUTION: &str = "remote_execution";
pub const SCHEDULED_TASK: &str = "scheduled_task";

/// Every operation name the taxonomy knows.
pub const ALL: &[&str] = &[
    PACKAGE_INSTALL,
    SERVICE_CONTROL,
    USER_MANAGEMENT,
    NETWORK_CONFIG,
    FILE_TRANSFER,
    REMOTE_EXECUTION,
    SCHEDULED_TASK,
];

/// One row: in these languages, a command called `name` whose arguments start with one of
/// `subcommands` (any arguments when empty) is of class `op`.
struct Rule {
    langs: &'static [Language],
    name: &'static str,
    subcommands: &'static [&'static str],
    /// When not empty, one of these words must also appear among the arguments: `ip addr add`
    /// configures the network, `ip addr show` only reads it.
    actions: &'static [&'static str],
    op: &'static str,
    /// Whether the command's words (arguments, redirections left out) only read: `crontab -l`
    /// matches the `crontab` row, lists the jobs and schedules nothing. `None` for a row whose
    /// every form changes something, so that its words are not split.
    reads: Option<fn(&[&str]) -> bool>,
}

impl Rule {
    /// This rule with `reads` telling its read-only forms.
    const fn unless(self, reads: fn(&[&str]) -> bool) -> Rule {
        Rule {
            reads: Some(reads),
            ..self
        }
    }
}

const SH: &[Language] = &[Language::Bash];
const PS: &[Language] = &[Language::PowerShell];
const CMD: &[Language] = &[Language::Batch, Language::PowerShell];

/// Builds a [`Rule`]; keeps the table one line per row.
const fn rule(
    langs: &'static [Language],
    name: &'static str,
    subcommands: &'static [&'static str],
    op: &'static str,
) -> Rule {
    Rule {
        langs,
        name,
        subcommands,
        actions: &[],
        op,
        reads: None,
    }
}

/// A [`rule`] that also needs one of `actions` among the arguments.
const fn rule_acting(
    langs: &'static [Language],
    name: &'static str,
    subcommands: &'static [&'static str],
    actions: &'static [&'static str],
    op: &'static str,
) -> Rule {
    Rule {
        langs,
        name,
        subcommands,
        actions,
        op,
        reads: None,
    }
}

const IP_ACTIONS: &[&str] = &[
    "add", "del", "delete", "change", "replace", "set", "flush", "append",
];

// Commands are listed where they change the system (install, start, create, configure); read-only
// forms stay out, so the patterns of a class ("changing network settings in a container is not
// permitted", "scheduled jobs never run in a container") do not fire on inventory scripts: by
// subcommand (`apt-get update`, `systemctl status`, `sc query`), by action word (`ip addr show`,
// `netsh … show`) or, where a command both reads and changes, by `unless` (`ifconfig eth0`,
// `crontab -l`, `schtasks /query`). Only forms that certainly read are left out. A pattern about a
// command existing at all ("crontab is missing") names the command, not the class, and still fires.
// `file_transfer` and `remote_execution` are about the transfer or the session, reads included.
// Windows executables (`CMD`) are commands in batch and PowerShell alike.
#[rustfmt::skip]
const RULES: &[Rule] = &[
    rule(SH, "apt-get", &["install"], PACKAGE_INSTALL),
    rule(SH, "apt", &["install"], PACKAGE_INSTALL),
    rule(SH, "aptitude", &["install"], PACKAGE_INSTALL),
    rule(SH, "yum", &["install", "localinstall"], PACKAGE_INSTALL),
    rule(SH, "dnf", &["install"], PACKAGE_INSTALL),
    rule(SH, "zypper", &["install", "in"], PACKAGE_INSTALL),
    rule(SH, "apk", &["add"], PACKAGE_INSTALL),
    rule(SH, "pip", &["install"], PACKAGE_INSTALL),
    rule(SH, "pip3", &["install"], PACKAGE_INSTALL),
    rule(SH, "pipx", &["install"], PACKAGE_INSTALL),
    rule(SH, "brew", &["install"], PACKAGE_INSTALL),
    rule(SH, "port", &["install"], PACKAGE_INSTALL),
    rule(SH, "snap", &["install"], PACKAGE_INSTALL),
    rule(SH, "flatpak", &["install"], PACKAGE_INSTALL),
    rule(SH, "opkg", &["install"], PACKAGE_INSTALL),
    rule(SH, "ipkg", &["install"], PACKAGE_INSTALL),
    rule(SH, "synopkg", &["install"], PACKAGE_INSTALL),
    rule(SH, "gem", &["install"], PACKAGE_INSTALL),
    rule(SH, "pkg", &["install"], PACKAGE_INSTALL),
    rule(SH, "npm", &["install", "i"], PACKAGE_INSTALL),
    rule(PS, "Install-Package", &[], PACKAGE_INSTALL),
    rule(PS, "Install-Module", &[], PACKAGE_INSTALL),
    rule(PS, "Install-Script", &[], PACKAGE_INSTALL),
    rule(PS, "Install-PSResource", &[], PACKAGE_INSTALL),
    rule(PS, "Install-WindowsFeature", &[], PACKAGE_INSTALL),
    rule(PS, "Add-WindowsFeature", &[], PACKAGE_INSTALL),
    rule(PS, "Enable-WindowsOptionalFeature", &[], PACKAGE_INSTALL),
    rule(PS, "Add-WindowsCapability", &[], PACKAGE_INSTALL),
    rule(PS, "Add-AppxPackage", &[], PACKAGE_INSTALL),
    rule(CMD, "choco", &["install", "upgrade"], PACKAGE_INSTALL),
    rule(CMD, "winget", &["install", "upgrade"], PACKAGE_INSTALL).unless(winget_lists),
    rule(CMD, "scoop", &["install"], PACKAGE_INSTALL),
    rule(CMD, "msiexec", &[], PACKAGE_INSTALL),
    rule(CMD, "wusa", &[], PACKAGE_INSTALL),
    rule(SH, "systemctl", &["start", "stop", "restart", "reload", "enable", "disable", "mask", "unmask", "try-restart", "reload-or-restart", "daemon-reload"], SERVICE_CONTROL),
    rule(SH, "service", &[], SERVICE_CONTROL).unless(service_reads),
    rule(SH, "rc-service", &[], SERVICE_CONTROL).unless(rc_service_reads),
    rule(SH, "rc-update", &[], SERVICE_CONTROL).unless(rc_update_reads),
    rule(SH, "launchctl", &[], SERVICE_CONTROL).unless(launchctl_reads),
    rule(SH, "synoservice", &[], SERVICE_CONTROL).unless(synoservice_reads),
    rule(SH, "synoservicectl", &[], SERVICE_CONTROL).unless(synoservice_reads),
    rule(SH, "synoservicecfg", &[], SERVICE_CONTROL).unless(synoservice_reads),
    rule(SH, "synosystemctl", &[], SERVICE_CONTROL).unless(synosystemctl_reads),
    rule(SH, "synopkg", &["start", "stop", "restart"], SERVICE_CONTROL),
    rule(SH, "initctl", &[], SERVICE_CONTROL).unless(initctl_reads),
    rule(SH, "update-rc.d", &[], SERVICE_CONTROL),
    rule(SH, "chkconfig", &[], SERVICE_CONTROL).unless(chkconfig_reads),
    rule(SH, "brew", &["services"], SERVICE_CONTROL).unless(brew_services_reads),
    rule(PS, "Start-Service", &[], SERVICE_CONTROL),
    rule(PS, "Stop-Service", &[], SERVICE_CONTROL),
    rule(PS, "Restart-Service", &[], SERVICE_CONTROL),
    rule(PS, "Set-Service", &[], SERVICE_CONTROL),
    rule(PS, "New-Service", &[], SERVICE_CONTROL),
    rule(PS, "Remove-Service", &[], SERVICE_CONTROL),
    rule(PS, "Suspend-Service", &[], SERVICE_CONTROL),
    rule(PS, "Resume-Service", &[], SERVICE_CONTROL),
    rule(CMD, "sc", &["start", "stop", "config", "create", "delete", "failure", "pause", "continue"], SERVICE_CONTROL),
    rule(CMD, "net", &["start", "stop", "pause", "continue"], SERVICE_CONTROL).unless(net_start_lists),
    rule(SH, "useradd", &[], USER_MANAGEMENT).unless(useradd_reads),
    rule(SH, "adduser", &[], USER_MANAGEMENT),
    rule(SH, "usermod", &[], USER_MANAGEMENT),
    rule(SH, "userdel", &[], USER_MANAGEMENT),
    rule(SH, "deluser", &[], USER_MANAGEMENT),
    rule(SH, "groupadd", &[], USER_MANAGEMENT),
    rule(SH, "addgroup", &[], USER_MANAGEMENT),
    rule(SH, "groupmod", &[], USER_MANAGEMENT),
    rule(SH, "groupdel", &[], USER_MANAGEMENT),
    rule(SH, "delgroup", &[], USER_MANAGEMENT),
    rule(SH, "passwd", &[], USER_MANAGEMENT).unless(passwd_reads),
    rule(SH, "chpasswd", &[], USER_MANAGEMENT),
    rule(SH, "gpasswd", &[], USER_MANAGEMENT),
    rule(SH, "synouser", &[], USER_MANAGEMENT).unless(synouser_reads),
    rule(SH, "synogroup", &[], USER_MANAGEMENT).unless(synouser_reads),
    rule(SH, "sysadminctl", &[], USER_MANAGEMENT).unless(sysadminctl_reads),
    rule(SH, "dscl", &[], USER_MANAGEMENT).unless(dscl_reads),
    rule(SH, "pw", &["useradd", "usermod", "userdel", "groupadd", "groupmod", "groupdel"], USER_MANAGEMENT),
    rule(PS, "New-LocalUser", &[], USER_MANAGEMENT),
    rule(PS, "Set-LocalUser", &[], USER_MANAGEMENT),
    rule(PS, "Remove-LocalUser", &[], USER_MANAGEMENT),
    rule(PS, "Enable-LocalUser", &[], USER_MANAGEMENT),
    rule(PS, "Disable-LocalUser", &[], USER_MANAGEMENT),
    rule(PS, "Rename-LocalUser", &[], USER_MANAGEMENT),
    rule(PS, "New-LocalGroup", &[], USER_MANAGEMENT),
    rule(PS, "Add-LocalGroupMember", &[], USER_MANAGEMENT),
    rule(PS, "Remove-LocalGroupMember", &[], USER_MANAGEMENT),
    rule(PS, "New-ADUser", &[], USER_MANAGEMENT),
    rule(PS, "Set-ADUser", &[], USER_MANAGEMENT),
    rule(PS, "Remove-ADUser", &[], USER_MANAGEMENT),
    rule(PS, "Add-ADGroupMember", &[], USER_MANAGEMENT),
    rule(PS, "Remove-ADGroupMember", &[], USER_MANAGEMENT),
    rule(PS, "Set-ADAccountPassword", &[], USER_MANAGEMENT),
    rule(PS, "Unlock-ADAccount", &[], USER_MANAGEMENT),
    rule(PS, "Enable-ADAccount", &[], USER_MANAGEMENT),
    rule(PS, "Disable-ADAccount", &[], USER_MANAGEMENT),
    rule(CMD, "net", &["user", "localgroup", "group", "accounts"], USER_MANAGEMENT).unless(net_user_reads),
    rule(CMD, "dsadd", &["user", "group"], USER_MANAGEMENT),
    rule(CMD, "dsmod", &["user", "group"], USER_MANAGEMENT),
    rule_acting(SH, "ip", &["addr", "address", "a", "route", "r", "link", "l", "neigh", "rule", "tunnel"], IP_ACTIONS, NETWORK_CONFIG),
    rule(SH, "ifconfig", &[], NETWORK_CONFIG).unless(ifconfig_reads),
    rule(SH, "route", &["add", "del", "delete", "change"], NETWORK_CONFIG),
    rule(SH, "nmcli", &[], NETWORK_CONFIG).unless(nmcli_reads),
    rule(SH, "ifup", &[], NETWORK_CONFIG),
    rule(SH, "ifdown", &[], NETWORK_CONFIG),
    rule(SH, "iptables", &[], NETWORK_CONFIG).unless(iptables_reads),
    rule(SH, "ip6tables", &[], NETWORK_CONFIG).unless(iptables_reads),
    rule(SH, "nft", &[], NETWORK_CONFIG).unless(nft_reads),
    rule(SH, "ufw", &[], NETWORK_CONFIG).unless(ufw_reads),
    rule(SH, "firewall-cmd", &[], NETWORK_CONFIG).unless(firewall_cmd_reads),
    rule(SH, "networksetup", &[], NETWORK_CONFIG).unless(networksetup_reads),
    rule(SH, "resolvectl", &[], NETWORK_CONFIG).unless(resolvectl_reads),
    rule(SH, "brctl", &[], NETWORK_CONFIG).unless(brctl_reads),
    rule(SH, "iw", &[], NETWORK_CONFIG).unless(iw_reads),
    rule(SH, "iwconfig", &[], NETWORK_CONFIG).unless(iwconfig_reads),
    rule(SH, "netplan", &["apply", "set", "generate"], NETWORK_CONFIG),
    rule(PS, "New-NetIPAddress", &[], NETWORK_CONFIG),
    rule(PS, "Set-NetIPAddress", &[], NETWORK_CONFIG),
    rule(PS, "Remove-NetIPAddress", &[], NETWORK_CONFIG),
    rule(PS, "Set-DnsClientServerAddress", &[], NETWORK_CONFIG),
    rule(PS, "New-NetRoute", &[], NETWORK_CONFIG),
    rule(PS, "Remove-NetRoute", &[], NETWORK_CONFIG),
    rule(PS, "Set-NetIPInterface", &[], NETWORK_CONFIG),
    rule(PS, "Enable-NetAdapter", &[], NETWORK_CONFIG),
    rule(PS, "Disable-NetAdapter", &[], NETWORK_CONFIG),
    rule(PS, "Rename-NetAdapter", &[], NETWORK_CONFIG),
    rule(PS, "New-NetFirewallRule", &[], NETWORK_CONFIG),
    rule(PS, "Set-NetFirewallRule", &[], NETWORK_CONFIG),
    rule(PS, "Remove-NetFirewallRule", &[], NETWORK_CONFIG),
    rule(PS, "Set-NetFirewallProfile", &[], NETWORK_CONFIG),
    rule(PS, "Set-NetConnectionProfile", &[], NETWORK_CONFIG),
    rule_acting(CMD, "netsh", &[], &["set", "add", "delete", "reset", "install"], NETWORK_CONFIG),
    rule(CMD, "route", &["add", "delete", "change"], NETWORK_CONFIG),
    rule(SH, "scp", &[], FILE_TRANSFER),
    rule(SH, "rsync", &[], FILE_TRANSFER),
    rule(SH, "curl", &[], FILE_TRANSFER),
    rule(SH, "wget", &[], FILE_TRANSFER),
    rule(SH, "sftp", &[], FILE_TRANSFER),
    rule(SH, "ftp", &[], FILE_TRANSFER),
    rule(SH, "lftp", &[], FILE_TRANSFER),
    rule(SH, "rclone", &[], FILE_TRANSFER),
    rule(SH, "smbclient", &[], FILE_TRANSFER),
    rule(SH, "aws", &["s3"], FILE_TRANSFER),
    rule(SH, "gsutil", &["cp", "rsync", "mv"], FILE_TRANSFER),
    rule(PS, "Invoke-WebRequest", &[], FILE_TRANSFER),
    rule(PS, "iwr", &[], FILE_TRANSFER),
    rule(PS, "Start-BitsTransfer", &[], FILE_TRANSFER),
    rule(PS, "Copy-Item", &[], FILE_TRANSFER),
    rule(PS, "Send-File", &[], FILE_TRANSFER),
    rule(CMD, "robocopy", &[], FILE_TRANSFER),
    rule(CMD, "xcopy", &[], FILE_TRANSFER),
    rule(CMD, "bitsadmin", &[], FILE_TRANSFER),
    rule(CMD, "curl", &[], FILE_TRANSFER),
    rule(CMD, "ftp", &[], FILE_TRANSFER),
    rule(CMD, "pscp", &[], FILE_TRANSFER),
    rule(CMD, "scp", &[], FILE_TRANSFER),
    rule(CMD, "sftp", &[], FILE_TRANSFER),
    rule(SH, "ssh", &[], REMOTE_EXECUTION),
    rule(SH, "pdsh", &[], REMOTE_EXECUTION),
    rule(SH, "ansible", &[], REMOTE_EXECUTION),
    rule(SH, "ansible-playbook", &[], REMOTE_EXECUTION),
    rule(SH, "salt", &[], REMOTE_EXECUTION),
    rule(SH, "sshpass", &[], REMOTE_EXECUTION),
    rule(SH, "docker", &["exec"], REMOTE_EXECUTION),
    rule(SH, "kubectl", &["exec"], REMOTE_EXECUTION),
    rule(PS, "Invoke-Command", &[], REMOTE_EXECUTION),
    rule(PS, "icm", &[], REMOTE_EXECUTION),
    rule(PS, "Enter-PSSession", &[], REMOTE_EXECUTION),
    rule(PS, "etsn", &[], REMOTE_EXECUTION),
    rule(PS, "New-PSSession", &[], REMOTE_EXECUTION),
    rule(PS, "nsn", &[], REMOTE_EXECUTION),
    rule(CMD, "psexec", &[], REMOTE_EXECUTION),
    rule(CMD, "psexec64", &[], REMOTE_EXECUTION),
    rule(CMD, "paexec", &[], REMOTE_EXECUTION),
    rule(CMD, "winrs", &[], REMOTE_EXECUTION),
    rule(CMD, "ssh", &[], REMOTE_EXECUTION),
    rule(SH, "crontab", &[], SCHEDULED_TASK).unless(crontab_reads),
    rule(SH, "at", &[], SCHEDULED_TASK).unless(at_reads),
    rule(SH, "systemd-run", &[], SCHEDULED_TASK),
    rule(SH, "anacron", &[], SCHEDULED_TASK),
    rule(PS, "Register-ScheduledTask", &[], SCHEDULED_TASK),
    rule(PS, "Unregister-ScheduledTask", &[], SCHEDULED_TASK),
    rule(PS, "Set-ScheduledTask", &[], SCHEDULED_TASK),
    rule(PS, "Enable-ScheduledTask", &[], SCHEDULED_TASK),
    rule(PS, "Disable-ScheduledTask", &[], SCHEDULED_TASK),
    rule(PS, "New-ScheduledTaskTrigger", &[], SCHEDULED_TASK),
    rule(PS, "New-ScheduledTaskAction", &[], SCHEDULED_TASK),
    rule(PS, "Register-ScheduledJob", &[], SCHEDULED_TASK),
    rule(PS, "New-JobTrigger", &[], SCHEDULED_TASK),
    rule(CMD, "schtasks", &[], SCHEDULED_TASK).unless(schtasks_reads),
    rule(CMD, "at", &[], SCHEDULED_TASK).unless(at_cmd_lists),
];

// What the read-only forms are, command by command. Each gets the arguments as words
// ([`words_of`]); anything not recognised counts as a change.

/// Whether `w` is `want`, ignoring ASCII case (Windows programs and their switches).
fn is(w: &str, want: &str) -> bool {
    w.eq_ignore_ascii_case(want)
}

/// The words that are not options (`-x`, `--xy`).
fn positionals<'a>(words: &'a [&'a str]) -> impl Iterator<Item = &'a str> + 'a {
    words.iter().copied().filter(|w| !w.starts_with('-'))
}

/// `winget upgrade` alone lists the upgrades available; with an id or `--all` it upgrades.
fn winget_lists(w: &[&str]) -> bool {
    matches!(w, [u] if is(u, "upgrade"))
}

/// `service NAME status` (`onestatus` on FreeBSD), `service --status-all`, FreeBSD's `-e`/`-l` lists.
fn service_reads(w: &[&str]) -> bool {
    matches!(
        w,
        ["--status-all" | "-e" | "-l"] | [_, "status" | "onestatus"]
    )
}

/// OpenRC: `rc-service NAME status`, `rc-service --list`, `rc-service --exists NAME`.
fn rc_service_reads(w: &[&str]) -> bool {
    matches!(
        w,
        ["-l" | "--list"] | ["-e" | "--exists", _] | [_, "status"]
    )
}

/// `rc-update` alone or `rc-update show [-v] [RUNLEVEL]` lists the runlevels' services.
fn rc_update_reads(w: &[&str]) -> bool {
    w.is_empty() || positionals(w).next() == Some("show")
}

/// The launchctl subcommands that print state.
fn launchctl_reads(w: &[&str]) -> bool {
    matches!(
        w.first(),
        Some(
            &("list"
                | "print"
                | "print-disabled"
                | "print-cache"
                | "blame"
                | "version"
                | "help"
                | "getenv"
                | "error"
                | "managerpid"
                | "manageruid"
                | "managername")
        )
    )
}

/// `synoservice --status NAME`, `synoservicecfg --list`.
fn synoservice_reads(w: &[&str]) -> bool {
    matches!(w.first(), Some(&("--status" | "--list" | "--help")))
}

/// DSM 7's systemctl wrapper: `synosystemctl status|get-active-status|get-enable-status NAME`.
fn synosystemctl_reads(w: &[&str]) -> bool {
    matches!(
        w.first(),
        Some(&("status" | "get-active-status" | "get-enable-status"))
    )
}

/// Upstart: `initctl status|list|show-config|version|check-config`.
fn initctl_reads(w: &[&str]) -> bool {
    matches!(
        positionals(w).next(),
        Some("status" | "list" | "show-config" | "version" | "check-config")
    )
}

/// `chkconfig`, `chkconfig --list [NAME]`, `chkconfig NAME` (queries; `NAME on` changes).
fn chkconfig_reads(w: &[&str]) -> bool {
    match w {
        [] | ["--list"] | ["--list", _] => true,
        [name] => !name.starts_with('-'),
        _ => false,
    }
}

/// `brew services` alone or `brew services list|info …`.
fn brew_services_reads(w: &[&str]) -> bool {
    matches!(positionals(w).nth(1), None | Some("list" | "info"))
}

/// `net start` alone lists the started services.
fn net_start_lists(w: &[&str]) -> bool {
    matches!(w, [s] if is(s, "start"))
}

/// `useradd -D` alone prints the defaults (with options it sets them).
fn useradd_reads(w: &[&str]) -> bool {
    matches!(w, ["-D" | "--defaults"])
}

/// `passwd -S [USER]` / `passwd -aS` print the password status.
fn passwd_reads(w: &[&str]) -> bool {
    let mut status = false;
    for o in w.iter().filter(|o| o.starts_with('-')) {
        match *o {
            "-S" | "--status" | "-aS" | "-Sa" => status = true,
            "-a" | "--all" => {}
            _ => return false,
        }
    }
    status && positionals(w).count() <= 1
}

/// Synology's `synouser|synogroup --get NAME` and `--enum local|all`.
fn synouser_reads(w: &[&str]) -> bool {
    matches!(w.first(), Some(&("--get" | "--enum" | "--help")))
}

/// `sysadminctl -secureTokenStatus USER` and the `-guestAccount status` style queries.
fn sysadminctl_reads(w: &[&str]) -> bool {
    matches!(
        w,
        ["-secureTokenStatus", ..]
            | [
                "-guestAccount"
                    | "-afpGuestAccess"
                    | "-smbGuestAccess"
                    | "-screenLock"
                    | "-automaticTime",
                "status"
            ]
    )
}

/// `dscl . -read|-list|-search|… PATH`: the first dscl command word decides (dash optional).
fn dscl_reads(w: &[&str]) -> bool {
    const READS: &[&str] = &[
        "read", "readall", "readpl", "readpli", "list", "search", "diff",
    ];
    const WRITES: &[&str] = &[
        "create",
        "createpl",
        "createpli",
        "append",
        "appendpl",
        "appendpli",
        "merge",
        "mergepl",
        "mergepli",
        "delete",
        "deletepl",
        "deletepli",
        "change",
        "changei",
        "passwd",
        "auth",
        "authonly",
        "cd",
        "ls",
    ];
    for word in w {
        let bare = word.trim_start_matches('-');
        if READS.contains(&bare) {
            return true;
        }
        if WRITES.contains(&bare) {
            return false;
        }
    }
    false
}

/// `net user [NAME]`, `net localgroup|group [NAME]`, `net accounts` (each with `/domain` at most)
/// display; a password, `/add`, `/delete` or any other switch changes.
fn net_user_reads(w: &[&str]) -> bool {
    let Some((sub, rest)) = w.split_first() else {
        return false;
    };
    if !rest
        .iter()
        .filter(|o| o.starts_with('/'))
        .all(|o| is(o, "/domain"))
    {
        return false;
    }
    let names = rest.iter().filter(|o| !o.starts_with('/')).count();
    if is(sub, "accounts") {
        names == 0
    } else {
        names <= 1
    }
}

/// `ifconfig`, `ifconfig -a`, `ifconfig eth0`: listing options and at most an interface name
/// (`ifconfig eth0 up`, `… 10.0.0.5`, `… -arp` configure).
fn ifconfig_reads(w: &[&str]) -> bool {
    const LISTING: &[&str] = &["-a", "-s", "-v", "-l", "-u", "-d", "-L", "-m", "-C"];
    w.iter()
        .filter(|o| o.starts_with('-'))
        .all(|o| LISTING.contains(o))
        && positionals(w).count() <= 1
}

/// `iwconfig` or `iwconfig wlan0` (anything more sets a parameter).
fn iwconfig_reads(w: &[&str]) -> bool {
    matches!(w, [] | ["--version" | "--help"]) || matches!(w, [name] if !name.starts_with('-'))
}

/// `nmcli` alone, `nmcli general [status|permissions|hostname|logging]` (no value), `nmcli networking [connectivity]`,
/// `nmcli radio [wifi|wwan|all]` (no value), `nmcli connection [show|monitor] …`,
/// `nmcli device [status|show|monitor] …`, `nmcli device wifi [list]`. Objects and commands may be
/// abbreviated (`nmcli c s`); `nmcli d s` is left as a change, `s` being `set` too.
fn nmcli_reads(w: &[&str]) -> bool {
    // Global options, some taking a value: `nmcli -f NAME,UUID c s`.
    let mut rest = w;
    while let Some((o, tail)) = rest.split_first() {
        if !o.starts_with('-') {
            break;
        }
        let takes_value = matches!(
            *o,
            "-f" | "--fields"
                | "-g"
                | "--get-values"
                | "-m"
                | "--mode"
                | "-c"
                | "--colors"
                | "-e"
                | "--escape"
                | "-w"
                | "--wait"
        );
        rest = match (takes_value, tail.split_first()) {
            (true, Some((_, after))) => after,
            (true, None) => tail,
            (false, _) => tail,
        };
    }
    let abbrev = |word: &str, full: &str| !word.is_empty() && full.starts_with(word);
    let Some((object, args)) = rest.split_first() else {
        return true;
    };
    let cmd = args.first().copied();
    if abbrev(object, "general") {
        matches!(
            args,
            [] | ["status" | "permissions" | "hostname" | "logging"]
        )
    } else if abbrev(object, "networking") {
        matches!(args, [] | ["connectivity"] | ["connectivity", "check"])
    } else if abbrev(object, "radio") {
        matches!(args, [] | ["all" | "wifi" | "wwan"])
    } else if abbrev(object, "connection") {
        cmd.is_none_or(|c| abbrev(c, "show") || c == "monitor")
    } else if abbrev(object, "device") {
        match cmd {
            None => true,
            Some("wifi") => matches!(args, ["wifi"] | ["wifi", "list", ..]),
            Some(c) => c.len() >= 2 && (abbrev(c, "status") || abbrev(c, "show")) || c == "monitor",
        }
    } else {
        false
    }
}

/// `iptables -L`, `-S`, `-C` (also `-nvL`, `-t nat -L`) with no command that changes a table.
fn iptables_reads(w: &[&str]) -> bool {
    let mut reads = false;
    for o in w {
        match *o {
            "-L" | "--list" | "-S" | "--list-rules" | "-C" | "--check" => reads = true,
            "-A" | "--append" | "-D" | "--delete" | "-I" | "--insert" | "-R" | "--replace"
            | "-F" | "--flush" | "-Z" | "--zero" | "-N" | "--new-chain" | "-X"
            | "--delete-chain" | "-P" | "--policy" | "-E" | "--rename-chain" => return false,
            // A bundle of short flags such as `-nvL`: only listing and display letters.
            bundle if bundle.len() > 2 && !bundle.starts_with("--") && bundle.starts_with('-') => {
                let letters = &bundle[1..];
                if !letters.chars().all(|c| "nvxLS".contains(c)) {
                    return false;
                }
                reads |= letters.contains(['L', 'S']);
            }
            _ => {}
        }
    }
    reads
}

/// `nft list …` (`nft -a list ruleset`); `-f FILE`, `-i` or a `;` chaining commands disqualify.
fn nft_reads(w: &[&str]) -> bool {
    positionals(w).next() == Some("list")
        && !w
            .iter()
            .any(|o| matches!(*o, "-f" | "--file" | "-i" | "--interactive") || o.contains(';'))
}

/// `ufw status [verbose|numbered]`, `ufw show …`, `ufw version`, `ufw app list|info`, `--dry-run`.
fn ufw_reads(w: &[&str]) -> bool {
    w.contains(&"--dry-run")
        || matches!(
            positionals(w).collect::<Vec<_>>().as_slice(),
            ["status" | "show" | "version", ..] | ["app", "list" | "info", ..]
        )
}

/// `firewall-cmd --state`, `--list-all`, `--get-*`, `--query-*`, `--info-*`, optionally with
/// `--zone=…`, `--permanent` or `--policy=…`; any other word may change the firewall.
fn firewall_cmd_reads(w: &[&str]) -> bool {
    let mut reads = false;
    for o in w {
        let key = o.split('=').next().unwrap_or(o);
        if ["--list-", "--get-", "--query-", "--info-"]
            .iter()
            .any(|p| key.starts_with(p))
            || matches!(key, "--state" | "--check-config" | "--version")
        {
            reads = true;
        } else if !matches!(
            key,
            "--zone" | "--policy" | "--permanent" | "-q" | "--quiet"
        ) || !o.starts_with('-')
        {
            return false;
        }
    }
    reads
}

/// macOS `networksetup -list…`, `-get…`, `-print…`, `-show…`, `-is…`, `-version`, `-help`.
fn networksetup_reads(w: &[&str]) -> bool {
    w.first().is_some_and(|c| {
        let c = c.to_ascii_lowercase();
        ["-list", "-get", "-print", "-show", "-is"]
            .iter()
            .any(|p| c.starts_with(p))
            || c == "-version"
            || c == "-help"
    })
}

/// `resolvectl` alone, its status and query commands, `resolvectl dns|domain [LINK]` (with servers
/// or domains after the link they set).
fn resolvectl_reads(w: &[&str]) -> bool {
    let p: Vec<&str> = positionals(w).collect();
    match p.as_slice() {
        [] => w.is_empty(),
        [c, ..]
            if matches!(
                *c,
                "status" | "query" | "statistics" | "show-cache" | "show-server-state" | "monitor"
            ) =>
        {
            true
        }
        ["dns" | "domain" | "default-route" | "llmnr" | "mdns" | "dnssec" | "dnsovertls"] => true,
        ["dns" | "domain" | "default-route" | "llmnr" | "mdns" | "dnssec" | "dnsovertls", _] => {
            true
        }
        _ => false,
    }
}

/// `brctl show`, `showmacs`, `showstp`.
fn brctl_reads(w: &[&str]) -> bool {
    w.first().is_some_and(|c| c.starts_with("show"))
}

/// `iw dev`, `iw list`, `iw phy`, `iw reg get`, `iw dev wlan0 info|link`, `… station dump`,
/// `iw event`: ends in a reading word and holds no word that sets, connects or adds.
fn iw_reads(w: &[&str]) -> bool {
    const CHANGES: &[&str] = &[
        "set",
        "connect",
        "disconnect",
        "del",
        "add",
        "join",
        "leave",
        "interface",
        "scan",
    ];
    w.last().is_some_and(|last| {
        matches!(
            *last,
            "dev"
                | "list"
                | "phy"
                | "info"
                | "link"
                | "get"
                | "dump"
                | "event"
                | "--version"
                | "help"
        )
    }) && !w.iter().any(|o| CHANGES.contains(o))
}

/// `crontab -l` (also `-u USER -l`) lists; `-e`, `-r`, a file or `-` install or remove.
fn crontab_reads(w: &[&str]) -> bool {
    let mut listed = false;
    let mut rest = w;
    while let Some((o, tail)) = rest.split_first() {
        rest = match *o {
            "-l" => {
                listed = true;
                tail
            }
            "-u" if !tail.is_empty() => &tail[1..],
            _ => return false,
        };
    }
    listed
}

/// `at -l` (atq, optionally `-q QUEUE`) and `at -c JOB…` (prints the jobs).
fn at_reads(w: &[&str]) -> bool {
    match w {
        ["-l"] | ["-l", "-q", _] | ["-q", _, "-l"] => true,
        ["-c", jobs @ ..] => {
            !jobs.is_empty() && jobs.iter().all(|j| j.bytes().all(|b| b.is_ascii_digit()))
        }
        _ => false,
    }
}

/// `schtasks` alone, `schtasks /query …`, `/showsid`, `/?`.
fn schtasks_reads(w: &[&str]) -> bool {
    w.first()
        .is_none_or(|c| is(c, "/query") || is(c, "/showsid") || is(c, "/?"))
}

/// Windows `at` alone or `at \\COMPUTER` lists the scheduled jobs.
fn at_cmd_lists(w: &[&str]) -> bool {
    matches!(w, [] | [_]) && w.iter().all(|c| c.starts_with("\\\\"))
}

/// The arguments as the program gets them, near enough: words split on blanks outside quotes
/// (`"Remote Desktop Users"` is one word, its quotes kept), without the redirections
/// (`2>/dev/null`, `> out.txt`, `2>&1`) a shell takes away before the program runs.
fn words_of(args: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start = None;
    let mut quote = None;
    for (i, c) in args.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => {
                quote = Some(c);
                start.get_or_insert(i);
            }
            (None, c) if c.is_whitespace() => {
                if let Some(s) = start.take() {
                    words.push(&args[s..i]);
                }
            }
            (None, _) => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        words.push(&args[s..]);
    }
    let mut out = Vec::with_capacity(words.len());
    let mut skip_target = false;
    for w in words {
        if std::mem::take(&mut skip_target) {
            continue;
        }
        match redirection(w) {
            Some(bare) => skip_target = bare,
            None => out.push(w),
        }
    }
    out
}

/// Whether `w` is a redirection (`>`, `2>>`, `&>`, `*>`, `<`, `>file`, `2>&1`), and if so whether
/// it is the bare operator, its target being the next word.
fn redirection(w: &str) -> Option<bool> {
    let rest = w.trim_start_matches(|c: char| c.is_ascii_digit() || c == '&' || c == '*');
    let after = rest.strip_prefix(['>', '<'])?;
    let after = after.strip_prefix(['>', '<']).unwrap_or(after);
    Some(after.is_empty())
}

/// The operation classes of one command.
pub fn classify(command: &Command) -> Vec<&'static str> {
    let lang = command.language;
    let ci = lang.case_insensitive();
    let name: std::borrow::Cow<str> = if command.name.bytes().any(|b| b.is_ascii_uppercase()) {
        command.name.to_ascii_lowercase().into()
    } else {
        command.name.as_str().into()
    };
    let Some(rules) = rules_by_name().get(name.as_ref()) else {
        return Vec::new();
    };
    let first_arg = first_non_option(command.args());
    let mut words: Option<Vec<&str>> = None;
    let mut out = Vec::new();
    for rule in rules {
        if !rule.langs.contains(&lang) {
            continue;
        }
        let same = if ci {
            rule.name.eq_ignore_ascii_case(&command.name)
        } else {
            rule.name == command.name
        };
        if !same {
            continue;
        }
        let sub_ok = rule.subcommands.is_empty()
            || first_arg
                .is_some_and(|a| rule.subcommands.iter().any(|s| s.eq_ignore_ascii_case(a)));
        let acts = rule.actions.is_empty()
            || command
                .args()
                .split_whitespace()
                .any(|w| rule.actions.iter().any(|a| a.eq_ignore_ascii_case(w)));
        if !sub_ok || !acts || out.contains(&rule.op) {
            continue;
        }
        let reads = rule
            .reads
            .is_some_and(|reads| reads(words.get_or_insert_with(|| words_of(command.args()))));
        if !reads {
            out.push(rule.op);
        }
    }
    out
}

/// The names (as the table spells them) of the commands `classify` may put in class `op`.
pub(crate) fn command_names_of(op: &str) -> impl Iterator<Item = &'static str> + '_ {
    RULES.iter().filter(move |r| r.op == op).map(|r| r.name)
}

/// Every command name some operation class includes, lowercased.
pub(crate) fn command_names() -> impl Iterator<Item = &'static str> {
    rules_by_name().keys().map(String::as_str)
}

/// Whether some rule names `name` (lowercased).
pub(crate) fn is_command_name(name: &str) -> bool {
    rules_by_name().contains_key(name)
}

/// The operation classes a command named `name` (lowercased) may belong to.
pub(crate) fn classes_of(name: &str) -> impl Iterator<Item = &'static str> {
    rules_by_name()
        .get(name)
        .into_iter()
        .flatten()
        .map(|rule| rule.op)
}

/// The rules by lowercased command name: `classify` runs on every command of every scan.
fn rules_by_name() -> &'static FxHashMap<String, Vec<&'static Rule>> {
    static MAP: OnceLock<FxHashMap<String, Vec<&'static Rule>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: FxHashMap<String, Vec<&'static Rule>> = FxHashMap::default();
        for rule in RULES {
            map.entry(rule.name.to_ascii_lowercase())
                .or_default()
                .push(rule);
        }
        map
    })
}

/// The first argument that is not an option (`apt-get -y install` → `install`).
fn first_non_option(args: &str) -> Option<&str> {
    args.split_whitespace()
        .find(|w| !w.starts_with('-') && !w.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{make_command, OffsetMap};

    /// The command that `src` (one simple command) is, as a parser would hand it over.
    fn command(src: &str, lang: Language) -> Command {
        let name_end = src.find(char::is_whitespace).unwrap_or(src.len());
        make_command(
            src,
            0..name_end,
            src.len(),
            lang,
            None,
            &OffsetMap::starting_at(0),
        )
    }

    fn assert_class(op: &str, lang: Language, examples: &[&str]) {
        for src in examples {
            let ops = classify(&command(src, lang));
            assert!(
                ops.contains(&op),
                "`{src}` ({}) should be {op}, got {ops:?}",
                lang.name()
            );
        }
    }

    fn assert_not_class(op: &str, lang: Language, examples: &[&str]) {
        for src in examples {
            let ops = classify(&command(src, lang));
            assert!(
                !ops.contains(&op),
                "`{src}` ({}) should not be {op}",
                lang.name()
            );
        }
    }

    #[test]
    fn package_install() {
        assert_class(
            PACKAGE_INSTALL,
            Language::Bash,
            &[
                "apt-get -y install nginx",
                "apt install curl",
                "yum install -y httpd",
                "dnf install git",
                "apk add --no-cache bash",
                "pip3 install -r requirements.txt",
                "brew install jq",
                "synopkg install /tmp/pkg.spk",
                "zypper in vim",
            ],
        );
        assert_class(
            PACKAGE_INSTALL,
            Language::PowerShell,
            &[
                "Install-Module -Name Az -Force",
                "install-package 7zip",
                "Install-WindowsFeature RSAT-AD-PowerShell",
                "Enable-WindowsOptionalFeature -Online -FeatureName TelnetClient",
                "choco install -y git",
                "winget install --id Git.Git",
            ],
        );
        assert_class(
            PACKAGE_INSTALL,
            Language::Batch,
            &[
                "choco install -y 7zip",
                "winget install Microsoft.PowerShell",
                "msiexec /i agent.msi /qn",
                "MSIEXEC.EXE /i agent.msi",
                "wusa update.msu /quiet /norestart",
            ],
        );
        assert_not_class(
            PACKAGE_INSTALL,
            Language::Bash,
            &["apt-get update", "pip3 list", "brew services restart x"],
        );
        assert_not_class(
            PACKAGE_INSTALL,
            Language::Batch,
            &["choco list", "winget search git"],
        );
    }

    #[test]
    fn service_control() {
        assert_class(
            SERVICE_CONTROL,
            Language::Bash,
            &[
                "systemctl restart nginx",
                "systemctl --now enable sshd",
                "service nginx reload",
                "rc-service nginx start",
                "rc-update add nginx default",
                "launchctl kickstart -k system/com.example.agent",
                "synoservice --restart nginx",
                "synosystemctl restart nginx",
                "brew services restart postgresql",
            ],
        );
        assert_class(
            SERVICE_CONTROL,
            Language::PowerShell,
            &[
                "Restart-Service Spooler -Force",
                "start-service W32Time",
                "Set-Service -Name wuauserv -StartupType Disabled",
                "New-Service -Name Agent -BinaryPathName C:\\agent.exe",
                "sc.exe stop Spooler",
                "net stop wuauserv",
            ],
        );
        assert_class(
            SERVICE_CONTROL,
            Language::Batch,
            &[
                "sc stop Spooler",
                "sc config wuauserv start= disabled",
                "net start W32Time",
                "NET STOP \"Print Spooler\"",
            ],
        );
        assert_not_class(
            SERVICE_CONTROL,
            Language::Bash,
            &["systemctl status nginx", "systemctl is-active nginx"],
        );
        assert_not_class(
            SERVICE_CONTROL,
            Language::Batch,
            &["sc query Spooler", "net user bob"],
        );
    }

    #[test]
    fn user_management() {
        assert_class(
            USER_MANAGEMENT,
            Language::Bash,
            &[
                "useradd -m -s /bin/bash deploy",
                "adduser -D app",
                "usermod -aG docker deploy",
                "passwd -l olduser",
                "synouser --add backup secret 'Backup' 0 '' 0",
                "sysadminctl -addUser builder",
                "pw useradd builder -m",
            ],
        );
        assert_class(
            USER_MANAGEMENT,
            Language::PowerShell,
            &[
                "New-LocalUser -Name svc_backup -Password $pw",
                "Add-LocalGroupMember -Group Administrators -Member svc_backup",
                "New-ADUser -Name jdoe -Enabled $true",
                "Set-ADAccountPassword jdoe -Reset",
                "net user svc_backup /add",
            ],
        );
        assert_class(
            USER_MANAGEMENT,
            Language::Batch,
            &[
                "net user svc_backup P@ss /add",
                "net localgroup Administrators svc_backup /add",
                "dsadd user \"CN=jdoe,OU=Staff,DC=corp,DC=example\"",
            ],
        );
        assert_not_class(
            USER_MANAGEMENT,
            Language::Batch,
            &["net start W32Time", "net use Z: \\\\nas\\share"],
        );
        assert_not_class(USER_MANAGEMENT, Language::PowerShell, &["Get-LocalUser"]);
    }

    #[test]
    fn network_config() {
        assert_class(
            NETWORK_CONFIG,
            Language::Bash,
            &[
                "ip addr add 10.0.0.5/24 dev eth0",
                "ip -4 route add default via 10.0.0.1",
                "ifconfig eth0 up",
                "nmcli con up office",
                "netplan apply",
                "iptables -A INPUT -p tcp --dport 22 -j ACCEPT",
                "ufw allow 443/tcp",
                "networksetup -setdnsservers Wi-Fi 1.1.1.1",
            ],
        );
        assert_class(NETWORK_CONFIG, Language::PowerShell, &[
            "New-NetIPAddress -InterfaceAlias Ethernet -IPAddress 10.0.0.5 -PrefixLength 24",
            "Set-DnsClientServerAddress -InterfaceAlias Ethernet -ServerAddresses 10.0.0.2",
            "New-NetFirewallRule -DisplayName Agent -LocalPort 8443 -Protocol TCP -Action Allow",
            "netsh advfirewall set allprofiles state on",
        ]);
        assert_class(
            NETWORK_CONFIG,
            Language::Batch,
            &[
                "netsh interface ipv4 set address Ethernet static 10.0.0.5 255.255.255.0 10.0.0.1",
                "route add 10.1.0.0 mask 255.255.0.0 10.0.0.254",
                "route -p add 10.2.0.0 mask 255.255.0.0 10.0.0.254",
            ],
        );
        assert_not_class(
            NETWORK_CONFIG,
            Language::Batch,
            &["route print", "ipconfig /all"],
        );
        assert_not_class(NETWORK_CONFIG, Language::PowerShell, &["Get-NetIPAddress"]);
    }

    #[test]
    fn file_transfer() {
        assert_class(
            FILE_TRANSFER,
            Language::Bash,
            &[
                "scp backup.tar.gz nas:/volume1/backup/",
                "rsync -az --delete /srv/www/ web2:/srv/www/",
                "curl -fsSLO https://example.com/tool.tar.gz",
                "wget -q https://example.com/tool.tar.gz",
                "aws s3 cp dump.sql s3://bucket/",
                "rclone sync /data remote:data",
            ],
        );
        assert_class(
            FILE_TRANSFER,
            Language::PowerShell,
            &[
                "Invoke-WebRequest -Uri $url -OutFile $dest",
                "iwr $url -OutFile $dest",
                "Start-BitsTransfer -Source $url -Destination $dest",
                "Copy-Item -Path .\\app -Destination C:\\app -ToSession $s -Recurse",
                "robocopy C:\\Data \\\\nas\\backup /MIR",
            ],
        );
        assert_class(
            FILE_TRANSFER,
            Language::Batch,
            &[
                "robocopy D:\\Data \\\\nas01\\backup /MIR /R:2",
                "xcopy D:\\Data E:\\Data /E /Y",
                "bitsadmin /transfer job /download https://example.com/a.msi C:\\a.msi",
                "curl.exe -L -o a.msi https://example.com/a.msi",
            ],
        );
        assert_not_class(
            FILE_TRANSFER,
            Language::Bash,
            &["aws ec2 describe-instances"],
        );
    }

    #[test]
    fn remote_execution() {
        assert_class(
            REMOTE_EXECUTION,
            Language::Bash,
            &[
                "ssh admin@nas01 'df -h'",
                "ansible-playbook -i hosts site.yml",
                "docker exec -it web sh",
                "kubectl exec -it pod -- sh",
            ],
        );
        assert_class(
            REMOTE_EXECUTION,
            Language::PowerShell,
            &[
                "Invoke-Command -ComputerName dc01 -ScriptBlock { Get-ADUser jdoe }",
                "icm dc01 { hostname }",
                "Enter-PSSession -ComputerName dc01",
                "New-PSSession -ComputerName web01",
                "psexec \\\\web01 ipconfig",
            ],
        );
        assert_class(
            REMOTE_EXECUTION,
            Language::Batch,
            &[
                "psexec \\\\web01 -s cmd /c ipconfig",
                "PsExec64.exe \\\\web01 hostname",
                "winrs -r:web01 ipconfig",
                "ssh admin@web01 uptime",
            ],
        );
        assert_not_class(
            REMOTE_EXECUTION,
            Language::Bash,
            &["docker ps", "kubectl get pods"],
        );
    }

    #[test]
    fn scheduled_task() {
        assert_class(
            SCHEDULED_TASK,
            Language::Bash,
            &[
                "crontab /tmp/newcron",
                "at now + 5 minutes",
                "systemd-run --on-calendar=daily /usr/local/bin/backup",
            ],
        );
        assert_class(
            SCHEDULED_TASK,
            Language::PowerShell,
            &[
                "Register-ScheduledTask -TaskName Backup -Action $a -Trigger $t",
                "New-ScheduledTaskTrigger -Daily -At 2am",
                "Register-ScheduledJob -Name Backup -ScriptBlock { }",
                "schtasks /Create /TN Backup /TR backup.cmd /SC DAILY",
            ],
        );
        assert_class(
            SCHEDULED_TASK,
            Language::Batch,
            &[
                "schtasks /Create /TN Backup /TR C:\\backup.cmd /SC DAILY /ST 02:00",
                "SCHTASKS /Delete /TN Backup /F",
                "at 23:00 /every:M,T,W,Th,F backup.cmd",
            ],
        );
        assert_not_class(SCHEDULED_TASK, Language::Bash, &["schtasks /Create /TN x"]);
    }

    #[test]
    fn reading_the_network_is_not_configuring_it() {
        assert_not_class(
            NETWORK_CONFIG,
            Language::Bash,
            &[
                "ifconfig",
                "ifconfig eth0",
                "ifconfig -a",
                "ifconfig eth0 2>/dev/null",
                "ip addr show",
                "ip a",
                "ip -4 addr show dev eth0",
                "ip route",
                "ip route show table all",
                "ip link show",
                "ip -br link",
                "netstat -rn",
                "route -n",
                "nmcli",
                "nmcli -t -f NAME,UUID con show",
                "nmcli c s",
                "nmcli device status",
                "nmcli dev wifi list",
                "nmcli radio wifi",
                "iptables -L -n -v",
                "iptables -t nat -nvL",
                "ip6tables -S",
                "nft list ruleset",
                "nft -a list table inet filter",
                "ufw status verbose",
                "ufw app list",
                "firewall-cmd --state",
                "firewall-cmd --zone=public --list-all",
                "networksetup -listallnetworkservices",
                "networksetup -getdnsservers Wi-Fi",
                "resolvectl status",
                "resolvectl dns eth0",
                "brctl show",
                "iw dev",
                "iw dev wlan0 link",
                "iwconfig wlan0",
            ],
        );
        assert_class(
            NETWORK_CONFIG,
            Language::Bash,
            &[
                "ifconfig eth0 up",
                "ifconfig eth0 10.0.0.5 netmask 255.255.255.0",
                "ifconfig eth0 -arp",
                "ip link set eth0 up",
                "ip route add default via 10.0.0.1",
                "nmcli con up office",
                "nmcli c modify office ipv4.dns 1.1.1.1",
                "nmcli d s",
                "nmcli radio wifi off",
                "nmcli general hostname web01",
                "iptables -L -Z",
                "iptables -nvLZ",
                "iptables -F",
                "nft -f /etc/nftables.conf",
                "nft list ruleset \\; flush ruleset",
                "ufw enable",
                "firewall-cmd --add-port=80/tcp",
                "firewall-cmd --list-all --add-service=http",
                "firewall-cmd --reload",
                "networksetup -setdnsservers Wi-Fi 1.1.1.1",
                "resolvectl dns eth0 1.1.1.1",
                "resolvectl flush-caches",
                "brctl addbr br0",
                "iw dev wlan0 set type monitor",
                "iwconfig wlan0 essid office",
            ],
        );
        assert_not_class(
            NETWORK_CONFIG,
            Language::PowerShell,
            &[
                "Get-NetIPAddress -AddressFamily IPv4",
                "Get-NetAdapter",
                "Get-NetRoute",
                "netsh interface show interface",
            ],
        );
        assert_not_class(
            NETWORK_CONFIG,
            Language::Batch,
            &["netsh wlan show profiles", "route print -4"],
        );
    }

    #[test]
    fn listing_jobs_is_not_scheduling_them() {
        assert_not_class(
            SCHEDULED_TASK,
            Language::Bash,
            &[
                "crontab -l",
                "crontab -u www-data -l",
                "crontab -l 2>/dev/null",
                "crontab -l > /tmp/cron.bak",
                "at -l",
                "at -c 12",
            ],
        );
        assert_class(
            SCHEDULED_TASK,
            Language::Bash,
            &[
                "crontab -e",
                "crontab -r",
                "crontab -u www-data /tmp/cron",
                "crontab -",
                "crontab -l -r",
                "at -f job.sh now + 1 hour",
            ],
        );
        for lang in [Language::Batch, Language::PowerShell] {
            assert_not_class(
                SCHEDULED_TASK,
                lang,
                &[
                    "schtasks",
                    "schtasks /query /fo LIST /v",
                    "SCHTASKS /Query /TN Backup",
                    "at",
                ],
            );
            assert_class(
                SCHEDULED_TASK,
                lang,
                &[
                    "schtasks /Change /TN Backup /DISABLE",
                    "schtasks /run /tn Backup",
                ],
            );
        }
        assert_not_class(
            SCHEDULED_TASK,
            Language::PowerShell,
            &[
                "Get-ScheduledTask -TaskName Backup",
                "Get-ScheduledTaskInfo Backup",
            ],
        );
    }

    #[test]
    fn service_status_is_not_service_control() {
        assert_not_class(
            SERVICE_CONTROL,
            Language::Bash,
            &[
                "systemctl status nginx",
                "systemctl is-active --quiet nginx",
                "systemctl is-enabled nginx",
                "systemctl list-units --type=service",
                "systemctl show nginx -p MainPID",
                "systemctl cat nginx",
                "service nginx status",
                "service --status-all",
                "rc-service nginx status",
                "rc-service --list",
                "rc-update show default",
                "launchctl list",
                "launchctl print system/com.example.agent",
                "initctl status ssh",
                "chkconfig --list",
                "brew services list",
                "synoservice --status nginx",
                "synosystemctl get-active-status nginx",
            ],
        );
        assert_class(
            SERVICE_CONTROL,
            Language::Bash,
            &[
                "service nginx restart",
                "service nginx",
                "rc-update add nginx default",
                "launchctl load -w /Library/LaunchDaemons/x.plist",
                "chkconfig nginx on",
                "brew services start postgresql",
                "synoservice --restart nginx",
            ],
        );
        for lang in [Language::Batch, Language::PowerShell] {
            assert_not_class(SERVICE_CONTROL, lang, &["net start", "sc query Spooler"]);
            assert_class(SERVICE_CONTROL, lang, &["net start W32Time"]);
        }
        assert_not_class(
            SERVICE_CONTROL,
            Language::PowerShell,
            &["Get-Service Spooler"],
        );
    }

    #[test]
    fn reading_users_is_not_managing_them() {
        assert_not_class(
            USER_MANAGEMENT,
            Language::Bash,
            &[
                "id deploy",
                "getent passwd deploy",
                "passwd -S deploy",
                "useradd -D",
                "synouser --get admin",
                "synogroup --enum all",
                "dscl . -read /Users/builder",
                "dscl . list /Users",
                "sysadminctl -secureTokenStatus builder",
                "sysadminctl -guestAccount status",
                "pw usershow builder",
            ],
        );
        assert_class(
            USER_MANAGEMENT,
            Language::Bash,
            &[
                "passwd deploy",
                "passwd",
                "passwd -S -l deploy",
                "useradd -D -s /bin/zsh",
                "synouser --setpw admin secret",
                "dscl . -create /Users/builder UserShell /bin/zsh",
                "sysadminctl -guestAccount off",
                "sysadminctl -deleteUser status",
            ],
        );
        for lang in [Language::Batch, Language::PowerShell] {
            assert_not_class(
                USER_MANAGEMENT,
                lang,
                &[
                    "net user",
                    "net user svc_backup",
                    "net user jdoe /domain",
                    "net localgroup \"Remote Desktop Users\"",
                    "NET LOCALGROUP Administrators",
                    "net accounts",
                ],
            );
            assert_class(
                USER_MANAGEMENT,
                lang,
                &[
                    "net user svc_backup P@ss",
                    "net user svc_backup *",
                    "net user svc_backup /active:no",
                    "net localgroup Administrators svc /delete",
                    "net accounts /maxpwage:30",
                ],
            );
        }
        assert_not_class(
            USER_MANAGEMENT,
            Language::PowerShell,
            &[
                "Get-LocalUser",
                "Get-LocalGroupMember Administrators",
                "Get-ADUser jdoe",
            ],
        );
    }

    #[test]
    fn listing_packages_is_not_installing_them() {
        assert_not_class(
            PACKAGE_INSTALL,
            Language::Bash,
            &[
                "apt list --installed",
                "apt-cache policy nginx",
                "dpkg -l",
                "apk info -e bash",
                "brew list",
                "rpm -qa",
                "pip3 show requests",
            ],
        );
        for lang in [Language::Batch, Language::PowerShell] {
            assert_not_class(PACKAGE_INSTALL, lang, &["winget upgrade", "winget list"]);
            assert_class(
                PACKAGE_INSTALL,
                lang,
                &["winget upgrade --all", "winget upgrade Git.Git"],
            );
        }
        assert_not_class(
            PACKAGE_INSTALL,
            Language::PowerShell,
            &["Get-Package", "Get-WindowsFeature", "Get-InstalledModule"],
        );
    }

    #[test]
    fn words_keep_quotes_and_drop_redirections() {
        assert_eq!(
            words_of("localgroup \"Remote Desktop Users\" /domain"),
            ["localgroup", "\"Remote Desktop Users\"", "/domain"]
        );
        assert_eq!(words_of("-l 2>/dev/null"), ["-l"]);
        assert_eq!(words_of("-l > /tmp/x 2>&1"), ["-l"]);
        assert_eq!(words_of("-l 2>$null"), ["-l"]);
        assert_eq!(words_of("10.0.0.5 up"), ["10.0.0.5", "up"]);
        assert!(words_of("").is_empty());
    }

    #[test]
    fn case_follows_the_language() {
        // POSIX shells are case-sensitive: `Systemctl` is not `systemctl`.
        assert!(classify(&command("Systemctl restart x", Language::Bash)).is_empty());
        assert_eq!(
            classify(&command("RESTART-SERVICE x", Language::PowerShell)),
            vec![SERVICE_CONTROL]
        );
    }

    #[test]
    fn every_operation_is_covered_in_every_language() {
        for op in ALL {
            for lang in Language::ALL {
                assert!(
                    RULES.iter().any(|r| r.op == *op && r.langs.contains(&lang)),
                    "{op} has no {} command",
                    lang.name()
                );
            }
        }
    }
}
