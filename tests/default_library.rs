//! The embedded default library (src/store/default_library.json): every pattern is well formed,
//! uses the documented tag vocabulary (docs/patterns.md), fires on a realistic one-line script for
//! a target it names, stays quiet on the corrected line, and recognises the error text users see.

use forewarn::engine::{self, operations, Pattern, PatternIndex, Target};
use forewarn::script::Language;

const LIBRARY: &str = include_str!("../src/store/default_library.json");

use forewarn::engine::target::SYSTEM_TAGS as VOCABULARY;

/// One pattern's examples: a line in `lang` that must trigger it on `target`, the corrected line
/// that must not, and the error output it must recognise.
struct Example {
    id: &'static str,
    lang: Language,
    target: &'static str,
    fires: &'static str,
    quiet: Option<&'static str>,
    error: Option<&'static str>,
}

fn patterns() -> Vec<Pattern> {
    let doc: serde_json::Value = serde_json::from_str(LIBRARY).expect("library is valid JSON");
    for key in ["clients", "infrastructure"] {
        assert!(doc[key].is_array(), "`{key}` must be an array");
    }
    doc["failure_patterns"]
        .as_array()
        .expect("failure_patterns is an array")
        .iter()
        .map(|row| {
            serde_json::from_value::<Pattern>(row.clone())
                .unwrap_or_else(|e| panic!("pattern {} does not decode: {e}", row["id"]))
        })
        .collect()
}

fn index() -> PatternIndex {
    let index = PatternIndex::build(patterns(), vec![], vec![]);
    assert!(index.problems().is_empty(), "{:?}", index.problems());
    index
}

fn fired(src: &str, lang: Language, target: &str, index: &PatternIndex) -> Vec<String> {
    engine::scan(src, lang, Some(target), index)
        .findings
        .into_iter()
        .map(|f| f.pattern_id)
        .collect()
}

#[test]
fn library_is_large_and_well_formed() {
    let patterns = patterns();
    assert!(
        patterns.len() >= 60,
        "only {} patterns in the default library",
        patterns.len()
    );
    let mut ids = std::collections::HashSet::new();
    let mut signatures = std::collections::HashSet::new();
    for p in &patterns {
        let uuid = uuid::Uuid::parse_str(&p.id)
            .unwrap_or_else(|e| panic!("pattern id `{}` is not a UUID: {e}", p.id));
        assert_eq!(
            uuid.get_version_num(),
            4,
            "pattern {} is not a v4 UUID",
            p.id
        );
        assert!(ids.insert(p.id.clone()), "duplicate id {}", p.id);
        assert!(
            signatures.insert(p.pattern_signature.to_lowercase()),
            "duplicate signature `{}`",
            p.pattern_signature
        );
        assert!(p.problems().is_empty(), "{}: {:?}", p.id, p.problems());
        assert!(!p.root_cause.trim().is_empty(), "{}: no root cause", p.id);
        assert!(
            !p.recommended_solution.trim().is_empty(),
            "{}: no recommended solution",
            p.id
        );
        assert!(!p.failure_description.trim().is_empty(), "{}", p.id);
        assert!(!p.references.is_empty(), "{}: no references", p.id);
        for r in &p.references {
            assert!(r.starts_with("https://"), "{}: reference `{r}`", p.id);
        }
        assert!(
            !p.triggering_commands.is_empty() || !p.triggering_operations.is_empty(),
            "{}: triggers on nothing",
            p.id
        );
        if let Some(ep) = &p.error_pattern {
            regex::Regex::new(ep)
                .unwrap_or_else(|e| panic!("{}: error_pattern does not compile: {e}", p.id));
        }
        if let Some(fix) = p.fix.as_ref().filter(|f| f.is_edit()) {
            regex::Regex::new(&fix.replace)
                .unwrap_or_else(|e| panic!("{}: fix.replace does not compile: {e}", p.id));
            assert!(!fix.with.is_empty(), "{}: empty fix", p.id);
        }
        for tag in &p.affected_systems {
            assert!(
                VOCABULARY.contains(&tag.as_str()),
                "{}: tag `{tag}` is not in the documented vocabulary",
                p.id
            );
        }
        for op in &p.triggering_operations {
            assert!(operations::ALL.contains(&op.as_str()), "{}: {op}", p.id);
        }
        assert!(p.is_active, "{}", p.id);
    }
}

/// `explain`, `store stats` and suppressions name a pattern by the first 8 characters of its id
/// (`# forewarn: ignore=5f0c1a52`): in the library no two ids may share them.
#[test]
fn ids_are_uuids_told_apart_by_their_first_8_characters() {
    let mut prefixes = std::collections::HashMap::new();
    for p in patterns() {
        assert!(uuid::Uuid::parse_str(&p.id).is_ok(), "{} is no UUID", p.id);
        if let Some(other) = prefixes.insert(p.id[..8].to_string(), p.id.clone()) {
            panic!("{} and {other} share their first 8 characters", p.id);
        }
    }
}

#[test]
fn every_pattern_has_exactly_one_example_row() {
    let patterns = patterns();
    for p in &patterns {
        let rows = EXAMPLES.iter().filter(|e| e.id == p.id).count();
        assert_eq!(
            rows, 1,
            "pattern {} ({}) needs one example row",
            p.id, p.pattern_signature
        );
    }
    for e in EXAMPLES {
        let p = patterns
            .iter()
            .find(|p| p.id == e.id)
            .unwrap_or_else(|| panic!("example for unknown pattern {}", e.id));
        assert!(
            p.affected_systems.is_empty() || p.affected_systems.iter().any(|s| s == e.target),
            "{}: example target `{}` is not one of its affected systems",
            e.id,
            e.target
        );
        assert_eq!(
            p.error_pattern.is_some(),
            e.error.is_some(),
            "{}: an error sample is needed exactly when there is an error_pattern",
            e.id
        );
    }
}

#[test]
fn every_pattern_fires_on_its_example_and_not_on_the_fix() {
    let index = index();
    let mut failures = Vec::new();
    for e in EXAMPLES {
        let hits = fired(e.fires, e.lang, e.target, &index);
        if !hits.iter().any(|id| id == e.id) {
            failures.push(format!("{}: did not fire on `{}`", e.id, e.fires));
        }
        if let Some(quiet) = e.quiet {
            if fired(quiet, e.lang, e.target, &index)
                .iter()
                .any(|id| id == e.id)
            {
                failures.push(format!("{}: fired on the corrected `{quiet}`", e.id));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn scoped_patterns_stay_quiet_on_other_systems() {
    // A pattern must not fire for a system it does not name: Debian 12 scripts must not fail CI
    // because of macOS or Windows knowledge.
    let index = index();
    let patterns = patterns();
    for e in EXAMPLES {
        let p = patterns.iter().find(|p| p.id == e.id).unwrap();
        if p.affected_systems.is_empty() {
            continue;
        }
        assert!(
            fired(e.fires, e.lang, e.target, &index)
                .iter()
                .any(|id| id == e.id),
            "{} does not fire on its example for `{}`",
            e.id,
            e.target
        );
        let other = ["freebsd", "debian-12", "windows-server-2022"]
            .into_iter()
            .find(|t| !p.affected_systems.iter().any(|s| s == t))
            .unwrap();
        assert!(
            !fired(e.fires, e.lang, other, &index)
                .iter()
                .any(|id| id == e.id),
            "{} fired for `{other}`, which it does not name",
            e.id
        );
    }
}

#[test]
fn fixes_remove_the_finding() {
    let index = index();
    let patterns = patterns();
    let mut checked = 0;
    for e in EXAMPLES {
        let p = patterns.iter().find(|p| p.id == e.id).unwrap();
        if !p.fix.as_ref().is_some_and(|f| f.is_edit()) {
            continue;
        }
        let scan = engine::scan(e.fires, e.lang, Some(e.target), &index);
        let finding = scan
            .findings
            .iter()
            .find(|f| f.pattern_id == e.id)
            .unwrap_or_else(|| panic!("{}: no finding on `{}`", e.id, e.fires));
        let edit = finding
            .fix
            .as_ref()
            .unwrap_or_else(|| panic!("{}: finding on `{}` has no fix", e.id, e.fires));
        let mut fixed = e.fires.to_string();
        fixed.replace_range(edit.span.clone(), &edit.replacement);
        assert!(
            !fired(&fixed, e.lang, e.target, &index)
                .iter()
                .any(|id| id == e.id),
            "{}: still fires after its fix: `{fixed}`",
            e.id
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} fixes exercised");
}

#[test]
fn every_error_pattern_recognises_real_output() {
    let index = index();
    for e in EXAMPLES {
        let Some(sample) = e.error else { continue };
        let target = Target::resolve(e.target, &[]);
        let found = engine::explain(sample, Some(&target), &index);
        assert!(
            found.iter().any(|x| x.pattern_id == e.id),
            "{}: error_pattern does not match its sample {sample:?}",
            e.id
        );
        assert!(
            engine::explain(sample, None, &index)
                .iter()
                .any(|x| x.pattern_id == e.id),
            "{}: not found without a target",
            e.id
        );
    }
}

/// GNU `date -d` is found wherever it stands among date's arguments, written the ways getopt
/// accepts (`-d X`, `-dX`, `-ud X`, `--date=X`), and not on flags or formats that only contain a
/// `d`.
#[test]
fn date_d_fires_wherever_it_is_among_the_arguments() {
    const DATE_D: &str = "e1990e82-229c-454a-ba44-651759b89dbb";
    let index = index();
    let fires = |line: &str| {
        fired(line, Language::Bash, "macos", &index)
            .iter()
            .any(|id| id == DATE_D)
    };
    for line in [
        "date +%s -d @0",
        "date -u +%F -d yesterday",
        "date -ud '1 hour ago'",
        "date -d@0",
        "date -R --date='next monday'",
        "date --date 2024-01-01 +%s",
        "x=$(date +%Y -d \"$when\")",
    ] {
        assert!(fires(line), "did not fire on `{line}`");
    }
    for line in [
        "date -u",
        "date +%d",
        "date -u +%Y-%m-%d",
        "date '+%d -%d'",
        "date -v-7d +%s",
        "date -j -f %Y-%m-%d 2024-01-31 +%s",
        "date --debug",
        "echo -d | date",
    ] {
        assert!(!fires(line), "fired on `{line}`");
    }
}

/// Whether pattern `id` (by its first 8 characters) fires on `src`, a bash line, for `target`.
fn fires_on(id: &str, src: &str, target: &str, index: &PatternIndex) -> bool {
    fired(src, Language::Bash, target, index)
        .iter()
        .any(|f| f.starts_with(id))
}

/// What agents run in Debian 12 containers: pip behind an activation, from a virtualenv by its
/// path, with pip's documented override, or through pipx/uv never meets PEP 668's refusal; the
/// system's pip, `--user` and a venv only created (not activated) still do.
#[test]
fn pep_668_is_quiet_inside_a_virtualenv_and_fires_outside() {
    const PEP668: &str = "fd930855";
    let index = index();
    for line in [
        "python3 -m venv /opt/v && /opt/v/bin/pip install requests",
        "source .venv/bin/activate && pip install -r requirements.txt",
        ". venv/bin/activate; pip install x",
        ". \"$HOME/venv/bin/activate\"\npip3 install x",
        ".venv/bin/pip install -U pip",
        "/opt/v/bin/pip3 install x",
        "/opt/v/bin/python -m pip install x",
        "\"$VENV\"/bin/python3 -m pip install x",
        "sudo /srv/app/venv/bin/pip install x",
        "if [ -d v ]; then\n  source v/bin/activate\nfi\npip install x",
        "cd /app && { . .venv/bin/activate && pip install -e .; }",
        "PIP_BREAK_SYSTEM_PACKAGES=1 pip install foo",
        "export PIP_BREAK_SYSTEM_PACKAGES=true\npip install foo",
        "pip install --break-system-packages foo",
        "pipx install httpie",
        "uv pip install x",
    ] {
        assert!(
            !fires_on(PEP668, line, "debian-12", &index),
            "fired on `{line}`"
        );
    }
    for line in [
        "pip install requests",
        "pip install --user x",
        "/usr/bin/pip install x",
        "/usr/local/bin/pip3 install x",
        "/usr//bin/python3 -m pip install x",
        "python3 -m venv /opt/v && pip install x",
        "PIP_BREAK_SYSTEM_PACKAGES=0 pip install foo",
        "echo source venv/bin/activate; pip install x",
        "# source venv/bin/activate\npip install x",
        "pip install x && source venv/bin/activate",
    ] {
        assert!(
            fires_on(PEP668, line, "debian-12", &index),
            "quiet on `{line}`"
        );
    }
}

/// A command called by a path someone chose is not the one the system lacks: missing-command
/// patterns stay quiet on it, and speak on the bare name and on the system's own directories.
#[test]
fn a_program_at_someones_path_is_not_predicted_missing() {
    const PYTHON: &str = "9dffa0d7";
    const SYNOSERVICE: &str = "100b764b";
    let index = index();
    for line in [
        ".venv/bin/python -m pip install x",
        "./python tool.py",
        "/opt/python/bin/python x.py",
        "\"$PYENV_ROOT\"/shims/python x.py",
    ] {
        assert!(
            !fires_on(PYTHON, line, "debian-12", &index),
            "fired on `{line}`"
        );
    }
    for line in ["python x.py", "/usr/bin/python x.py", "/bin/python x.py"] {
        assert!(
            fires_on(PYTHON, line, "debian-12", &index),
            "quiet on `{line}`"
        );
    }
    // DSM's own tools live in /usr/syno/sbin: still the system's.
    assert!(fires_on(
        SYNOSERVICE,
        "/usr/syno/sbin/synoservice --restart nginx",
        "synology-dsm-7",
        &index
    ));
}

/// Dockerfile RUN lines install what they use first: an install of the package the pattern's
/// solution names, earlier in the chain, is the fix in place; another package, a package
/// whose name only starts the same, or an install after the use is not.
#[test]
fn an_earlier_install_of_the_package_is_the_fix_in_place() {
    let index = index();
    // (pattern, target, fires, quiet)
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "9627d102",
            "alpine",
            "curl -fsS https://x | bash",
            "apk add --no-cache curl bash && curl -fsS https://x | bash",
        ),
        (
            "838dc180",
            "alpine",
            "curl -fsS https://x | sh",
            "apk add --no-cache curl bash && curl -fsS https://x | sh",
        ),
        (
            "838dc180",
            "alpine",
            "apk add curl-dev && curl -O https://x",
            "apk --no-cache add curl=8.5.0-r0 && curl -O https://x",
        ),
        (
            "838dc180",
            "alpine",
            "apk add x; curl -O https://x",
            "apk add \\\n  curl \\\n  jq\ncurl -O https://x",
        ),
        (
            "838dc180",
            "container",
            "apt-get install -y libcurl4 && curl -O https://x",
            "apt-get install -y sudo curl && curl -O https://x",
        ),
        (
            "838dc180",
            "container",
            "curl -O https://x && apt-get install -y curl",
            "sudo apt-get -y install --no-install-recommends curl && curl -O https://x",
        ),
        (
            "838dc180",
            "container",
            "yum install -y wget && curl -O https://x",
            "dnf install -y curl && curl -O https://x",
        ),
        (
            "42ab280e",
            "alpine",
            "apk add --no-cache sudo && useradd -m app",
            "apk add --no-cache sudo shadow && useradd -m app",
        ),
        (
            "a980f505",
            "alpine",
            "apk add --no-cache shadow && sudo -u app id",
            "apk add --no-cache sudo shadow && useradd -m app && sudo -u app id",
        ),
        (
            "a980f505",
            "container",
            "apt install -y curl && sudo -u app id",
            "apt install -y sudo && sudo -u app id",
        ),
        (
            "9dffa0d7",
            "debian-12",
            "apt-get install -y python3 && python x.py",
            "apt-get install -y python-is-python3 && python x.py",
        ),
        (
            "9dffa0d7",
            "rhel-9",
            "python x.py",
            "alternatives --set python /usr/bin/python3 && python x.py",
        ),
        (
            "51f201f5",
            "debian-12",
            "apt-get install -y iproute2 && ifconfig",
            "apt-get install -y net-tools && ifconfig",
        ),
        (
            "dd978565",
            "rhel-9",
            "netstat -tlnp",
            "dnf install -y net-tools && netstat -tlnp",
        ),
    ];
    for (id, target, fires, quiet) in cases {
        assert!(
            fires_on(id, fires, target, &index),
            "{id} quiet on `{fires}` ({target})"
        );
        assert!(
            !fires_on(id, quiet, target, &index),
            "{id} fired on `{quiet}` ({target})"
        );
    }
}

/// The ways MSP scripts for Windows Server 2008 R2 (PowerShell 2.0) write each 3.0-only feature
/// fire; the 2.0-compatible forms, comments, strings and PowerShell 5.1 targets stay quiet.
#[test]
fn powershell_2_variants_fire_and_compatible_forms_stay_quiet() {
    const TAIL: &str = "bf9345cb-39d6-4795-8eba-7f8230177475";
    const RAW: &str = "1f5c181d-5580-4784-b2a0-93f7217b3312";
    const GCI: &str = "f4281997-14a8-453f-a9d4-a0fce2be7973";
    const WHERE: &str = "e7c370bd-6436-427f-898f-da649173a3b0";
    const FOREACH: &str = "f4fb7659-d10b-4a22-b09f-01580419fe0f";
    const ORDERED: &str = "ee7f3f11-c24f-4857-8b20-f2a956e7dacc";
    const TLS: &str = "4ad620a2-67c2-4b6e-a19e-c0ea3a39d3b7";
    const TLS12: &str = "159b85f7-fa07-4dbf-9f42-657459323267";
    const PWSH: &str = "9cec3ddc-c53c-4452-b02a-0af2992c4d7b";
    let index = index();
    let fires = |id: &str, line: &str, target: &str| {
        fired(line, Language::PowerShell, target, &index)
            .iter()
            .any(|x| x == id)
    };
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            TAIL,
            &[
                "Get-Content $log -Last 10",
                "gc $log -Tail 5",
                "Get-Content -Path $log -last 20",
                "type C:\\logs\\app.log -Ta 3",
            ],
            &[
                "Get-Content $log | Select-Object -Last 10",
                "Get-Content $log -TotalCount 10",
                "# Get-Content $log -Last 10",
                "Write-Host 'Get-Content $log -Last 10'",
            ],
        ),
        (
            RAW,
            &["Get-Content $p -Raw", "$t = gc -Raw -Path $p"],
            &[
                "(Get-Content $p) -join \"`r`n\"",
                "Get-Content $p | Out-String",
                "Select-String -Path $p -Pattern x",
            ],
        ),
        (
            GCI,
            &[
                "Get-ChildItem -ad",
                "gci C:\\inetpub\\logs -af -Recurse",
                "dir -ad",
                "Get-ChildItem -Hidden",
                "ls -Directory",
            ],
            &[
                "Get-ChildItem | Where-Object { $_.PSIsContainer }",
                "Get-ChildItem -Force",
                "Get-ChildItem -Filter *.log",
                "Get-ChildItem $dir -Recurse -Include *.log",
            ],
        ),
        (
            WHERE,
            &[
                "Get-Service | Where-Object -Property Status -eq Running",
                "Get-Service | Where-Object Status -eq Running",
                "Get-Service | where Status -ceq 'Running'",
                "Get-Service | ? Status -like 'Run*'",
                "Get-LocalUser | Where-Object Enabled",
                "$rows | Where-Object -Property Stale",
            ],
            &[
                "Get-Service | Where-Object { $_.Status -eq 'Running' }",
                "Get-Service | Where-Object -FilterScript { $_.Status -eq 'Running' }",
                "$rows | ? { $_.Stale }",
                "where.exe git",
                "# Get-Service | Where-Object Status -eq Running",
            ],
        ),
        (
            FOREACH,
            &[
                "Get-Service | ForEach-Object Name",
                "Get-Service | % Name",
                "Get-Process | foreach Description",
                "Get-ChildItem | ForEach-Object -MemberName FullName",
                "$names | % ToUpper",
            ],
            &[
                "Get-Service | ForEach-Object { $_.Name }",
                "Get-Service | % { $_.Name }",
                "Get-Service | ForEach-Object -Process { $_.Name }",
                "foreach ($s in Get-Service) { $s.Name }",
                "Get-Service | Select-Object -ExpandProperty Name",
                "$x = 10 % 3",
            ],
        ),
        (
            ORDERED,
            &["$h = [ordered]@{ a = 1 }", "New-Object PSObject -Property ([ordered]@{ a = 1 })"],
            &[
                "# $h = [ordered]@{ a = 1 }",
                "Write-Host '[ordered]@{}'",
                "$h = @{ a = 1 }",
            ],
        ),
        (
            TLS,
            &[
                "(New-Object Net.WebClient).DownloadFile('https://example.com/a.msi', $dest)",
                "$wc = New-Object System.Net.WebClient; $json = $wc.DownloadString($url)",
                "Invoke-WebRequest -Uri https://example.com/a.msi -OutFile $dest",
            ],
            &[
                "# (New-Object Net.WebClient).DownloadFile($url, $dest)",
                "Write-Host '$wc.DownloadFile($url, $dest)'",
                "Invoke-WebRequest -Uri http://intranet.local/a.msi -OutFile $dest",
            ],
        ),
        (
            TLS12,
            &[
                "[System.Net.ServicePointManager]::SecurityProtocol = [System.Net.SecurityProtocolType]::Tls12",
                "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12",
            ],
            &[
                "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor 3072",
                "# [Net.SecurityProtocolType]::Tls12 does not exist on 2.0",
                "if ($PSVersionTable.PSVersion.Major -ge 3) { [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12 }",
            ],
        ),
        (
            PWSH,
            &["pwsh -Command { Get-Date }", "& pwsh.exe -File .\\report.ps1"],
            &[
                "if (Get-Command pwsh -ErrorAction SilentlyContinue) { pwsh -File .\\report.ps1 }",
                "if ($PSVersionTable.PSVersion.Major -ge 7) { pwsh -File .\\worker.ps1 }",
                "powershell.exe -File .\\report.ps1",
                "Write-Host 'run pwsh -File x.ps1'",
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (id, fire, quiet) in cases {
        // The pwsh pattern is about Windows itself, PowerShell 7 absent from every release.
        let target = if *id == PWSH {
            "windows-server-2022"
        } else {
            "windows-server-2008-r2"
        };
        for line in *fire {
            if !fires(id, line, target) {
                failures.push(format!("{id}: did not fire on `{line}`"));
            }
            // Text about the command is no command.
            for text in [format!("# {line}"), format!("$doc = @'\n{line}\n'@")] {
                if fires(id, &text, target) {
                    failures.push(format!("{id}: fired on `{text}`"));
                }
            }
            // Windows PowerShell 5.1 on Windows 10 has all of it (and TLS 1.2 by default there).
            if *id != PWSH && fires(id, line, "windows-10") {
                failures.push(format!("{id}: fired on `{line}` for windows-10"));
            }
        }
        for line in *quiet {
            if fires(id, line, target) {
                failures.push(format!("{id}: fired on `{line}`"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `ls -ad` and `ls -af` are everyday POSIX commands: only the PowerShell names take the
/// two-letter Get-ChildItem aliases, so an untargeted bash script gets no finding.
#[test]
fn posix_ls_short_flags_are_not_get_child_item() {
    const GCI: &str = "f4281997-14a8-453f-a9d4-a0fce2be7973";
    let index = index();
    for line in ["ls -ad */", "ls -af", "ls -ah ~"] {
        let scan = engine::scan(line, Language::Bash, None, &index);
        assert!(
            !scan.findings.iter().any(|f| f.pattern_id == GCI),
            "fired on `{line}`"
        );
    }
}

/// What `forewarn check examples` must report: file → (1-based line, pattern signature).
/// examples/README.md shows the same list.
const WORKSPACE: &[(&str, &[(usize, &str)])] = &[
    (
        "windows-legacy/user-audit.ps1",
        &[
            (21, "LocalAccounts cmdlets need PowerShell 5.1"),
            (27, "[pscustomobject] needs PowerShell 3.0"),
            (36, "CIM cmdlets need PowerShell 3.0"),
            (
                41,
                "ConvertFrom-Json and ConvertTo-Json need PowerShell 3.0",
            ),
            (
                43,
                "Invoke-WebRequest and Invoke-RestMethod need PowerShell 3.0",
            ),
            (
                43,
                "Windows PowerShell 2.0-5.1 cannot reach TLS 1.2-only HTTPS endpoints by default",
            ),
        ],
    ),
    (
        "windows-legacy/backup-sql.ps1",
        &[
            (
                11,
                "Compress-Archive and Expand-Archive need PowerShell 5.0",
            ),
            (12, "Get-FileHash needs PowerShell 4.0"),
        ],
    ),
    (
        "windows-legacy/cleanup-logs.bat",
        &[
            (8, "robocopy exit codes 1-7 mean success"),
            (12, "forfiles exits with an error when nothing matches"),
            (
                15,
                "curl.exe is missing before Windows 10 1803 / Server 2019",
            ),
            (19, "timeout in batch fails when input is redirected"),
            (23, "setx truncates values to 1024 characters"),
        ],
    ),
    (
        "nas/backup-shares.sh",
        &[
            (
                25,
                "synoservice / synoservicectl are gone on Synology DSM 7",
            ),
            (28, "Synology DSM has no apt/yum package manager"),
        ],
    ),
    (
        "nas/add-backup-user.sh",
        &[
            (
                10,
                "useradd / usermod are not how Synology DSM manages users",
            ),
            (
                11,
                "useradd / usermod are not how Synology DSM manages users",
            ),
            (16, "crontab is missing on Synology DSM"),
            (16, "crontab is missing on Synology DSM"),
            (
                16,
                "crontab -e / crontab FILE edits do not persist on Synology DSM",
            ),
        ],
    ),
    (
        "macos-build/build.sh",
        &[
            (6, "readlink -f is missing on older macOS"),
            (9, "nproc is not on macOS"),
            (
                13,
                "sed -i without a suffix argument breaks on macOS/BSD sed",
            ),
            (15, "Associative arrays (declare -A) need bash 4"),
            (25, "date -d (GNU date parsing) is missing on macOS/BSD"),
            (29, "sha256sum / sha1sum are not on macOS (use shasum -a)"),
        ],
    ),
    (
        "web/deploy.sh",
        &[
            (9, "apt has no stable CLI for scripts (use apt-get)"),
            (
                18,
                "pip install outside a virtualenv is refused on PEP 668 systems",
            ),
            (
                21,
                "bare python is absent on current Linux distributions and macOS",
            ),
            (
                28,
                "ifconfig / route / arp (net-tools) are not installed on current distributions",
            ),
        ],
    ),
    (
        "web/healthcheck.sh",
        &[
            (6, "curl is not installed in minimal container images"),
            (8, "Alpine uses OpenRC, not systemd"),
        ],
    ),
];

fn examples_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

#[test]
fn examples_workspace_reports_exactly_the_planted_problems() {
    let dir = examples_dir();
    let config_path = dir.join(".forewarn.toml");
    let text = std::fs::read_to_string(&config_path).unwrap();
    let config = forewarn::config::Config::parse(&text, &config_path).expect("example config");
    let index = index();
    let mut scripts = Vec::new();
    for entry in walk(&dir) {
        if Language::detect(&entry, "").is_some() {
            scripts.push(entry);
        }
    }
    assert_eq!(
        scripts.len(),
        WORKSPACE.len(),
        "scripts in examples/: {scripts:?}"
    );
    for (rel, expected) in WORKSPACE {
        let path = dir.join(rel);
        let src = std::fs::read_to_string(&path).unwrap();
        let lang = Language::detect(&path, &src).unwrap();
        let target = config.mapped_target(&path).or(config.target.as_deref());
        assert!(target.is_some(), "{rel}: the config gives no target");
        let scan = engine::scan(&src, lang, target, &index);
        let mut got: Vec<(usize, String)> = scan
            .findings
            .iter()
            .map(|f| {
                let line = src[..f.span.start].matches('\n').count() + 1;
                (
                    line,
                    index.get(&f.pattern_id).unwrap().pattern_signature.clone(),
                )
            })
            .collect();
        got.sort();
        let mut want: Vec<(usize, String)> =
            expected.iter().map(|(l, s)| (*l, s.to_string())).collect();
        want.sort();
        assert_eq!(got, want, "{rel} (target {:?})", scan.target);
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn example_hosts_use_the_vocabulary_and_back_every_folder_target() {
    let text = std::fs::read_to_string(examples_dir().join("hosts.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let hosts: Vec<forewarn::engine::Host> =
        serde_json::from_value(doc["infrastructure"].clone()).expect("hosts decode");
    assert_eq!(hosts.len(), 4);
    for h in &hosts {
        uuid::Uuid::parse_str(&h.id).unwrap();
        for t in &h.system_tags {
            assert!(VOCABULARY.contains(&t.as_str()), "{}: tag {t}", h.hostname);
        }
    }
    let config_path = examples_dir().join(".forewarn.toml");
    let config = forewarn::config::Config::parse(
        &std::fs::read_to_string(&config_path).unwrap(),
        &config_path,
    )
    .unwrap();
    // Each folder's target tag is carried by one host, so naming the host instead of the tag
    // (after `forewarn store import examples/hosts.json`) applies at least the same patterns.
    for (rel, _) in WORKSPACE {
        let tag = config
            .mapped_target(&examples_dir().join(rel))
            .or(config.target.as_deref())
            .unwrap();
        let host = hosts
            .iter()
            .find(|h| h.system_tags.iter().any(|t| t == tag))
            .unwrap_or_else(|| panic!("no host carries `{tag}`"));
        let by_host = Target::resolve(&host.hostname, &hosts);
        assert!(by_host.tags.iter().any(|t| t == tag), "{}", host.hostname);
    }
}

const EXAMPLES: &[Example] = &[
    Example {
        id: "5f0c1a52-9a0e-4c57-8a57-1a4f0f3d2b01",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"Get-LocalUser | Select-Object Name, Enabled"#,
        quiet: Some(r#"Get-WmiObject -Class Win32_UserAccount -Filter 'LocalAccount=True'"#),
        error: Some(
            r#"Get-LocalUser : The term 'Get-LocalUser' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "214e8e21-f0dc-4d8c-9b23-10976790c162",
        lang: Language::PowerShell,
        target: "powershell-2.0",
        fires: r#"Invoke-WebRequest -Uri $url -OutFile $dest"#,
        quiet: Some(r#"(New-Object System.Net.WebClient).DownloadFile($url, $dest)"#),
        error: Some(
            r#"The term 'Invoke-WebRequest' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "5eea73dc-d565-4339-b13a-f93c2465afa3",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"$cfg = Get-Content config.json | ConvertFrom-Json"#,
        quiet: Some(r#"$cfg = Import-Clixml config.xml"#),
        error: Some(
            r#"The term 'ConvertFrom-Json' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "0dfca8cc-1e00-481a-b905-627b91499e2e",
        lang: Language::PowerShell,
        target: "windows-server-2012-r2",
        fires: r#"Compress-Archive -Path C:\Logs\* -DestinationPath C:\Backup\logs.zip"#,
        quiet: Some(
            r#"[IO.Compression.ZipFile]::CreateFromDirectory('C:\Logs', 'C:\Backup\logs.zip')"#,
        ),
        error: Some(
            r#"The term 'Compress-Archive' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "a0abd360-0fee-4552-b8d2-20a85527175b",
        lang: Language::PowerShell,
        target: "windows-server-2008",
        fires: r#"Get-CimInstance -ClassName Win32_OperatingSystem"#,
        quiet: Some(r#"Get-WmiObject -Class Win32_OperatingSystem"#),
        error: Some(
            r#"The term 'Get-CimInstance' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "cb3806bf-6073-4a1d-b30b-a9a59df44e24",
        lang: Language::PowerShell,
        target: "powershell-5.1",
        fires: r#"$servers | ForEach-Object -Parallel { Test-Connection $_ -Count 1 } -ThrottleLimit 5"#,
        quiet: Some(r#"$servers | ForEach-Object { Test-Connection $_ -Count 1 }"#),
        error: Some(
            r#"ForEach-Object : A parameter cannot be found that matches parameter name 'Parallel'."#,
        ),
    },
    Example {
        id: "f84e595d-9071-4fc3-932b-c09b859adbe3",
        lang: Language::PowerShell,
        target: "windows-server-2019",
        fires: r#"git pull && Write-Host 'updated'"#,
        quiet: Some(r#"git pull; if ($?) { Write-Host 'updated' }"#),
        error: Some(
            r#"At line:1 char:10
+ git pull && Write-Host 'updated'
+          ~~
The token '&&' is not a valid statement separator in this version."#,
        ),
    },
    Example {
        id: "68e15c36-4c29-4018-a433-e8271770281f",
        lang: Language::PowerShell,
        target: "powershell-5.1",
        fires: r#"$port = $env:APP_PORT ?? 8080"#,
        quiet: Some(r#"$port = if ($env:APP_PORT) { $env:APP_PORT } else { 8080 }"#),
        error: Some(r#"Unexpected token '??' in expression or statement."#),
    },
    Example {
        id: "466c43c8-4dba-4eeb-bf25-4bc66d335c91",
        lang: Language::PowerShell,
        target: "windows-10",
        fires: r#"$mode = $IsAdmin ? 1 : 0"#,
        quiet: Some(r#"$running = Get-Service | ? { $_.Status -eq 'Running' }"#),
        error: Some(r#"Unexpected token '?' in expression or statement."#),
    },
    Example {
        id: "96099614-b839-4800-bc80-7d7f381d63f8",
        lang: Language::PowerShell,
        target: "powershell-7",
        fires: r#"Get-WmiObject -Class Win32_LogicalDisk -Filter 'DriveType=3'"#,
        quiet: Some(r#"Get-CimInstance -ClassName Win32_LogicalDisk -Filter 'DriveType=3'"#),
        error: Some(
            r#"Get-WmiObject: The term 'Get-WmiObject' is not recognized as a name of a cmdlet, function, script file, or executable program."#,
        ),
    },
    Example {
        id: "76840a84-adfa-453b-bfe9-f4e061299077",
        lang: Language::PowerShell,
        target: "powershell-7",
        fires: r#"Get-EventLog -LogName System -Newest 50 -EntryType Error"#,
        quiet: Some(r#"Get-WinEvent -FilterHashtable @{LogName='System'; Level=2} -MaxEvents 50"#),
        error: Some(
            r#"new-eventlog: The term 'new-eventlog' is not recognized as a name of a cmdlet, function, script file, or executable program."#,
        ),
    },
    Example {
        id: "81bee715-b3f1-48a0-9e98-fffb188a4d80",
        lang: Language::PowerShell,
        target: "powershell-7",
        fires: r#"Add-Computer -DomainName corp.example.com -Credential $cred -Restart"#,
        quiet: Some(r#"Restart-Computer -Force"#),
        error: Some(
            r#"Add-Computer: The term 'Add-Computer' is not recognized as a name of a cmdlet, function, script file, or executable program."#,
        ),
    },
    Example {
        id: "9fbe2365-daf1-4a29-809f-4031cbaee6f7",
        lang: Language::PowerShell,
        target: "powershell-7",
        fires: r#"Add-PSSnapin Microsoft.Exchange.Management.PowerShell.SnapIn"#,
        quiet: Some(r#"Import-Module ExchangeOnlineManagement"#),
        error: Some(
            r#"Add-PSSnapin: The term 'Add-PSSnapin' is not recognized as a name of a cmdlet, function, script file, or executable program."#,
        ),
    },
    Example {
        id: "8f27852e-761c-4789-b5db-5a90ca519464",
        lang: Language::PowerShell,
        target: "powershell-7",
        fires: r#"Get-Service -ComputerName $server -Name Spooler"#,
        quiet: Some(r#"Invoke-Command -ComputerName $server { Get-Service -Name Spooler }"#),
        error: Some(
            r#"Get-Service: A parameter cannot be found that matches parameter name 'ComputerName'."#,
        ),
    },
    Example {
        id: "4ad620a2-67c2-4b6e-a19e-c0ea3a39d3b7",
        lang: Language::PowerShell,
        target: "windows-server-2012-r2",
        fires: r#"Invoke-RestMethod -Uri https://api.github.com/repos/org/tool/releases/latest"#,
        quiet: Some(r#"Invoke-RestMethod -Uri http://intranet.local/status"#),
        error: Some(
            r#"Invoke-WebRequest : The request was aborted: Could not create SSL/TLS secure channel."#,
        ),
    },
    Example {
        id: "3624a5b8-6206-4e12-ab05-58cd2e1889bb",
        lang: Language::PowerShell,
        target: "windows-server-core",
        fires: r#"Invoke-WebRequest -Uri $url -OutFile $dest"#,
        quiet: Some(r#"Invoke-WebRequest -Uri $url -OutFile $dest -UseBasicParsing"#),
        error: Some(
            r#"Invoke-WebRequest : The response content cannot be parsed because the Internet Explorer engine is not available, or Internet Explorer's first-launch configuration is not complete. Specify the UseBasicParsing parameter and try again."#,
        ),
    },
    Example {
        id: "def551af-7165-42f9-9983-72924db303cc",
        lang: Language::PowerShell,
        target: "powershell-5.1",
        fires: r#"Invoke-RestMethod -Uri https://nas01:5001/webapi/entry.cgi -SkipCertificateCheck"#,
        quiet: Some(r#"Invoke-RestMethod -Uri https://nas01:5001/webapi/entry.cgi"#),
        error: Some(
            r#"Invoke-RestMethod : A parameter cannot be found that matches parameter name 'SkipCertificateCheck'."#,
        ),
    },
    Example {
        id: "ec24897b-c7dd-45a7-94da-470943e38ae2",
        lang: Language::PowerShell,
        target: "windows-server-2016",
        fires: r#"$h = Get-Content -Raw settings.json | ConvertFrom-Json -AsHashtable"#,
        quiet: Some(r#"$o = Get-Content -Raw settings.json | ConvertFrom-Json"#),
        error: Some(
            r#"ConvertFrom-Json : A parameter cannot be found that matches parameter name 'AsHashtable'."#,
        ),
    },
    Example {
        id: "9d60d6b3-d2ef-495f-886d-53048979ff81",
        lang: Language::PowerShell,
        target: "powershell-5.1",
        fires: r#"$bytes = Get-Content -Path $file -AsByteStream -Raw"#,
        quiet: Some(r#"$bytes = [System.IO.File]::ReadAllBytes($file)"#),
        error: Some(
            r#"Get-Content : A parameter cannot be found that matches parameter name 'AsByteStream'."#,
        ),
    },
    Example {
        id: "b77fd350-196f-4795-9e3b-1dba92bb601f",
        lang: Language::PowerShell,
        target: "powershell-7",
        fires: r#"Set-Content -Path $out -Value $bytes -Encoding Byte"#,
        quiet: Some(r#"[System.IO.File]::WriteAllBytes($out, $bytes)"#),
        error: Some(
            r#"Set-Content: Cannot process argument transformation on parameter 'Encoding'. 'Byte' is not a supported encoding name."#,
        ),
    },
    Example {
        id: "2b6fbf96-7456-4f12-945b-42b82b6d3d30",
        lang: Language::PowerShell,
        target: "windows-server-2012",
        fires: r#"$tmp = New-TemporaryFile"#,
        quiet: Some(r#"$tmp = [System.IO.Path]::GetTempFileName()"#),
        error: Some(
            r#"The term 'New-TemporaryFile' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "80333d11-33e9-4b7d-9d91-3094686e12fc",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"(Get-FileHash -Algorithm SHA256 $installer).Hash"#,
        quiet: Some(r#"certutil -hashfile $installer SHA256"#),
        error: Some(
            r#"The term 'Get-FileHash' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "3ed82016-efb8-49a6-9432-2c7fbcfdd193",
        lang: Language::PowerShell,
        target: "windows-server-2012-r2",
        fires: r#"Get-ComputerInfo -Property OsName, OsVersion"#,
        quiet: Some(r#"Get-WmiObject Win32_OperatingSystem | Select-Object Caption, Version"#),
        error: Some(
            r#"The term 'Get-ComputerInfo' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "c16a1109-233e-40a7-ae46-26e79cced228",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"Get-NetIPAddress -AddressFamily IPv4 | Select-Object IPAddress"#,
        quiet: Some(r#"Get-WmiObject Win32_NetworkAdapterConfiguration -Filter 'IPEnabled=True'"#),
        error: Some(
            r#"The term 'Get-NetIPAddress' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "ea05d32b-7e31-42a8-916c-9dbdf762c3d9",
        lang: Language::PowerShell,
        target: "windows-server-2008",
        fires: r#"New-NetFirewallRule -DisplayName 'Agent' -Direction Inbound -LocalPort 8443 -Protocol TCP -Action Allow"#,
        quiet: Some(
            r#"netsh advfirewall firewall add rule name=Agent dir=in action=allow protocol=TCP localport=8443"#,
        ),
        error: Some(
            r#"The term 'New-NetFirewallRule' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "05813b9d-6d34-4624-8218-e1a438f502a4",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"Register-ScheduledTask -TaskName 'Nightly backup' -Action $action -Trigger $trigger -User SYSTEM"#,
        quiet: Some(
            r#"schtasks /Create /TN NightlyBackup /TR 'powershell.exe -File C:\Scripts\backup.ps1' /SC DAILY /ST 02:00 /RU SYSTEM"#,
        ),
        error: Some(
            r#"The term 'Register-ScheduledTask' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "562e99f9-2366-41a8-a7ba-1eaf803481a3",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"Get-SmbShare | Where-Object { -not $_.Special }"#,
        quiet: Some(r#"Get-WmiObject -Class Win32_Share"#),
        error: Some(
            r#"The term 'Get-SmbShare' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "b5f30497-b722-47f1-8de0-af39cc64c2c6",
        lang: Language::PowerShell,
        target: "windows-7",
        fires: r#"Get-Volume | Where-Object { $_.SizeRemaining -lt 10GB }"#,
        quiet: Some(r#"Get-WmiObject Win32_LogicalDisk -Filter 'DriveType=3'"#),
        error: Some(
            r#"The term 'Get-Volume' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "1a37e2ed-fb84-4299-8060-e5559607f7b6",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"Resolve-DnsName -Name $fqdn -Type A"#,
        quiet: Some(r#"[System.Net.Dns]::GetHostAddresses($fqdn)"#),
        error: Some(
            r#"The term 'Resolve-DnsName' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "9b3f2214-9b9d-44ef-9da0-f39c48ae2197",
        lang: Language::PowerShell,
        target: "windows-server-2012",
        fires: r#"Test-NetConnection -ComputerName $sql -Port 1433"#,
        quiet: Some(r#"Test-Connection -ComputerName $sql -Count 1"#),
        error: Some(
            r#"The term 'Test-NetConnection' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "7db8d42a-1630-4cf8-a00e-7a86528a1050",
        lang: Language::PowerShell,
        target: "windows-11",
        fires: r#"Get-ADUser -Filter 'Enabled -eq $false' -SearchBase $ou"#,
        quiet: Some(
            r#"([adsisearcher]'(&(objectCategory=user)(userAccountControl:1.2.840.113556.1.4.803:=2))').FindAll()"#,
        ),
        error: Some(
            r#"Import-Module : The specified module 'ActiveDirectory' was not loaded because no valid module file was found in any module directory."#,
        ),
    },
    Example {
        id: "c415a5f9-ab05-4aa3-8b02-086b70f4a14c",
        lang: Language::PowerShell,
        target: "windows-10",
        fires: r#"Install-WindowsFeature -Name RSAT-AD-PowerShell"#,
        quiet: Some(r#"Enable-WindowsOptionalFeature -Online -FeatureName TelnetClient"#),
        error: Some(
            r#"The term 'Install-WindowsFeature' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "076860c1-2e33-4026-abfd-4777222ae6b4",
        lang: Language::PowerShell,
        target: "windows-server-2012-r2",
        fires: r#"Install-Module -Name PSWindowsUpdate -Force"#,
        quiet: Some(r#"Import-Module PSWindowsUpdate"#),
        error: Some(
            r#"The term 'Install-Module' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
    Example {
        id: "9e9d3ad5-ee8f-4e70-9a18-2c7a0f222dc0",
        lang: Language::PowerShell,
        target: "windows-server-2016",
        fires: r#"Install-Module -Name Az -Scope AllUsers"#,
        quiet: Some(r#"Import-Module Az.Accounts"#),
        error: Some(
            r#"WARNING: Unable to resolve package source 'https://www.powershellgallery.com/api/v2'."#,
        ),
    },
    Example {
        id: "5eee37ae-403f-4051-ad70-f3f4e5c5099f",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"$row = [pscustomobject]@{ Name = $u.Name; Enabled = $u.Enabled }"#,
        quiet: Some(r#"$row = New-Object PSObject -Property @{ Name = $u.Name }"#),
        error: Some(
            r#"Unable to find type [pscustomobject]: make sure that the assembly containing this type is loaded."#,
        ),
    },
    Example {
        id: "7ab0bd60-a40f-41af-8364-e013c878c8c1",
        lang: Language::PowerShell,
        target: "powershell-2.0",
        fires: r#"if ($svc.Name -in $critical) { Restart-Service $svc }"#,
        quiet: Some(r#"if ($critical -contains $svc.Name) { Restart-Service $svc }"#),
        error: Some(r#"Unexpected token '-in' in expression or statement."#),
    },
    Example {
        id: "7a7897a5-c69d-4e47-b654-b43a232b360f",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"$cfg = Join-Path $PSScriptRoot 'settings.xml'"#,
        quiet: Some(r#"$here = Split-Path -Parent $MyInvocation.MyCommand.Definition"#),
        error: Some(
            r#"Join-Path : Cannot bind argument to parameter 'Path' because it is an empty string."#,
        ),
    },
    Example {
        id: "6074b71d-ed3e-489d-a892-2d8d3c7ef35d",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: "#Requires -Version 5.1\n$users = Get-LocalUser\n",
        quiet: Some("#Requires -Version 2.0\n$users = Get-WmiObject Win32_UserAccount\n"),
        error: Some(
            r##"The script 'audit.ps1' cannot be run because it contained a "#requires" statement for Windows PowerShell 5.1. The version of Windows PowerShell that is required by the script does not match the currently running version of Windows PowerShell 2.0."##,
        ),
    },
    Example {
        id: "f4281997-14a8-453f-a9d4-a0fce2be7973",
        lang: Language::PowerShell,
        target: "powershell-2.0",
        fires: r#"Get-ChildItem -Path $logDir -File -Recurse"#,
        quiet: Some(
            r#"Get-ChildItem -Path $logDir -Recurse | Where-Object { -not $_.PSIsContainer }"#,
        ),
        error: Some(
            r#"Get-ChildItem : A parameter cannot be found that matches parameter name 'File'."#,
        ),
    },
    Example {
        id: "8acbac4c-e3e7-4a8b-84eb-ef73b4181ba2",
        lang: Language::PowerShell,
        target: "windows-server-2019",
        fires: r#"Set-ExecutionPolicy RemoteSigned -Scope LocalMachine -Force"#,
        quiet: Some(r#"Get-ExecutionPolicy -List"#),
        error: Some(
            r#"Set-ExecutionPolicy : Windows PowerShell updated your execution policy successfully, but the setting is overridden by a policy defined at a more specific scope."#,
        ),
    },
    Example {
        id: "64c3e2eb-c4e7-4e48-9426-ccbcde3761b7",
        lang: Language::PowerShell,
        target: "windows-server-2022",
        fires: r#"Send-MailMessage -To ops@example.com -From nas@example.com -Subject 'Backup' -SmtpServer smtp.example.com"#,
        quiet: Some(r#"Write-Host 'Backup complete'"#),
        error: Some(
            r#"WARNING: The command 'Send-MailMessage' is obsolete. This cmdlet does not guarantee secure connections to SMTP servers."#,
        ),
    },
    Example {
        id: "bf9345cb-39d6-4795-8eba-7f8230177475",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"Get-Content -Path $log -Tail 50"#,
        quiet: Some(r#"Get-Content -Path $log | Select-Object -Last 50"#),
        error: Some(
            r#"Get-Content : A parameter cannot be found that matches parameter name 'Tail'."#,
        ),
    },
    Example {
        id: "e7c370bd-6436-427f-898f-da649173a3b0",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"Get-Service | Where-Object Status -eq 'Running'"#,
        quiet: Some(r#"Get-Service | Where-Object { $_.Status -eq 'Running' }"#),
        error: Some(
            r#"Where-Object : Cannot bind parameter 'FilterScript'. Cannot convert the "Status" value of type "System.String" to type "System.Management.Automation.ScriptBlock"."#,
        ),
    },
    Example {
        id: "7ce13710-9adf-48c7-96e5-25716899f574",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"Invoke-Command -ComputerName $dc -ScriptBlock { Get-Service -Name $using:svc }"#,
        quiet: Some(
            r#"Invoke-Command -ComputerName $dc -ScriptBlock { param($n) Get-Service -Name $n } -ArgumentList $svc"#,
        ),
        error: Some(r#"Cannot find drive. A drive with the name 'using' does not exist."#),
    },
    Example {
        id: "fd50dec1-823b-4241-b9be-e0dac68168c7",
        lang: Language::PowerShell,
        target: "powershell-5.1",
        fires: r#"$json | Out-File -FilePath $cfg -Encoding UTF8"#,
        quiet: Some(
            r#"[IO.File]::WriteAllText($cfg, $json, (New-Object System.Text.UTF8Encoding $false))"#,
        ),
        error: None,
    },
    Example {
        id: "34efe3e3-ddd4-4942-86d4-d41b39ae241e",
        lang: Language::Batch,
        target: "windows-11-24h2",
        fires: r#"wmic bios get serialnumber"#,
        quiet: Some(
            r#"powershell -NoProfile -Command "(Get-CimInstance Win32_BIOS).SerialNumber""#,
        ),
        error: Some(
            r#"'wmic' is not recognized as an internal or external command,
operable program or batch file."#,
        ),
    },
    Example {
        id: "b044f84d-a60c-4a2f-88de-e77795613b50",
        lang: Language::Batch,
        target: "windows-10",
        fires: r#"wmic logicaldisk get name,freespace"#,
        quiet: Some(r#"powershell -NoProfile -Command "Get-CimInstance Win32_LogicalDisk""#),
        error: None,
    },
    Example {
        id: "e74c6ad6-135c-4603-8aa6-cf1df84cc3a0",
        lang: Language::Batch,
        target: "windows-server-2025",
        fires: r#"powershell -Version 2 -File legacy.ps1"#,
        quiet: Some(r#"powershell -NoProfile -File legacy.ps1"#),
        error: Some(
            r#"Version v2.0.50727 of the .NET Framework is not installed and it is required to run version 2 of Windows PowerShell."#,
        ),
    },
    Example {
        id: "38525c15-4577-463a-996d-b973ca288a92",
        lang: Language::Batch,
        target: "windows-server-2019",
        fires: r#"timeout /t 30 /nobreak"#,
        quiet: Some(r#"ping -n 31 127.0.0.1 >nul"#),
        error: Some(
            r#"ERROR: Input redirection is not supported, exiting the process immediately."#,
        ),
    },
    Example {
        id: "17692730-ed2f-46df-a0a5-246ad1de8a39",
        lang: Language::Batch,
        target: "windows-server-2016",
        fires: r#"robocopy D:\Data \\nas01\backup\data /MIR /R:2 /W:5"#,
        quiet: Some(r#"xcopy D:\Data \\nas01\backup\data /E /Y"#),
        error: None,
    },
    Example {
        id: "27cb8192-8ef7-4167-ad5e-9fdd2abe22eb",
        lang: Language::Batch,
        target: "windows-server-2012-r2",
        fires: r#"forfiles /p D:\Logs /s /m *.log /d -30 /c "cmd /c del @path""#,
        quiet: Some(r#"del /q D:\Logs\*.tmp"#),
        error: Some(r#"ERROR: No files found with the specified search criteria."#),
    },
    Example {
        id: "9b7264da-4f26-415e-8617-625be87702a8",
        lang: Language::Batch,
        target: "windows-server-2019",
        fires: r#"icacls D:\Share /grant Users:M /T"#,
        quiet: Some(r#"icacls D:\Share /grant *S-1-5-32-545:M /T"#),
        error: Some(
            r#"Users: No mapping between account names and security IDs was done.
Successfully processed 0 files; Failed processing 1 files"#,
        ),
    },
    Example {
        id: "90fa3848-13cb-4cc8-b6b8-3761a4276b68",
        lang: Language::Batch,
        target: "windows-10",
        fires: r#"setx /M PATH "%PATH%;C:\Tools""#,
        quiet: Some(r#"setx /M TOOLS_HOME C:\Tools"#),
        error: Some(r#"WARNING: The data being saved is truncated to 1024 characters."#),
    },
    Example {
        id: "b8d53be8-c4ea-4c22-9d5a-0ace8c5cc3b7",
        lang: Language::Batch,
        target: "windows-10",
        fires: r#"bitsadmin /transfer job /download /priority normal %URL% %TEMP%\agent.msi"#,
        quiet: Some(r#"curl.exe -sSL -o %TEMP%\agent.msi %URL%"#),
        error: None,
    },
    Example {
        id: "22820721-b7e4-4152-80c2-44c49b1f5b53",
        lang: Language::Batch,
        target: "windows-server-2016",
        fires: r#"curl -L -o agent.msi https://example.com/agent.msi"#,
        quiet: Some(r#"certutil -urlcache -split -f https://example.com/agent.msi agent.msi"#),
        error: Some(
            r#"'curl' is not recognized as an internal or external command,
operable program or batch file."#,
        ),
    },
    Example {
        id: "e7091c06-eaf2-463c-b612-8f534538cd04",
        lang: Language::Bash,
        target: "macos",
        fires: r#"sed -i 's/^version=.*/version=2.1/' build.properties"#,
        quiet: Some(r#"sed -i.bak 's/^version=.*/version=2.1/' build.properties"#),
        error: Some(r#"sed: 1: "build.properties": invalid command code b"#),
    },
    Example {
        id: "339e6357-dd09-42e3-92cd-76575201ee33",
        lang: Language::Bash,
        target: "macos",
        fires: r#"ROOT=$(readlink -f "$0")"#,
        quiet: Some(r#"ROOT=$(cd "$(dirname "$0")" && pwd -P)"#),
        error: Some(
            r#"readlink: illegal option -- f
usage: readlink [-n] [file ...]"#,
        ),
    },
    Example {
        id: "eccc352b-f354-4d14-a327-bf005ccaaa73",
        lang: Language::Bash,
        target: "macos",
        fires: r#"VERSION=$(grep -oP '(?<=version=)\S+' app.properties)"#,
        quiet: Some(r#"VERSION=$(grep -E '^version=' app.properties)"#),
        error: Some(
            r#"grep: invalid option -- P
usage: grep [-abcdDEFGHhIiJLlMmnOopqRSsUVvwXxZz] [-A num] [-B num] [-C[num]]"#,
        ),
    },
    Example {
        id: "e1990e82-229c-454a-ba44-651759b89dbb",
        lang: Language::Bash,
        target: "macos",
        fires: r#"CUTOFF=$(date -d '7 days ago' +%s)"#,
        quiet: Some(r#"CUTOFF=$(date -v-7d +%s)"#),
        error: Some(
            r#"date: illegal option -- d
usage: date [-jnRu] [-I[date|hours|minutes|seconds]] [-f input_fmt]"#,
        ),
    },
    Example {
        id: "16211541-bb39-4abe-9ec1-3ad03fae420e",
        lang: Language::Bash,
        target: "macos",
        fires: r#"SIZE=$(stat -c %s "$ARCHIVE")"#,
        quiet: Some(r#"SIZE=$(wc -c < "$ARCHIVE")"#),
        error: Some(
            r#"stat: illegal option -- c
usage: stat [-FLnq] [-f format | -l | -r | -s | -x] [-t timefmt] [file ...]"#,
        ),
    },
    Example {
        id: "cd05eeac-f92d-4e66-9a06-3c872860fbcb",
        lang: Language::Bash,
        target: "macos",
        fires: r#"find build -name '*.o' -print0 | xargs -0 -r rm -f"#,
        quiet: Some(r#"find build -name '*.o' -exec rm -f {} +"#),
        error: Some(
            r#"xargs: illegal option -- r
usage: xargs [-0opt] [-E eofstr] [-I replstr [-R replacements] [-S replsize]]"#,
        ),
    },
    Example {
        id: "69a1513e-0631-4e97-b3b8-45a5eaf1fcd7",
        lang: Language::Bash,
        target: "macos",
        fires: r#"TOKEN=$(printf '%s' "$USER:$PASS" | base64 -w 0)"#,
        quiet: Some(r#"TOKEN=$(printf '%s' "$USER:$PASS" | openssl base64 -A)"#),
        error: Some(
            r#"base64: invalid option -- w
Usage:	base64 [-Ddh] [-b num] [-i in_file] [-o out_file]"#,
        ),
    },
    Example {
        id: "3e49ddcd-10f3-41c7-a063-aedebe3bd148",
        lang: Language::Bash,
        target: "macos",
        fires: r#"timeout 300 ./run-tests.sh"#,
        quiet: Some(r#"./run-tests.sh"#),
        error: Some(r#"./build.sh: line 12: timeout: command not found"#),
    },
    Example {
        id: "8a53d4f6-8467-4805-8d7a-d5d32a3ca074",
        lang: Language::Bash,
        target: "busybox",
        fires: r#"LATEST=$(ls releases | sort -V | tail -n 1)"#,
        quiet: Some(r#"LATEST=$(ls releases | sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1)"#),
        error: Some(
            r#"sort: unrecognized option: V
BusyBox v1.30.1 multi-call binary."#,
        ),
    },
    Example {
        id: "e90e8669-21a9-4b6f-9568-3dbe66f0c8cd",
        lang: Language::Bash,
        target: "alpine",
        fires: r#"find /var/log -name '*.log' -printf '%s %p\n'"#,
        quiet: Some(r#"find /var/log -name '*.log' -exec ls -l {} +"#),
        error: Some(
            r#"find: unrecognized: -printf
BusyBox v1.36.1 (2023-07-27 17:12:24 UTC) multi-call binary."#,
        ),
    },
    Example {
        id: "41a35263-e5a2-457a-b70e-c4c0144168a1",
        lang: Language::Bash,
        target: "macos",
        fires: r#"cp --parents "$f" "$STAGING/""#,
        quiet: Some(r#"rsync -R "$f" "$STAGING/""#),
        error: Some(
            r#"cp: illegal option -- -
usage: cp [-R [-H | -L | -P]] [-fi | -n] [-aclpSsvXx] source_file target_file"#,
        ),
    },
    Example {
        id: "187bb05a-c5d0-4ef8-8caa-1e864b68de36",
        lang: Language::Bash,
        target: "macos",
        fires: r#"TMP=$(mktemp --suffix=.json)"#,
        quiet: Some(r#"TMP=$(mktemp "${TMPDIR:-/tmp}/build.XXXXXX")"#),
        error: Some(
            r#"mktemp: illegal option -- -
usage: mktemp [-d] [-p tmpdir] [-q] [-t prefix] [-u] template ..."#,
        ),
    },
    Example {
        id: "52790298-0ea0-4acd-9dc1-a99e5dcfdcb7",
        lang: Language::Bash,
        target: "macos",
        fires: r#"sha256sum dist/app.tar.gz > dist/app.tar.gz.sha256"#,
        quiet: Some(r#"shasum -a 256 dist/app.tar.gz > dist/app.tar.gz.sha256"#),
        error: Some(r#"./release.sh: line 40: sha256sum: command not found"#),
    },
    Example {
        id: "9b21b6ed-f34c-4065-9e67-bb664425bf75",
        lang: Language::Bash,
        target: "macos",
        fires: r#"tac build.log | grep -m1 ERROR"#,
        quiet: Some(r#"tail -r build.log | grep -m1 ERROR"#),
        error: Some(r#"bash: tac: command not found"#),
    },
    Example {
        id: "9f818093-4dc4-4aff-96ab-a57048a87760",
        lang: Language::Bash,
        target: "macos",
        fires: r#"USED=$(du -sb "$CACHE" | cut -f1)"#,
        quiet: Some(r#"USED=$(du -sk "$CACHE" | cut -f1)"#),
        error: Some(
            r#"du: invalid option -- b
usage: du [-Aclnx] [-H | -L | -P] [-g | -h | -k | -m] [-a | -s | -d depth] [-B blocksize] [-I mask] [-t threshold] [file ...]"#,
        ),
    },
    Example {
        id: "fd1365e3-c7ef-4f6f-a911-7bfc3db90af7",
        lang: Language::Bash,
        target: "macos",
        fires: r#"JOBS=$(nproc)"#,
        quiet: Some(r#"JOBS=$(getconf _NPROCESSORS_ONLN)"#),
        error: Some(r#"./build.sh: line 8: nproc: command not found"#),
    },
    Example {
        id: "dd07725c-16f7-4b10-8653-26c9f3c5b16e",
        lang: Language::Bash,
        target: "macos",
        fires: r#"ip -4 addr show dev en0"#,
        quiet: Some(r#"ipconfig getifaddr en0"#),
        error: Some(r#"bash: ip: command not found"#),
    },
    Example {
        id: "5705ad05-cdc7-4a20-ac56-5343804dde45",
        lang: Language::Bash,
        target: "macos",
        fires: r#"free -m | awk '/Mem:/ {print $7}'"#,
        quiet: Some(r#"sysctl -n hw.memsize"#),
        error: Some(r#"bash: free: command not found"#),
    },
    Example {
        id: "0a37cfce-a347-46a2-998e-2ce2a854a420",
        lang: Language::Bash,
        target: "macos",
        fires: r#"declare -A TARGETS=([arm64]=aarch64-apple-darwin [x86_64]=x86_64-apple-darwin)"#,
        quiet: Some(r#"declare -a ARCHS=(arm64 x86_64)"#),
        error: Some(
            r#"./build.sh: line 5: declare: -A: invalid option
declare: usage: declare [-afFirtx] [-p] [name[=value] ...]"#,
        ),
    },
    Example {
        id: "12d678f9-178a-41ac-ba72-2b24910c3cdc",
        lang: Language::Bash,
        target: "bash-3.2",
        fires: r#"mapfile -t FILES < <(git ls-files '*.swift')"#,
        quiet: Some(r#"while IFS= read -r f; do FILES+=("$f"); done < <(git ls-files '*.swift')"#),
        error: Some(r#"./lint.sh: line 3: mapfile: command not found"#),
    },
    Example {
        id: "ea8bd58f-7726-4cb8-876c-49a7889c2fc2",
        lang: Language::Bash,
        target: "macos",
        fires: r#"echo ${CONFIGURATION,,}"#,
        quiet: Some(r#"echo "$CONFIGURATION" | tr '[:upper:]' '[:lower:]'"#),
        error: Some(r#"./build.sh: line 9: ${CONFIGURATION,,}: bad substitution"#),
    },
    Example {
        id: "002b2eba-25d6-4695-bd5a-34090c2d0024",
        lang: Language::Bash,
        target: "macos",
        fires: r#"xcodebuild -scheme App build |& tee build.log"#,
        quiet: Some(r#"xcodebuild -scheme App build 2>&1 | tee build.log"#),
        error: Some(r#"./build.sh: line 14: syntax error near unexpected token `&'"#),
    },
    Example {
        id: "3e979c6f-6265-4315-90c0-8df0a6ac2584",
        lang: Language::Bash,
        target: "synology-dsm-6",
        fires: r#"systemctl restart nginx"#,
        quiet: Some(r#"synoservice --restart nginx"#),
        error: Some(r#"-ash: systemctl: command not found"#),
    },
    Example {
        id: "100b764b-bea4-4293-a50a-b250965eedd0",
        lang: Language::Bash,
        target: "synology-dsm-7",
        fires: r#"synoservicectl --restart nginx"#,
        quiet: Some(r#"synosystemctl restart nginx"#),
        error: Some(r#"synoservicectl: command not found"#),
    },
    Example {
        id: "00b11778-8ff5-4588-91ad-8c507d53c877",
        lang: Language::Bash,
        target: "synology-dsm-7",
        fires: r#"apt-get install -y rsync"#,
        quiet: Some(r#"synopkg status ContainerManager"#),
        error: Some(r#"-sh: apt-get: command not found"#),
    },
    Example {
        id: "099a0be4-b393-4136-aac0-90ade4e1fdcd",
        lang: Language::Bash,
        target: "synology-dsm",
        fires: r#"useradd -m backup"#,
        quiet: Some(r#"synouser --get backup"#),
        error: Some(r#"-sh: useradd: command not found"#),
    },
    Example {
        id: "e70ea4fd-9ac6-4a16-afa4-81832a27081e",
        lang: Language::Bash,
        target: "synology-dsm-7",
        fires: r#"crontab -l | { cat; echo '0 3 * * * /volume1/scripts/backup.sh'; } | crontab -"#,
        quiet: Some(r#"echo 'schedule via Task Scheduler'"#),
        error: Some(r#"-sh: crontab: command not found"#),
    },
    Example {
        id: "1b6387d5-b852-4d29-8780-291e21f338f3",
        lang: Language::Bash,
        target: "synology-dsm-7",
        fires: r#"command -v crontab >/dev/null && crontab -u backup /volume1/scripts/backup.cron"#,
        quiet: Some(r#"crontab -l"#),
        error: Some(r#"crontab: installing new crontab"#),
    },
    Example {
        id: "e8e767d5-2663-4ab3-bf1e-606f2080f0d4",
        lang: Language::Bash,
        target: "alpine",
        fires: r#"systemctl enable --now nginx"#,
        quiet: Some(r#"rc-update add nginx default"#),
        error: Some(r#"sh: systemctl: not found"#),
    },
    Example {
        id: "296c129f-6264-4a0d-af0b-7b8a8ab216c3",
        lang: Language::Bash,
        target: "alpine",
        fires: r#"apt-get update && apt-get install -y curl"#,
        quiet: Some(r#"apk add --no-cache curl"#),
        error: Some(r#"/bin/sh: apt-get: not found"#),
    },
    Example {
        id: "9627d102-f2ec-49cb-b2b0-ad6ad8ccd5ae",
        lang: Language::Bash,
        target: "alpine",
        fires: r#"bash /opt/app/healthcheck.sh"#,
        quiet: Some(r#"sh /opt/app/healthcheck.sh"#),
        error: Some(r#"env: can't execute 'bash': No such file or directory"#),
    },
    Example {
        id: "42ab280e-3644-45e9-bf46-b8e2e2231ba1",
        lang: Language::Bash,
        target: "alpine",
        fires: r#"useradd -r -s /sbin/nologin app"#,
        quiet: Some(r#"adduser -S -D -H app"#),
        error: Some(r#"/bin/sh: useradd: not found"#),
    },
    Example {
        id: "3f225b7d-e9ff-4d4a-88c6-04cbb7552481",
        lang: Language::Bash,
        target: "container",
        fires: r#"systemctl restart php8.2-fpm"#,
        quiet: Some(r#"service php8.2-fpm restart"#),
        error: Some(
            r#"System has not been booted with systemd as init system (PID 1). Can't operate.
Failed to connect to bus: Host is down"#,
        ),
    },
    Example {
        id: "83e0134a-c987-4056-97b3-6fef25871441",
        lang: Language::Bash,
        target: "macos",
        fires: r#"systemctl restart postgresql"#,
        quiet: Some(r#"brew services restart postgresql@16"#),
        error: Some(r#"bash: systemctl: command not found"#),
    },
    Example {
        id: "265ac81c-cd0d-46f9-9b9f-8703e0cd6598",
        lang: Language::Bash,
        target: "macos",
        fires: r#"apt-get install -y jq"#,
        quiet: Some(r#"brew install jq"#),
        error: Some(r#"bash: apt-get: command not found"#),
    },
    Example {
        id: "fd930855-395c-45c0-96d9-202bb9abc4d2",
        lang: Language::Bash,
        target: "debian-12",
        fires: r#"pip3 install -r requirements.txt"#,
        quiet: Some(r#"python3 -m venv /opt/app/venv"#),
        error: Some(
            r#"error: externally-managed-environment

× This environment is externally managed
╰─> To install Python packages system-wide, try apt install
    python3-xyz, where xyz is the package you are trying to
    install."#,
        ),
    },
    Example {
        id: "9dffa0d7-2e5f-4e56-844f-88ac62396e31",
        lang: Language::Bash,
        target: "debian-12",
        fires: r#"python manage.py migrate"#,
        quiet: Some(r#"python3 manage.py migrate"#),
        error: Some(r#"deploy.sh: line 22: python: command not found"#),
    },
    Example {
        id: "51f201f5-998f-49e2-8c4f-15ab22fdc68a",
        lang: Language::Bash,
        target: "debian-12",
        fires: r#"ifconfig eth0 | awk '/inet / {print $2}'"#,
        quiet: Some(r#"ip -4 -o addr show dev eth0"#),
        error: Some(r#"bash: ifconfig: command not found"#),
    },
    Example {
        id: "dd978565-0204-4012-92d3-1c99755764ff",
        lang: Language::Bash,
        target: "ubuntu-24.04",
        fires: r#"netstat -tlnp | grep ':443'"#,
        quiet: Some(r#"ss -tlnp 'sport = :443'"#),
        error: Some(r#"bash: netstat: command not found"#),
    },
    Example {
        id: "60afd8cc-0883-4f03-b657-e3e4867de8c8",
        lang: Language::Bash,
        target: "ubuntu-24.04",
        fires: r#"ifdown eth0 && ifup eth0"#,
        quiet: Some(r#"netplan apply"#),
        error: Some(r#"ifup: command not found"#),
    },
    Example {
        id: "369f4506-0be1-48c0-b70e-0c94dc2eae66",
        lang: Language::Bash,
        target: "debian-12",
        fires: r#"apt install -y nginx"#,
        quiet: Some(r#"apt-get install -y nginx"#),
        error: Some(
            r#"WARNING: apt does not have a stable CLI interface. Use with caution in scripts."#,
        ),
    },
    Example {
        id: "915d2315-a952-4479-8f19-1dad826904b7",
        lang: Language::Bash,
        target: "debian-12",
        fires: r#"iptables -A INPUT -p tcp --dport 443 -j ACCEPT"#,
        quiet: Some(r#"nft add rule inet filter input tcp dport 443 accept"#),
        error: Some(
            r#"# Warning: iptables-legacy tables present, use iptables-legacy to see them"#,
        ),
    },
    Example {
        id: "838dc180-49eb-4846-af56-e46eabfebd24",
        lang: Language::Bash,
        target: "container",
        fires: r#"curl -fsS http://localhost:8080/health"#,
        quiet: Some(r#"wget -qO- http://localhost:8080/health"#),
        error: Some(r#"/bin/sh: 1: curl: not found"#),
    },
    Example {
        id: "a980f505-711f-467f-8edf-23542cc9203b",
        lang: Language::Bash,
        target: "container",
        fires: r#"sudo apt-get install -y jq"#,
        quiet: Some(r#"apt-get install -y jq"#),
        error: Some(r#"/bin/sh: 1: sudo: not found"#),
    },
    Example {
        id: "174d9604-fcfa-4397-b335-686a62e4e7ad",
        lang: Language::Bash,
        target: "debian-12",
        fires: r#"CODENAME=$(lsb_release -cs)"#,
        quiet: Some(r#". /etc/os-release"#),
        error: Some(r#"bash: lsb_release: command not found"#),
    },
    Example {
        id: "4052dc32-93ac-4533-8887-40045e6f2f3f",
        lang: Language::Bash,
        target: "container",
        fires: r#"crontab /etc/cron.d/cleanup"#,
        quiet: Some(r#"find /tmp -mtime +1 -delete"#),
        error: Some(r#"Can't open /var/run/atd.pid to signal atd. No atd running?"#),
    },
    Example {
        id: "229c2b1a-1e04-4641-a2bb-8315ee3bde13",
        lang: Language::Bash,
        target: "container",
        fires: r#"ip link set dev eth0 mtu 1400"#,
        quiet: Some(r#"ip -4 addr show dev eth0"#),
        error: Some(r#"RTNETLINK answers: Operation not permitted"#),
    },
    Example {
        id: "1f5c181d-5580-4784-b2a0-93f7217b3312",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"$body = Get-Content -Path $template -Raw"#,
        quiet: Some(r#"$body = [IO.File]::ReadAllText((Resolve-Path $template).Path)"#),
        error: Some(
            r#"Get-Content : A parameter cannot be found that matches parameter name 'Raw'."#,
        ),
    },
    Example {
        id: "ee7f3f11-c24f-4857-8b20-f2a956e7dacc",
        lang: Language::PowerShell,
        target: "powershell-2.0",
        fires: r#"$report = [ordered]@{ Host = $env:COMPUTERNAME; Disk = $free }"#,
        quiet: Some(r#"$report = New-Object System.Collections.Specialized.OrderedDictionary"#),
        error: Some(
            r#"Unable to find type [ordered]: make sure that the assembly containing this type is loaded."#,
        ),
    },
    Example {
        id: "f4fb7659-d10b-4a22-b09f-01580419fe0f",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"$names = Get-Service | ForEach-Object Name"#,
        quiet: Some(r#"$names = Get-Service | ForEach-Object { $_.Name }"#),
        error: Some(
            r#"ForEach-Object : Cannot bind parameter 'Process'. Cannot convert the "Name" value of type "System.String" to type "System.Management.Automation.ScriptBlock"."#,
        ),
    },
    Example {
        id: "159b85f7-fa07-4dbf-9f42-657459323267",
        lang: Language::PowerShell,
        target: "windows-server-2008-r2",
        fires: r#"[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12"#,
        quiet: Some(r#"[Net.ServicePointManager]::SecurityProtocol = 3072"#),
        error: Some(
            r#"Exception setting "SecurityProtocol": "Cannot convert null to type "System.Net.SecurityProtocolType" due to invalid enumeration values. Specify one of the following enumeration values and try again. The possible enumeration values are "Ssl3, Tls".""#,
        ),
    },
    Example {
        id: "9cec3ddc-c53c-4452-b02a-0af2992c4d7b",
        lang: Language::PowerShell,
        target: "windows-server-2022",
        fires: r#"pwsh -NoProfile -Command "Get-Service | Where-Object Status -eq Running""#,
        quiet: Some(r#"powershell -NoProfile -Command "Get-Service""#),
        error: Some(
            r#"pwsh : The term 'pwsh' is not recognized as the name of a cmdlet, function, script file, or operable program."#,
        ),
    },
];

/// A code region starts where a data string ends, so an operator right after a string
/// (`'web' -in $roles`) starts its region: the entry must match there too, and stay quiet where
/// PowerShell reads the same text as an argument (`openssl -in c.pfx`).
#[test]
fn operators_right_after_a_string_fire_as_after_a_variable() {
    const IN: &str = "7ab0bd60-a40f-41af-8364-e013c878c8c1";
    const TERNARY: &str = "466c43c8-4dba-4eeb-bf25-4bc66d335c91";
    const COALESCE: &str = "68e15c36-4c29-4018-a433-e8271770281f";
    let index = index();
    let fires = |id: &str, line: &str, target: &str| {
        fired(line, Language::PowerShell, target, &index)
            .iter()
            .any(|x| x == id)
    };
    for line in [
        "if ($r -in $roles) { 'x' }",
        "if ('web' -in $roles) { 'x' }",
        "if (\"web\" -notin $roles) { 'x' }",
        "$ok = 'web'-in $roles",
    ] {
        assert!(fires(IN, line, "powershell-2.0"), "{line}");
        assert!(!fires(IN, line, "powershell-5.1"), "{line}");
    }
    for line in [
        "openssl pkcs12 -in c.pfx -out c.pem",
        "openssl 'pkcs12' -in c.pfx",
        "tool \"a\" -notin x",
        "Write-Host 'a -in b'",
        "$roles -contains 'web'",
    ] {
        assert!(!fires(IN, line, "powershell-2.0"), "{line}");
    }
    for line in [
        "$m = ($n -gt 1) ? 'many' : 'one'",
        "$m = $n -eq 'a' ? 'many' : 'one'",
        "$m = \"$n\" ? 'many' : 'one'",
    ] {
        assert!(fires(TERNARY, line, "powershell-5.1"), "{line}");
    }
    for line in [
        "Get-Item 'a?' | Out-Null",
        "dir 'x' ?.log",
        "$rows | ? { $_.Stale }",
    ] {
        assert!(!fires(TERNARY, line, "powershell-5.1"), "{line}");
    }
    for line in ["$v = $a ?? 'x'", "$v = 'a' ?? 'x'", "$v = \"a\"??'x'"] {
        assert!(fires(COALESCE, line, "powershell-5.1"), "{line}");
    }
}
