//! The store's schema and its migrations, keyed on `PRAGMA user_version` (DESIGN.md §2.1).
//!
//! `MIGRATIONS[i]` takes a database from version `i` to `i + 1`. A released migration is never
//! edited: a schema change is a new entry at the end. The upstream `failure_patterns` columns
//! come first and in the upstream order; forewarn's own columns follow them.

pub(crate) const MIGRATIONS: &[&str] = &[
    // 0 → 1: the upstream model plus forewarn's clients, infrastructure, fix, references and
    // occurrence log.
    r#"
CREATE TABLE clients (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE infrastructure (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    client_id VARCHAR(36) REFERENCES clients(id) ON DELETE CASCADE,
    hostname TEXT NOT NULL UNIQUE COLLATE NOCASE,
    aliases TEXT NOT NULL DEFAULT '[]',
    os TEXT,
    os_version TEXT,
    system_tags TEXT NOT NULL DEFAULT '[]',
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_infrastructure_client_id ON infrastructure(client_id);

CREATE TABLE failure_patterns (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    infrastructure_id VARCHAR(36) REFERENCES infrastructure(id) ON DELETE CASCADE,
    client_id VARCHAR(36) REFERENCES clients(id) ON DELETE CASCADE,
    pattern_type VARCHAR(50) NOT NULL CHECK (pattern_type IN ('command_compatibility',
        'version_mismatch', 'permission_denied', 'service_unavailable', 'configuration_error',
        'environmental_limitation')),
    pattern_signature VARCHAR(500) NOT NULL,
    error_pattern TEXT,
    affected_systems TEXT,
    triggering_commands TEXT,
    triggering_operations TEXT,
    failure_description TEXT,
    root_cause TEXT,
    recommended_solution TEXT,
    alternative_approaches TEXT,
    occurrence_count INTEGER DEFAULT 1,
    first_seen DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_seen DATETIME DEFAULT CURRENT_TIMESTAMP,
    severity VARCHAR(20) NOT NULL CHECK (severity IN ('blocking', 'major', 'minor', 'info')),
    is_active BOOLEAN DEFAULT 1,
    added_to_insights BOOLEAN DEFAULT 0,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    fix TEXT,
    "references" TEXT
);
CREATE INDEX idx_failure_patterns_infrastructure_id ON failure_patterns(infrastructure_id);
CREATE INDEX idx_failure_patterns_client_id ON failure_patterns(client_id);
CREATE INDEX idx_failure_patterns_pattern_type ON failure_patterns(pattern_type);
CREATE INDEX idx_failure_patterns_pattern_signature ON failure_patterns(pattern_signature);

CREATE TABLE occurrences (
    id INTEGER PRIMARY KEY,
    pattern_id VARCHAR(36) NOT NULL REFERENCES failure_patterns(id) ON DELETE CASCADE,
    host TEXT,
    seen_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_occurrences_pattern_id ON occurrences(pattern_id);
CREATE INDEX idx_occurrences_seen_at ON occurrences(seen_at);
"#,
    // 1 → 2: the knowledge version, which moves on every change to what matching uses and not
    // on occurrence bookkeeping (occurrence_count, last_seen, updated_at, added_to_insights), so
    // that caches of the index (the agent hook's) survive recorded occurrences. It starts at a
    // random value: a store deleted and created again at the same path does not reuse the
    // version, hence the cache, of the old one.
    r#"
CREATE TABLE forewarn_meta (
    key TEXT NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO forewarn_meta (key, value) VALUES ('knowledge_version', random() & 281474976710655);

CREATE TRIGGER forewarn_kv_pattern_insert AFTER INSERT ON failure_patterns BEGIN
    UPDATE forewarn_meta SET value = value + 1 WHERE key = 'knowledge_version';
END;
CREATE TRIGGER forewarn_kv_pattern_delete AFTER DELETE ON failure_patterns BEGIN
    UPDATE forewarn_meta SET value = value + 1 WHERE key = 'knowledge_version';
END;
CREATE TRIGGER forewarn_kv_pattern_update AFTER UPDATE OF id, infrastructure_id, client_id,
    pattern_type, pattern_signature, error_pattern, affected_systems, triggering_commands,
    triggering_operations, failure_description, root_cause, recommended_solution,
    alternative_approaches, first_seen, severity, is_active, created_at, fix, "references"
    ON failure_patterns BEGIN
    UPDATE forewarn_meta SET value = value + 1 WHERE key = 'knowledge_version';
END;
CREATE TRIGGER forewarn_kv_host_insert AFTER INSERT ON infrastructure BEGIN
    UPDATE forewarn_meta SET value = value + 1 WHERE key = 'knowledge_version';
END;
CREATE TRIGGER forewarn_kv_host_delete AFTER DELETE ON infrastructure BEGIN
    UPDATE forewarn_meta SET value = value + 1 WHERE key = 'knowledge_version';
END;
CREATE TRIGGER forewarn_kv_host_update AFTER UPDATE ON infrastructure BEGIN
    UPDATE forewarn_meta SET value = value + 1 WHERE key = 'knowledge_version';
END;
CREATE TRIGGER forewarn_kv_client_insert AFTER INSERT ON clients BEGIN
    UPDATE forewarn_meta SET value = value + 1 WHERE key = 'knowledge_version';
END;
CREATE TRIGGER forewarn_kv_client_delete AFTER DELETE ON clients BEGIN
    UPDATE forewarn_meta SET value = value + 1 WHERE key = 'knowledge_version';
END;
CREATE TRIGGER forewarn_kv_client_update AFTER UPDATE ON clients BEGIN
    UPDATE forewarn_meta SET value = value + 1 WHERE key = 'knowledge_version';
END;
"#,
];

/// The schema version this build writes and reads.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

/// The tables a forewarn store may hold; a version-0 file with any other table belongs to
/// something else and is not touched.
pub(crate) const OWN_TABLES: &[&str] = &[
    "clients",
    "infrastructure",
    "failure_patterns",
    "occurrences",
    "forewarn_meta",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_type_check_lists_every_engine_type() {
        for t in crate::engine::PatternType::ALL {
            assert!(MIGRATIONS[0].contains(&format!("'{}'", t.as_str())), "{t}");
        }
        for s in crate::engine::Severity::ALL {
            assert!(MIGRATIONS[0].contains(&format!("'{}'", s.as_str())), "{s}");
        }
    }
}
