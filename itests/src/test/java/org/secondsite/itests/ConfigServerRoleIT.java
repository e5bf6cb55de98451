package org.secondsite.itests;

import static org.awaitility.Awaitility.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.Test;
import org.secondsite.api.appliance.Role;
import org.secondsite.api.transport.ComponentIdentity;
import org.secondsite.pki.KeyMaterial;
import org.secondsite.pki.SslContexts;

/**
 * The appliance booted in the config-server role: policies through REST with JAAS roles,
 * registration with the passphrase and a CSR (plain HTTP on loopback here; HTTPS in production),
 * the catalogue seen from the shell, and a removed component refused at TLS.
 */
public class ConfigServerRoleIT extends RoleTestBase {
    private static final String VIEWER = "watcher";
    private static final String VIEWER_PASSWORD = "watcher-Secret-9";

    @Override
    protected Role bootRole() {
        return Role.CONFIG_SERVER;
    }

    @Test
    public void policiesThroughRestFollowTheRoles() throws Exception {
        String admin = adminPassword();
        await("REST application served").atMost(ROLE_BUDGET)
                .until(() -> request("GET", "/api/v1/policies", "admin", admin, null).statusCode() == 200);
        String gold = "{\"id\":\"gold\",\"rpoThresholdSeconds\":900,\"retentionWindowSeconds\":86400,"
                + "\"compressor\":\"lz4\",\"bandwidthSchedule\":\"Mon-Fri 08:00-18:00=20MB/s, *=0\"}";
        HttpResponse<String> created = request("POST", "/api/v1/policies", "admin", admin, gold);
        assertEquals(created.body(), 201, created.statusCode());

        addViewer();
        HttpResponse<String> list = await("viewer can log in").atMost(ROLE_BUDGET).until(
                () -> request("GET", "/api/v1/policies?offset=0&limit=10", VIEWER, VIEWER_PASSWORD, null),
                r -> r.statusCode() == 200);
        assertTrue(list.body(), list.body().contains("\"id\":\"gold\"") && list.body().contains("\"total\":1"));

        HttpResponse<String> refused = request("DELETE", "/api/v1/policies/gold", VIEWER, VIEWER_PASSWORD, null);
        assertEquals(403, refused.statusCode());
        assertTrue(refused.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
        assertEquals(200, request("GET", "/api/v1/policies/gold", VIEWER, VIEWER_PASSWORD, null).statusCode());

        HttpResponse<String> bad = request("POST", "/api/v1/policies", "admin", admin,
                gold.replace("\"gold\"", "\"silver\"").replace("900", "-1"));
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body(), bad.body().contains("\"field\":\"rpoThresholdSeconds\""));
        assertEquals(404, request("GET", "/api/v1/policies/none", "admin", admin, null).statusCode());

        String shell = executeCommand("dr:policy-list");
        assertTrue(shell, shell.contains("gold") && shell.contains("20MB/s"));
        // The ACL hides admin-only commands from a viewer's shell, or refuses them.
        String viewerDelete = executeCommandAs("dr:policy-delete gold", VIEWER, "viewer", "ssh");
        assertTrue(viewerDelete, viewerDelete.contains("Insufficient credentials")
                || viewerDelete.contains("Command not found"));
        assertTrue(executeCommand("dr:policy-list").contains("gold"));
    }

    @Test
    public void aComponentRegistersWithThePassphraseAndIsRefusedAtTlsOnceRemoved() throws Exception {
        String admin = adminPassword();
        Path passphraseFile = Paths.get(System.getProperty("karaf.data"), "secondsite", "registration-passphrase");
        await("passphrase generated").atMost(ROLE_BUDGET).until(() -> Files.isRegularFile(passphraseFile));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(passphraseFile)));
        // The commands register once the configuration server is active (it needs its configuration).
        String passphrase = await("dr:passphrase registered").atMost(ROLE_BUDGET)
                .until(() -> executeCommand("dr:passphrase show").trim(), out -> !out.contains("Command not found"));
        assertEquals(Files.readString(passphraseFile).trim(), passphrase);
        String viewerShow = executeCommandAs("dr:passphrase show", VIEWER, "viewer", "ssh");
        assertFalse(viewerShow, viewerShow.contains(passphrase));

        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = g.generateKeyPair();
        String body = "{\"passphrase\":" + json(passphrase) + ",\"componentId\":\"ps-it-1\",\"role\":\"process-server\","
                + "\"site\":\"primary\",\"csr\":" + json(csr("ps-it-1", keys)) + "}";
        await("registration served").atMost(ROLE_BUDGET)
                .until(() -> request("POST", "/api/v1/registration", null, null, "{}").statusCode() != 404);

        HttpResponse<String> wrong = request("POST", "/api/v1/registration", null, null,
                body.replace(passphrase, "not-the-passphrase"));
        assertEquals(wrong.body(), 403, wrong.statusCode());

        HttpResponse<String> ok = request("POST", "/api/v1/registration", null, null, body);
        assertEquals(ok.body(), 200, ok.statusCode());
        X509Certificate cert = pemCertificate(field(ok.body(), "certificate"));
        Path pki = Paths.get(System.getProperty("karaf.data"), "secondsite", "pki");
        X509Certificate ca = KeyMaterial.load(pki.resolve("ca.p12"),
                Files.readString(pki.resolve("password")).trim().toCharArray()).certificate();
        cert.verify(ca.getPublicKey());
        assertEquals("ps-it-1", KeyMaterial.commonName(cert));
        assertEquals(keys.getPublic(), cert.getPublicKey());

        // Rotating the passphrase keeps the component registered.
        String rotated = executeCommand("dr:passphrase rotate");
        assertFalse(rotated, rotated.contains(passphrase));
        String listed = executeCommand("dr:component-list");
        assertTrue(listed, listed.contains("ps-it-1") && listed.contains("process-server")
                && listed.contains("registered") && listed.contains(cert.getSerialNumber().toString(16)));
        HttpResponse<String> rest = request("GET", "/api/v1/components?limit=5", "admin", admin, null);
        assertTrue(rest.body(), rest.body().contains("\"id\":\"ps-it-1\"") && rest.body().contains("\"total\":1"));

        // The appliance's TLS accepts the component until it is removed, then refuses it in the handshake.
        KeyMaterial component = new KeyMaterial(keys.getPrivate(), new X509Certificate[] {cert, ca});
        SSLContext client = SslContexts.create(component, ca);
        assertEquals("ps-it-1", handshake(identityContext(), client));
        String removed = executeCommand("dr:component-remove ps-it-1");
        assertTrue(removed, removed.contains("Removed process-server 'ps-it-1'"));
        await("revoked certificate refused at TLS").atMost(ROLE_BUDGET)
                .until(() -> handshake(identityContext(), client).startsWith("refused"));
        listed = executeCommand("dr:component-list");
        assertTrue(listed, listed.contains("ps-it-1") && listed.contains("removed"));
        assertEquals(404, request("DELETE", "/api/v1/components/ps-it-1", "admin", admin, null).statusCode());
    }

    private void addViewer() throws Exception {
        String out = executeCommand("jaas:realm-manage --realm karaf\njaas:user-add " + VIEWER + " " + VIEWER_PASSWORD
                + "\njaas:group-add " + VIEWER + " viewergroup\njaas:update");
        assertFalse(out, out.contains("Error"));
    }

    private SSLContext identityContext() {
        return service(ComponentIdentity.class).transportSecurity().context();
    }

    /** One mutual-TLS handshake and echo; the client's CN as the server saw it, or "refused: ...". */
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
                    return KeyMaterial.commonName((X509Certificate) s.getSession().getPeerCertificates()[0]);
                } catch (Exception e) {
                    return "refused: " + e;
                }
            });
            try (SSLSocket c = (SSLSocket) client.getSocketFactory()
                    .createSocket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
                c.startHandshake();
                c.getOutputStream().write(42);
                c.getOutputStream().flush();
                c.getInputStream().read();
            } catch (java.io.IOException expectedWhenRefused) {
                // the server's verdict below says why
            }
            return seen.get(30, TimeUnit.SECONDS);
        }
    }

    private static String csr(String cn, KeyPair keys) throws Exception {
        var request = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + cn), keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(request);
        }
        return out.toString();
    }

    private static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\r", "\\r").replace("\n", "\\n") + "\"";
    }

    /** A string field of a flat JSON answer (PEM with \n escapes). */
    private static String field(String body, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(body);
        assertTrue(name + " in " + body, m.find());
        return m.group(1).replace("\\n", "\n").replace("\\r", "\r").replace("\\/", "/");
    }

    private static X509Certificate pemCertificate(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }
}
