package org.secondsite.link.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.secondsite.pki.CertificateAuthority;
import org.secondsite.pki.KeyMaterial;

class SignerTest {
    private static final Pattern HEADER = Pattern.compile("SecondSite-Signature cert=\"([^\"]+)\",sig=\"([^\"]+)\"");

    @Test
    void theCanonicalStringIsTheContractsOne() {
        byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
        assertEquals("POST\n/api/v1/heartbeats\n2026-11-27T21:00:00Z\n"
                        + "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                Signer.canonical("post", "/api/v1/heartbeats", "2026-11-27T21:00:00Z", body));
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Signer.sha256Hex(new byte[0]), "an empty body (GET) hashes to SHA-256 of nothing");
    }

    @Test
    void theSignatureVerifiesWithTheCertificatesKeyOverExactlyTheCanonicalString() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("test", Duration.ofDays(1));
        KeyMaterial km = ca.issue("ps-01", Duration.ofDays(1));
        Signer signer = new Signer(km.key(), km.certificate());
        byte[] body = "{\"componentId\":\"ps-01\"}".getBytes(StandardCharsets.UTF_8);
        String date = "2026-11-27T21:00:00Z";
        String header = signer.authorization("POST", "/api/v1/heartbeats?x=1", date, body);

        Matcher m = HEADER.matcher(header);
        assertTrue(m.matches(), header);
        X509Certificate cert = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(Base64.getDecoder().decode(m.group(1))));
        assertEquals(km.certificate(), cert, "the certificate travels as base64 DER");
        byte[] sig = Base64.getDecoder().decode(m.group(2));

        String canonical = "POST\n/api/v1/heartbeats?x=1\n" + date + "\n" + Signer.sha256Hex(body);
        assertTrue(verify(cert, canonical, sig));
        assertFalse(verify(cert, canonical.replace("x=1", "x=2"), sig), "another query");
        assertFalse(verify(cert, canonical.replace(date, "2026-11-27T21:00:01Z"), sig), "another date");
        assertFalse(verify(cert, "POST\n/api/v1/heartbeats?x=1\n" + date + "\n" + Signer.sha256Hex(
                "{\"componentId\":\"ps-02\"}".getBytes(StandardCharsets.UTF_8)), sig), "another body");
    }

    @Test
    void rsaKeysSignWithSha256WithRsaAndOtherKeysAreRefused() throws Exception {
        assertEquals("SHA256withRSA", Signer.algorithm("RSA"));
        assertEquals("SHA256withECDSA", Signer.algorithm("EC"));
        KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
        var keys = g.generateKeyPair();
        KeyMaterial km = CertificateAuthority.create("t", Duration.ofDays(1)).issue("x", Duration.ofDays(1));
        GeneralSecurityException e = assertThrows(GeneralSecurityException.class,
                () -> new Signer(keys.getPrivate(), km.certificate()));
        assertTrue(e.getMessage().contains("EC or RSA"), e.getMessage());
    }

    private static boolean verify(X509Certificate cert, String canonical, byte[] sig) throws Exception {
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initVerify(cert.getPublicKey());
        s.update(canonical.getBytes(StandardCharsets.UTF_8));
        return s.verify(sig);
    }
}
