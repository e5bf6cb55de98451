package org.secondsite.link.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/**
 * Signs requests to the configuration server as the contract's §2 says: the signature covers
 * {@code METHOD \n rawPathAndQuery \n date \n hex(SHA-256(body))} and travels, with the
 * certificate, in {@code Authorization: SecondSite-Signature cert="...",sig="..."}. Thread-safe.
 */
public final class Signer {
    /** Header carrying the date the signature covers. */
    public static final String DATE_HEADER = "X-SecondSite-Date";
    /** Scheme of the Authorization header. */
    public static final String SCHEME = "SecondSite-Signature";

    private final PrivateKey key;
    private final String algorithm;
    private final String certificateBase64;

    /**
     * @param key the component's private key (EC or RSA)
     * @param certificate the certificate of that key, sent with every signature
     * @throws GeneralSecurityException if the key is neither EC nor RSA or the certificate cannot be encoded
     */
    public Signer(PrivateKey key, X509Certificate certificate) throws GeneralSecurityException {
        this.key = Objects.requireNonNull(key, "key");
        this.algorithm = algorithm(key.getAlgorithm());
        this.certificateBase64 = Base64.getEncoder().encodeToString(certificate.getEncoded());
    }

    /** The JCA signature algorithm for a key algorithm: SHA256withECDSA for EC, SHA256withRSA for RSA. */
    public static String algorithm(String keyAlgorithm) throws GeneralSecurityException {
        switch (keyAlgorithm) {
            case "EC":
                return "SHA256withECDSA";
            case "RSA":
                return "SHA256withRSA";
            default:
                throw new GeneralSecurityException("cannot sign requests with a " + keyAlgorithm
                        + " key: expected an EC or RSA key");
        }
    }

    /**
     * The string the signature covers.
     *
     * @param method the HTTP method (upper-cased here)
     * @param rawPathAndQuery the request URI's raw path, plus {@code ?query} if any
     * @param date the value of {@value #DATE_HEADER}
     * @param body the exact bytes sent (empty for GET)
     */
    public static String canonical(String method, String rawPathAndQuery, String date, byte[] body) {
        return method.toUpperCase(Locale.ROOT) + "\n" + rawPathAndQuery + "\n" + date + "\n" + sha256Hex(body);
    }

    /** Lower-case hexadecimal SHA-256 of {@code body}. */
    public static String sha256Hex(byte[] body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** The signature (raw bytes) over {@link #canonical}. */
    public byte[] signature(String method, String rawPathAndQuery, String date, byte[] body)
            throws GeneralSecurityException {
        Signature s = Signature.getInstance(algorithm);
        s.initSign(key);
        s.update(canonical(method, rawPathAndQuery, date, body).getBytes(StandardCharsets.UTF_8));
        return s.sign();
    }

    /** The value of the Authorization header for one request. */
    public String authorization(String method, String rawPathAndQuery, String date, byte[] body)
            throws GeneralSecurityException {
        return SCHEME + " cert=\"" + certificateBase64 + "\",sig=\""
                + Base64.getEncoder().encodeToString(signature(method, rawPathAndQuery, date, body)) + "\"";
    }
}
