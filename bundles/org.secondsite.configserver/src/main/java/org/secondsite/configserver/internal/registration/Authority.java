package org.secondsite.configserver.internal.registration;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;

import org.secondsite.pki.CertificateAuthority;
import org.secondsite.pki.KeyMaterial;

/**
 * Loads the appliance's certificate authority from the folder the pki bundle's identity service
 * keeps it in ({@code ca.p12}, protected by the password in {@code password}; see the pki README).
 */
public final class Authority {
    /** Gives the authority when it is needed. */
    @FunctionalInterface
    public interface Source {
        CertificateAuthority get() throws IOException, GeneralSecurityException;
    }

    private Authority() {
    }

    /**
     * The authority in {@code dir}, loaded on first use and kept: the pki identity service may
     * create it after the configuration server started. Fails (and tries again next time) while
     * the files are missing.
     */
    public static Source lazy(Path dir) {
        return new Source() {
            private CertificateAuthority loaded;

            @Override
            public synchronized CertificateAuthority get() throws IOException, GeneralSecurityException {
                if (loaded == null) {
                    loaded = load(dir);
                }
                return loaded;
            }
        };
    }

    public static CertificateAuthority load(Path dir) throws IOException, GeneralSecurityException {
        Path ca = dir.resolve("ca.p12");
        Path pw = dir.resolve("password");
        if (!Files.isRegularFile(ca) || !Files.isRegularFile(pw)) {
            throw new IOException("no certificate authority in " + dir + " (expected ca.p12 and password, created by "
                    + "the identity service of org.secondsite.pki on first start when it has no key store configured)");
        }
        char[] password = Files.readString(pw, StandardCharsets.US_ASCII).trim().toCharArray();
        return new CertificateAuthority(KeyMaterial.load(ca, password));
    }
}
