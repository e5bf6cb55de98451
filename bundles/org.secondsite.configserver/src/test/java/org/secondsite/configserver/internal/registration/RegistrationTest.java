package org.secondsite.configserver.internal.registration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.ConfigServerException.Kind;
import org.secondsite.configserver.internal.Fixtures;
import org.secondsite.configserver.internal.catalogue.Component;
import org.secondsite.pki.KeyMaterial;

class RegistrationTest {
    @TempDir
    Path dir;

    @Test
    void passphraseIsRandomOwnerOnlyAndSurvivesReload() throws Exception {
        Path file = dir.resolve("secondsite/registration-passphrase");
        Passphrase p = Passphrase.loadOrCreate(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(32, p.reveal().length(), "192 bits in URL-safe base64");
        assertEquals(p.reveal(), Passphrase.loadOrCreate(file).reveal());
        assertFalse(p.toString().contains(p.reveal()));
        assertTrue(p.matches(p.reveal()));
        assertFalse(p.matches(p.reveal() + "x"));
        assertFalse(p.matches(null));
        String old = p.reveal();
        p.rotate();
        assertNotEquals(old, p.reveal());
        assertFalse(p.matches(old));
        assertEquals(p.reveal(), Passphrase.loadOrCreate(file).reveal());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        Files.writeString(file, "short\n");
        assertThrows(java.io.IOException.class, () -> Passphrase.loadOrCreate(file));
    }

    @Test
    void aComponentRegistersWithThePassphraseAndGetsACertificateForItsOwnKey() throws Exception {
        try (Fixtures f = new Fixtures(dir)) {
            Registered r = f.server.register(new RegistrationRequest(f.passphrase.reveal(), "ps-1", "process-server",
                    "primary", Fixtures.csr("ps-1")), "10.0.0.7");
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                    new ByteArrayInputStream(r.certificate().getBytes(StandardCharsets.US_ASCII)));
            cert.verify(f.authority.certificate().getPublicKey());
            assertEquals("ps-1", KeyMaterial.commonName(cert));
            assertEquals(cert.getSerialNumber().toString(16), r.serial());
            Component c = f.server.component("ps-1");
            assertEquals(Component.REGISTERED, c.state());
            assertEquals("10.0.0.7", c.address());
            assertEquals(r.serial(), c.certificateSerial());
            assertEquals("ok", f.server.recentAudit(1).get(0).outcome());
            assertEquals("component:ps-1@10.0.0.7", f.server.recentAudit(1).get(0).actor());

            // The same id again while registered: conflict, and nothing signed is left usable.
            ConfigServerException again = assertThrows(ConfigServerException.class, () -> f.server.register(
                    new RegistrationRequest(f.passphrase.reveal(), "ps-1", "process-server", null, Fixtures.csr("ps-1")),
                    "10.0.0.7"));
            assertEquals(Kind.CONFLICT, again.kind());
        }
    }

    @Test
    void rotatingThePassphraseKeepsRegisteredComponentsAndRefusesTheOldOne() throws Exception {
        try (Fixtures f = new Fixtures(dir)) {
            String old = f.passphrase.reveal();
            f.server.register(new RegistrationRequest(old, "mt-1", "master-target", null, Fixtures.csr("mt-1")), "a");
            String fresh = f.server.rotatePassphrase("admin");
            assertNotEquals(old, fresh);
            assertEquals(Component.REGISTERED, f.server.component("mt-1").state());
            assertTrue(f.revocations.isEmpty(), "rotation revokes nothing");
            assertEquals(Kind.FORBIDDEN, assertThrows(ConfigServerException.class, () -> f.server.register(
                    new RegistrationRequest(old, "mt-2", "master-target", null, Fixtures.csr("mt-2")), "a")).kind());
            f.server.register(new RegistrationRequest(fresh, "mt-2", "master-target", null, Fixtures.csr("mt-2")), "a");
            assertEquals("passphrase.rotate", f.server.recentAudit(10).stream()
                    .filter(e -> e.action().startsWith("passphrase")).findFirst().orElseThrow().action());
        }
    }

    @Test
    void wrongPassphrasesAre403ThenTheAddressIsRateLimitedWith429() throws Exception {
        try (Fixtures f = new Fixtures(dir)) {
            for (int i = 0; i < 3; i++) {
                ConfigServerException e = assertThrows(ConfigServerException.class, () -> f.server.register(
                        new RegistrationRequest("guess", "a-1", "agent", null, "x"), "203.0.113.9"));
                assertEquals(Kind.FORBIDDEN, e.kind());
            }
            ConfigServerException limited = assertThrows(ConfigServerException.class, () -> f.server.register(
                    new RegistrationRequest(f.passphrase.reveal(), "a-1", "agent", null, Fixtures.csr("a-1")),
                    "203.0.113.9"));
            assertEquals(Kind.TOO_MANY_REQUESTS, limited.kind());
            assertEquals(900, limited.retryAfterSeconds());
            // Another address is not affected; after the window the first may try again.
            f.server.register(new RegistrationRequest(f.passphrase.reveal(), "a-2", "agent", null, Fixtures.csr("a-2")),
                    "198.51.100.1");
            f.clock.advance(Duration.ofMinutes(15));
            f.server.register(new RegistrationRequest(f.passphrase.reveal(), "a-1", "agent", null, Fixtures.csr("a-1")),
                    "203.0.113.9");
            assertTrue(f.server.recentAudit(20).stream().anyMatch(e -> e.outcome().equals(
                    "refused: wrong registration passphrase")));
        }
    }

    @Test
    void badFieldsAndBadCsrsAreNamed() throws Exception {
        try (Fixtures f = new Fixtures(dir)) {
            String pp = f.passphrase.reveal();
            record Case(RegistrationRequest request, String field, String message) {
            }
            for (Case c : List.of(
                    new Case(new RegistrationRequest(null, "a", "agent", null, "x"), "passphrase", "passphrase is required"),
                    new Case(new RegistrationRequest(pp, "bad id", "agent", null, "x"), "componentId", "componentId 'bad id' is invalid"),
                    new Case(new RegistrationRequest(pp, "a", "console", null, "x"), "role", "role 'console' is invalid"),
                    new Case(new RegistrationRequest(pp, "a", "agent", "no site!", "x"), "site", "site 'no site!' is invalid"),
                    new Case(new RegistrationRequest(pp, "a", "agent", null, null), "csr", "csr is required"),
                    new Case(new RegistrationRequest(pp, "a", "agent", null, "garbage"), "csr", "csr must be a PEM 'CERTIFICATE REQUEST'"),
                    new Case(new RegistrationRequest(pp, "a", "agent", null, Fixtures.csr("someone-else")), "csr",
                            "csr subject CN 'someone-else' differs from componentId 'a'"),
                    new Case(new RegistrationRequest(pp, "a", "agent", null, "x".repeat(Csr.MAX_PEM_CHARS + 1)), "csr",
                            "csr is longer than"))) {
                ConfigServerException e = assertThrows(ConfigServerException.class, () -> f.server.register(c.request, "h"));
                assertEquals(Kind.INVALID, e.kind(), e.getMessage());
                assertEquals(c.field, e.field());
                assertTrue(e.getMessage().contains(c.message), e.getMessage());
            }
            String tampered = Fixtures.csr("a").replaceFirst("(?m)^(.{20})(.)", "$1" + "A");
            ConfigServerException e = assertThrows(ConfigServerException.class, () -> f.server.register(
                    new RegistrationRequest(pp, "a", "agent", null, tampered), "h"));
            assertEquals("csr", e.field());
        }
    }

    @Test
    void removingAComponentRevokesItsSerialAndLetsItRegisterAgainWithANewOne() throws Exception {
        try (Fixtures f = new Fixtures(dir)) {
            String pp = f.passphrase.reveal();
            Registered first = f.server.register(new RegistrationRequest(pp, "ag-1", "agent", null, Fixtures.csr("ag-1")), "h");
            f.server.removeComponent("ag-1", "admin");
            assertEquals(List.of(List.of(first.serial())), f.revocations);
            assertEquals(Component.REMOVED, f.server.component("ag-1").state());
            assertEquals(Kind.NOT_FOUND, assertThrows(ConfigServerException.class,
                    () -> f.server.removeComponent("nobody", "admin")).kind());
            Registered second = f.server.register(new RegistrationRequest(pp, "ag-1", "agent", null, Fixtures.csr("ag-1")), "h");
            assertNotEquals(first.serial(), second.serial());
            f.server.pushRevocations();
            assertEquals(List.of(first.serial()), f.revocations.get(f.revocations.size() - 1));
            assertEquals("refused: no component 'nobody'", f.server.recentAudit(5).stream()
                    .filter(a -> a.target().equals("nobody")).findFirst().orElseThrow().outcome());
        }
    }
}
