package org.secondsite.link.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;

import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.secondsite.pki.KeyMaterial;
import org.secondsite.pki.OwnerOnlyFiles;

/**
 * The component's key material in its state folder: {@value #KEY_STORE} (PKCS#12, private key and
 * certificate chain), {@value #PASSWORD} (the key store's random password) and
 * {@value #AUTHORITY} (the configuration server's authority, trusted for the data path), all mode
 * 0600. Also makes the key pair and certificate signing request of a registration and checks the
 * certificate the configuration server returns.
 */
public final class Credentials {
    public static final String KEY_STORE = "component.p12";
    public static final String PASSWORD = "component.p12.password";
    public static final String AUTHORITY = "authority.pem";
    /** Largest PEM text accepted from the configuration server. */
    static final int MAX_PEM_CHARS = 16 * 1024;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Credentials() {
    }

    /** A new EC P-256 key pair. */
    public static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    /** A PKCS#10 request in PEM for {@code keys} with subject {@code CN=componentId}, signed by its private key. */
    public static String csrPem(KeyPair keys, String componentId) throws GeneralSecurityException {
        try {
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(
                    new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, componentId).build(), keys.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
            StringWriter out = new StringWriter();
            try (JcaPEMWriter w = new JcaPEMWriter(out)) {
                w.writeObject(csr);
            }
            return out.toString();
        } catch (OperatorCreationException | IOException e) {
            throw new GeneralSecurityException("cannot build the certificate signing request: " + e.getMessage(), e);
        }
    }

    /**
     * Checks what the configuration server issued: a certificate for our public key with common
     * name {@code componentId}, signed by {@code authority}, which is a CA certificate.
     *
     * @return the key material: our private key, the certificate and the authority
     * @throws GeneralSecurityException saying what does not match
     */
    public static KeyMaterial issued(KeyPair keys, String componentId, String certificatePem, String authorityPem)
            throws GeneralSecurityException {
        X509Certificate cert = single(certificatePem, "certificate");
        X509Certificate authority = single(authorityPem, "authority");
        if (!cert.getPublicKey().equals(keys.getPublic())) {
            throw new GeneralSecurityException("the issued certificate is not for the key this component sent");
        }
        String cn = KeyMaterial.commonName(cert);
        if (!cn.equals(componentId)) {
            throw new GeneralSecurityException("the issued certificate's common name '" + cn + "' is not the "
                    + "componentId '" + componentId + "'");
        }
        if (authority.getBasicConstraints() < 0) {
            throw new GeneralSecurityException("the authority returned is not a CA certificate");
        }
        try {
            cert.verify(authority.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new GeneralSecurityException("the issued certificate was not signed by the authority returned: "
                    + e.getMessage(), e);
        }
        cert.checkValidity();
        return new KeyMaterial(keys.getPrivate(), new X509Certificate[] {cert, authority});
    }

    /** Parses PEM certificates. */
    static List<X509Certificate> certificates(String pem, String what) throws GeneralSecurityException {
        if (pem == null || pem.isBlank()) {
            throw new GeneralSecurityException(what + " is missing");
        }
        if (pem.length() > MAX_PEM_CHARS) {
            throw new GeneralSecurityException(what + " is longer than " + MAX_PEM_CHARS + " characters");
        }
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        return cf.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))).stream()
                .map(X509Certificate.class::cast).toList();
    }

    private static X509Certificate single(String pem, String what) throws GeneralSecurityException {
        List<X509Certificate> certs = certificates(pem, what);
        if (certs.size() != 1) {
            throw new GeneralSecurityException(what + ": expected one PEM certificate, found " + certs.size());
        }
        return certs.get(0);
    }

    /**
     * Writes the key store with a new random password, the password file and the authority PEM.
     *
     * @return the password
     */
    public static String save(Path dir, KeyMaterial material, String authorityPem)
            throws IOException, GeneralSecurityException {
        OwnerOnlyFiles.createDirectory(dir);
        byte[] raw = new byte[24];
        RANDOM.nextBytes(raw);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        OwnerOnlyFiles.write(dir.resolve(PASSWORD), password.getBytes(StandardCharsets.US_ASCII));
        OwnerOnlyFiles.write(dir.resolve(AUTHORITY), authorityPem.getBytes(StandardCharsets.US_ASCII));
        material.save(dir.resolve(KEY_STORE), password.toCharArray());
        return password;
    }

    /** Whether the key store and its password file exist in {@code dir}. */
    public static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(KEY_STORE)) && Files.isRegularFile(dir.resolve(PASSWORD))
                && Files.isRegularFile(dir.resolve(AUTHORITY));
    }

    /** The key store's password. */
    public static String password(Path dir) throws IOException {
        return Files.readString(dir.resolve(PASSWORD), StandardCharsets.US_ASCII).trim();
    }

    /** Loads the key material of {@code dir}. */
    public static KeyMaterial load(Path dir) throws IOException, GeneralSecurityException {
        return KeyMaterial.load(dir.resolve(KEY_STORE), password(dir).toCharArray());
    }
}
