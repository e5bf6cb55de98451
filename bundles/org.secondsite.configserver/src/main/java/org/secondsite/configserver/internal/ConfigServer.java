package org.secondsite.configserver.internal;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import org.secondsite.configserver.internal.catalogue.AuditLog;
import org.secondsite.configserver.internal.catalogue.Catalogue;
import org.secondsite.configserver.internal.catalogue.Component;
import org.secondsite.configserver.internal.catalogue.ComponentStore;
import org.secondsite.configserver.internal.catalogue.Policy;
import org.secondsite.configserver.internal.catalogue.PolicyStore;
import org.secondsite.configserver.internal.registration.Authority;
import org.secondsite.configserver.internal.registration.Csr;
import org.secondsite.configserver.internal.registration.FailureLimiter;
import org.secondsite.configserver.internal.registration.Passphrase;
import org.secondsite.configserver.internal.registration.Registered;
import org.secondsite.configserver.internal.registration.RegistrationRequest;
import org.secondsite.pki.CertificateAuthority;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configuration server's operations, with the same meaning for REST and the shell: each
 * mutating call is written to the audit log with its actor and outcome, refused ones included.
 * Plain Java: the OSGi component builds one from its configuration.
 */
public final class ConfigServer {
    /** Roles a component may register with. */
    public static final Set<String> COMPONENT_ROLES = Set.of("agent", "process-server", "master-target");
    private static final Logger LOG = LoggerFactory.getLogger(ConfigServer.class);

    /** An action that may throw what the catalogue and the authority throw. */
    @FunctionalInterface
    private interface Action<T> {
        T run() throws SQLException, GeneralSecurityException, IOException;
    }

    private final ComponentStore components;
    private final PolicyStore policies;
    private final AuditLog audit;
    private final Passphrase passphrase;
    private final FailureLimiter limiter;
    private final Authority.Source authority;
    private final Duration certificateValidity;
    private final RevocationSink revocations;
    private final Clock clock;

    public ConfigServer(Catalogue catalogue, Passphrase passphrase, FailureLimiter limiter,
                        Authority.Source authority, Duration certificateValidity, RevocationSink revocations,
                        Clock clock) {
        this.components = new ComponentStore(catalogue);
        this.policies = new PolicyStore(catalogue);
        this.audit = new AuditLog(catalogue);
        this.passphrase = passphrase;
        this.limiter = limiter;
        this.authority = authority;
        this.certificateValidity = certificateValidity;
        this.revocations = revocations;
        this.clock = clock;
    }

    // ---- components

    public Page<Component> components(int offset, int limit) throws SQLException {
        return components.list(offset, limit);
    }

    public Component component(String id) throws SQLException {
        return components.find(id).orElseThrow(() -> ConfigServerException.notFound("no component '" + id + "'"));
    }

    /**
     * Removes a component: marks it removed and revokes its certificate, then hands every revoked
     * serial to the revocation sink so that TLS refuses it.
     */
    public Component removeComponent(String id, String actor) throws SQLException {
        return audited(actor, "component.remove", id, () -> {
            Component before = components.remove(id, clock.instant());
            pushRevocations();
            return before;
        });
    }

    /** Hands the catalogue's revoked serials to the sink (also at start, so the two agree). */
    public void pushRevocations() throws SQLException {
        List<String> serials = components.revokedSerials();
        try {
            revocations.revoked(serials);
        } catch (Exception e) {
            LOG.error("Cannot hand {} revoked certificate serial(s) to the component identity; revoked components may "
                    + "still connect until this succeeds", serials.size(), e);
        }
    }

    // ---- policies

    public Page<Policy> policies(int offset, int limit) throws SQLException {
        return policies.list(offset, limit);
    }

    public Policy policy(String id) throws SQLException {
        return policies.find(id).orElseThrow(() -> ConfigServerException.notFound("no policy '" + id + "'"));
    }

    public Policy createPolicy(Policy policy, String actor) throws SQLException {
        return audited(actor, "policy.create", policy.id(), () -> policies.create(policy, clock.instant()));
    }

    public Policy updatePolicy(Policy policy, String actor) throws SQLException {
        return audited(actor, "policy.update", policy.id(), () -> policies.update(policy, clock.instant()));
    }

    public void deletePolicy(String id, String actor) throws SQLException {
        audited(actor, "policy.delete", id, () -> {
            policies.delete(id);
            return null;
        });
    }

    // ---- passphrase and registration

    /** The registration passphrase (the caller checked the admin role; the reveal is audited). */
    public String revealPassphrase(String actor) throws SQLException {
        return audited(actor, "passphrase.show", "registration passphrase", passphrase::reveal);
    }

    /** A new registration passphrase; registered components keep their certificates. */
    public String rotatePassphrase(String actor) throws SQLException {
        return audited(actor, "passphrase.rotate", "registration passphrase", () -> {
            passphrase.rotate();
            LOG.info("Registration passphrase rotated by {}", actor);
            return passphrase.reveal();
        });
    }

    /**
     * Registers a component: checks the client's failure budget (429), the passphrase in constant
     * time (403), the fields and the CSR (400), signs the CSR's key with the authority and records
     * the component (409 if the id is registered now).
     */
    public Registered register(RegistrationRequest r, String clientAddress) throws SQLException {
        String actor = "component:" + (r.componentId() == null ? "?" : r.componentId()) + "@" + clientAddress;
        return audited(actor, "registration", r.componentId() == null ? "" : r.componentId(), () -> {
            if (r.passphrase() == null || r.passphrase().isEmpty()) {
                throw ConfigServerException.invalid("passphrase", "passphrase is required");
            }
            long wait = limiter.retryAfterSeconds(clientAddress);
            if (wait > 0) {
                throw ConfigServerException.tooManyRequests("too many failed registrations from " + clientAddress
                        + "; try again in " + wait + " s", wait);
            }
            if (!passphrase.matches(r.passphrase())) {
                limiter.failed(clientAddress);
                throw ConfigServerException.forbidden("wrong registration passphrase");
            }
            limiter.succeeded(clientAddress);
            if (r.componentId() == null || !Policy.ID.matcher(r.componentId()).matches()) {
                throw ConfigServerException.invalid("componentId", "componentId '" + r.componentId() + "' is invalid: "
                        + "use 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
            }
            if (r.role() == null || !COMPONENT_ROLES.contains(r.role())) {
                throw ConfigServerException.invalid("role", "role '" + r.role() + "' is invalid: expected agent, "
                        + "process-server or master-target");
            }
            if (r.site() != null && !Policy.ID.matcher(r.site()).matches()) {
                throw ConfigServerException.invalid("site", "site '" + r.site() + "' is invalid: use 1-64 letters, "
                        + "digits, '.', '_', ':' or '-'");
            }
            PublicKey key = Csr.verifiedKey(r.csr(), r.componentId());
            Instant now = clock.instant();
            // Refuse a registered id before signing anything; the store checks again atomically.
            components.find(r.componentId()).filter(c -> Component.REGISTERED.equals(c.state())).ifPresent(c -> {
                throw ConfigServerException.conflict("component '" + c.id() + "' is already registered; an "
                        + "administrator must remove it (dr:component-remove) before it registers again");
            });
            CertificateAuthority ca;
            try {
                ca = authority.get();
            } catch (IOException e) {
                throw ConfigServerException.unavailable("the configuration server has no certificate authority yet: "
                        + e.getMessage());
            }
            X509Certificate cert = ca.issue(r.componentId(), key, certificateValidity);
            String serial = cert.getSerialNumber().toString(16);
            try {
                components.register(new Component(r.componentId(), r.role(), r.site(), clientAddress, serial,
                        cert.getNotAfter().toInstant(), Component.REGISTERED, now, null, null, null));
            } catch (SQLException | RuntimeException e) {
                // Signed but not recorded (a concurrent registration of the same id): never let it be used.
                components.revokeUnrecorded(serial, r.componentId(), now);
                pushRevocations();
                throw e;
            }
            LOG.info("Registered {} '{}' from {} (certificate serial {})", r.role(), r.componentId(), clientAddress,
                    serial);
            return new Registered(r.componentId(), Csr.pem(cert), Csr.pem(ca.certificate()), serial,
                    cert.getNotAfter().toInstant().toString());
        });
    }

    public List<AuditLog.Entry> recentAudit(int limit) throws SQLException {
        return audit.recent(limit);
    }

    private <T> T audited(String actor, String action, String target, Action<T> body) throws SQLException {
        T result;
        try {
            result = body.run();
        } catch (ConfigServerException e) {
            audit.record(clock.instant(), actor, action, target, "refused: " + e.getMessage());
            throw e;
        } catch (SQLException | GeneralSecurityException | IOException | RuntimeException e) {
            try {
                audit.record(clock.instant(), actor, action, target, "failed: " + e);
            } catch (SQLException auditFailed) {
                e.addSuppressed(auditFailed);
            }
            if (e instanceof SQLException s) {
                throw s;
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(action + " failed: " + e.getMessage(), e);
        }
        audit.record(clock.instant(), actor, action, target, "ok");
        return result;
    }
}
