package org.secondsite.pki;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collections;
import java.util.Objects;

import javax.security.auth.x500.X500Principal;

/**
 * A private key with its certificate chain (leaf first, issuing authority last).
 *
 * @param key the private key
 * @param chain the certificates, leaf first
 */
public record KeyMaterial(PrivateKey key, X509Certificate[] chain) {
    private static final String ALIAS = "secondsite";

    public KeyMaterial {
        Objects.requireNonNull(key, "key");
        if (chain == null || chain.length == 0) {
            throw new IllegalArgumentException("a certificate chain needs at least one certificate");
        }
        chain = chain.clone();
    }

    /** The leaf certificate. */
    public X509Certificate certificate() {
        return chain[0];
    }

    /** The leaf certificate's common name: the component id. */
    public String commonName() {
        return commonName(certificate());
    }

    @Override
    public X509Certificate[] chain() {
        return chain.clone();
    }

    /** The CN attribute of a certificate's subject, or an empty string if it has none. */
    public static String commonName(X509Certificate certificate) {
        String dn = certificate.getSubjectX500Principal().getName(X500Principal.RFC2253);
        for (String part : dn.split(",(?=(?:[^\\\\]|\\\\.)*$)")) {
            String p = part.trim();
            if (p.regionMatches(true, 0, "CN=", 0, 3)) {
                return p.substring(3).replace("\\", "");
            }
        }
        return "";
    }

    /**
     * Writes this material as a PKCS#12 file readable by its owner only, atomically
     * (temporary file, then rename).
     */
    public void save(Path file, char[] password) throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry(ALIAS, key, password, chain);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ks.store(out, password);
        OwnerOnlyFiles.write(file, out.toByteArray());
    }

    /**
     * Reads the single key entry of a PKCS#12 file.
     *
     * @throws GeneralSecurityException if the password is wrong or the file holds no key entry
     */
    public static KeyMaterial load(Path file, char[] password) throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, password);
        } catch (IOException e) {
            if (e.getCause() instanceof java.security.UnrecoverableKeyException) {
                throw new GeneralSecurityException("wrong password for key store " + file, e);
            }
            throw e;
        }
        for (String alias : Collections.list(ks.aliases())) {
            if (ks.isKeyEntry(alias)) {
                Key key = ks.getKey(alias, password);
                Certificate[] certs = ks.getCertificateChain(alias);
                if (key instanceof PrivateKey pk && certs != null && certs.length > 0) {
                    return new KeyMaterial(pk, Arrays.copyOf(certs, certs.length, X509Certificate[].class));
                }
            }
        }
        throw new GeneralSecurityException("key store " + file + " holds no private key with a certificate chain");
    }
}
