package org.secondsite.pki.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;

import org.secondsite.pki.CertificateAuthority;
import org.secondsite.pki.KeyMaterial;
import org.secondsite.pki.OwnerOnlyFiles;

/**
 * The authority of a stand-alone appliance: created on first start in a directory, then
 * loaded from it. Holds {@code ca.p12}, {@code component.p12} and the random password that
 * protects both ({@code password}, readable by the owner only).
 */
final class LocalAuthority {
    static final Duration CA_VALIDITY = Duration.ofDays(3650);
    static final Duration COMPONENT_VALIDITY = Duration.ofDays(730);

    private final CertificateAuthority authority;
    private final KeyMaterial component;
    private final boolean created;

    private LocalAuthority(CertificateAuthority authority, KeyMaterial component, boolean created) {
        this.authority = authority;
        this.component = component;
        this.created = created;
    }

    static LocalAuthority loadOrCreate(Path dir, String componentId) throws IOException, GeneralSecurityException {
        Path ca = dir.resolve("ca.p12");
        Path own = dir.resolve("component.p12");
        Path pw = dir.resolve("password");
        if (Files.exists(ca) && Files.exists(own) && Files.exists(pw)) {
            char[] password = Files.readString(pw, StandardCharsets.US_ASCII).trim().toCharArray();
            return new LocalAuthority(new CertificateAuthority(KeyMaterial.load(ca, password)),
                    KeyMaterial.load(own, password), false);
        }
        Files.createDirectories(dir);
        byte[] secret = new byte[24];
        new SecureRandom().nextBytes(secret);
        char[] password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret).toCharArray();
        OwnerOnlyFiles.write(pw, (new String(password) + "\n").getBytes(StandardCharsets.US_ASCII));
        CertificateAuthority authority = CertificateAuthority.create("SecondSite local authority " + componentId,
                CA_VALIDITY);
        KeyMaterial component = authority.issue(componentId, COMPONENT_VALIDITY);
        authority.material().save(ca, password);
        component.save(own, password);
        return new LocalAuthority(authority, component, true);
    }

    CertificateAuthority authority() {
        return authority;
    }

    KeyMaterial component() {
        return component;
    }

    boolean created() {
        return created;
    }

    /** A component id from the host name: lowercase, invalid characters replaced by '-'. */
    static String defaultComponentId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "appliance";
        }
        String id = host.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._:-]", "-").replaceAll("^[^a-z0-9]+", "");
        if (id.isEmpty()) {
            id = "appliance";
        }
        return id.length() > 64 ? id.substring(0, 64) : id;
    }
}
