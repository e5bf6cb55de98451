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
    private Authority() {
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
