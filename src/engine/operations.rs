//! The built-in taxonomy of operations (`triggering_operations`): which well-known commands of
//! each language install packages, control services, manage users, and so on. A pattern that
//! names an operation fires on every command of that class.

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
    }
}

const IP_ACTIONS: &[&str] = &[
    "add", "del", "delete", "change", "replace", "set", "flush", "append",
];

// Commands are listed where they change the system (install, start, create, configure); read-only
// forms such as `apt-get update`, `systemctl status` or `sc query` stay out, so operation patterns
// do not fire on inventory scripts (`ip` is classified by its object, `ip addr …`, reads included).
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
    rule(CMD, "winget", &["install", "upgrade"], PACKAGE_INSTALL),
    rule(CMD, "scoop", &["install"], PACKAGE_INSTALL),
    rule(CMD, "msiexec", &[], PACKAGE_INSTALL),
    rule(CMD, "wusa", &[], PACKAGE_INSTALL),
    rule(SH, "systemctl", &["start", "stop", "restart", "reload", "enable", "disable", "mask", "unmask", "try-restart", "reload-or-restart", "daemon-reload"], SERVICE_CONTROL),
    rule(SH, "service", &[], SERVICE_CONTROL),
    rule(SH, "rc-service", &[], SERVICE_CONTROL),
    rule(SH, "rc-update", &[], SERVICE_CONTROL),
    rule(SH, "launchctl", &[], SERVICE_CONTROL),
    rule(SH, "synoservice", &[], SERVICE_CONTROL),
    rule(SH, "synoservicectl", &[], SERVICE_CONTROL),
    rule(SH, "synoservicecfg", &[], SERVICE_CONTROL),
    rule(SH, "synosystemctl", &[], SERVICE_CONTROL),
    rule(SH, "synopkg", &["start", "stop", "restart"], SERVICE_CONTROL),
    rule(SH, "initctl", &[], SERVICE_CONTROL),
    rule(SH, "update-rc.d", &[], SERVICE_CONTROL),
    rule(SH, "chkconfig", &[], SERVICE_CONTROL),
    rule(SH, "brew", &["services"], SERVICE_CONTROL),
    rule(PS, "Start-Service", &[], SERVICE_CONTROL),
    rule(PS, "Stop-Service", &[], SERVICE_CONTROL),
    rule(PS, "Restart-Service", &[], SERVICE_CONTROL),
    rule(PS, "Set-Service", &[], SERVICE_CONTROL),
    rule(PS, "New-Service", &[], SERVICE_CONTROL),
    rule(PS, "Remove-Service", &[], SERVICE_CONTROL),
    rule(PS, "Suspend-Service", &[], SERVICE_CONTROL),
    rule(PS, "Resume-Service", &[], SERVICE_CONTROL),
    rule(CMD, "sc", &["start", "stop", "config", "create", "delete", "failure", "pause", "continue"], SERVICE_CONTROL),
    rule(CMD, "net", &["start", "stop", "pause", "continue"], SERVICE_CONTROL),
    rule(SH, "useradd", &[], USER_MANAGEMENT),
    rule(SH, "adduser", &[], USER_MANAGEMENT),
    rule(SH, "usermod", &[], USER_MANAGEMENT),
    rule(SH, "userdel", &[], USER_MANAGEMENT),
    rule(SH, "deluser", &[], USER_MANAGEMENT),
    rule(SH, "groupadd", &[], USER_MANAGEMENT),
    rule(SH, "addgroup", &[], USER_MANAGEMENT),
    rule(SH, "groupmod", &[], USER_MANAGEMENT),
    rule(SH, "groupdel", &[], USER_MANAGEMENT),
    rule(SH, "delgroup", &[], USER_MANAGEMENT),
    rule(SH, "passwd", &[], USER_MANAGEMENT),
    rule(SH, "chpasswd", &[], USER_MANAGEMENT),
    rule(SH, "gpasswd", &[], USER_MANAGEMENT),
    rule(SH, "synouser", &[], USER_MANAGEMENT),
    rule(SH, "synogroup", &[], USER_MANAGEMENT),
    rule(SH, "sysadminctl", &[], USER_MANAGEMENT),
    rule(SH, "dscl", &[], USER_MANAGEMENT),
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
    rule(CMD, "net", &["user", "localgroup", "group", "accounts"], USER_MANAGEMENT),
    rule(CMD, "dsadd", &["user", "group"], USER_MANAGEMENT),
    rule(CMD, "dsmod", &["user", "group"], USER_MANAGEMENT),
    rule_acting(SH, "ip", &["addr", "address", "a", "route", "r", "link", "l", "neigh", "rule", "tunnel"], IP_ACTIONS, NETWORK_CONFIG),
    rule(SH, "ifconfig", &[], NETWORK_CONFIG),
    rule(SH, "route", &["add", "del", "delete", "change"], NETWORK_CONFIG),
    rule(SH, "nmcli", &[], NETWORK_CONFIG),
    rule(SH, "ifup", &[], NETWORK_CONFIG),
    rule(SH, "ifdown", &[], NETWORK_CONFIG),
    rule(SH, "iptables", &[], NETWORK_CONFIG),
    rule(SH, "ip6tables", &[], NETWORK_CONFIG),
    rule(SH, "nft", &[], NETWORK_CONFIG),
    rule(SH, "ufw", &[], NETWORK_CONFIG),
    rule(SH, "firewall-cmd", &[], NETWORK_CONFIG),
    rule(SH, "networksetup", &[], NETWORK_CONFIG),
    rule(SH, "resolvectl", &[], NETWORK_CONFIG),
    rule(SH, "brctl", &[], NETWORK_CONFIG),
    rule(SH, "iw", &[], NETWORK_CONFIG),
    rule(SH, "iwconfig", &[], NETWORK_CONFIG),
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
    rule(SH, "crontab", &[], SCHEDULED_TASK),
    rule(SH, "at", &[], SCHEDULED_TASK),
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
    rule(CMD, "schtasks", &[], SCHEDULED_TASK),
    rule(CMD, "at", &[], SCHEDULED_TASK),
];

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
        if sub_ok && acts && !out.contains(&rule.op) {
            out.push(rule.op);
        }
    }
    out
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
