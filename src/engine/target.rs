//! Targets: the system a script will run on, and which patterns apply to it (DESIGN.md §4).

use serde::{Deserialize, Serialize};

use super::pattern::Pattern;
use crate::script::OsSet;

/// The system tags forewarn documents (docs/patterns.md): what `affected_systems` and host
/// `system_tags` are written in. A target named by one of these is known even when no pattern
/// in the store uses it yet.
pub const SYSTEM_TAGS: &[&str] = &[
    "windows",
    "windows-7",
    "windows-10",
    "windows-11",
    "windows-11-24h2",
    "windows-server-2008",
    "windows-server-2008-r2",
    "windows-server-2012",
    "windows-server-2012-r2",
    "windows-server-2016",
    "windows-server-2019",
    "windows-server-2022",
    "windows-server-2025",
    "windows-server-core",
    "powershell-2.0",
    "powershell-3.0",
    "powershell-4.0",
    "powershell-5.0",
    "powershell-5.1",
    "powershell-7",
    "linux",
    "debian-10",
    "debian-11",
    "debian-12",
    "ubuntu-20.04",
    "ubuntu-22.04",
    "ubuntu-24.04",
    "rhel-7",
    "rhel-8",
    "rhel-9",
    "alpine",
    "busybox",
    "openrc",
    "container",
    "no-systemd",
    "wsl",
    "synology-dsm",
    "synology-dsm-6",
    "synology-dsm-7",
    "macos",
    "freebsd",
    "bash-3.2",
];

/// A Windows release tag's place among releases: the newest Windows NT version `(major, minor,
/// build)` its hosts report, and the Windows PowerShell it ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowsRelease {
    pub nt: (u32, u32, u32),
    pub powershell: (u32, u32),
}

/// The Windows release a tag names (`windows-server-2008-r2` is NT 6.1.7601 with PowerShell
/// 2.0), `None` for other tags and for `windows` and `windows-server-core`, which name none. A
/// check that proves a later NT version (`[Environment]::OSVersion.Version -ge
/// [version]'6.2'`) rules the release out. Builds stay put within a server release and grow
/// with each Windows 10 and 11 feature update: 10 ends at 22H2 (19045), 11 has no last build.
pub fn windows_release(tag: &str) -> Option<WindowsRelease> {
    let (nt, powershell) = match tag {
        "windows-server-2008" => ((6, 0, 6003), (2, 0)),
        "windows-7" | "windows-server-2008-r2" => ((6, 1, 7601), (2, 0)),
        "windows-8" | "windows-server-2012" => ((6, 2, 9200), (3, 0)),
        "windows-8.1" | "windows-server-2012-r2" => ((6, 3, 9600), (4, 0)),
        "windows-10" => ((10, 0, 19045), (5, 1)),
        "windows-server-2016" => ((10, 0, 14393), (5, 1)),
        "windows-server-2019" => ((10, 0, 17763), (5, 1)),
        "windows-server-2022" => ((10, 0, 20348), (5, 1)),
        "windows-server-2025" => ((10, 0, 26100), (5, 1)),
        "windows-11" | "windows-11-24h2" => ((10, 0, u32::MAX), (5, 1)),
        _ => return None,
    };
    Some(WindowsRelease { nt, powershell })
}

/// The script languages a `syntax:` construct of a pattern with these `affected_systems` is
/// written in: a construct that fails on `powershell-*` is PowerShell (`&&` before 7), one that
/// fails on other Windows systems is PowerShell or batch, one that fails on a Unix system is
/// POSIX shell (`${x,,}` on bash 3.2). Tags that name no shell (`container`, `wsl`) or no tags
/// at all: every language.
pub fn construct_languages(tags: &[String]) -> Vec<crate::script::Language> {
    use crate::script::Language;
    let tags: Vec<String> = tags.iter().map(|t| t.trim().to_ascii_lowercase()).collect();
    let any = |f: fn(&str) -> bool| tags.iter().any(|t| f(t));
    let mut out = Vec::new();
    if any(|t| t.starts_with("powershell")) {
        out.push(Language::PowerShell);
    } else if any(|t| t.starts_with("windows")) {
        out.extend([Language::PowerShell, Language::Batch]);
    }
    let unix = [
        "linux",
        "debian",
        "ubuntu",
        "rhel",
        "centos",
        "fedora",
        "alpine",
        "busybox",
        "openrc",
        "synology",
        "macos",
        "freebsd",
        "bash",
        "dash",
        "no-systemd",
    ];
    if tags.iter().any(|t| unix.iter().any(|u| t.starts_with(u))) {
        out.push(Language::Bash);
    }
    if out.is_empty() {
        out.extend(Language::ALL);
    }
    out
}

/// The operating-system families some of `tags` name: `macos` is Darwin; `linux`, `wsl`, the
/// distributions (`debian-*`, `ubuntu-*`, `rhel-*`, `alpine`, …), `busybox`, `openrc` and
/// `synology-dsm*` are Linux; `freebsd` is FreeBSD; `windows*` and Windows PowerShell
/// (`powershell-2.0` … `5.1`) are Windows. Tags that qualify a system without naming its OS
/// (`container`, `no-systemd`, `bash-3.2`, `powershell-7`, a hostname) name none.
pub fn os_families<S: AsRef<str>>(tags: &[S]) -> OsSet {
    const LINUX: &[&str] = &[
        "linux",
        "wsl",
        "debian",
        "ubuntu",
        "rhel",
        "centos",
        "fedora",
        "rocky",
        "alma",
        "amzn",
        "amazon-linux",
        "alpine",
        "busybox",
        "openrc",
        "synology",
        "arch",
        "opensuse",
        "sles",
        "raspbian",
    ];
    let mut os = OsSet::NONE;
    for tag in tags {
        let t = tag.as_ref().trim().to_ascii_lowercase();
        let t = t.as_str();
        let family = |name: &str| t == name || t.starts_with(&format!("{name}-"));
        os = os
            | if family("macos") || family("darwin") || family("osx") {
                OsSet::DARWIN
            } else if LINUX.iter().any(|l| family(l)) {
                OsSet::LINUX
            } else if family("freebsd") {
                OsSet::FREEBSD
            } else if family("openbsd") {
                OsSet::OPENBSD
            } else if family("netbsd") {
                OsSet::NETBSD
            } else if family("windows")
                || t.strip_prefix("powershell-")
                    .and_then(|v| v.split('.').next()?.parse::<u32>().ok())
                    .is_some_and(|major| major <= 5)
            {
                OsSet::WINDOWS
            } else {
                OsSet::NONE
            };
    }
    os
}

/// Whether `name` names the machine the code is on, whichever it is: `localhost` (also
/// `localhost.` and `localhost.localdomain`), `.` (PowerShell's and psexec's own machine), and
/// the loopback addresses (`127.0.0.0/8`, `::1`, also bracketed). Code sent there runs where the
/// script runs, so it keeps the script's target; a store host of such a name would describe one
/// machine where the name means every machine, and is not used for it.
pub fn is_loopback(name: &str) -> bool {
    let name = name.trim();
    let name = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    name == "."
        || ["localhost", "localhost.", "localhost.localdomain"]
            .iter()
            .any(|l| name.eq_ignore_ascii_case(l))
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A row of the `infrastructure` table: a real host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub client_id: Option<String>,
    pub hostname: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub os_version: Option<String>,
    #[serde(default)]
    pub system_tags: Vec<String>,
}

impl Host {
    /// Whether `name` is this host's hostname or one of its aliases (case-insensitive).
    pub fn is_named(&self, name: &str) -> bool {
        self.hostname.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// A row of the `clients` table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    #[serde(default)]
    pub id: String,
    pub name: String,
}

/// A resolved target. An unknown target is `Option<&Target>::None` throughout the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The name as given (a hostname, an alias, or a bare tag such as `windows-server-2008`).
    pub name: String,
    /// Lowercased tags: the host's system_tags plus the name itself.
    pub tags: Vec<String>,
    pub host_id: Option<String>,
    pub client_id: Option<String>,
}

impl Target {
    /// Resolves `name` against the known hosts: a host's tags and ids when it names one, else
    /// the name alone as a tag.
    pub fn resolve(name: &str, hosts: &[Host]) -> Target {
        let name = name.trim();
        let mut tags = vec![name.to_lowercase()];
        match hosts.iter().find(|h| h.is_named(name)) {
            Some(host) => {
                for t in host
                    .system_tags
                    .iter()
                    .chain(std::iter::once(&host.hostname))
                {
                    let t = t.to_lowercase();
                    if !tags.contains(&t) {
                        tags.push(t);
                    }
                }
                Target {
                    name: name.to_string(),
                    tags,
                    host_id: Some(host.id.clone()).filter(|s| !s.is_empty()),
                    client_id: host.client_id.clone(),
                }
            }
            None => Target {
                name: name.to_string(),
                tags,
                host_id: None,
                client_id: None,
            },
        }
    }

    /// Whether `pattern` applies on this target. A pattern that names no system applies everywhere.
    pub fn applies(&self, pattern: &Pattern) -> bool {
        if !pattern.is_scoped() {
            return true;
        }
        if let (Some(p), Some(h)) = (&pattern.infrastructure_id, &self.host_id) {
            if p == h {
                return true;
            }
        }
        if let (Some(p), Some(c)) = (&pattern.client_id, &self.client_id) {
            if p == c {
                return true;
            }
        }
        pattern
            .affected_systems
            .iter()
            .any(|s| self.tags.iter().any(|t| t.eq_ignore_ascii_case(s.trim())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host {
            id: "h1".into(),
            client_id: Some("c1".into()),
            hostname: "D2TESTNAS".into(),
            aliases: vec!["nas.example.lan".into(), "10.0.0.5".into()],
            os: Some("Synology DSM".into()),
            os_version: Some("7.2".into()),
            system_tags: vec!["synology-dsm".into(), "busybox".into()],
        }
    }

    #[test]
    fn resolves_hosts_by_name_or_alias() {
        let t = Target::resolve("nas.EXAMPLE.lan", &[host()]);
        assert_eq!(t.host_id.as_deref(), Some("h1"));
        assert!(t.tags.contains(&"busybox".to_string()));
        assert!(t.tags.contains(&"d2testnas".to_string()));
        let bare = Target::resolve("windows-server-2008", &[host()]);
        assert_eq!(bare.tags, vec!["windows-server-2008".to_string()]);
        assert_eq!(bare.host_id, None);
    }

    #[test]
    fn loopback_names_are_the_machine_the_code_is_on() {
        for name in [
            "localhost",
            "LOCALHOST",
            "localhost.",
            " localhost.localdomain",
            ".",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "0:0:0:0:0:0:0:1",
        ] {
            assert!(is_loopback(name), "{name}");
        }
        for name in [
            "",
            "..",
            "localhost2",
            "my-localhost",
            "acme-dc01",
            "10.0.0.5",
            "128.0.0.1",
            "::2",
            "[::1",
            "$env:COMPUTERNAME",
        ] {
            assert!(!is_loopback(name), "{name}");
        }
    }

    #[test]
    fn windows_release_tags_have_an_nt_version_in_release_order() {
        let releases: Vec<&str> = SYSTEM_TAGS
            .iter()
            .copied()
            .filter(|t| t.starts_with("windows-"))
            .filter(|t| *t != "windows-server-core")
            .collect();
        for tag in &releases {
            assert!(windows_release(tag).is_some(), "{tag}");
        }
        let nt = |t: &str| windows_release(t).map(|r| r.nt);
        let order = [
            "windows-server-2008",
            "windows-server-2008-r2",
            "windows-server-2012",
            "windows-server-2012-r2",
            "windows-server-2016",
            "windows-server-2019",
            "windows-server-2022",
            "windows-server-2025",
        ];
        assert!(order.windows(2).all(|w| nt(w[0]) < nt(w[1])));
        assert_eq!(nt("windows-7"), nt("windows-server-2008-r2"));
        assert!(nt("windows-10") > nt("windows-server-2019"));
        assert!(nt("windows-11") > nt("windows-server-2025"));
        assert_eq!(
            windows_release("windows-server-2012").map(|r| r.powershell),
            Some((3, 0))
        );
        for other in ["windows", "windows-server-core", "powershell-5.1", "linux"] {
            assert_eq!(windows_release(other), None, "{other}");
        }
    }

    #[test]
    fn tags_name_os_families() {
        let os = |tags: &[&str]| os_families(tags).names();
        assert_eq!(os(&["macos", "bash-3.2"]), ["darwin"]);
        assert_eq!(os(&["freebsd", "macos"]), ["darwin", "freebsd"]);
        assert_eq!(
            os(&["synology-dsm-7", "busybox", "Debian-12", "wsl"]),
            ["linux"]
        );
        assert_eq!(os(&["powershell-5.1", "windows-server-2019"]), ["windows"]);
        assert!(os(&[
            "powershell-7",
            "container",
            "no-systemd",
            "bash-3.2",
            "nas01"
        ])
        .is_empty());
        // Every documented tag but the qualifiers names a family.
        for tag in SYSTEM_TAGS {
            let qualifier = matches!(
                *tag,
                "container" | "no-systemd" | "bash-3.2" | "powershell-7"
            );
            assert_eq!(os(&[tag]).is_empty(), qualifier, "{tag}");
        }
    }

    #[test]
    fn constructs_belong_to_the_shells_their_systems_run() {
        use crate::script::Language;
        let langs = |tags: &[&str]| {
            construct_languages(&tags.iter().map(|t| t.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            langs(&["powershell-5.1", "windows-server-2019"]),
            [Language::PowerShell]
        );
        assert_eq!(
            langs(&["Windows-Server-2008"]),
            [Language::PowerShell, Language::Batch]
        );
        assert_eq!(langs(&["bash-3.2", "macos"]), [Language::Bash]);
        assert_eq!(langs(&["container"]), Language::ALL);
        assert_eq!(langs(&[]), Language::ALL);
    }
}
