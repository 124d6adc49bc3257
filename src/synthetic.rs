//! Synthetic workloads for benchmarks and load tests: a store of N patterns and scripts of N
//! lines, shaped like real ones (mostly plain command names, some argument regexes, a few
//! `syntax:` entries and operations; scripts with pipelines, substitutions, comments, strings and
//! heredocs). Deterministic for a given seed, so figures compare across runs.

use crate::engine::{Pattern, PatternType, Severity};

/// A tiny deterministic generator (SplitMix64): no dependency, same sequence everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// The system tags synthetic patterns and targets draw from.
pub const TAGS: &[&str] = &[
    "windows-server-2008",
    "windows-server-2012",
    "windows-server-2016",
    "windows-server-2019",
    "windows-server-2022",
    "powershell-2.0",
    "powershell-5.1",
    "powershell-7",
    "synology-dsm",
    "busybox",
    "alpine",
    "macos",
    "freebsd",
    "bash-3.2",
    "debian-11",
    "debian-12",
    "ubuntu-22.04",
    "ubuntu-24.04",
    "rhel-9",
    "container",
];

/// `n` synthetic patterns. Pattern `i` is triggered by the command `tool{i}` (plain name), or by
/// `tool{i} --opt{i}` (an argument regex), or by the construct `@@op{i}@@` (`syntax:`); one in
/// twenty is triggered by an operation class instead.
pub fn patterns(n: usize, seed: u64) -> Vec<Pattern> {
    let mut rng = Rng::new(seed);
    let types = PatternType::ALL;
    (0..n)
        .map(|i| {
            let kind = rng.below(100);
            let (commands, operations) = match kind {
                0..=69 => (vec![format!("tool{i}")], vec![]),
                70..=89 => (
                    vec![format!(r"tool{i}\s+(-[a-z]+\s+)*--opt{}", i % 7)],
                    vec![],
                ),
                90..=94 => (vec![format!("syntax:@@op{i}@@")], vec![]),
                _ => (
                    vec![],
                    vec![
                        crate::engine::operations::ALL[i % crate::engine::operations::ALL.len()]
                            .to_string(),
                    ],
                ),
            };
            let systems = (0..1 + rng.below(3))
                .map(|_| TAGS[rng.below(TAGS.len())].to_string())
                .collect();
            Pattern {
                error_pattern: Some(format!(r"tool{i}: (unknown|unsupported) option '--opt\d+'")),
                affected_systems: systems,
                triggering_commands: commands,
                triggering_operations: operations,
                root_cause: "The target ships an older build of the tool.".into(),
                recommended_solution: format!("Use tool{i}-compat instead."),
                alternative_approaches: vec!["Install a newer build.".into()],
                severity: Severity::ALL[rng.below(4)],
                ..Pattern::new(
                    format!("00000000-0000-4000-8000-{i:012}"),
                    types[i % types.len()],
                    format!("synthetic pattern {i}"),
                    format!("tool{i} fails with this option on the target"),
                )
            }
        })
        .collect()
}

/// A bash script of about `lines` lines that calls `tool{k}` for random `k < 2 * patterns`
/// (so about half the calls name a pattern) between ordinary shell code.
pub fn bash_script(lines: usize, patterns: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::from("#!/usr/bin/env bash\nset -euo pipefail\n");
    let mut n = 2;
    while n < lines {
        let k = rng.below(patterns * 2);
        let chunk = match rng.below(10) {
            0 => format!("# step {n}: run tool{k} with sed -i on the config\n"),
            1 => format!("out=\"$(tool{k} --opt{} \"$dir\" | grep -v '^#' | sort -u)\"\n", k % 7),
            2 => format!("if [ -f \"/etc/app{k}.conf\" ]; then\n  tool{k} -q --opt{} /etc/app{k}.conf\nfi\n", k % 7),
            3 => format!("for f in /var/log/app{k}/*.log; do\n  gzip -9 \"$f\" && echo \"compressed $f\"\ndone\n"),
            4 => format!("sudo -u deploy env A={k} tool{k} --force 2>&1 | tee -a \"$log\"\n"),
            5 => format!("echo 'tool{k} is not run here' >> \"$log\" && printf '%s\\n' \"$k\"\n"),
            6 => format!("function step_{n} {{\n  local x=$1\n  tool{k} \"$x\" || return 1\n}}\n"),
            7 => format!("cat <<EOF > /tmp/note{k}\ntool{k} --opt1 only data here\nEOF\n"),
            8 => format!("find /srv/{k} -name '*.tmp' -mtime +7 -exec rm -f {{}} \\; @@op{k}@@\n"),
            _ => format!("curl -fsSL \"https://example.invalid/{k}\" -o \"/tmp/{k}\" && tool{k} --opt{} \"/tmp/{k}\"\n", k % 7),
        };
        n += chunk.matches('\n').count();
        out.push_str(&chunk);
    }
    out
}

/// A PowerShell script of about `lines` lines, in the manner of [`bash_script`].
pub fn powershell_script(lines: usize, patterns: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::from("#Requires -Version 5.1\n$ErrorActionPreference = 'Stop'\n");
    let mut n = 2;
    while n < lines {
        let k = rng.below(patterns * 2);
        let chunk = match rng.below(6) {
            0 => format!("# step {n}: tool{k} -opt\n"),
            1 => format!("$users = Get-LocalUser | Where-Object {{ $_.Enabled }} | ForEach-Object {{ tool{k} $_.Name }}\n"),
            2 => format!("if (Test-Path \"C:\\app{k}\") {{\n    tool{k} -Path \"C:\\app{k}\" --opt{}\n}}\n", k % 7),
            3 => format!("Write-Host \"tool{k} is only text here: $(Get-Date)\"\n"),
            4 => format!("Invoke-Command -ComputerName srv{k} -ScriptBlock {{ tool{k} }}\n"),
            _ => format!("$r = Invoke-WebRequest -Uri 'https://example.invalid/{k}' -UseBasicParsing; tool{k} $r.Content\n"),
        };
        n += chunk.matches('\n').count();
        out.push_str(&chunk);
    }
    out
}

/// The literal command names of [`patterns`], one per line (for `grep -F -w -f` comparisons).
pub fn literals(n: usize) -> String {
    (0..n).map(|i| format!("tool{i}\n")).collect()
}
