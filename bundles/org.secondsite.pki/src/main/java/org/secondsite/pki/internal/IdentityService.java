package org.secondsite.pki.internal;

import java.io.IOException;
import java.math.BigInteger;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.secondsite.api.transport.ComponentIdentity;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.pki.KeyMaterial;
import org.secondsite.pki.SslContexts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This appliance's identity for mutual TLS. With a configured key store (issued at
 * registration) it presents that certificate; without one it creates a local authority on
 * first start, which serves an all-in-one appliance where every component shares one JVM.
 * Peers are accepted when an authority it trusts issued their certificate and their id is
 * not revoked. A configuration change replaces the component (new connections use it).
 */
@Component(service = ComponentIdentity.class, configurationPid = IdentityService.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = IdentityConfig.class)
public class IdentityService implements ComponentIdentity {
    static final String PID = "org.secondsite.identity";
    private static final Logger LOG = LoggerFactory.getLogger(IdentityService.class);

    private final String componentId;
    private final TransportSecurity security;

    @Activate
    public IdentityService(IdentityConfig config) throws IOException, GeneralSecurityException {
        KeyMaterial own;
        X509Certificate[] trusted;
        if (config.keyStore().isBlank()) {
            Path dir = Paths.get(System.getProperty("karaf.data", "data"), "secondsite", "pki");
            LocalAuthority local = LocalAuthority.loadOrCreate(dir, LocalAuthority.defaultComponentId());
            if (local.created()) {
                LOG.info("Created a local certificate authority and the certificate of component '{}' in {}",
                        local.component().commonName(), dir);
            }
            own = local.component();
            trusted = new X509Certificate[] {local.authority().certificate()};
        } else {
            Path ks = Paths.get(config.keyStore());
            own = KeyMaterial.load(ks, config.keyStorePassword().toCharArray());
            X509Certificate[] chain = own.chain();
            trusted = config.trustedAuthorities().isBlank()
                    ? new X509Certificate[] {chain[chain.length - 1]}
                    : readPem(Paths.get(config.trustedAuthorities()));
        }
        componentId = own.commonName();
        if (componentId.isEmpty()) {
            throw new GeneralSecurityException("the component certificate has no common name (CN): it cannot identify "
                    + "this component");
        }
        Set<String> revoked = Set.copyOf(List.of(config.revoked()));
        Set<BigInteger> revokedSerials = parseSerials(config.revokedSerials());
        security = new TransportSecurity(SslContexts.create(own, revokedSerials, trusted), peer -> {
            if (peer == null || peer.isEmpty()) {
                return false;
            }
            if (revoked.contains(peer)) {
                LOG.warn("Refused component '{}': its certificate is revoked", peer);
                return false;
            }
            return true;
        });
        LOG.info("Component identity '{}' ready; trusting {} authorit{}; {} revoked certificate(s)", componentId,
                trusted.length, trusted.length == 1 ? "y" : "ies", revokedSerials.size());
    }

    static Set<BigInteger> parseSerials(String[] serials) {
        Set<BigInteger> out = new HashSet<>();
        for (String s : serials) {
            String t = s.trim();
            if (t.isEmpty()) {
                continue;
            }
            try {
                out.add(new BigInteger(t, 16));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("revokedSerials: '" + t + "' is not a hexadecimal serial number", e);
            }
        }
        return Set.copyOf(out);
    }

    static X509Certificate[] readPem(Path file) throws IOException, GeneralSecurityException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        try (InputStream in = Files.newInputStream(file)) {
            X509Certificate[] certs = cf.generateCertificates(in).stream()
                    .map(X509Certificate.class::cast).toArray(X509Certificate[]::new);
            if (certs.length == 0) {
                throw new GeneralSecurityException("no certificate in " + file);
            }
            return certs;
        }
    }

    @Override
    public String componentId() {
        return componentId;
    }

    @Override
    public TransportSecurity transportSecurity() {
        return security;
    }
}
