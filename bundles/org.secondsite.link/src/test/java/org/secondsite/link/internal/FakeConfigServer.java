package org.secondsite.link.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.secondsite.pki.CertificateAuthority;
import org.secondsite.pki.KeyMaterial;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The configuration server as the contract describes it, in process: registration signs the CSR
 * with a test authority; heartbeats are checked against the contract's canonical string with the
 * certificate's public key (written here independently of {@link Signer}) and answered with the
 * desired state set by the test.
 */
final class FakeConfigServer implements AutoCloseable {
    static final String PASSPHRASE = "correct horse battery staple";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern AUTHORIZATION = Pattern.compile("SecondSite-Signature cert=\"([^\"]+)\",sig=\"([^\"]+)\"");

    /** A registration request and when it came. */
    record Registration(JsonNode body, Instant at) {
    }

    /** A heartbeat and whether its signature verified. */
    record Heartbeat(JsonNode body, boolean verified, String problem, Instant at) {
        long appliedRevision() {
            return body.path("appliedRevision").asLong(-1);
        }

        String applyError() {
            return body.hasNonNull("applyError") ? body.get("applyError").asText() : null;
        }
    }

    final CertificateAuthority ca;
    final HttpServer server;
    final List<Registration> registrations = new CopyOnWriteArrayList<>();
    final List<Heartbeat> heartbeats = new CopyOnWriteArrayList<>();
    /** Answers given to the next registrations before normal processing: status, Retry-After seconds (or -1). */
    final Deque<int[]> scriptedRegistrations = new ArrayDeque<>();
    final Map<String, BigInteger> registered = new ConcurrentHashMap<>();
    volatile long desiredRevision;
    volatile String desiredJson;
    /** When set, the raw body of every heartbeat answer (status 200). */
    volatile String rawHeartbeatAnswer;

    FakeConfigServer() throws Exception {
        ca = CertificateAuthority.create("test-authority", Duration.ofDays(30));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/registration", this::registration);
        server.createContext("/api/v1/heartbeats", this::heartbeat);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Sets the desired state announced from now on. */
    void desire(long revision, String json) {
        desiredJson = json;
        desiredRevision = revision;
    }

    void scriptRegistration(int status, int retryAfterSeconds) {
        synchronized (scriptedRegistrations) {
            scriptedRegistrations.add(new int[] {status, retryAfterSeconds});
        }
    }

    private void registration(HttpExchange x) throws IOException {
        try (x) {
            JsonNode body = JSON.readTree(x.getRequestBody().readAllBytes());
            registrations.add(new Registration(body, Instant.now()));
            int[] scripted;
            synchronized (scriptedRegistrations) {
                scripted = scriptedRegistrations.poll();
            }
            if (scripted != null) {
                if (scripted[1] >= 0) {
                    x.getResponseHeaders().add("Retry-After", Integer.toString(scripted[1]));
                }
                problem(x, scripted[0], "Scripted", "scripted answer " + scripted[0], null);
                return;
            }
            if (!PASSPHRASE.equals(body.path("passphrase").asText())) {
                problem(x, 403, "Forbidden", "the registration passphrase is wrong", null);
                return;
            }
            String id = body.path("componentId").asText();
            if (registered.containsKey(id)) {
                problem(x, 409, "Conflict", "component '" + id + "' is registered already", null);
                return;
            }
            PublicKey key;
            try (PEMParser p = new PEMParser(new StringReader(body.path("csr").asText()))) {
                PKCS10CertificationRequest csr = (PKCS10CertificationRequest) p.readObject();
                if (!csr.getSubject().toString().equals("CN=" + id)) {
                    problem(x, 400, "Bad Request", "csr subject " + csr.getSubject() + " is not CN=" + id, "csr");
                    return;
                }
                key = new JcaPKCS10CertificationRequest(csr).getPublicKey();
            }
            X509Certificate cert = ca.issue(id, key, Duration.ofDays(7));
            registered.put(id, cert.getSerialNumber());
            ObjectNode answer = JSON.createObjectNode();
            answer.put("componentId", id);
            answer.put("certificate", pem(cert));
            answer.put("authority", pem(ca.certificate()));
            answer.put("serial", cert.getSerialNumber().toString(16));
            answer.put("expires", cert.getNotAfter().toInstant().toString());
            send(x, 200, "application/json", JSON.writeValueAsBytes(answer));
        } catch (Exception e) {
            problem(x, 500, "Internal Server Error", e.toString(), null);
        }
    }

    private void heartbeat(HttpExchange x) throws IOException {
        try (x) {
            byte[] body = x.getRequestBody().readAllBytes();
            String problem = verify(x, body);
            JsonNode json = JSON.readTree(body);
            heartbeats.add(new Heartbeat(json, problem == null, problem, Instant.now()));
            if (problem != null) {
                problem(x, 401, "Unauthorized", problem, null);
                return;
            }
            if (rawHeartbeatAnswer != null) {
                send(x, 200, "application/json", rawHeartbeatAnswer.getBytes(StandardCharsets.UTF_8));
                return;
            }
            long revision = desiredRevision;
            String answer = "{\"componentId\":\"" + json.path("componentId").asText() + "\",\"stored\":true,"
                    + "\"desiredRevision\":" + revision
                    + (revision != json.path("appliedRevision").asLong(0) && desiredJson != null
                    ? ",\"desired\":" + desiredJson : "") + "}";
            send(x, 200, "application/json", answer.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            problem(x, 500, "Internal Server Error", e.toString(), null);
        }
    }

    /** Checks the signature as contract §2 says; null when it verifies, else why not. */
    private String verify(HttpExchange x, byte[] body) throws Exception {
        String date = x.getRequestHeaders().getFirst("X-SecondSite-Date");
        String authorization = x.getRequestHeaders().getFirst("Authorization");
        if (date == null || authorization == null) {
            return "missing X-SecondSite-Date or Authorization";
        }
        Instant when = Instant.parse(date);
        if (Duration.between(when, Instant.now()).abs().compareTo(Duration.ofMinutes(5)) > 0) {
            return "date " + date + " is more than 5 minutes off";
        }
        Matcher m = AUTHORIZATION.matcher(authorization);
        if (!m.matches()) {
            return "Authorization is not SecondSite-Signature cert=...,sig=...";
        }
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Base64.getDecoder().decode(m.group(1))));
        cert.verify(ca.certificate().getPublicKey());
        cert.checkValidity();
        String id = KeyMaterial.commonName(cert);
        if (!cert.getSerialNumber().equals(registered.get(id))) {
            return "certificate serial is not the registered one of " + id;
        }
        String path = x.getRequestURI().getRawPath()
                + (x.getRequestURI().getRawQuery() == null ? "" : "?" + x.getRequestURI().getRawQuery());
        String canonical = x.getRequestMethod().toUpperCase() + "\n" + path + "\n" + date + "\n"
                + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initVerify(cert.getPublicKey());
        s.update(canonical.getBytes(StandardCharsets.UTF_8));
        return s.verify(Base64.getDecoder().decode(m.group(2))) ? null : "signature does not verify";
    }

    private static void problem(HttpExchange x, int status, String title, String detail, String field)
            throws IOException {
        ObjectNode p = JSON.createObjectNode();
        p.put("type", "about:blank");
        p.put("title", title);
        p.put("status", status);
        p.put("detail", detail);
        if (field != null) {
            p.put("field", field);
        }
        send(x, status, "application/problem+json", JSON.writeValueAsBytes(p));
    }

    private static void send(HttpExchange x, int status, String type, byte[] body) throws IOException {
        x.getResponseHeaders().set("Content-Type", type);
        x.sendResponseHeaders(status, body.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(body);
        }
    }

    static String pem(X509Certificate cert) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(cert);
        }
        return out.toString();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
