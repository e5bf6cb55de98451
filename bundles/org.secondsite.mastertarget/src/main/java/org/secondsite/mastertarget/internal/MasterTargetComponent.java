package org.secondsite.mastertarget.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Paths;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.RecoveryPointCatalogue;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.api.transport.ComponentIdentity;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.mastertarget.internal.recovery.Recovery;

/**
 * The OSGi shell of {@link MasterTarget}. Transports, compressors and storage backends are
 * collected by name with greedy dynamic references: a batch whose compressor is missing is
 * held until one registers; when the transport or the storage backend goes away,
 * connections are closed and the process server resumes from the durable state once it
 * returns.
 */
@Component(name = "org.secondsite.mastertarget", service = {ReplicationMonitor.class, RecoveryPointCatalogue.class,
        MasterTargetComponent.class},
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = MasterTargetConfig.class)
public final class MasterTargetComponent implements ReplicationMonitor, RecoveryPointCatalogue {

    private final Map<String, Transport> transports = new ConcurrentHashMap<>();
    private final Map<String, Compressor> compressors = new ConcurrentHashMap<>();
    private final Map<String, StorageBackend> storages = new ConcurrentHashMap<>();
    private volatile ComponentIdentity identity;
    private volatile MasterTarget core;
    private final Recovery recovery;

    @Activate
    public MasterTargetComponent(MasterTargetConfig config) {
        InetSocketAddress listen = address("listen", config.listen());
        InetSocketAddress exportListen = address("exportListen", config.exportListen());
        core = new MasterTarget(new MasterTarget.Options(listen, config.transport(), config.storage(),
                config.groupBytes(), config.hashThreads(), java.time.Duration.ofSeconds(config.hashWaitSeconds()))
                .withRetention(org.secondsite.mastertarget.internal.retention.RetentionSettings.of(
                        config.retentionWindowSeconds(), config.retentionSpaceMiB()),
                        org.secondsite.mastertarget.internal.retention.Retention.SEGMENT_BYTES),
                this::componentId, transports::get, this::security, storages::get,
                compressors::get, Clock.systemUTC());
        recovery = new Recovery(core, exportListen,
                Paths.get(System.getProperty("karaf.data", "data"), "secondsite", "mastertarget", "scratch"),
                Clock.systemUTC());
    }

    /** A {@code host:port} setting. */
    static InetSocketAddress address(String setting, String value) {
        String v = value.trim();
        int colon = v.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(setting + " '" + value + "' must be host:port, e.g. 0.0.0.0:9444");
        }
        int port;
        try {
            port = Integer.parseInt(v.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(setting + " '" + value + "': port is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(setting + " '" + value + "': port must be 0..65535");
        }
        return new InetSocketAddress(v.substring(0, colon).replace("[", "").replace("]", ""), port);
    }

    @Deactivate
    void deactivate() {
        recovery.close();
        core.close();
    }

    /** The master target, for its commands and REST resources. */
    public MasterTarget masterTarget() {
        return core;
    }

    /** Recovery-point exports and copies, for the commands and REST resources. */
    public Recovery recovery() {
        return recovery;
    }

    private String componentId() {
        ComponentIdentity id = identity;
        if (id == null) {
            throw new IllegalStateException("no component identity");
        }
        return id.componentId();
    }

    private TransportSecurity security() {
        ComponentIdentity id = identity;
        return id == null ? null : id.transportSecurity();
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindIdentity(ComponentIdentity id) {
        identity = id;
        MasterTarget c = core;
        if (c != null) {
            c.ensureListening();
        }
    }

    void unbindIdentity(ComponentIdentity id) {
        if (identity == id) {
            identity = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindTransport(Transport t, Map<String, Object> props) {
        Object name = props.get(Transport.PROPERTY);
        if (name != null) {
            transports.put(name.toString(), t);
            MasterTarget c = core;
            if (c != null) {
                c.ensureListening();
            }
        }
    }

    void unbindTransport(Transport t, Map<String, Object> props) {
        Object name = props.get(Transport.PROPERTY);
        if (name != null && transports.remove(name.toString(), t)) {
            MasterTarget c = core;
            if (c != null) {
                c.transportGone(name.toString());
            }
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindCompressor(Compressor c, Map<String, Object> props) {
        Object name = props.get(Compressor.PROPERTY);
        if (name != null) {
            compressors.put(name.toString(), c);
            MasterTarget m = core;
            if (m != null) {
                m.compressorsChanged();
            }
        }
    }

    void unbindCompressor(Compressor c, Map<String, Object> props) {
        Object name = props.get(Compressor.PROPERTY);
        if (name != null) {
            compressors.remove(name.toString(), c);
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindStorage(StorageBackend b, Map<String, Object> props) {
        Object name = props.get(StorageBackend.PROPERTY);
        if (name != null) {
            storages.put(name.toString(), b);
        }
    }

    void unbindStorage(StorageBackend b, Map<String, Object> props) {
        Object name = props.get(StorageBackend.PROPERTY);
        if (name != null && storages.remove(name.toString(), b)) {
            MasterTarget c = core;
            if (c != null) {
                c.storageGone(b);
            }
        }
    }

    @Override
    public Stage stage() {
        return Stage.MASTER_TARGET;
    }

    @Override
    public List<DiskReplicationStatus> disks() {
        return core.disks();
    }

    @Override
    public List<RecoveryPoint> points() throws IOException {
        List<RecoveryPoint> points = new ArrayList<>(core.points(Optional.empty()));
        points.sort(Comparator.comparing(RecoveryPoint::time).thenComparing(RecoveryPoint::id));
        return points;
    }
}
