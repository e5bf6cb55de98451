package org.secondsite.appliance.internal;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Executors;

import org.apache.karaf.features.Feature;
import org.apache.karaf.features.FeaturesService;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.api.appliance.ExtensionPoint;
import org.secondsite.api.appliance.PluginInfo;
import org.secondsite.api.appliance.Role;
import org.secondsite.api.appliance.RoleState;
import org.secondsite.api.appliance.RoleState.Phase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The appliance core: holds the configured role and reconciles the installed Karaf
 * features with it on a thread of its own whenever the configuration changes.
 */
@Component(service = Appliance.class, configurationPid = ApplianceService.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
@Designate(ocd = ApplianceConfig.class)
public class ApplianceService implements Appliance {
    static final String PID = "org.secondsite.appliance";
    private static final Logger LOG = LoggerFactory.getLogger(ApplianceService.class);

    private final BundleContext context;
    private final ConfigurationAdmin configAdmin;
    private final RoleReconciler reconciler;
    private final ScheduledExecutorService worker;
    private final String version;
    private final Map<Role, CompletableFuture<RoleState>> waiters = new ConcurrentHashMap<>();
    private volatile RoleState state;
    /** Roles played beside the configured one (etc/org.secondsite.appliance.cfg additionalRoles). */
    private volatile Set<Role> additional;
    private volatile boolean announced;
    /** Incremented by each role change; a retry of an older change is dropped. */
    private volatile long scheduled;
    private static final long MAX_RETRY_SECONDS = 60;
    /**
     * Karaf's features service, bound dynamically: Karaf re-registers it when its configuration
     * arrives during boot, and a static reference would re-create this component, and with it
     * every REST resource and command bound to the Appliance service, at that moment.
     */
    private volatile FeaturesService features;

    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    void bindFeatures(FeaturesService f) {
        features = f;
        RoleState s = state;
        if (s != null && s.phase() != Phase.APPLIED && s.message().startsWith(WAITING_FOR_FEATURES)) {
            schedule(s.role()); // an attempt was waiting for it
        }
    }

    void unbindFeatures(FeaturesService f) {
        if (features == f) {
            features = null;
        }
    }

    private static final String WAITING_FOR_FEATURES = "waiting for Karaf's features service";

    @Activate
    public ApplianceService(BundleContext context, ApplianceConfig config, @Reference ConfigurationAdmin configAdmin) {
        // An unknown role at activation leaves the component unsatisfied with this exception's message:
        // never a half-started role.
        Role role = Role.parse(config.role());
        this.additional = additionalRoles(config);
        this.context = context;
        this.configAdmin = configAdmin;
        this.reconciler = new RoleReconciler(new KarafFeatureOps(() -> features));
        this.version = context.getBundle().getHeaders().get("SecondSite-Version");
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "secondsite-role-reconciler");
            t.setDaemon(true);
            return t;
        });
        this.state = new RoleState(role, Phase.RECONCILING, "", Instant.now());
        schedule(role);
    }

    @Modified
    void modified(ApplianceConfig config) {
        Role role;
        try {
            role = Role.parse(config.role());
            additional = additionalRoles(config);
        } catch (IllegalArgumentException e) {
            RoleState current = state;
            LOG.error("Configuration {}: {}; keeping role '{}'", PID, e.getMessage(), current.role());
            state = new RoleState(current.role(), Phase.FAILED,
                    e.getMessage() + "; keeping role '" + current.role() + "'", Instant.now());
            return;
        }
        schedule(role);
    }

    @Deactivate
    void deactivate() {
        // Do not wait: a feature operation in flight may be refreshing this very bundle.
        worker.shutdownNow();
    }

    private static Set<Role> additionalRoles(ApplianceConfig config) {
        Set<Role> roles = new LinkedHashSet<>();
        for (String id : config.additionalRoles()) {
            if (!id.isBlank()) {
                roles.add(Role.parse(id.trim()));
            }
        }
        return Set.copyOf(roles);
    }

    private void schedule(Role role) {
        state = new RoleState(role, Phase.RECONCILING, "", Instant.now());
        long generation = ++scheduled;
        worker.execute(() -> reconcile(role, generation, 0));
    }

    /**
     * One reconciliation attempt. A failure (for example a features repository not yet loaded at
     * boot) is retried with growing delays, up to one a minute, until it succeeds or the role changes.
     */
    private void reconcile(Role role, long generation, int attempt) {
        if (generation != scheduled) {
            return; // superseded by a newer role change
        }
        if (features == null) {
            state = new RoleState(role, Phase.RECONCILING, WAITING_FOR_FEATURES, Instant.now()); // bindFeatures resumes
            if (features == null) {
                return;
            }
        }
        try {
            Set<Role> also = additional;
            String done = reconciler.reconcile(role, also);
            LOG.info("Role '{}'{} applied: {}", role, also.isEmpty() ? "" : " with " + also, done);
            finished(new RoleState(role, Phase.APPLIED, done, Instant.now()));
            announceOnce(role);
        } catch (Exception e) {
            long delay = Math.min(MAX_RETRY_SECONDS, 2L << Math.min(attempt, 5));
            LOG.error("Role '{}' could not be applied (attempt {}); retrying in {} s", role, attempt + 1, delay, e);
            finished(new RoleState(role, Phase.FAILED, e.getMessage() + " (attempt " + (attempt + 1)
                    + "; retrying in " + delay + " s)", Instant.now()));
            try {
                worker.schedule(() -> reconcile(role, generation, attempt + 1), delay, TimeUnit.SECONDS);
            } catch (RejectedExecutionException shutDown) {
                // deactivated meanwhile: nothing to retry
            }
        }
    }

    /** After the first successful reconciliation, tells the person at the console where to go. */
    private void announceOnce(Role role) {
        if (announced) {
            return;
        }
        announced = true;
        String http = setting("org.ops4j.pax.web", "org.osgi.service.http.port", "8181");
        String ssh = setting("org.apache.karaf.shell", "sshPort", "8101");
        String secret = java.nio.file.Paths.get(System.getProperty("karaf.data", "data"), "secondsite",
                "initial-admin-password").toAbsolutePath().toString();
        String msg = String.format("%nSecondSite %s is up in the '%s' role.%n"
                + "  REST API : http://localhost:%s/api/v1/health%n"
                + "  SSH shell: ssh -p %s admin@localhost   (commands: dr:status, dr:replication, dr:role, dr:demo)%n"
                + "  Log in as 'admin'; the first-start password is in %s%n",
                version, role.id(), http, ssh, secret);
        LOG.info(msg);
        System.out.println(msg);
    }

    private String setting(String pid, String key, String fallback) {
        try {
            Configuration[] found = configAdmin.listConfigurations("(service.pid=" + pid + ")");
            Object v = found == null || found[0].getProperties() == null ? null : found[0].getProperties().get(key);
            return v == null ? fallback : v.toString();
        } catch (IOException | InvalidSyntaxException e) {
            return fallback;
        }
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public Instant startedAt() {
        return Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime());
    }

    @Override
    public RoleState roleState() {
        return state;
    }

    @Override
    public CompletionStage<RoleState> changeRole(Role role) throws IOException {
        CompletableFuture<RoleState> done = waiters.computeIfAbsent(role, r -> new CompletableFuture<>());
        Configuration cfg = configAdmin.getConfiguration(PID, null);
        Dictionary<String, Object> props = cfg.getProperties();
        if (props == null) {
            props = new Hashtable<>();
        }
        props.put("role", role.id());
        // ConfigurationAdmin persists it and Karaf's file install writes it back to etc/org.secondsite.appliance.cfg;
        // the update reaches modified() which reconciles.
        cfg.update(props);
        return done;
    }

    private void finished(RoleState end) {
        state = end;
        CompletableFuture<RoleState> waiter = waiters.remove(end.role());
        if (waiter != null) {
            waiter.complete(end);
        }
    }

    @Override
    public List<PluginInfo> plugins() {
        List<PluginInfo> found = new ArrayList<>();
        for (ExtensionPoint point : ExtensionPoint.values()) {
            ServiceReference<?>[] refs;
            try {
                refs = context.getAllServiceReferences(point.service().getName(), null);
            } catch (InvalidSyntaxException e) {
                throw new IllegalStateException(e);
            }
            if (refs == null) {
                continue;
            }
            for (ServiceReference<?> ref : refs) {
                Object name = ref.getProperty(point.property());
                Bundle b = ref.getBundle();
                if (name == null || b == null) {
                    continue; // unregistered meanwhile, or a registration without identity: not a plugin
                }
                found.add(new PluginInfo(point, name.toString(), b.getSymbolicName(),
                        b.getVersion().toString(), bundleState(b.getState())));
            }
        }
        found.sort(Comparator.comparing(PluginInfo::point).thenComparing(PluginInfo::name));
        return found;
    }

    static String bundleState(int state) {
        switch (state) {
            case Bundle.ACTIVE: return "ACTIVE";
            case Bundle.STARTING: return "STARTING";
            case Bundle.STOPPING: return "STOPPING";
            case Bundle.RESOLVED: return "RESOLVED";
            case Bundle.INSTALLED: return "INSTALLED";
            default: return "UNINSTALLED";
        }
    }

    /** FeatureOps on Karaf's FeaturesService. */
    private static final class KarafFeatureOps implements FeatureOps {
        private final java.util.function.Supplier<FeaturesService> service;

        KarafFeatureOps(java.util.function.Supplier<FeaturesService> service) {
            this.service = service;
        }

        private FeaturesService features() {
            FeaturesService f = service.get();
            if (f == null) {
                throw new IllegalStateException("Karaf's features service is not available");
            }
            return f;
        }

        @Override
        public Set<String> required(Set<String> candidates) throws Exception {
            Set<String> out = new HashSet<>();
            for (Feature f : features().listRequiredFeatures()) {
                if (candidates.contains(f.getName())) {
                    out.add(f.getName());
                }
            }
            return out;
        }

        @Override
        public void install(String feature) throws Exception {
            features().installFeature(feature, EnumSet.noneOf(FeaturesService.Option.class));
        }

        @Override
        public void uninstall(Set<String> names) throws Exception {
            features().uninstallFeatures(names, EnumSet.noneOf(FeaturesService.Option.class));
        }
    }
}
