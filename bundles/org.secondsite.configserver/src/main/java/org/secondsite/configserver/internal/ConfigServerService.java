package org.secondsite.configserver.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.secondsite.api.transport.ComponentIdentity;
import org.secondsite.configserver.internal.catalogue.Catalogue;
import org.secondsite.configserver.internal.catalogue.ComponentStore;
import org.secondsite.configserver.internal.catalogue.Migrations;
import org.secondsite.configserver.internal.health.AlertThresholds;
import org.secondsite.configserver.internal.registration.Authority;
import org.secondsite.configserver.internal.registration.ComponentSignatures;
import org.secondsite.configserver.internal.registration.FailureLimiter;
import org.secondsite.configserver.internal.registration.Passphrase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configuration server in OSGi: opens the catalogue, loads the passphrase, uses the appliance's
 * authority (loaded when the first component registers: the identity service creates it), and keeps
 * the identity's
 * {@code revokedSerials} in step with the catalogue. Shuts Derby down on deactivation, so data
 * survives bundle updates. Evaluates the alerts on a scheduler thread every
 * {@code alertEvaluationSeconds}, and moves running jobs on every {@code jobIntervalSeconds}.
 */
@Component(service = ConfigServerService.class, configurationPid = ConfigServerService.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ConfigServerConfig.class)
public class ConfigServerService {
    static final String PID = "org.secondsite.configserver";
    /** The pki identity service's PID and the property it reads revoked serials from. */
    static final String IDENTITY_PID = "org.secondsite.identity";
    static final String REVOKED_SERIALS = "revokedSerials";
    private static final Logger LOG = LoggerFactory.getLogger(ConfigServerService.class);

    private final Catalogue catalogue;
    private final ConfigServer server;
    private final ScheduledExecutorService scheduler;
    private final ComponentSignatures signatures;

    /**
     * Bound only so that the pki identity service activates (it is a delayed component) and creates
     * the appliance's authority, which registration signs with. Dynamic and optional: when the
     * identity is reconfigured (revoked serials) this component is not restarted.
     */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile ComponentIdentity identity;

    @Activate
    public ConfigServerService(ConfigServerConfig config, @Reference ConfigurationAdmin configAdmin)
            throws SQLException, IOException {
        Path data = Paths.get(System.getProperty("karaf.data", "data"), "secondsite");
        if (System.getProperty("derby.stream.error.file") == null) {
            System.setProperty("derby.stream.error.file",
                    Paths.get(System.getProperty("karaf.data", "data"), "log", "derby.log").toString());
        }
        Path catalogueDir = config.catalogue().isBlank() ? data.resolve("catalogue") : Paths.get(config.catalogue());
        Path authorityDir = config.authority().isBlank() ? data.resolve("pki") : Paths.get(config.authority());
        Passphrase passphrase = Passphrase.loadOrCreate(data.resolve("registration-passphrase"));
        AlertThresholds thresholds = new AlertThresholds(Duration.ofMinutes(config.defaultRpoThresholdMinutes()),
                config.spoolWarningPercent(), config.spoolCriticalPercent(),
                Duration.ofMinutes(config.heartbeatTimeoutMinutes()));
        if (config.jobStepTimeoutMinutes() < 1 || config.jobStepTimeoutMinutes() > 1440
                || config.jobIntervalSeconds() < 1 || config.jobIntervalSeconds() > 60) {
            throw new IllegalArgumentException("jobStepTimeoutMinutes must be 1..1440 and jobIntervalSeconds 1..60, were "
                    + config.jobStepTimeoutMinutes() + " and " + config.jobIntervalSeconds());
        }
        if (config.alertEvaluationSeconds() < 1 || config.eventRetentionDays() < 1) {
            throw new IllegalArgumentException("alertEvaluationSeconds and eventRetentionDays must be 1 or more, were "
                    + config.alertEvaluationSeconds() + " and " + config.eventRetentionDays());
        }
        catalogue = Catalogue.open(catalogueDir, Migrations.bundled());
        try {
            server = new ConfigServer(catalogue, passphrase,
                    new FailureLimiter(config.maxFailedRegistrations(), Duration.ofSeconds(config.failureWindowSeconds()),
                            Clock.systemUTC()),
                    Authority.lazy(authorityDir), Duration.ofDays(config.certificateValidityDays()),
                    serials -> updateIdentity(configAdmin, serials), Clock.systemUTC(), thresholds,
                    Duration.ofDays(config.eventRetentionDays()), Duration.ofMinutes(config.jobStepTimeoutMinutes()));
            signatures = new ComponentSignatures(Authority.lazy(authorityDir), new ComponentStore(catalogue),
                    Clock.systemUTC());
            server.pushRevocations();
        } catch (RuntimeException | SQLException e) {
            catalogue.close();
            throw e;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "secondsite-configserver");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(this::evaluateAlerts, config.alertEvaluationSeconds(),
                config.alertEvaluationSeconds(), TimeUnit.SECONDS);
        scheduler.scheduleWithFixedDelay(this::advanceJobs, config.jobIntervalSeconds(), config.jobIntervalSeconds(),
                TimeUnit.SECONDS);
        LOG.info("Configuration server ready: catalogue {} (schema version {}{}), certificate authority in {}, "
                + "alerts every {} s with {}", catalogueDir, catalogue.schemaVersion(),
                catalogue.appliedNow().isEmpty() ? "" : ", migrations applied now: " + catalogue.appliedNow(),
                authorityDir, config.alertEvaluationSeconds(), thresholds);
    }

    /** The scheduler's task: never throws, so that the next run happens. */
    private void evaluateAlerts() {
        try {
            server.evaluateAlerts();
        } catch (Exception e) {
            LOG.error("Alert evaluation failed; it runs again at the next interval", e);
        }
    }

    /** The scheduler's task: never throws, so that the next run happens. */
    private void advanceJobs() {
        try {
            server.advanceJobs();
        } catch (Exception e) {
            LOG.error("Moving jobs on failed; it runs again at the next interval", e);
        }
    }

    /** Verifies requests signed by registered components. */
    public ComponentSignatures signatures() {
        return signatures;
    }

    /** The operations REST and the shell share. */
    public ConfigServer server() {
        return server;
    }

    @Deactivate
    void deactivate() {
        scheduler.shutdownNow();
        try {
            if (!scheduler.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("The alert evaluation or job pass did not stop within 30 s; closing the catalogue under it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            catalogue.close();
            Catalogue.shutdownEngine();
        } catch (SQLException e) {
            LOG.warn("Derby did not shut the catalogue down cleanly: {}", e.getMessage());
        }
    }

    /** Writes the revoked serials into the identity's configuration, only when they changed. */
    static void updateIdentity(ConfigurationAdmin configAdmin, List<String> serials) throws IOException {
        Configuration cfg = configAdmin.getConfiguration(IDENTITY_PID, "?");
        Dictionary<String, Object> props = cfg.getProperties();
        String[] wanted = serials.toArray(new String[0]);
        if (props != null && Arrays.equals(asStrings(props.get(REVOKED_SERIALS)), wanted)) {
            return;
        }
        if (props == null) {
            if (wanted.length == 0) {
                return;
            }
            props = new Hashtable<>();
        }
        props.put(REVOKED_SERIALS, wanted);
        cfg.update(props);
        LOG.info("Component identity now refuses {} revoked certificate(s)", wanted.length);
    }

    private static String[] asStrings(Object value) {
        if (value instanceof String[] a) {
            return a;
        }
        if (value instanceof java.util.Collection<?> c) {
            return c.stream().map(String::valueOf).toArray(String[]::new);
        }
        if (value instanceof String s) {
            return s.isBlank() ? new String[0] : new String[] {s};
        }
        return new String[0];
    }
}
