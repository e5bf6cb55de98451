package org.secondsite.pki;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {

    @TempDir
    Path dir;

    @Test
    void issuedCertificateCarriesTheComponentIdAndChainsToTheAuthority() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("test authority", Duration.ofDays(1));
        KeyMaterial ps = ca.issue("ps-01.primary", Duration.ofDays(1));
        assertEquals("ps-01.primary", ps.commonName());
        assertEquals(2, ps.chain().length);
        ps.certificate().verify(ca.certificate().getPublicKey());
        ps.certificate().checkValidity();
        assertTrue(ps.certificate().getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.1"), "server auth");
        assertTrue(ps.certificate().getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.2"), "client auth");
        assertEquals(-1, ps.certificate().getBasicConstraints(), "a component is no CA");
    }

    @Test
    void invalidComponentIdsAreRefused() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("test authority", Duration.ofDays(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ca.issue("bad,CN=admin", Duration.ofDays(1)));
        assertTrue(e.getMessage().contains("component id 'bad,CN=admin' is invalid"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ca.issue("", Duration.ofDays(1)));
        assertThrows(IllegalArgumentException.class, () -> new CertificateAuthority(
                ca.issue("not-a-ca", Duration.ofDays(1))));
    }

    @Test
    void keyMaterialSurvivesAPkcs12RoundTripOwnerOnly() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("test authority", Duration.ofDays(1));
        KeyMaterial mt = ca.issue("mt-01", Duration.ofDays(1));
        Path file = dir.resolve("mt.p12");
        mt.save(file, "s3cret".toCharArray());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        KeyMaterial back = KeyMaterial.load(file, "s3cret".toCharArray());
        assertArrayEquals(mt.key().getEncoded(), back.key().getEncoded());
        assertArrayEquals(mt.chain(), back.chain());
        GeneralSecurityException wrong = assertThrows(GeneralSecurityException.class,
                () -> KeyMaterial.load(file, "guess".toCharArray()));
        assertTrue(wrong.getMessage().contains("wrong password"), wrong.getMessage());
    }

    @Test
    void mutualTlsSucceedsWithinOneAuthorityAndFailsAcrossTwo() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("site authority", Duration.ofDays(1));
        CertificateAuthority other = CertificateAuthority.create("foreign authority", Duration.ofDays(1));
        SSLContext server = SslContexts.create(ca.issue("mt-01", Duration.ofDays(1)), ca.certificate());
        SSLContext client = SslContexts.create(ca.issue("ps-01", Duration.ofDays(1)), ca.certificate());
        SSLContext stranger = SslContexts.create(other.issue("ps-99", Duration.ofDays(1)), other.certificate());

        assertEquals("ps-01", handshake(server, client));
        assertThrows(SSLException.class, () -> handshake(server, stranger));
    }

    @Test
    void aCertificateForTheComponentsOwnKeyChainsToTheAuthority() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("site authority", Duration.ofDays(1));
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        java.security.KeyPair own = g.generateKeyPair();
        java.security.cert.X509Certificate cert = ca.issue("agent-7", own.getPublic(), Duration.ofDays(1));
        cert.verify(ca.certificate().getPublicKey());
        assertEquals("agent-7", KeyMaterial.commonName(cert));
        assertEquals(own.getPublic(), cert.getPublicKey());
        assertThrows(IllegalArgumentException.class, () -> ca.issue("bad id", own.getPublic(), Duration.ofDays(1)));
    }

    @Test
    void aRevokedSerialIsRefusedDuringTheHandshakeOthersStillPass() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("site authority", Duration.ofDays(1));
        KeyMaterial removed = ca.issue("ps-old", Duration.ofDays(1));
        SSLContext server = SslContexts.create(ca.issue("mt-01", Duration.ofDays(1)),
                java.util.Set.of(removed.certificate().getSerialNumber()), ca.certificate());
        // TLS 1.3: the client may finish its side before the server checks the client's certificate,
        // so the refusal reaches it as an SSLException or as a broken pipe on its first write.
        assertThrows(java.io.IOException.class,
                () -> handshake(server, SslContexts.create(removed, ca.certificate())));
        assertEquals("ps-new", handshake(server,
                SslContexts.create(ca.issue("ps-new", Duration.ofDays(1)), ca.certificate())));
    }

    /** Runs one mutual-TLS handshake; returns the client's CN as the server saw it. */
    private static String handshake(SSLContext server, SSLContext client) throws Exception {
        try (SSLServerSocket ss = (SSLServerSocket) server.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ss.setNeedClientAuth(true);
            CompletableFuture<String> seen = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                    s.startHandshake();
                    try (InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                        out.write(in.read());
                        out.flush();
                    }
                    return KeyMaterial.commonName(
                            (java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0]);
                } catch (Exception e) {
                    return "refused: " + e;
                }
            });
            try (SSLSocket c = (SSLSocket) client.getSocketFactory()
                    .createSocket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
                c.startHandshake();
                c.getOutputStream().write(42);
                c.getOutputStream().flush();
                if (c.getInputStream().read() != 42) {
                    throw new SSLException("no echo: the server refused the client");
                }
            }
            return seen.get(30, TimeUnit.SECONDS);
        }
    }
}
