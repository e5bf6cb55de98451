package org.secondsite.pki;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Objects;
import java.util.regex.Pattern;

import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority for one SecondSite deployment. It issues component certificates
 * (EC P-256, SHA-256 with ECDSA, usable for TLS client and server authentication) whose
 * common name is the component id. Thread-safe.
 */
public final class CertificateAuthority {
    /** Component ids: letters, digits, {@code . _ : -}, 1-64 characters. */
    private static final Pattern COMPONENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeyMaterial material;

    /** An authority backed by existing material (for example loaded from a PKCS#12 file). */
    public CertificateAuthority(KeyMaterial material) {
        this.material = Objects.requireNonNull(material, "material");
        if (material.certificate().getBasicConstraints() < 0) {
            throw new IllegalArgumentException("certificate " + material.commonName() + " is not a CA certificate");
        }
    }

    /** Creates a new self-signed authority valid for {@code validity}. */
    public static CertificateAuthority create(String name, Duration validity) throws GeneralSecurityException {
        KeyPair keys = newKeys();
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject(name), serial(),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject(name),
                keys.getPublic());
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
        } catch (CertIOException e) {
            throw new GeneralSecurityException("cannot build CA certificate", e);
        }
        X509Certificate cert = sign(b, keys);
        return new CertificateAuthority(new KeyMaterial(keys.getPrivate(), new X509Certificate[] {cert}));
    }

    /** The authority's own key and self-signed certificate (to persist it). */
    public KeyMaterial material() {
        return material;
    }

    /** The authority's certificate, which peers trust. */
    public X509Certificate certificate() {
        return material.certificate();
    }

    /**
     * Issues a certificate for a component with a new key pair.
     *
     * @throws IllegalArgumentException if {@code componentId} is not a valid component id
     */
    public KeyMaterial issue(String componentId, Duration validity) throws GeneralSecurityException {
        KeyPair keys = newKeys();
        X509Certificate cert = issue(componentId, keys.getPublic(), validity);
        return new KeyMaterial(keys.getPrivate(), new X509Certificate[] {cert, certificate()});
    }

    /**
     * Issues a certificate for a component's own public key (the key of a certificate signing
     * request: the private key never leaves the component). The caller has checked that the
     * requester holds the private key (the request's signature).
     *
     * @throws IllegalArgumentException if {@code componentId} is not a valid component id
     */
    public X509Certificate issue(String componentId, PublicKey publicKey, Duration validity)
            throws GeneralSecurityException {
        if (componentId == null || !COMPONENT_ID.matcher(componentId).matches()) {
            throw new IllegalArgumentException("component id '" + componentId
                    + "' is invalid: use 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
        }
        Objects.requireNonNull(publicKey, "publicKey");
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate(), serial(),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject(componentId),
                publicKey);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                    new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth}));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    ext.createAuthorityKeyIdentifier(certificate()));
        } catch (CertIOException e) {
            throw new GeneralSecurityException("cannot build certificate for " + componentId, e);
        }
        return sign(b, new KeyPair(certificate().getPublicKey(), material.key()));
    }

    private static org.bouncycastle.asn1.x500.X500Name subject(String cn) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "SecondSite").addRDN(BCStyle.CN, cn).build();
    }

    private static KeyPair newKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(120, RANDOM).setBit(119);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign certificate", e);
        }
    }
}
