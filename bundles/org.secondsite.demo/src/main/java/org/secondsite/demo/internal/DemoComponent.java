package org.secondsite.demo.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.api.appliance.RoleState;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.StorageBackend;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the demonstration on request ({@code dr:demo}), or once at start when the appliance
 * was launched with {@code SECONDSITE_DEMO=1} (system property {@code secondsite.demo=true}).
 */
@Component(service = DemoComponent.class, immediate = true)
public class DemoComponent {
    static final String AGENT_DISK_FACTORY = "org.secondsite.agent.disk";
    static final InetSocketAddress NBD = new InetSocketAddress("127.0.0.1", 10809);
    private static final Logger LOG = LoggerFactory.getLogger(DemoComponent.class);

    private final ConfigurationAdmin configAdmin;
    private final List<ReplicationMonitor> monitors = new CopyOnWriteArrayList<>();
    private final List<StorageBackend> storage = new CopyOnWriteArrayList<>();

    @Activate
    public DemoComponent(@Reference ConfigurationAdmin configAdmin, @Reference Appliance appliance) {
        this.configAdmin = configAdmin;
        if (Boolean.getBoolean("secondsite.demo")) {
            Thread t = new Thread(() -> {
                try {
                    // Start once the role's features are all in place, so no bundle refresh disturbs the demo.
                    Poll.until("the all-in-one role to be applied",
                            () -> appliance.roleState().phase() == RoleState.Phase.APPLIED, Duration.ofMillis(500),
                            Duration.ofMinutes(5));
                    run(System.out::println, 96L << 20);
                } catch (Exception e) {
                    LOG.error("demo failed", e);
                    System.out.println("[demo] failed: " + e.getMessage());
                }
            }, "secondsite-demo");
            t.setDaemon(true);
            t.start();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addMonitor(ReplicationMonitor m) {
        monitors.add(m);
    }

    void removeMonitor(ReplicationMonitor m) {
        monitors.remove(m);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, target = "(" + StorageBackend.PROPERTY + "=file)")
    void addStorage(StorageBackend s) {
        storage.add(s);
    }

    void removeStorage(StorageBackend s) {
        storage.remove(s);
    }

    boolean run(Consumer<String> out, long bytes) throws Exception {
        Path dir = Paths.get(System.getProperty("karaf.data", "data"), "secondsite", "demo");
        return new DemoRun(new DemoRun.Appliance() {
            @Override
            public void protect(Path source, InetSocketAddress nbd) throws IOException {
                protectDisk(source, nbd);
            }

            @Override
            public List<DiskReplicationStatus> replication() {
                List<DiskReplicationStatus> all = new ArrayList<>();
                monitors.forEach(m -> all.addAll(m.disks()));
                return all;
            }

            @Override
            public Optional<BlockDevice> replica() throws IOException {
                // The master target names the replica volume of a disk 'disk-<id>' (see its README).
                String volume = "disk-" + DemoRun.DISK.value();
                for (StorageBackend s : storage) {
                    if (s.volumeExists(volume)) {
                        return Optional.of(s.openVolume(volume, DemoRun.DISK_SIZE));
                    }
                }
                return Optional.empty();
            }
        }, out, dir, NBD, () -> MixedData.load(48 << 20)).run(bytes);
    }

    /** The agent's disk configuration, created once, as an operator would with a .cfg file. */
    private void protectDisk(Path source, InetSocketAddress nbd) throws IOException {
        try {
            Configuration[] existing = configAdmin.listConfigurations(
                    "(&(service.factoryPid=" + AGENT_DISK_FACTORY + ")(diskId=" + DemoRun.DISK.value() + "))");
            if (existing != null && existing.length > 0) {
                return;
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        Configuration c = configAdmin.getFactoryConfiguration(AGENT_DISK_FACTORY, "demo", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("diskId", DemoRun.DISK.value());
        p.put("source", source.toAbsolutePath().toString());
        p.put("driver", "nbd");
        p.put("capture.listen", nbd.getHostString() + ":" + nbd.getPort());
        c.update(p);
    }
}
