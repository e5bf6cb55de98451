package org.secondsite.link.internal;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.secondsite.api.replication.RecoveryPointCatalogue;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.api.replication.SpoolMonitor;
import org.secondsite.pki.KeyMaterial;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The link of one component to its configuration server, on one thread of its own:
 * <ol>
 * <li>registers when the state folder says it has not (a new EC P-256 key and a CSR with
 * {@code CN=componentId}; the passphrase is sent once), keeps the issued key store there and
 * points the component identity ({@code org.secondsite.identity}) at it, then removes the
 * passphrase from its own configuration. 400, 403 and 409 stop it until the configuration
 * changes; 429 waits Retry-After; an unreachable server is retried with capped exponential
 * back-off;</li>
 * <li>sends a heartbeat signed with the component's key every {@code heartbeat}, with the
 * replication figures of the local stages;</li>
 * <li>applies the desired state a heartbeat answer carries and reports the revision applied (or
 * why it could not be) in a heartbeat sent at once.</li>
 * </ol>
 * Nothing the server answers stops the thread; each distinct failure is logged once.
 */
public final class Link implements AutoCloseable {
    /** PID of the link's configuration. */
    public static final String PID = "org.secondsite.link";
    /** PID of the component identity (org.secondsite.pki). */
    public static final String IDENTITY_PID = "org.secondsite.identity";
    private static final Logger LOG = LoggerFactory.getLogger(Link.class);

    /**
     * Waits between registration attempts.
     *
     * @param backoffMin first wait after an unreachable server
     * @param backoffMax the cap of the doubling waits
     */
    public record Timing(Duration backoffMin, Duration backoffMax) {
        public static final Timing DEFAULT = new Timing(Duration.ofSeconds(1), Duration.ofMinutes(5));
    }

    private final LinkSettings settings;
    private final ConfigStore store;
    private final Supplier<Collection<ReplicationMonitor>> monitors;
    private final Supplier<Collection<RecoveryPointCatalogue>> catalogues;
    private final Supplier<Collection<SpoolMonitor>> spools;
    private final PointsReport pointsReport = new PointsReport();
    private final Clock clock;
    private final Timing timing;
    private final ScheduledExecutorService executor;
    private final Metrics metrics = new Metrics();
    private final DesiredStateApplier applier;
    private final ProblemLog registrationProblems = new ProblemLog(LOG);
    private final ProblemLog heartbeatProblems = new ProblemLog(LOG);
    private final ProblemLog applyProblems = new ProblemLog(LOG);
    private final ProblemLog localProblems = new ProblemLog(LOG);
    private final AtomicReference<LinkStatus> status;

    // State of the link thread only.
    private ConfigServerClient client;
    private LinkState state = LinkState.EMPTY;
    private Signer signer;
    private boolean registered;
    private boolean identityPending;
    private boolean passphrasePending;
    private Duration backoff;
    private String applyError;
    private long announcedRevision;
    private int omittedDisksLogged;

    public Link(LinkSettings settings, ConfigStore store, Supplier<Collection<ReplicationMonitor>> monitors,
                Clock clock, Timing timing) {
        this(settings, store, monitors, List::of, List::of, clock, timing);
    }

    /**
     * @param catalogues the master target's recovery points, when this appliance runs one: they are
     *        mirrored to the configuration server's catalogue through the heartbeats
     * @param spools the process server's spool, when this appliance runs one (its free share is sent)
     */
    public Link(LinkSettings settings, ConfigStore store, Supplier<Collection<ReplicationMonitor>> monitors,
                Supplier<Collection<RecoveryPointCatalogue>> catalogues, Supplier<Collection<SpoolMonitor>> spools,
                Clock clock, Timing timing) {
        this.catalogues = Objects.requireNonNull(catalogues, "catalogues");
        this.spools = Objects.requireNonNull(spools, "spools");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.store = Objects.requireNonNull(store, "store");
        this.monitors = Objects.requireNonNull(monitors, "monitors");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.timing = Objects.requireNonNull(timing, "timing");
        this.applier = new DesiredStateApplier(store);
        this.backoff = timing.backoffMin();
        this.status = new AtomicReference<>(new LinkStatus("starting", settings.configServer(),
                settings.componentId(), settings.role(), null, null, null, null, null, 0, 0, null, null, null));
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "secondsite-link " + settings.componentId());
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts the link thread (registration or heartbeats). */
    public void start() {
        executor.execute(this::first);
    }

    /** What the link is doing. */
    public LinkStatus status() {
        return status.get();
    }

    /** Stops the link thread, waiting up to 10 s for a request in flight. */
    @Override
    public void close() {
        executor.shutdownNow();
        try {
            if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("The link thread of {} did not stop within 10 s", settings.componentId());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void first() {
        try {
            client = new ConfigServerClient(settings, clock);
            state = LinkState.load(settings.stateDir());
            if (state.registeredAs(settings.componentId()) && Credentials.present(settings.stateDir())) {
                KeyMaterial km = Credentials.load(settings.stateDir());
                signer = new Signer(km.key(), km.certificate());
                registered = true;
                identityPending = true;
                passphrasePending = true;
                status.updateAndGet(s -> s.phase("registered")
                        .registration(state.registeredAt(), state.certificateSerial(), state.certificateExpires())
                        .revisions(state.appliedRevision(), 0, null));
                LOG.info("Link of {} ({}) to {}: registered since {}, heartbeats every {} s", settings.componentId(),
                        settings.role(), settings.configServer(), state.registeredAt(),
                        settings.heartbeat().toSeconds());
            } else {
                if (state.componentId() != null && !state.componentId().equals(settings.componentId())) {
                    LOG.info("Link: this component registered as '{}' before; it now registers as '{}'",
                            state.componentId(), settings.componentId());
                    state = LinkState.EMPTY;
                }
                status.updateAndGet(s -> s.phase("registering"));
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            stop("Link of " + settings.componentId() + " cannot start: " + e.getMessage()
                    + " (fix the state folder " + settings.stateDir() + " or the configuration; deleting the folder "
                    + "registers the component again)");
            return;
        }
        next(0);
    }

    private void step() {
        long delay;
        try {
            delay = registered ? heartbeat() : register();
        } catch (RuntimeException | Error e) { // never let the thread die on a surprise
            localProblems.error("Link of " + settings.componentId() + ": unexpected failure: " + e);
            fail("unexpected failure: " + e);
            delay = settings.heartbeat().toMillis();
        }
        if (delay >= 0) {
            next(delay);
        }
    }

    private void next(long delayMillis) {
        try {
            executor.schedule(this::step, delayMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // closing
        }
    }

    // ------------------------------------------------------------------ registration

    /** @return the delay before the next step, or -1 to stop until the configuration changes */
    private long register() {
        if (settings.passphrase() == null) {
            stop("Link: component '" + settings.componentId() + "' is not registered with " + settings.configServer()
                    + " and no passphrase is configured: set 'passphrase' in " + PID + " (the configuration "
                    + "server's dr:passphrase shows it) to register");
            return -1;
        }
        KeyPair keys;
        String csr;
        try {
            keys = Credentials.newKeyPair();
            csr = Credentials.csrPem(keys, settings.componentId());
        } catch (GeneralSecurityException e) {
            stop("Link: cannot create the key pair or CSR of '" + settings.componentId() + "': " + e.getMessage());
            return -1;
        }
        ConfigServerClient.Issued issued;
        try {
            issued = client.register(csr);
        } catch (CallFailed e) {
            return registrationFailed(e);
        }
        Instant now = clock.instant();
        try {
            KeyMaterial km = Credentials.issued(keys, settings.componentId(), issued.certificate(),
                    issued.authority());
            Credentials.save(settings.stateDir(), km, issued.authority());
            String serial = issued.serial() != null ? issued.serial() : km.certificate().getSerialNumber().toString(16);
            state = new LinkState(settings.componentId(), now, serial, km.certificate().getNotAfter().toInstant(), 0);
            state.save(settings.stateDir());
            signer = new Signer(km.key(), km.certificate());
        } catch (IOException | GeneralSecurityException e) {
            stop("Link: the configuration server registered '" + settings.componentId() + "' but its certificate "
                    + "could not be kept in " + settings.stateDir() + ": " + e.getMessage() + ". Remove the component "
                    + "on the configuration server (dr:component-remove) and change this configuration to register "
                    + "again");
            return -1;
        }
        registered = true;
        identityPending = true;
        passphrasePending = true;
        backoff = timing.backoffMin();
        registrationProblems.clear("Link: registration reached " + settings.configServer() + " again");
        status.updateAndGet(s -> s.phase("registered").registration(now, state.certificateSerial(),
                state.certificateExpires()));
        LOG.info("Link: registered '{}' ({}) with {}; certificate serial {} valid until {}", settings.componentId(),
                settings.role(), settings.configServer(), state.certificateSerial(), state.certificateExpires());
        finishRegistration();
        return 0;
    }

    private long registrationFailed(CallFailed e) {
        if (Thread.currentThread().isInterrupted()) {
            return -1; // closing
        }
        int code = e.status();
        if (code == 429) {
            Duration wait = e.retryAfter() != null ? e.retryAfter() : backoff;
            registrationProblems.warn(kind(e), "Link: " + e.getMessage() + "; retrying in " + wait.toSeconds() + " s");
            fail(e.getMessage());
            return wait.toMillis();
        }
        if (code >= 400 && code < 500) {
            String hint = switch (code) {
                case 403 -> " (wrong passphrase: set the configuration server's current one)";
                case 409 -> " (this componentId is registered already: remove it on the configuration server, or "
                        + "restore this component's state folder " + settings.stateDir() + ")";
                default -> "";
            };
            stop("Link: " + e.getMessage() + hint + "; not retrying until the configuration " + PID + " changes");
            return -1;
        }
        Duration wait = backoff;
        backoff = min(backoff.multipliedBy(2), timing.backoffMax());
        registrationProblems.warn(kind(e), "Link: " + e.getMessage() + "; retrying with back-off (up to "
                + timing.backoffMax().toSeconds() + " s)");
        fail(e.getMessage());
        return wait.toMillis();
    }

    /** Points the identity at the key store and removes the passphrase; repeated until both are done. */
    private void finishRegistration() {
        if (identityPending) {
            try {
                Map<String, Object> current = store.read(IDENTITY_PID);
                Map<String, Object> wanted = new HashMap<>(current == null ? Map.of() : current);
                wanted.put("keyStore", settings.stateDir().resolve(Credentials.KEY_STORE).toAbsolutePath().toString());
                wanted.put("keyStorePassword", Credentials.password(settings.stateDir()));
                wanted.put("trustedAuthorities",
                        settings.stateDir().resolve(Credentials.AUTHORITY).toAbsolutePath().toString());
                if (current == null || !DesiredStateApplier.sameValues(current, wanted)) {
                    store.write(IDENTITY_PID, wanted);
                    LOG.info("Link: the component identity ({}) now uses the certificate issued to '{}'",
                            IDENTITY_PID, settings.componentId());
                }
                identityPending = false;
            } catch (IOException | RuntimeException e) {
                localProblems.error("Link: cannot point " + IDENTITY_PID + " at the issued key store: " + e);
                fail("cannot update " + IDENTITY_PID + ": " + e.getMessage());
            }
        }
        if (passphrasePending && !identityPending) {
            try {
                Map<String, Object> own = store.read(PID);
                if (own != null && own.containsKey("passphrase")) {
                    Map<String, Object> without = new HashMap<>(own);
                    without.remove("passphrase");
                    passphrasePending = false;
                    store.write(PID, without); // restarts this component; it finds itself registered
                    LOG.info("Link: removed the registration passphrase from {}", PID);
                } else {
                    passphrasePending = false;
                }
            } catch (IOException | RuntimeException e) {
                passphrasePending = true;
                localProblems.error("Link: cannot remove the passphrase from " + PID + ": " + e);
            }
        }
    }

    // ------------------------------------------------------------------ heartbeats

    /** The recovery points the next heartbeat carries, or null when no master target runs here (or it cannot list). */
    private PointsReport.Report points() {
        for (RecoveryPointCatalogue c : catalogues.get()) {
            try {
                PointsReport.Report r = pointsReport.next(c.points());
                localProblems.clear("Link: the master target's recovery points can be read again");
                return r;
            } catch (IOException | RuntimeException e) {
                localProblems.warn("points", "Link: the master target's recovery points cannot be read now ("
                        + e.getMessage() + "); the catalogue is updated when they can");
                return null;
            }
        }
        return null;
    }

    private long heartbeat() {
        finishRegistration();
        Instant now = clock.instant();
        Metrics.Figures figures = metrics.collect(monitors.get(), now).withSpool(spools.get());
        if (figures.omittedDisks() != omittedDisksLogged) {
            omittedDisksLogged = figures.omittedDisks();
            if (omittedDisksLogged > 0) {
                LOG.warn("Link: {} disks beyond the first {} are left out of heartbeats", omittedDisksLogged,
                        Metrics.MAX_DISKS);
            }
        }
        PointsReport.Report points = points();
        byte[] body = HeartbeatBody.encode(settings.componentId(), now, state.appliedRevision(), applyError, figures,
                points);
        ConfigServerClient.Reply reply;
        try {
            reply = client.heartbeat(body, signer);
        } catch (CallFailed e) {
            if (Thread.currentThread().isInterrupted()) {
                return -1; // closing
            }
            String message = "Link: heartbeat " + e.getMessage().replaceFirst("^heartbeat ", "");
            String kind = kind(e);
            if (e.status() == 401 || e.status() == 403) {
                heartbeatProblems.error(kind, message + (e.status() == 401 ? " (check this appliance's clock and that "
                        + "the component was not removed on the configuration server)" : ""));
            } else {
                heartbeatProblems.warn(kind, message);
            }
            fail(e.getMessage());
            status.updateAndGet(s -> s.heartbeat(now, "failed: " + e.getMessage()));
            return settings.heartbeat().toMillis();
        }
        heartbeatProblems.clear("Link: heartbeats to " + settings.configServer() + " accepted again");
        if (points != null) {
            pointsReport.confirmed(points);
        }
        announcedRevision = reply.desiredRevision();
        status.updateAndGet(s -> s.heartbeat(now, "accepted"));
        boolean sendAtOnce = false;
        if (reply.hasDocument()) {
            sendAtOnce = apply(reply);
        }
        long applied = state.appliedRevision();
        String error = applyError;
        status.updateAndGet(s -> s.revisions(applied, announcedRevision, error));
        return sendAtOnce ? 0 : settings.heartbeat().toMillis();
    }

    /** Applies the answer's document; true when the outcome to report changed (sent at once). */
    private boolean apply(ConfigServerClient.Reply reply) {
        String before = applyError;
        if (reply.desiredError() != null) {
            applyError = "desired state refused: " + reply.desiredError();
            applyProblems.error("Link: " + applyError);
            return !Objects.equals(before, applyError);
        }
        DesiredState d = reply.desired();
        if (d.revision() == state.appliedRevision()) {
            return false;
        }
        if (d.revision() < state.appliedRevision()) {
            // The configuration server's catalogue was restored from a backup or recreated: it is the
            // source of truth, so its document is applied although its revision is lower.
            LOG.warn("Link: the configuration server's desired state went back from revision {} to {} (its catalogue "
                    + "was restored or recreated); applying it", state.appliedRevision(), d.revision());
        }
        try {
            DesiredStateApplier.Outcome o = applier.apply(d);
            LinkState applied = state.withAppliedRevision(d.revision());
            try {
                applied.save(settings.stateDir());
            } catch (IOException e) {
                localProblems.error("Link: cannot record applied revision " + d.revision() + " in "
                        + settings.stateDir() + ": " + e.getMessage());
            }
            state = applied;
            applyError = null;
            applyProblems.clear("Link: desired state applies again");
            LOG.info("Link: applied desired-state revision {} ({} configuration(s) written, {} unchanged, {} deleted)",
                    d.revision(), o.written(), o.unchanged(), o.deleted());
            return true;
        } catch (DesiredStateException e) {
            applyError = "revision " + d.revision() + " not applied: " + e.getMessage();
            applyProblems.error("Link: desired-state " + applyError);
            return !Objects.equals(before, applyError);
        }
    }

    // ------------------------------------------------------------------ helpers

    private void stop(String message) {
        registrationProblems.error(message);
        fail(message);
        status.updateAndGet(s -> s.phase("stopped"));
    }

    private void fail(String message) {
        Instant at = clock.instant();
        status.updateAndGet(s -> s.error(message, at));
    }

    /** The kind of a failed call: its HTTP status, or for no answer the kind of the cause. */
    private static String kind(CallFailed e) {
        return e.status() != 0 ? "HTTP " + e.status()
                : e.getCause() != null ? e.getCause().getClass().getName() : e.getMessage();
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
