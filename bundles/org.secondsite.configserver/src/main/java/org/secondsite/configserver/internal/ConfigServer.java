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
import java.util.regex.Pattern;

import org.secondsite.configserver.internal.catalogue.AuditLog;
import org.secondsite.configserver.internal.catalogue.Catalogue;
import org.secondsite.configserver.internal.catalogue.Component;
import org.secondsite.configserver.internal.catalogue.ComponentStore;
import org.secondsite.configserver.internal.catalogue.Event;
import org.secondsite.configserver.internal.catalogue.EventStore;
import org.secondsite.configserver.internal.catalogue.HealthStore;
import org.secondsite.configserver.internal.catalogue.Heartbeat;
import org.secondsite.configserver.internal.catalogue.Policy;
import org.secondsite.configserver.internal.catalogue.PolicyStore;
import org.secondsite.configserver.internal.health.AlertThresholds;
import org.secondsite.configserver.internal.health.Alerts;
import org.secondsite.configserver.internal.protection.Job;
import org.secondsite.configserver.internal.protection.Machine;
import org.secondsite.configserver.internal.protection.MirroredPoint;
import org.secondsite.configserver.internal.protection.ProtectRequest;
import org.secondsite.configserver.internal.protection.Protection;
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
    /** How long events (and cleared alerts) are kept by default. */
    public static final Duration DEFAULT_EVENT_RETENTION = Duration.ofDays(90);
    private static final Logger LOG = LoggerFactory.getLogger(ConfigServer.class);
    /** A data address: host name, IPv4 or bracketed IPv6, and a port. */
    static final Pattern ADDRESS = Pattern.compile("(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\\[[0-9A-Fa-f:.]{2,45}\\])"
            + ":(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d{2}|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3})");
    /** How long a job step waits for a component to apply its desired state, by default. */
    public static final Duration DEFAULT_APPLY_TIMEOUT = Duration.ofMinutes(30);

    /** An action that may throw what the catalogue and the authority throw. */
    @FunctionalInterface
    private interface Action<T> {
        T run() throws SQLException, GeneralSecurityException, IOException;
    }

    private final ComponentStore components;
    private final PolicyStore policies;
    private final AuditLog audit;
    private final HealthStore health;
    private final EventStore events;
    private final Alerts alerts;
    private final Passphrase passphrase;
    private final FailureLimiter limiter;
    private final Authority.Source authority;
    private final Duration certificateValidity;
    private final RevocationSink revocations;
    private final Clock clock;
    private final Protection protection;

    public ConfigServer(Catalogue catalogue, Passphrase passphrase, FailureLimiter limiter,
                        Authority.Source authority, Duration certificateValidity, RevocationSink revocations,
                        Clock clock) {
        this(catalogue, passphrase, limiter, authority, certificateValidity, revocations, clock,
                AlertThresholds.DEFAULTS, DEFAULT_EVENT_RETENTION, DEFAULT_APPLY_TIMEOUT);
    }

    public ConfigServer(Catalogue catalogue, Passphrase passphrase, FailureLimiter limiter,
                        Authority.Source authority, Duration certificateValidity, RevocationSink revocations,
                        Clock clock, AlertThresholds thresholds, Duration eventRetention, Duration applyTimeout) {
        this.components = new ComponentStore(catalogue);
        this.health = new HealthStore(catalogue);
        this.events = new EventStore(catalogue);
        this.alerts = new Alerts(events, health, thresholds, eventRetention, clock);
        this.policies = new PolicyStore(catalogue);
        this.audit = new AuditLog(catalogue);
        this.passphrase = passphrase;
        this.limiter = limiter;
        this.authority = authority;
        this.certificateValidity = certificateValidity;
        this.revocations = revocations;
        this.clock = clock;
        this.protection = new Protection(catalogue, clock, applyTimeout);
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

    /** Replaces a policy and raises the desired state of the components replicating machines under it. */
    public Policy updatePolicy(Policy policy, String actor) throws SQLException {
        return audited(actor, "policy.update", policy.id(), () -> {
            Policy updated = policies.update(policy, clock.instant());
            List<String> pushed = protection.policyChanged(policy.id());
            if (!pushed.isEmpty()) {
                LOG.info("Policy '{}' changed by {}: pushed to {}", policy.id(), actor, pushed);
            }
            return updated;
        });
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
            if (r.address() != null && !ADDRESS.matcher(r.address()).matches()) {
                throw ConfigServerException.invalid("address", "address '" + r.address() + "' is invalid: expected "
                        + "host:port (a host name, IPv4 address or [IPv6] address, and a port 1-65535)");
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
                components.register(new Component(r.componentId(), r.role(), r.site(),
                        r.address() == null ? clientAddress : r.address(), serial,
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

    /** The audit log newest first, only {@code user}'s entries when it is not null. */
    public Page<AuditLog.Entry> audit(String user, int offset, int limit) throws SQLException {
        return audit.page(user == null || user.isEmpty() ? null : user, offset, limit);
    }

    // ---- health, alerts, events

    /**
     * Stores a component's heartbeat (validated against this server's clock): its last-seen time and
     * its latest figures, overwriting the previous ones. Heartbeats are telemetry, not changes made by
     * someone: they are not written to the audit log (1,000 agents every 10 s would add 8.6 million
     * rows a day).
     *
     * @return whether the figures were stored (false: a heartbeat with a later time is stored already)
     * @throws ConfigServerException (invalid) naming the bad field, (not found) for an unknown or
     *         removed component
     */
    public boolean heartbeat(Heartbeat heartbeat) throws SQLException {
        Instant now = clock.instant();
        heartbeat.validate(now);
        return health.record(heartbeat, now);
    }

    /**
     * A heartbeat with what the component reports about its desired state; answers the component's
     * desired-state revision, and the document when the component has not applied it yet.
     *
     * @param appliedRevision the revision the component has applied (null: it did not say)
     * @param applyError why it could not apply the latest revision, or null
     */
    public HeartbeatAnswer heartbeat(Heartbeat heartbeat, Long appliedRevision, String applyError) throws SQLException {
        return heartbeat(heartbeat, appliedRevision, applyError, null);
    }

    /**
     * The same, from a master target with the recovery points it lists ({@code null}: none reported).
     *
     * @param points its points not reported yet, and the time of the oldest it still lists
     */
    public HeartbeatAnswer heartbeat(Heartbeat heartbeat, Long appliedRevision, String applyError, PointsReport points)
            throws SQLException {
        if (points != null && !"master-target".equals(component(heartbeat.componentId()).role())) {
            throw ConfigServerException.invalid("points", "only master targets report recovery points; '"
                    + heartbeat.componentId() + "' is not one");
        }
        boolean stored = heartbeat(heartbeat);
        if (points != null) {
            protection.mirrorPoints(heartbeat.componentId(), points.oldest(), points.items());
        }
        long applied = appliedRevision == null ? 0 : appliedRevision;
        if (appliedRevision != null || applyError != null) {
            protection.reported(heartbeat.componentId(), applied, applyError);
        }
        long revision = protection.desiredRevision(heartbeat.componentId());
        // Sent whenever the component's revision differs, also when it is higher than ours: a catalogue
        // restored from a backup or recreated counts again from 1, and it is the source of truth.
        Protection.Desired desired = null;
        if (revision == 0 || revision != applied) {
            desired = protection.desired(heartbeat.componentId());
        }
        return new HeartbeatAnswer(stored, desired == null ? revision : desired.revision(),
                desired == null || desired.revision() == applied ? null : desired);
    }

    /** Recovery points a master target reports in a heartbeat. */
    public record PointsReport(Instant oldest, List<MirroredPoint> items) {
        public PointsReport {
            items = items == null ? List.of() : List.copyOf(items);
        }
    }

    /** A machine's recovery points as mirrored from its master target, newest first. */
    public Page<MirroredPoint> points(String machineId, int offset, int limit) throws SQLException {
        return protection.points(machineId, offset, limit);
    }

    /** What a heartbeat is answered with. */
    public record HeartbeatAnswer(boolean stored, long desiredRevision, Protection.Desired desired) {
    }

    // ---- machines and jobs

    public Page<Machine> machines(int offset, int limit) throws SQLException {
        return protection.machines(offset, limit);
    }

    public Machine machine(String id) throws SQLException {
        return protection.machine(id);
    }

    public Job protect(ProtectRequest request, String actor) throws SQLException {
        return audited(actor, "machine.protect", String.valueOf(request.machineId()),
                () -> protection.protect(request, actor));
    }

    public Job unprotect(String machineId, String actor) throws SQLException {
        return audited(actor, "machine.unprotect", String.valueOf(machineId), () -> protection.unprotect(machineId, actor));
    }

    public Job resync(String machineId, List<String> disks, String actor) throws SQLException {
        return audited(actor, "machine.resync", String.valueOf(machineId),
                () -> protection.resync(machineId, disks, actor));
    }

    public Job changePolicy(String machineId, String policyId, String actor) throws SQLException {
        return audited(actor, "machine.policy", machineId + " -> " + policyId,
                () -> protection.changePolicy(machineId, policyId, actor));
    }

    public Page<Job> jobs(String machineId, String state, int offset, int limit) throws SQLException {
        return protection.jobs(machineId, state, offset, limit);
    }

    public Job job(long id) throws SQLException {
        return protection.job(id);
    }

    /** Moves running jobs on (the scheduler's task); returns those that ended. */
    public List<Job> advanceJobs() throws SQLException {
        List<Job> ended = protection.advance();
        for (Job j : ended) {
            if (Job.FAILED.equals(j.state())) {
                LOG.warn("Job {} ({} of machine '{}') failed: {}", j.id(), j.kind(), j.machineId(), j.error());
            } else {
                LOG.info("Job {} ({} of machine '{}') succeeded", j.id(), j.kind(), j.machineId());
            }
        }
        return ended;
    }

    /** The latest heartbeat of a component. */
    public HealthStore.Latest latestHeartbeat(String componentId) throws SQLException {
        component(componentId);
        return health.latest(componentId).orElseThrow(() -> ConfigServerException.notFound("component '"
                + componentId + "' has sent no heartbeat"));
    }

    /** Alerts newest first: the active ones only, or all. */
    public Page<Event> alerts(boolean activeOnly, int offset, int limit) throws SQLException {
        return events.alerts(activeOnly, offset, limit);
    }

    public Event alert(long id) throws SQLException {
        return events.find(id).filter(Event::alert)
                .orElseThrow(() -> ConfigServerException.notFound("no alert " + id));
    }

    /** Records that {@code actor} has seen an alert (audited). */
    public Event acknowledgeAlert(long id, String actor) throws SQLException {
        return audited(actor, "alert.acknowledge", "alert " + id, () -> events.acknowledge(id, actor, clock.instant()));
    }

    /** Every event (alerts, their clearing, ...), newest first. */
    public Page<Event> events(int offset, int limit) throws SQLException {
        return events.events(offset, limit);
    }

    /** Raises and clears alerts for the health the catalogue holds now (the scheduler's task). */
    public Alerts.Outcome evaluateAlerts() throws SQLException {
        return alerts.evaluate();
    }

    public AlertThresholds alertThresholds() {
        return alerts.thresholds();
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
