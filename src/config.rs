//! `.forewarn.toml`: the per-repository configuration (DESIGN.md §6).
//!
//! Parsing is pure ([`Config::parse`]); [`Config::discover`] walks up from a path to find the
//! file. A bad file is a [`ConfigError`] naming the file, the line and the key; callers report
//! it and carry on with defaults.

use std::fmt;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::engine::Severity;

pub const FILE_NAME: &str = ".forewarn.toml";

/// The configuration in force for one file.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file this came from; `None` for defaults.
    pub file: Option<PathBuf>,
    /// The directory globs are relative to (the config file's directory).
    pub root: PathBuf,
    pub store: Option<PathBuf>,
    pub target: Option<String>,
    /// `(glob, target)` in file order; the first glob that matches wins.
    pub targets: Vec<(GlobMatcher, String)>,
    pub severity: Option<Severity>,
    pub exclude: Option<GlobSet>,
    /// Lowest severity that denies an agent's command.
    pub hook_block: Option<Severity>,
}

/// A configuration file that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The raw file, as `toml` reads it.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: Option<String>,
    target: Option<String>,
    #[serde(default)]
    targets: toml::Table,
    severity: Option<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    hook: RawHook,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHook {
    block: Option<String>,
}

impl Config {
    /// Parses the text of `file`.
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let err = |line: Option<usize>, key: Option<&str>, message: String| ConfigError {
            file: file.to_path_buf(),
            line,
            key: key.map(str::to_string),
            message,
        };
        let line_of = |needle: &str| -> Option<usize> {
            text.lines()
                .position(|l| l.trim_start().starts_with(needle))
                .map(|i| i + 1)
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let msg = e.message().to_string();
            let key = msg
                .split('`')
                .nth(1)
                .filter(|_| msg.starts_with("unknown field"))
                .map(str::to_string);
            ConfigError {
                file: file.to_path_buf(),
                line,
                key,
                message: msg,
            }
        })?;
        let root = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let severity_of =
            |key: &str, v: &Option<String>| -> Result<Option<Severity>, ConfigError> {
                v.as_deref()
                    .map(|s| {
                        s.parse::<Severity>()
                            .map_err(|m| err(line_of(key), Some(key), m))
                    })
                    .transpose()
            };
        let mut targets = Vec::new();
        for (glob, value) in &raw.targets {
            let key = format!("targets.\"{glob}\"");
            let line = line_of(&format!("\"{glob}\"")).or_else(|| line_of(glob));
            let Some(target) = value.as_str() else {
                return Err(err(
                    line,
                    Some(&key),
                    "expected a target name (a string)".into(),
                ));
            };
            let matcher = Glob::new(glob)
                .map_err(|e| err(line, Some(&key), format!("invalid glob: {e}")))?
                .compile_matcher();
            targets.push((matcher, target.to_string()));
        }
        // toml::Table keeps keys sorted; the file's order decides which glob wins.
        targets.sort_by_key(|(m, _)| text.find(m.glob().glob()).unwrap_or(usize::MAX));
        let exclude = if raw.exclude.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for g in &raw.exclude {
                b.add(Glob::new(g).map_err(|e| {
                    err(
                        line_of("exclude"),
                        Some("exclude"),
                        format!("invalid glob `{g}`: {e}"),
                    )
                })?);
            }
            Some(
                b.build()
                    .map_err(|e| err(line_of("exclude"), Some("exclude"), e.to_string()))?,
            )
        };
        Ok(Config {
            file: Some(file.to_path_buf()),
            store: raw.store.map(|s| {
                let p = PathBuf::from(expand_home(&s));
                if p.is_relative() {
                    root.join(p)
                } else {
                    p
                }
            }),
            target: raw.target.filter(|t| !t.trim().is_empty()),
            targets,
            severity: severity_of("severity", &raw.severity)?,
            exclude,
            hook_block: severity_of("block", &raw.hook.block)?,
            root,
        })
    }

    /// Finds `.forewarn.toml` in `start` (a file or directory) or the nearest directory above.
    pub fn find(start: &Path) -> Option<PathBuf> {
        let abs = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
        let mut dir = if abs.is_dir() {
            Some(abs.as_path())
        } else {
            abs.parent()
        };
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Some(candidate);
            }
            dir = d.parent();
        }
        None
    }

    /// The configuration for `start`: the nearest file, or defaults. A file that cannot be read
    /// or parsed gives defaults plus the error.
    pub fn discover(start: &Path) -> (Config, Option<ConfigError>) {
        match Config::find(start) {
            None => (Config::default(), None),
            Some(file) => Config::load(&file),
        }
    }

    /// Reads and parses one file; defaults plus the error when that fails.
    pub fn load(file: &Path) -> (Config, Option<ConfigError>) {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                let error = ConfigError {
                    file: file.to_path_buf(),
                    line: None,
                    key: None,
                    message: e.to_string(),
                };
                return (Config::default(), Some(error));
            }
        };
        match Config::parse(&text, file) {
            Ok(c) => (c, None),
            Err(e) => (
                Config {
                    root: file.parent().map(Path::to_path_buf).unwrap_or_default(),
                    ..Config::default()
                },
                Some(e),
            ),
        }
    }

    /// The path of `file` relative to the config's root, with `/` separators, for glob matching.
    fn relative<'a>(&self, file: &'a Path) -> std::borrow::Cow<'a, Path> {
        let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let root = std::path::absolute(&self.root).unwrap_or_else(|_| self.root.clone());
        match abs.strip_prefix(&root) {
            Ok(rel) => std::borrow::Cow::Owned(rel.to_path_buf()),
            Err(_) => std::borrow::Cow::Borrowed(file),
        }
    }

    /// The target the `[targets]` globs give `file`. The config's default `target` comes after
    /// `--target`, `FOREWARN_TARGET` and the editor's setting (DESIGN.md §4), so it is not here.
    pub fn mapped_target(&self, file: &Path) -> Option<&str> {
        let rel = self.relative(file);
        self.targets
            .iter()
            .find(|(m, _)| m.is_match(rel.as_ref()))
            .map(|(_, t)| t.as_str())
    }

    /// Whether `file` is excluded by `exclude` globs.
    pub fn excludes(&self, file: &Path) -> bool {
        self.exclude
            .as_ref()
            .is_some_and(|set| set.is_match(self.relative(file).as_ref()))
    }
}

fn expand_home(s: &str) -> String {
    match (s.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest).to_string_lossy().into_owned(),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let text = r#"
store = "patterns.db"
target = "debian-12"
severity = "minor"
exclude = ["vendor/**"]

[targets]
"windows/**" = "OLDSRV2008"
"nas/*.sh" = "D2TESTNAS"

[hook]
block = "major"
"#;
        let c = Config::parse(text, Path::new("/repo/.forewarn.toml")).unwrap();
        assert_eq!(c.store.as_deref(), Some(Path::new("/repo/patterns.db")));
        assert_eq!(c.severity, Some(Severity::Minor));
        assert_eq!(c.hook_block, Some(Severity::Major));
        assert_eq!(
            c.mapped_target(Path::new("/repo/windows/a/users.ps1")),
            Some("OLDSRV2008")
        );
        assert_eq!(
            c.mapped_target(Path::new("/repo/nas/backup.sh")),
            Some("D2TESTNAS")
        );
        assert_eq!(c.mapped_target(Path::new("/repo/other.sh")), None);
        assert_eq!(c.target.as_deref(), Some("debian-12"));
        assert!(c.excludes(Path::new("/repo/vendor/x.sh")));
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = Config::parse(
            "target = \"x\"\nseverity = \"loud\"\n",
            Path::new("/r/.forewarn.toml"),
        )
        .unwrap_err();
        assert_eq!(e.line, Some(2));
        assert_eq!(e.key.as_deref(), Some("severity"));
        assert!(e.to_string().contains("/r/.forewarn.toml:2"), "{e}");

        let e = Config::parse(
            "target = \"x\"\ncolour = 1\n",
            Path::new("/r/.forewarn.toml"),
        )
        .unwrap_err();
        assert_eq!(e.line, Some(2));
        assert_eq!(e.key.as_deref(), Some("colour"));

        let e =
            Config::parse("[targets]\n\"a/**\" = 3\n", Path::new("/r/.forewarn.toml")).unwrap_err();
        assert_eq!(e.line, Some(2));

        let e = Config::parse("target = \n", Path::new("/r/.forewarn.toml")).unwrap_err();
        assert_eq!(e.line, Some(1));
    }
}
