package org.secondsite.configserver.internal.registration;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.Optional;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

import org.secondsite.configserver.internal.catalogue.Component;
import org.secondsite.configserver.internal.catalogue.ComponentStore;

/**
 * Verifies requests signed by registered components ({@code docs/PROTOCOL.md} §8): the certificate
 * in the header must be issued by this server's authority, valid now, its common name a component
 * registered now with exactly that certificate's serial (a removed component, or an older
 * certificate of a re-registered one, is refused), the date within {@link #MAX_SKEW} of this server's
 * clock, and the signature over {@link #canonical} must verify with the certificate's key.
 * Refusals are {@link SecurityException}s that say why, without echoing secrets.
 */
public final class ComponentSignatures {
    public static final String SCHEME = "SecondSite-Signature";
    /** How far the signer's date may be from this server's clock (replays are possible only inside it). */
    public static final Duration MAX_SKEW = Duration.ofMinutes(5);
    /** A base64 DER certificate of a component is about 700 characters; nothing legitimate is near this. */
    static final int MAX_PARAMETER_CHARS = 8192;

    /** A catalogue read that may fail. */
    @FunctionalInterface
    public interface Components {
        Optional<Component> find(String id) throws SQLException;
    }

    private final Authority.Source authority;
    private final Components components;
    private final Clock clock;

    public ComponentSignatures(Authority.Source authority, ComponentStore components, Clock clock) {
        this(authority, components::find, clock);
    }

    ComponentSignatures(Authority.Source authority, Components components, Clock clock) {
        this.authority = authority;
        this.components = components;
        this.clock = clock;
    }

    /** The bytes a component signs: method, raw path and query, date and the body's SHA-256, one per line. */
    public static byte[] canonical(String method, String rawPathAndQuery, String date, byte[] body) {
        try {
            String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
            return (method + "\n" + rawPathAndQuery + "\n" + date + "\n" + digest).getBytes(StandardCharsets.UTF_8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is missing", e);
        }
    }

    /** The signature algorithm for a key: ECDSA or RSA with SHA-256. */
    public static String algorithm(PublicKey key) {
        return key instanceof ECPublicKey ? "SHA256withECDSA" : "SHA256withRSA";
    }

    /**
     * @return the id of the component that signed
     * @throws SecurityException why the request is refused
     */
    public String verify(String method, String rawPathAndQuery, String date, String authorization, byte[] body) {
        if (authorization == null || !authorization.startsWith(SCHEME + " ")) {
            throw new SecurityException("expected Authorization: " + SCHEME + " cert=\"...\",sig=\"...\"");
        }
        String cert = null;
        String sig = null;
        for (String part : authorization.substring(SCHEME.length() + 1).split(",", 3)) {
            String p = part.trim();
            int eq = p.indexOf('=');
            if (eq < 0 || p.length() < eq + 3 || p.charAt(eq + 1) != '"' || !p.endsWith("\"")) {
                throw new SecurityException("malformed " + SCHEME + " parameter: expected name=\"value\"");
            }
            String name = p.substring(0, eq);
            String value = p.substring(eq + 2, p.length() - 1);
            if (value.length() > MAX_PARAMETER_CHARS) {
                throw new SecurityException(SCHEME + " parameter '" + name + "' is too long");
            }
            switch (name) {
                case "cert" -> cert = value;
                case "sig" -> sig = value;
                default -> throw new SecurityException("unknown " + SCHEME + " parameter '" + name + "'");
            }
        }
        if (cert == null || sig == null) {
            throw new SecurityException(SCHEME + " needs both cert and sig");
        }
        Instant now = clock.instant();
        if (date == null) {
            throw new SecurityException("a signed request needs the X-SecondSite-Date header");
        }
        Instant signedAt;
        try {
            signedAt = Instant.parse(date);
        } catch (DateTimeParseException e) {
            throw new SecurityException("X-SecondSite-Date is not an ISO-8601 instant");
        }
        if (Duration.between(signedAt, now).abs().compareTo(MAX_SKEW) > 0) {
            throw new SecurityException("X-SecondSite-Date " + signedAt + " is more than " + MAX_SKEW.toMinutes()
                    + " min from the server's clock (" + now + "); check the component's clock");
        }
        X509Certificate certificate;
        byte[] signature;
        try {
            Base64.Decoder b64 = Base64.getDecoder();
            certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(b64.decode(cert)));
            signature = b64.decode(sig);
        } catch (IllegalArgumentException | CertificateException | ClassCastException e) {
            throw new SecurityException("the certificate or signature is not valid base64 DER");
        }
        try {
            certificate.verify(authority.get().certificate().getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new SecurityException("the certificate was not issued by this configuration server");
        } catch (IOException e) {
            throw new SecurityException("this configuration server has no certificate authority yet");
        }
        try {
            certificate.checkValidity(Date.from(now));
        } catch (CertificateException e) {
            throw new SecurityException("the certificate has expired or is not yet valid (valid "
                    + certificate.getNotBefore().toInstant() + " to " + certificate.getNotAfter().toInstant() + ")");
        }
        String id = commonName(certificate);
        Component component;
        try {
            component = components.find(id).orElse(null);
        } catch (SQLException e) {
            throw new SecurityException("the catalogue cannot be read to check component '" + id + "'");
        }
        String serial = certificate.getSerialNumber().toString(16);
        if (component == null || !Component.REGISTERED.equals(component.state())) {
            throw new SecurityException("component '" + id + "' is not registered (removed components are refused)");
        }
        if (!serial.equalsIgnoreCase(component.certificateSerial())) {
            throw new SecurityException("certificate " + serial + " is not the current certificate of component '"
                    + id + "'");
        }
        try {
            Signature verifier = Signature.getInstance(algorithm(certificate.getPublicKey()));
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(canonical(method, rawPathAndQuery, date, body));
            if (!verifier.verify(signature)) {
                throw new SecurityException("the signature does not match the request");
            }
        } catch (GeneralSecurityException e) {
            throw new SecurityException("the signature does not match the request");
        }
        return id;
    }

    private static String commonName(X509Certificate certificate) {
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if ("CN".equalsIgnoreCase(rdn.getType())) {
                    return String.valueOf(rdn.getValue());
                }
            }
        } catch (InvalidNameException e) {
            throw new SecurityException("the certificate's subject cannot be read");
        }
        throw new SecurityException("the certificate has no common name");
    }
}
