package org.secondsite.configserver.internal.registration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.secondsite.configserver.internal.catalogue.Component;
import org.secondsite.pki.CertificateAuthority;

/** Signed component requests: what is accepted, and every reason one is refused. */
class ComponentSignaturesTest {
    static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    static final String PATH = "/api/v1/heartbeats";

    final CertificateAuthority authority;
    final KeyPair keys;
    final X509Certificate certificate;
    final Map<String, Component> catalogue = new HashMap<>();
    final ComponentSignatures signatures;

    ComponentSignaturesTest() throws Exception {
        authority = CertificateAuthority.create("test authority", Duration.ofDays(3650));
        keys = ecKeys();
        certificate = authority.issue("ps-01", keys.getPublic(), Duration.ofDays(3650));
        register("ps-01", certificate, Component.REGISTERED);
        signatures = new ComponentSignatures(() -> authority, id -> Optional.ofNullable(catalogue.get(id)),
                Clock.fixed(NOW, ZoneOffset.UTC));
    }

    static KeyPair ecKeys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    void register(String id, X509Certificate cert, String state) {
        catalogue.put(id, new Component(id, "process-server", null, "127.0.0.1:9443",
                cert.getSerialNumber().toString(16), cert.getNotAfter().toInstant(), state, NOW, null, null, null));
    }

    static String header(X509Certificate cert, KeyPair keys, String method, String path, String date, byte[] body)
            throws Exception {
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(keys.getPrivate());
        s.update(ComponentSignatures.canonical(method, path, date, body));
        Base64.Encoder b64 = Base64.getEncoder();
        return "SecondSite-Signature cert=\"" + b64.encodeToString(cert.getEncoded()) + "\",sig=\""
                + b64.encodeToString(s.sign()) + "\"";
    }

    String refused(String method, String path, String date, String authorization, byte[] body) {
        return assertThrows(SecurityException.class,
                () -> signatures.verify(method, path, date, authorization, body)).getMessage();
    }

    @Test
    void aSignedRequestOfARegisteredComponentIsAccepted() throws Exception {
        byte[] body = "{\"componentId\":\"ps-01\"}".getBytes(StandardCharsets.UTF_8);
        String date = NOW.minusSeconds(30).toString();
        assertEquals("ps-01", signatures.verify("POST", PATH, date, header(certificate, keys, "POST", PATH, date, body),
                body));
    }

    @Test
    void anyChangeToTheSignedPartsIsRefused() throws Exception {
        byte[] body = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        String date = NOW.toString();
        String h = header(certificate, keys, "POST", PATH, date, body);
        String mismatch = "the signature does not match the request";
        assertEquals(mismatch, refused("POST", PATH, date, h, "{\"a\":2}".getBytes(StandardCharsets.UTF_8)));
        assertEquals(mismatch, refused("PUT", PATH, date, h, body));
        assertEquals(mismatch, refused("POST", PATH + "?x=1", date, h, body));
        assertEquals(mismatch, refused("POST", PATH, NOW.plusSeconds(1).toString(), h, body));
        // Signed by another key than the certificate's
        assertEquals(mismatch, refused("POST", PATH, date, header(certificate, ecKeys(), "POST", PATH, date, body),
                body));
    }

    @Test
    void certificatesOfOtherAuthoritiesRemovedComponentsOrOldCertificatesAreRefused() throws Exception {
        byte[] body = new byte[0];
        String date = NOW.toString();
        CertificateAuthority other = CertificateAuthority.create("other", Duration.ofDays(3650));
        X509Certificate foreign = other.issue("ps-01", keys.getPublic(), Duration.ofDays(3650));
        assertTrue(refused("GET", PATH, date, header(foreign, keys, "GET", PATH, date, body), body)
                .contains("not issued by this configuration server"));
        // Re-registered: the old certificate no longer counts
        X509Certificate renewed = authority.issue("ps-01", keys.getPublic(), Duration.ofDays(3650));
        register("ps-01", renewed, Component.REGISTERED);
        assertTrue(refused("GET", PATH, date, header(certificate, keys, "GET", PATH, date, body), body)
                .contains("is not the current certificate"));
        assertEquals("ps-01", signatures.verify("GET", PATH, date, header(renewed, keys, "GET", PATH, date, body),
                body));
        register("ps-01", renewed, Component.REMOVED);
        assertTrue(refused("GET", PATH, date, header(renewed, keys, "GET", PATH, date, body), body)
                .contains("is not registered"));
        X509Certificate unknown = authority.issue("ps-99", keys.getPublic(), Duration.ofDays(3650));
        assertTrue(refused("GET", PATH, date, header(unknown, keys, "GET", PATH, date, body), body)
                .contains("is not registered"));
        X509Certificate expired = authority.issue("ps-01", keys.getPublic(), Duration.ofSeconds(1));
        ComponentSignatures later = new ComponentSignatures(() -> authority, id -> Optional.ofNullable(catalogue.get(id)),
                Clock.fixed(expired.getNotAfter().toInstant().plusSeconds(60), ZoneOffset.UTC));
        String lateDate = expired.getNotAfter().toInstant().plusSeconds(60).toString();
        assertTrue(assertThrows(SecurityException.class, () -> later.verify("GET", PATH, lateDate,
                header(expired, keys, "GET", PATH, lateDate, body), body)).getMessage().contains("expired"));
    }

    @Test
    void datesFarFromTheServersClockAndMalformedHeadersAreRefused() throws Exception {
        byte[] body = new byte[0];
        String old = NOW.minus(Duration.ofMinutes(6)).toString();
        assertTrue(refused("GET", PATH, old, header(certificate, keys, "GET", PATH, old, body), body)
                .contains("check the component's clock"));
        String now = NOW.toString();
        String h = header(certificate, keys, "GET", PATH, now, body);
        assertTrue(refused("GET", PATH, null, h, body).contains("X-SecondSite-Date"));
        assertTrue(refused("GET", PATH, "yesterday", h, body).contains("ISO-8601"));
        assertTrue(refused("GET", PATH, now, "Basic YWRtaW46eA==", body).contains("expected Authorization"));
        assertTrue(refused("GET", PATH, now, "SecondSite-Signature cert=\"AAAA\"", body).contains("needs both"));
        assertTrue(refused("GET", PATH, now, "SecondSite-Signature cert=\"!!\",sig=\"AA==\"", body)
                .contains("base64 DER"));
        assertTrue(refused("GET", PATH, now, "SecondSite-Signature cert=AAAA,sig=AAAA", body).contains("malformed"));
        assertTrue(refused("GET", PATH, now, "SecondSite-Signature cert=\"a\",sig=\"b\",key=\"c\"", body)
                .contains("unknown"));
    }

    @Property(tries = 300)
    void arbitraryHeadersAreRefusedWithAReasonNeverAnotherError(@ForAll @StringLength(max = 300) String params,
                                                                @ForAll @StringLength(max = 40) String date) {
        String message = assertThrows(SecurityException.class, () -> signatures.verify("POST", PATH,
                date.isEmpty() ? NOW.toString() : date, "SecondSite-Signature " + params, new byte[0])).getMessage();
        assertTrue(message != null && !message.isBlank());
    }
}
