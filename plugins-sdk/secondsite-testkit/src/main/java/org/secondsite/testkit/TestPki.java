package org.secondsite.testkit;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.secondsite.api.transport.TransportSecurity;

/**
 * A throw-away certificate authority for tests: issues EC P-256 component certificates
 * (client and server usage, identified by their CN) and builds {@link SSLContext}s and
 * {@link TransportSecurity} from them. Needs {@code org.bouncycastle:bcpkix-jdk18on} on the
 * test class path. Written to be reusable by other modules' tests.
 */
public final class TestPki {

    private static final char[] PASSWORD = "test".toCharArray();
    private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());

    private final KeyPair caKeys;
    private final X509Certificate caCert;

    private TestPki(KeyPair caKeys, X509Certificate caCert) {
        this.caKeys = caKeys;
        this.caCert = caCert;
    }

    /** A new self-signed CA with the given common name. */
    public static TestPki newCa(String commonName) throws GeneralSecurityException {
        KeyPair keys = ecKeys();
        X500Name name = new X500Name("CN=" + commonName + ",O=SecondSite Test");
        Instant now = Instant.now();
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), name,
                    keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
            return new TestPki(keys, sign(builder, keys));
        } catch (Exception e) {
            throw new GeneralSecurityException("cannot create test CA " + commonName, e);
        }
    }

    public X509Certificate caCertificate() {
        return caCert;
    }

    /** Issues a component certificate and returns its key and chain. */
    public Issued issue(String commonName) throws GeneralSecurityException {
        KeyPair keys = ecKeys();
        Instant now = Instant.now();
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(caCert, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))),
                    new X500Name("CN=" + commonName + ",O=SecondSite Test"), keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                    new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth}));
            return new Issued(keys, new X509Certificate[] {sign(builder, caKeys), caCert});
        } catch (Exception e) {
            throw new GeneralSecurityException("cannot issue test certificate " + commonName, e);
        }
    }

    /** An SSLContext holding a freshly issued certificate for {@code commonName} and trusting this CA. */
    public SSLContext sslContext(String commonName) throws GeneralSecurityException {
        return sslContext(issue(commonName), this);
    }

    /** {@link TransportSecurity} for {@code commonName}, trusting this CA, with the given peer check. */
    public TransportSecurity security(String commonName, Predicate<String> peerCheck)
            throws GeneralSecurityException {
        return new TransportSecurity(sslContext(commonName), peerCheck);
    }

    /** An SSLContext presenting {@code own} and trusting the CAs of {@code trusted}. */
    public static SSLContext sslContext(Issued own, TestPki... trusted) throws GeneralSecurityException {
        try {
            KeyStore keyStore = KeyStore.getInstance("PKCS12");
            keyStore.load(null, null);
            keyStore.setKeyEntry("component", own.keys().getPrivate(), PASSWORD, own.chain());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keyStore, PASSWORD);

            KeyStore trustStore = KeyStore.getInstance("PKCS12");
            trustStore.load(null, null);
            for (int i = 0; i < trusted.length; i++) {
                trustStore.setCertificateEntry("ca" + i, trusted[i].caCert);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStore);

            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
            return context;
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException(e);
        }
    }

    /** A private key with its certificate chain (leaf first). */
    public record Issued(KeyPair keys, X509Certificate[] chain) {
    }

    private static KeyPair ecKeys() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) throws Exception {
        ContentSigner contentSigner = new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate());
        return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
    }
}
