//! The built-in taxonomy of operations (`triggering_operations`): which well-known commands of
//! each language install packages, control services, manage users, and so on. A pattern that
//! names an operation fires on every command of that class.

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
    op: &'static str,
}

const SH: &[Language] = &[Language::Bash];
const PS: &[Language] = &[Language::PowerShell];
const CMD: &[Language] = &[Language::Batch, Language::PowerShell];

const RULES: &[Rule] = &[
    Rule {
        langs: SH,
        name: "apt-get",
        subcommands: &["install"],
        op: PACKAGE_INSTALL,
    },
    Rule {
        langs: SH,
        name: "apt",
        subcommands: &["install"],
        op: PACKAGE_INSTALL,
    },
    Rule {
        langs: SH,
        name: "yum",
        subcommands: &["install"],
        op: PACKAGE_INSTALL,
    },
    Rule {
        langs: SH,
        name: "dnf",
        subcommands: &["install"],
        op: PACKAGE_INSTALL,
    },
    Rule {
        langs: SH,
        name: "apk",
        subcommands: &["add"],
        op: PACKAGE_INSTALL,
    },
    Rule {
        langs: SH,
        name: "pip",
        subcommands: &["install"],
        op: PACKAGE_INSTALL,
    },
    Rule {
        langs: SH,
        name: "pip3",
        subcommands: &["install"],
        op: PACKAGE_INSTALL,
    },
    Rule {
        langs: SH,
        name: "brew",
        subcommands: &["install"],
        op: PACKAGE_INSTALL,
    },
    Rule {
        langs: PS,
        name: "Install-Package",
        subcommands: &[],
        op: PACKAGE_INSTALL,
    },
    Rule {
        langs: PS,
        name: "Install-Module",
        subcommands: &[],
        op: PACKAGE_INSTALL,
    },
    Rule {
        langs: CMD,
        name: "choco",
        subcommands: &["install"],
        op: PACKAGE_INSTALL,
    },
    Rule {
        langs: CMD,
        name: "winget",
        subcommands: &["install"],
        op: PACKAGE_INSTALL,
    },
    Rule {
        langs: SH,
        name: "systemctl",
        subcommands: &[],
        op: SERVICE_CONTROL,
    },
    Rule {
        langs: SH,
        name: "service",
        subcommands: &[],
        op: SERVICE_CONTROL,
    },
    Rule {
        langs: PS,
        name: "Restart-Service",
        subcommands: &[],
        op: SERVICE_CONTROL,
    },
    Rule {
        langs: PS,
        name: "Start-Service",
        subcommands: &[],
        op: SERVICE_CONTROL,
    },
    Rule {
        langs: PS,
        name: "Stop-Service",
        subcommands: &[],
        op: SERVICE_CONTROL,
    },
    Rule {
        langs: CMD,
        name: "sc",
        subcommands: &["start", "stop", "config", "create", "delete"],
        op: SERVICE_CONTROL,
    },
    Rule {
        langs: CMD,
        name: "net",
        subcommands: &["start", "stop"],
        op: SERVICE_CONTROL,
    },
    Rule {
        langs: SH,
        name: "useradd",
        subcommands: &[],
        op: USER_MANAGEMENT,
    },
    Rule {
        langs: SH,
        name: "adduser",
        subcommands: &[],
        op: USER_MANAGEMENT,
    },
    Rule {
        langs: SH,
        name: "usermod",
        subcommands: &[],
        op: USER_MANAGEMENT,
    },
    Rule {
        langs: PS,
        name: "New-LocalUser",
        subcommands: &[],
        op: USER_MANAGEMENT,
    },
    Rule {
        langs: PS,
        name: "New-ADUser",
        subcommands: &[],
        op: USER_MANAGEMENT,
    },
    Rule {
        langs: CMD,
        name: "net",
        subcommands: &["user", "localgroup"],
        op: USER_MANAGEMENT,
    },
    Rule {
        langs: SH,
        name: "ip",
        subcommands: &["addr", "address", "route", "link"],
        op: NETWORK_CONFIG,
    },
    Rule {
        langs: SH,
        name: "ifconfig",
        subcommands: &[],
        op: NETWORK_CONFIG,
    },
    Rule {
        langs: PS,
        name: "New-NetIPAddress",
        subcommands: &[],
        op: NETWORK_CONFIG,
    },
    Rule {
        langs: PS,
        name: "Set-DnsClientServerAddress",
        subcommands: &[],
        op: NETWORK_CONFIG,
    },
    Rule {
        langs: CMD,
        name: "netsh",
        subcommands: &[],
        op: NETWORK_CONFIG,
    },
    Rule {
        langs: SH,
        name: "scp",
        subcommands: &[],
        op: FILE_TRANSFER,
    },
    Rule {
        langs: SH,
        name: "rsync",
        subcommands: &[],
        op: FILE_TRANSFER,
    },
    Rule {
        langs: SH,
        name: "curl",
        subcommands: &[],
        op: FILE_TRANSFER,
    },
    Rule {
        langs: SH,
        name: "wget",
        subcommands: &[],
        op: FILE_TRANSFER,
    },
    Rule {
        langs: PS,
        name: "Invoke-WebRequest",
        subcommands: &[],
        op: FILE_TRANSFER,
    },
    Rule {
        langs: PS,
        name: "Copy-Item",
        subcommands: &[],
        op: FILE_TRANSFER,
    },
    Rule {
        langs: CMD,
        name: "robocopy",
        subcommands: &[],
        op: FILE_TRANSFER,
    },
    Rule {
        langs: CMD,
        name: "bitsadmin",
        subcommands: &[],
        op: FILE_TRANSFER,
    },
    Rule {
        langs: SH,
        name: "ssh",
        subcommands: &[],
        op: REMOTE_EXECUTION,
    },
    Rule {
        langs: PS,
        name: "Invoke-Command",
        subcommands: &[],
        op: REMOTE_EXECUTION,
    },
    Rule {
        langs: PS,
        name: "Enter-PSSession",
        subcommands: &[],
        op: REMOTE_EXECUTION,
    },
    Rule {
        langs: CMD,
        name: "psexec",
        subcommands: &[],
        op: REMOTE_EXECUTION,
    },
    Rule {
        langs: CMD,
        name: "winrs",
        subcommands: &[],
        op: REMOTE_EXECUTION,
    },
    Rule {
        langs: SH,
        name: "crontab",
        subcommands: &[],
        op: SCHEDULED_TASK,
    },
    Rule {
        langs: SH,
        name: "at",
        subcommands: &[],
        op: SCHEDULED_TASK,
    },
    Rule {
        langs: PS,
        name: "Register-ScheduledTask",
        subcommands: &[],
        op: SCHEDULED_TASK,
    },
    Rule {
        langs: PS,
        name: "New-ScheduledTaskTrigger",
        subcommands: &[],
        op: SCHEDULED_TASK,
    },
    Rule {
        langs: CMD,
        name: "schtasks",
        subcommands: &[],
        op: SCHEDULED_TASK,
    },
    Rule {
        langs: CMD,
        name: "at",
        subcommands: &[],
        op: SCHEDULED_TASK,
    },
];

/// The operation classes of one command.
pub fn classify(command: &Command) -> Vec<&'static str> {
    let lang = command.language;
    let ci = lang.case_insensitive();
    let first_arg = first_non_option(command.args());
    let mut out = Vec::new();
    for rule in RULES {
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
        if sub_ok && !out.contains(&rule.op) {
            out.push(rule.op);
        }
    }
    out
}

/// The first argument that is not an option (`apt-get -y install` → `install`).
fn first_non_option(args: &str) -> Option<&str> {
    args.split_whitespace()
        .find(|w| !w.starts_with('-') && !w.starts_with('/'))
}
