//! Curating the store: hosts and clients, statistics, and the insights bookkeeping. Each write
//! is one short transaction and validates its input first, naming what is wrong.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::rows;
use super::{Store, StoreError};
use crate::engine::pattern::{did_you_mean, is_uuid};
use crate::engine::target::SYSTEM_TAGS;
use crate::engine::{Client, Host, Pattern, PatternIndex, Problem};

/// A host to add (`forewarn store host add`).
#[derive(Clone, Debug, Default)]
pub struct HostSpec {
    pub hostname: String,
    pub aliases: Vec<String>,
    pub system_tags: Vec<String>,
    /// Tags outside the documented vocabulary that this host introduces on purpose (a
    /// site-specific tag its patterns will name); `system_tags` only takes known tags, so that
    /// a typo is caught.
    pub site_tags: Vec<String>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    /// The client's name; it must exist already.
    pub client: Option<String>,
}

/// One logged occurrence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub pattern_id: String,
    pub signature: String,
    pub host: Option<String>,
    pub seen_at: String,
}

/// What `forewarn store stats` shows.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub patterns: i64,
    pub active: i64,
    pub by_severity: Vec<(String, i64)>,
    pub by_type: Vec<(String, i64)>,
    pub hosts: i64,
    pub clients: i64,
    pub pending_insights: i64,
    /// (id, signature, occurrence_count, last_seen), highest count first.
    pub top: Vec<(String, String, i64, Option<String>)>,
    pub recent: Vec<Occurrence>,
}

/// What `forewarn store lint` finds.
#[derive(Debug, Default)]
pub struct Lint {
    pub patterns: usize,
    pub hosts: usize,
    pub clients: usize,
    /// Patterns that check, explain, the language server and hooks leave out (a row that does
    /// not decode, a regex that does not parse, …), and host rows that do not decode.
    pub skipped: Vec<Problem>,
    /// Rows that load but hold a value that can never match or that the schema does not allow:
    /// an unknown tag or operation class, an id that is not a UUID, a name two hosts answer to,
    /// a host tag nothing names. Hosts are named `host:HOSTNAME`.
    pub flawed: Vec<Problem>,
}

/// How many rows `stats` lists as top and recent.
const STATS_ROWS: i64 = 10;

/// A hostname must be one word: it is looked up by `--target` and in `ssh HOST`.
pub(crate) fn check_hostname(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        Err("hostname is empty".into())
    } else if name.chars().any(char::is_whitespace) {
        Err(format!("hostname `{name}` contains whitespace"))
    } else {
        Ok(())
    }
}

/// Every host, decoded as [`Store::load`] does (a bad JSON column reads as empty).
pub(crate) fn hosts(conn: &Connection) -> rusqlite::Result<Vec<Host>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM infrastructure ORDER BY rowid",
        rows::HOST_COLUMNS
    ))?;
    let rows = stmt.query_map([], |r| rows::decode_host(r).map(|(h, _)| h))?;
    rows.collect()
}

/// Whose name `name` already is among `hosts` (hostname or alias, case-insensitive), worded for
/// a message: "the hostname of host X" or "an alias of host X".
pub(crate) fn name_clash<'a>(
    mut hosts: impl Iterator<Item = &'a Host>,
    name: &str,
) -> Option<String> {
    let name = name.trim();
    hosts.find_map(|h| {
        if h.hostname.eq_ignore_ascii_case(name) {
            Some(format!("the hostname of host {}", h.hostname))
        } else if h
            .aliases
            .iter()
            .any(|a| a.trim().eq_ignore_ascii_case(name))
        {
            Some(format!("an alias of host {}", h.hostname))
        } else {
            None
        }
    })
}

/// The tags these hosts carry, lowercased: with the documented ones, what patterns may name.
pub(crate) fn site_tags<'a>(hosts: impl Iterator<Item = &'a Host>) -> HashSet<String> {
    hosts
        .flat_map(|h| &h.system_tags)
        .map(|t| t.trim().to_lowercase())
        .collect()
}

/// Every tag the stored patterns name, lowercased (rows that do not decode count too).
fn pattern_tags(conn: &Connection) -> rusqlite::Result<HashSet<String>> {
    let mut stmt = conn.prepare("SELECT CAST(affected_systems AS TEXT) FROM failure_patterns")?;
    let lists = stmt.query_map([], |r| r.get::<_, Option<String>>(0))?;
    let mut out = HashSet::new();
    for list in lists {
        let list = list?;
        let tags = rows::json_list(list.as_deref(), "affected_systems").unwrap_or_default();
        out.extend(tags.into_iter().map(|t| t.trim().to_lowercase()));
    }
    Ok(out)
}

fn clean_list(items: &[String], what: &str) -> Result<Vec<String>, StoreError> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let t = item.trim();
        if t.is_empty() {
            return Err(StoreError::Invalid(format!("{what} is empty")));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

impl Store {
    /// Adds a host. Its client, when named, must exist (`store client add` creates one).
    pub fn add_host(&self, spec: &HostSpec) -> Result<Host, StoreError> {
        self.writable()?;
        let hostname = spec.hostname.trim();
        check_hostname(hostname).map_err(StoreError::Invalid)?;
        let aliases = clean_list(&spec.aliases, "an --alias")?;
        if let Some(a) = aliases.iter().find(|a| a.chars().any(char::is_whitespace)) {
            return Err(StoreError::Invalid(format!(
                "--alias `{a}` contains whitespace"
            )));
        }
        let lower = |tags: Vec<String>| tags.into_iter().map(|t| t.to_lowercase()).collect();
        let tags: Vec<String> = lower(clean_list(&spec.system_tags, "a --tag")?);
        let new_tags: Vec<String> = lower(clean_list(&spec.site_tags, "a --site-tag")?);
        if let Some(t) = tags
            .iter()
            .chain(&new_tags)
            .find(|t| t.chars().any(|c| c.is_whitespace() || c == ','))
        {
            return Err(StoreError::Invalid(format!(
                "tag `{t}` contains whitespace or a comma (one tag per --tag)"
            )));
        }
        let mut system_tags = tags.clone();
        for t in new_tags {
            if !system_tags.contains(&t) {
                system_tags.push(t);
            }
        }
        let mut conn = self.conn();
        let result = (|| -> Result<Host, super::Lookup> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let client_id = match spec.client.as_deref().map(str::trim) {
                None => None,
                Some(name) => Some(
                    tx.query_row("SELECT id FROM clients WHERE name = ?1", [name], |r| r.get(0))
                        .optional()?
                        .ok_or_else(|| {
                            StoreError::NotFound(format!(
                                "--client: no client is named `{name}` (add it first: forewarn store client add {name:?})"
                            ))
                        })?,
                ),
            };
            let stored = hosts(&tx)?;
            if let Some(existing) = stored
                .iter()
                .find(|h| h.hostname.eq_ignore_ascii_case(hostname))
            {
                return Err(StoreError::Invalid(format!(
                    "host `{}` exists already",
                    existing.hostname
                ))
                .into());
            }
            // A name two hosts answer to would make `--target NAME` and `ssh NAME` pick either.
            let names = std::iter::once(("hostname", hostname))
                .chain(aliases.iter().map(|a| ("--alias", a.as_str())));
            for (what, name) in names {
                if let Some(owner) = name_clash(stored.iter(), name) {
                    return Err(
                        StoreError::Invalid(format!("{what} `{name}` is already {owner}")).into(),
                    );
                }
            }
            // `--tag` takes the documented tags and those the store already uses; a new site
            // tag is said to be one with `--site-tag`, so that `--tag macoss` is caught.
            let mut known = site_tags(stored.iter());
            known.extend(pattern_tags(&tx)?);
            for t in &tags {
                if !SYSTEM_TAGS.contains(&t.as_str()) && !known.contains(t) {
                    let candidates = SYSTEM_TAGS
                        .iter()
                        .copied()
                        .chain(known.iter().map(String::as_str));
                    return Err(StoreError::Invalid(format!(
                        "--tag `{t}` is neither a documented tag (docs/patterns.md) nor one this \
                         store uses{}; to introduce a site-specific tag, pass --site-tag {t}",
                        did_you_mean(t, candidates)
                    ))
                    .into());
                }
            }
            let host = Host {
                id: uuid::Uuid::new_v4().to_string(),
                client_id,
                hostname: hostname.to_string(),
                aliases,
                os: spec.os.clone().filter(|s| !s.trim().is_empty()),
                os_version: spec.os_version.clone().filter(|s| !s.trim().is_empty()),
                system_tags,
            };
            tx.execute(
                "INSERT INTO infrastructure (id, client_id, hostname, aliases, os, os_version, system_tags)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    host.id,
                    host.client_id,
                    host.hostname,
                    rows::to_json_list(&host.aliases),
                    host.os,
                    host.os_version,
                    rows::to_json_list(&host.system_tags)
                ],
            )?;
            tx.commit()?;
            Ok(host)
        })();
        result.map_err(|e| self.flatten(e))
    }

    /// Removes a host by hostname (case-insensitive). The patterns scoped to it go with it
    /// (ON DELETE CASCADE); returns its stored hostname and how many patterns went.
    pub fn remove_host(&self, hostname: &str) -> Result<(String, usize), StoreError> {
        self.writable()?;
        let mut conn = self.conn();
        let result = (|| -> Result<(String, usize), super::Lookup> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (id, name): (String, String) = tx
                .query_row(
                    "SELECT id, hostname FROM infrastructure WHERE hostname = ?1",
                    [hostname.trim()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| {
                    StoreError::NotFound(format!("no host is named `{}`", hostname.trim()))
                })?;
            let scoped: i64 = tx.query_row(
                "SELECT count(*) FROM failure_patterns WHERE infrastructure_id = ?1",
                [&id],
                |r| r.get(0),
            )?;
            tx.execute("DELETE FROM infrastructure WHERE id = ?1", [&id])?;
            tx.commit()?;
            Ok((name, scoped as usize))
        })();
        result.map_err(|e| self.flatten(e))
    }

    /// Adds a client; names are unique.
    pub fn add_client(&self, name: &str) -> Result<Client, StoreError> {
        self.writable()?;
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("the client name is empty".into()));
        }
        let mut conn = self.conn();
        let result = (|| -> Result<Client, super::Lookup> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let taken = tx
                .query_row("SELECT 1 FROM clients WHERE name = ?1", [name], |_| Ok(()))
                .optional()?
                .is_some();
            if taken {
                return Err(StoreError::Invalid(format!("client `{name}` exists already")).into());
            }
            let client = Client {
                id: uuid::Uuid::new_v4().to_string(),
                name: name.to_string(),
            };
            tx.execute(
                "INSERT INTO clients (id, name) VALUES (?1, ?2)",
                params![client.id, client.name],
            )?;
            tx.commit()?;
            Ok(client)
        })();
        result.map_err(|e| self.flatten(e))
    }

    /// Every problem of the store: what the index skips, and what loads but cannot match or
    /// breaks the schema's rules (see [`Lint`]).
    pub fn lint(&self) -> Result<Lint, StoreError> {
        let snap = self.load()?;
        let mut lint = Lint {
            patterns: snap.patterns.len(),
            hosts: snap.hosts.len(),
            clients: snap.clients.len(),
            ..Lint::default()
        };
        let tags = site_tags(snap.hosts.iter());
        let named: HashSet<String> = snap
            .patterns
            .iter()
            .flat_map(|p| &p.affected_systems)
            .map(|t| t.trim().to_lowercase())
            .collect();
        for p in &snap.patterns {
            let mut found = Vec::new();
            if !is_uuid(&p.id) {
                found.push(format!(
                    "id `{}` is not a UUID (ids are 36-character UUID text, DESIGN.md §2.1)",
                    p.id
                ));
            }
            found.extend(p.unknown_names(&tags));
            if !found.is_empty() {
                lint.flawed.push(Problem {
                    pattern_id: p.id.clone(),
                    message: found.join("; "),
                });
            }
        }
        for (i, h) in snap.hosts.iter().enumerate() {
            let mut found = Vec::new();
            let names = std::iter::once(("hostname", &h.hostname))
                .chain(h.aliases.iter().map(|a| ("alias", a)));
            for (what, name) in names {
                if let Some(owner) = name_clash(snap.hosts[..i].iter(), name) {
                    found.push(format!("{what} `{name}` is also {owner}"));
                }
            }
            for t in &h.system_tags {
                let lower = t.trim().to_lowercase();
                if !SYSTEM_TAGS.contains(&lower.as_str()) && !named.contains(&lower) {
                    found.push(format!(
                        "system tag `{t}` is neither a documented tag (docs/patterns.md) nor named \
                         by any pattern, so it matches nothing{}",
                        did_you_mean(&lower, SYSTEM_TAGS.iter().copied())
                    ));
                }
            }
            if !found.is_empty() {
                lint.flawed.push(Problem {
                    pattern_id: format!("host:{}", h.hostname),
                    message: found.join("; "),
                });
            }
        }
        let index = PatternIndex::build(snap.patterns, snap.hosts, snap.clients);
        lint.skipped = snap.problems;
        lint.skipped.extend_from_slice(index.problems());
        Ok(lint)
    }

    /// Every client with its number of hosts, by name.
    pub fn clients_with_host_counts(&self) -> Result<Vec<(Client, i64)>, StoreError> {
        let conn = self.conn();
        let result = (|| -> rusqlite::Result<Vec<(Client, i64)>> {
            let mut stmt = conn.prepare(
                "SELECT c.id, c.name, (SELECT count(*) FROM infrastructure i WHERE i.client_id = c.id)
                 FROM clients c ORDER BY c.name",
            )?;
            let rows = stmt.query_map([], |r| Ok((rows::decode_client(r)?, r.get(2)?)))?;
            rows.collect()
        })();
        result.map_err(|e| self.sql(e))
    }

    /// The counts, the most frequent patterns and the latest occurrences.
    pub fn stats(&self) -> Result<Stats, StoreError> {
        let conn = self.conn();
        let result = (|| -> rusqlite::Result<Stats> {
            let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
            let grouped = |sql: &str| -> rusqlite::Result<Vec<(String, i64)>> {
                let mut stmt = conn.prepare(sql)?;
                let rows = stmt.query_map([], |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?
                            .unwrap_or_else(|| "(none)".into()),
                        r.get(1)?,
                    ))
                })?;
                rows.collect()
            };
            let mut stmt = conn.prepare(
                "SELECT CAST(id AS TEXT), CAST(pattern_signature AS TEXT), COALESCE(occurrence_count, 0),
                        CAST(last_seen AS TEXT)
                 FROM failure_patterns WHERE occurrence_count > 0
                 ORDER BY occurrence_count DESC, last_seen DESC, id LIMIT ?1",
            )?;
            let top = stmt
                .query_map([STATS_ROWS], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut stmt = conn.prepare(
                "SELECT CAST(o.pattern_id AS TEXT), CAST(COALESCE(p.pattern_signature, '') AS TEXT),
                        CAST(o.host AS TEXT), CAST(o.seen_at AS TEXT)
                 FROM occurrences o LEFT JOIN failure_patterns p ON p.id = o.pattern_id
                 ORDER BY o.id DESC LIMIT ?1",
            )?;
            let recent = stmt
                .query_map([STATS_ROWS], |r| {
                    Ok(Occurrence {
                        pattern_id: r.get(0)?,
                        signature: r.get(1)?,
                        host: r.get(2)?,
                        seen_at: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Stats {
                patterns: count("SELECT count(*) FROM failure_patterns")?,
                active: count("SELECT count(*) FROM failure_patterns WHERE is_active")?,
                by_severity: grouped(
                    "SELECT severity, count(*) FROM failure_patterns GROUP BY severity
                     ORDER BY CASE severity WHEN 'blocking' THEN 0 WHEN 'major' THEN 1
                       WHEN 'minor' THEN 2 WHEN 'info' THEN 3 ELSE 4 END",
                )?,
                by_type: grouped(
                    "SELECT pattern_type, count(*) FROM failure_patterns GROUP BY pattern_type
                     ORDER BY count(*) DESC, pattern_type",
                )?,
                hosts: count("SELECT count(*) FROM infrastructure")?,
                clients: count("SELECT count(*) FROM clients")?,
                pending_insights: count(
                    "SELECT count(*) FROM failure_patterns WHERE is_active AND NOT added_to_insights",
                )?,
                top,
                recent,
            })
        })();
        result.map_err(|e| self.sql(e))
    }

    /// The active patterns not yet in the insights digest, and the rows among them that do not
    /// decode.
    pub fn pending_insights(&self) -> Result<(Vec<Pattern>, Vec<Problem>), StoreError> {
        let conn = self.conn();
        let result = (|| -> rusqlite::Result<(Vec<Pattern>, Vec<Problem>)> {
            let mut stmt = conn.prepare(&format!(
                "SELECT {} FROM failure_patterns
                 WHERE COALESCE(is_active, 1) AND NOT COALESCE(added_to_insights, 0)
                 ORDER BY rowid",
                rows::PATTERN_COLUMNS
            ))?;
            let mut q = stmt.query([])?;
            let (mut patterns, mut problems) = (Vec::new(), Vec::new());
            while let Some(row) = q.next()? {
                match rows::decode_pattern(row) {
                    Ok(p) => patterns.push(p),
                    Err(p) => problems.push(p),
                }
            }
            Ok((patterns, problems))
        })();
        result.map_err(|e| self.sql(e))
    }

    /// Sets added_to_insights = 1 on these patterns, in one transaction. Returns how many rows
    /// changed.
    pub fn mark_in_insights(&self, ids: &[String]) -> Result<usize, StoreError> {
        self.writable()?;
        let mut conn = self.conn();
        let result = (|| -> rusqlite::Result<usize> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut changed = 0;
            {
                let mut stmt = tx.prepare(
                    "UPDATE failure_patterns SET added_to_insights = 1, updated_at = CURRENT_TIMESTAMP
                     WHERE id = ?1 AND NOT COALESCE(added_to_insights, 0)",
                )?;
                for id in ids {
                    changed += stmt.execute([id])?;
                }
            }
            tx.commit()?;
            Ok(changed)
        })();
        result.map_err(|e| self.sql(e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::OpenOptions;
    use super::*;

    fn fresh() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = Store::open_with(
            &path,
            OpenOptions {
                seed_defaults: false,
            },
        )
        .unwrap();
        (dir, store)
    }

    #[test]
    fn hosts_need_an_existing_client_and_a_unique_name() {
        let (_d, store) = fresh();
        let spec = HostSpec {
            hostname: "D2TESTNAS".into(),
            aliases: vec!["nas.lan".into()],
            system_tags: vec!["busybox".into()],
            client: Some("Acme".into()),
            ..HostSpec::default()
        };
        let err = store.add_host(&spec).unwrap_err().to_string();
        assert!(err.contains("no client is named `Acme`"), "{err}");
        store.add_client("Acme").unwrap();
        let host = store.add_host(&spec).unwrap();
        assert!(host.client_id.is_some());
        let again = HostSpec {
            hostname: "d2testnas".into(),
            ..HostSpec::default()
        };
        assert!(store
            .add_host(&again)
            .unwrap_err()
            .to_string()
            .contains("exists already"));
        let snap = store.load().unwrap();
        assert_eq!(snap.hosts[0].aliases, vec!["nas.lan".to_string()]);
        assert_eq!(
            store.remove_host("D2TestNAS").unwrap(),
            ("D2TESTNAS".to_string(), 0)
        );
        assert!(store.load().unwrap().hosts.is_empty());
        assert!(matches!(
            store.remove_host("D2TESTNAS"),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn a_host_name_must_not_be_another_hosts_and_tags_must_be_known() {
        let (_d, store) = fresh();
        let spec = |name: &str, aliases: &[&str], tags: &[&str], site: &[&str]| HostSpec {
            hostname: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            system_tags: tags.iter().map(|t| t.to_string()).collect(),
            site_tags: site.iter().map(|t| t.to_string()).collect(),
            ..HostSpec::default()
        };
        store
            .add_host(&spec(
                "acme-web01",
                &["web01.acme.lan"],
                &["Debian-12"],
                &[],
            ))
            .unwrap();
        let err = |s: HostSpec| store.add_host(&s).unwrap_err().to_string();
        assert_eq!(
            err(spec("h2", &["ACME-web01"], &[], &[])),
            "--alias `ACME-web01` is already the hostname of host acme-web01"
        );
        assert_eq!(
            err(spec("web01.acme.lan", &[], &[], &[])),
            "hostname `web01.acme.lan` is already an alias of host acme-web01"
        );
        let typo = err(spec("h2", &[], &["macoss"], &[]));
        assert!(
            typo.starts_with("--tag `macoss` is neither a documented tag")
                && typo.contains("(did you mean `macos`?)")
                && typo.ends_with("pass --site-tag macoss"),
            "{typo}"
        );
        // A site tag is said to be one; then `--tag` on the next host knows it.
        let h2 = store
            .add_host(&spec("h2", &[], &["MacOS"], &["Acme-Legacy"]))
            .unwrap();
        assert_eq!(h2.system_tags, ["macos", "acme-legacy"]);
        store
            .add_host(&spec("h3", &[], &["acme-legacy"], &[]))
            .unwrap();
        let snap = store.load().unwrap();
        assert_eq!(
            snap.hosts[0].system_tags,
            ["debian-12"],
            "stored lowercased"
        );
        assert_eq!(snap.hosts.len(), 3, "nothing else was added");
    }

    #[test]
    fn recording_for_a_host_needs_a_host_and_logs_its_hostname() {
        let (_d, store) = fresh();
        let id = super::super::test_uid("p");
        store
            .import(
                &serde_json::json!([{"id": id, "pattern_type": "version_mismatch",
                    "pattern_signature": "s", "failure_description": "d", "triggering_commands": ["x"]}])
                .to_string(),
            )
            .unwrap();
        store
            .add_host(&HostSpec {
                hostname: "web1".into(),
                aliases: vec!["web1.acme.lan".into()],
                ..HostSpec::default()
            })
            .unwrap();
        let e = store
            .record_occurrence_on_host(&id, "nosuchhost")
            .unwrap_err();
        assert!(matches!(e, StoreError::NotFound(_)));
        assert!(
            e.to_string().contains("no host is named `nosuchhost`"),
            "{e}"
        );
        assert_eq!(store.stats().unwrap().recent.len(), 0, "nothing counted");
        assert_eq!(
            store
                .record_occurrence_on_host(&id, "WEB1.acme.lan")
                .unwrap(),
            2
        );
        assert_eq!(
            store.stats().unwrap().recent[0].host.as_deref(),
            Some("web1")
        );
        // The hook and the language server log their target as it is: a bare tag too.
        assert_eq!(store.record_occurrence(&id, Some("macos")).unwrap(), 3);
    }

    #[test]
    fn lint_finds_what_loads_but_cannot_match() {
        let (_d, store) = fresh();
        let good = super::super::test_uid("good");
        store
            .import(
                &serde_json::json!({
                    "infrastructure": [
                        {"hostname": "web1", "aliases": ["w1"], "system_tags": ["debian-12", "acme-x"]},
                        {"hostname": "web2", "system_tags": ["acme-y"]}],
                    "failure_patterns": [{"id": good, "pattern_type": "version_mismatch",
                        "pattern_signature": "s", "failure_description": "d",
                        "triggering_commands": ["x"], "affected_systems": ["acme-x"]}]})
                .to_string(),
            )
            .unwrap();
        let clean = store.lint().unwrap();
        assert_eq!(
            (clean.skipped.len(), clean.flawed.len()),
            (0, 1),
            "{:?}",
            clean.flawed
        );
        assert_eq!(clean.flawed[0].pattern_id, "host:web2");
        assert!(
            clean.flawed[0]
                .message
                .contains("system tag `acme-y` is neither a documented tag"),
            "{:?}",
            clean.flawed
        );
        // Rows written around the validation (older forewarn, the sqlite3 shell).
        store
            .conn()
            .execute_batch(&format!(
                "INSERT INTO failure_patterns (id, pattern_type, pattern_signature, severity,
                    failure_description, triggering_commands, triggering_operations, affected_systems)
                 VALUES ('p1', 'command_compatibility', 's', 'major', 'd', '[\"foo\"]',
                    '[\"servce_control\"]', '[\"macoss\", \"acme-y\"]');
                 UPDATE infrastructure SET aliases = '[\"web1\"]' WHERE hostname = 'web2';
                 UPDATE failure_patterns SET triggering_commands = '[\"(\"]' WHERE id = '{good}';"
            ))
            .unwrap();
        let lint = store.lint().unwrap();
        assert_eq!(lint.skipped.len(), 1, "{:?}", lint.skipped);
        assert_eq!(lint.skipped[0].pattern_id, good);
        let p1 = lint.flawed.iter().find(|p| p.pattern_id == "p1").unwrap();
        assert!(p1.message.contains("id `p1` is not a UUID"), "{p1}");
        assert!(
            p1.message.contains("tag `macoss`") && p1.message.contains("did you mean `macos`"),
            "{p1}"
        );
        assert!(
            p1.message.contains("class `servce_control`")
                && p1.message.contains("did you mean `service_control`"),
            "{p1}"
        );
        assert!(!p1.message.contains("acme-y"), "a host carries it: {p1}");
        let web2 = lint
            .flawed
            .iter()
            .find(|p| p.pattern_id == "host:web2")
            .unwrap();
        assert_eq!(
            web2.message, "alias `web1` is also the hostname of host web1",
            "acme-y is named by p1 now"
        );
    }

    #[test]
    fn insights_marks_only_what_it_was_given() {
        let (_d, store) = fresh();
        let row = |id: &str, active: bool| {
            serde_json::json!({"id": super::super::test_uid(id), "pattern_type": "version_mismatch", "pattern_signature": id,
                "failure_description": "d", "severity": "info", "is_active": active,
                "triggering_commands": [id]})
        };
        store
            .import(
                &serde_json::json!([row("a", true), row("b", true), row("c", false)]).to_string(),
            )
            .unwrap();
        let (pending, _) = store.pending_insights().unwrap();
        let ids: Vec<String> = pending.iter().map(|p| p.id.clone()).collect();
        assert_eq!(
            ids,
            vec![super::super::test_uid("a"), super::super::test_uid("b")],
            "inactive is left out"
        );
        assert_eq!(store.mark_in_insights(&ids[..1]).unwrap(), 1);
        let (pending, _) = store.pending_insights().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(store.stats().unwrap().pending_insights, 1);
    }
}
