package org.secondsite.configserver.internal.catalogue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.configserver.internal.ConfigServerException;

class CatalogueTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void derbyLogInTarget() {
        System.setProperty("derby.stream.error.file", "target/derby-test.log");
        System.setProperty("derby.system.durability", "test");
    }

    @Test
    void migratesAnEmptyDatabaseToTheLatestSchemaWithEveryTable() throws Exception {
        Migrations m = Migrations.bundled();
        assertTrue(m.latest() >= 1);
        try (Catalogue cat = Catalogue.open(dir.resolve("catalogue"), m)) {
            assertEquals(m.latest(), cat.schemaVersion());
            assertEquals(m.latest(), cat.appliedNow().size());
            Set<String> tables = new TreeSet<>();
            try (Connection c = cat.connection();
                 ResultSet rs = c.getMetaData().getTables(null, "APP", "%", new String[] {"TABLE"})) {
                while (rs.next()) {
                    tables.add(rs.getString("TABLE_NAME").toLowerCase());
                }
            }
            assertTrue(tables.containsAll(Set.of("schema_version", "sites", "components", "revoked_certificates",
                    "machines", "disks", "consistency_groups", "policies", "recovery_points", "jobs", "job_steps",
                    "events", "audit_log", "component_health", "disk_health")), tables.toString());
        }
    }

    @Test
    void reopeningKeepsDataAndAppliesNothing() throws Exception {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Path db = dir.resolve("catalogue");
        try (Catalogue cat = Catalogue.open(db, Migrations.bundled())) {
            new PolicyStore(cat).create(policy("gold"), now);
            new ComponentStore(cat).register(new Component("ps-1", "process-server", "primary", "10.0.0.5", "ab12",
                    now.plusSeconds(3600), Component.REGISTERED, now, null, null, null));
            new AuditLog(cat).record(now, "admin", "policy.create", "gold", "ok");
        }
        try (Catalogue cat = Catalogue.open(db, Migrations.bundled())) {
            assertEquals(List.of(), cat.appliedNow());
            Policy gold = new PolicyStore(cat).find("gold").orElseThrow();
            assertEquals(policy("gold").withTimes(now, now), gold);
            Component ps = new ComponentStore(cat).find("ps-1").orElseThrow();
            assertEquals("primary", ps.site());
            assertEquals(now, ps.registeredAt());
            assertEquals("policy.create", new AuditLog(cat).recent(10).get(0).action());
        }
    }

    @Test
    void theEngineCanBeStoppedAndTheCatalogueOpenedAgain() throws Exception {
        Path db = dir.resolve("catalogue");
        try (Catalogue cat = Catalogue.open(db, Migrations.bundled())) {
            new AuditLog(cat).record(Instant.now(), "admin", "test", "engine", "ok");
        }
        Catalogue.shutdownEngine(); // what the OSGi component does on deactivation (bundle update)
        try (Catalogue cat = Catalogue.open(db, Migrations.bundled())) {
            assertEquals("engine", new AuditLog(cat).recent(1).get(0).target());
        }
    }

    @Test
    void aNewerSchemaIsRefusedWithAClearReason() throws Exception {
        Path db = dir.resolve("catalogue");
        try (Catalogue cat = Catalogue.open(db, Migrations.bundled());
             Connection c = cat.connection();
             PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO schema_version (version, description, applied_at) VALUES (?, 'from the future', CURRENT_TIMESTAMP)")) {
            ps.setInt(1, cat.schemaVersion() + 1);
            ps.executeUpdate();
        }
        SQLException e = assertThrows(SQLException.class, () -> Catalogue.open(db, Migrations.bundled()));
        assertTrue(e.getMessage().contains("has schema version " + (Migrations.bundled().latest() + 1)
                + ", newer than version " + Migrations.bundled().latest()), e.getMessage());
        // Refused without damage: the current code still opens it once the future row is gone.
        int future = Migrations.bundled().latest() + 1;
        List<Migrations.Migration> placeholders = new java.util.ArrayList<>();
        for (int v = 1; v <= future; v++) {
            placeholders.add(Migrations.parse(v, "-- placeholder\nSELECT 1 FROM sysibm.sysdummy1;"));
        }
        try (Catalogue cat = Catalogue.open(db, Migrations.of(placeholders))) {
            assertEquals(future, cat.schemaVersion());
        }
    }

    @Test
    void laterMigrationsApplyInOrderAndAFailingOneIsRolledBackAlone() throws Exception {
        Path db = dir.resolve("catalogue");
        Migrations.Migration v1 = Migrations.parse(1, "-- one\nCREATE TABLE t1 (a INT);\nINSERT INTO t1 VALUES (1);");
        Migrations.Migration v2 = Migrations.parse(2, "-- two\nCREATE TABLE t2 (b INT);\nINSERT INTO missing VALUES (2);");
        try (Catalogue cat = Catalogue.open(db, Migrations.of(List.of(v1)))) {
            assertEquals(1, cat.schemaVersion());
        }
        SQLException e = assertThrows(SQLException.class, () -> Catalogue.open(db, Migrations.of(List.of(v1, v2))));
        assertTrue(e.getMessage().startsWith("migration V2 (two) failed and was rolled back"), e.getMessage());
        Migrations.Migration v2fixed = Migrations.parse(2, "-- two\nCREATE TABLE t2 (b INT);\nINSERT INTO t2 VALUES (2);");
        try (Catalogue cat = Catalogue.open(db, Migrations.of(List.of(v1, v2fixed)));
             Connection c = cat.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT (SELECT COUNT(*) FROM t1) + (SELECT COUNT(*) FROM t2) FROM sysibm.sysdummy1")) {
            assertEquals(List.of(2), cat.appliedNow());
            rs.next();
            assertEquals(2, rs.getInt(1));
        }
    }

    @Test
    void scriptsEndingWithoutSemicolonAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Migrations.parse(3, "-- x\nCREATE TABLE t (a INT)"));
        assertTrue(e.getMessage().contains("migration V3 ends with a statement without ';'"), e.getMessage());
    }

    @Test
    void policiesAndComponentsFollowTheirRules() throws Exception {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        try (Catalogue cat = Catalogue.open(dir.resolve("catalogue"), Migrations.bundled())) {
            PolicyStore policies = new PolicyStore(cat);
            policies.create(policy("gold"), now);
            assertEquals(ConfigServerException.Kind.CONFLICT,
                    assertThrows(ConfigServerException.class, () -> policies.create(policy("gold"), now)).kind());
            assertEquals(ConfigServerException.Kind.NOT_FOUND,
                    assertThrows(ConfigServerException.class, () -> policies.update(policy("silver"), now)).kind());
            assertEquals(ConfigServerException.Kind.NOT_FOUND,
                    assertThrows(ConfigServerException.class, () -> policies.delete("silver")).kind());
            // A hostile id is just data: bound parameters, no SQL injection.
            String hostile = "x'; DROP TABLE policies; --";
            assertTrue(policies.find(hostile).isEmpty());
            for (int i = 0; i < 7; i++) {
                policies.create(policy("p" + i), now);
            }
            var page = policies.list(2, 3);
            assertEquals(8, page.total());
            assertEquals(List.of("p1", "p2", "p3"), page.items().stream().map(Policy::id).toList());
            policies.delete("gold");
            assertEquals(7, policies.list(0, 50).total());

            ComponentStore components = new ComponentStore(cat);
            Component mt = new Component("mt-1", "master-target", null, "127.0.0.1", "1f", now, Component.REGISTERED,
                    now, null, null, null);
            components.register(mt);
            assertEquals(ConfigServerException.Kind.CONFLICT,
                    assertThrows(ConfigServerException.class, () -> components.register(mt)).kind());
            components.remove("mt-1", now);
            assertEquals(List.of("1f"), components.revokedSerials());
            assertEquals(Component.REMOVED, components.find("mt-1").orElseThrow().state());
            assertEquals(ConfigServerException.Kind.NOT_FOUND,
                    assertThrows(ConfigServerException.class, () -> components.remove("mt-1", now)).kind());
            // After removal the id may register again, with a new certificate; the old one stays revoked.
            components.register(new Component("mt-1", "master-target", null, "127.0.0.1", "2e", now,
                    Component.REGISTERED, now, null, null, null));
            assertEquals(Component.REGISTERED, components.find("mt-1").orElseThrow().state());
            assertEquals(List.of("1f"), components.revokedSerials());
        }
    }

    static Policy policy(String id) {
        return new Policy(id, 900, 300, 86_400, 0, "PT1H", "lz4", "Mon-Fri 08:00-18:00=20MB/s, *=0", null, null);
    }
}
