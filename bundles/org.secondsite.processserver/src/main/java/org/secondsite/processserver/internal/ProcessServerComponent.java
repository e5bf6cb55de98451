package org.secondsite.processserver.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.api.replication.SpoolMonitor;
import org.secondsite.api.transport.ComponentIdentity;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.processserver.internal.throttle.BandwidthSchedule;

/**
 * The OSGi shell of {@link ProcessServer}. A changed bandwidth schedule is applied live;
 * any other change restarts the process server core (the spool is closed and reopened, no
 * data is lost). Transports and compressors are collected by name: when the transport goes
 * away, connections are closed and re-established once it returns.
 */
@Component(name = "org.secondsite.processserver", service = {ReplicationMonitor.class, SpoolMonitor.class,
        ProcessServerComponent.class},
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = ProcessServerConfig.class)
public final class ProcessServerComponent implements ReplicationMonitor, SpoolMonitor {

    private final Map<String, Transport> transports = new ConcurrentHashMap<>();
    private final Map<String, Compressor> compressors = new ConcurrentHashMap<>();
    private volatile ComponentIdentity identity;
    private volatile ProcessServer core;
    private ProcessServerConfig config;

    @Activate
    public ProcessServerComponent(ProcessServerConfig config) throws IOException {
        this.config = config;
        this.core = create(config);
    }

    private ProcessServer create(ProcessServerConfig c) throws IOException {
        ProcessServerOptions o = options(c, System::getProperty);
        ProcessServer ps = new ProcessServer(o, this::componentId, transports::get, this::security, compressors::get,
                Clock.systemDefaultZone());
        try {
            tagSettings(ps, c);
        } catch (IllegalArgumentException e) {
            ps.close();
            throw e;
        }
        return ps;
    }

    private static void tagSettings(ProcessServer ps, ProcessServerConfig c) {
        if (c.tagHoldMillis() < 1 || c.tagHoldMillis() > org.secondsite.wire.WireProtocol.MAX_TAG_HOLD_MILLIS) {
            throw new IllegalArgumentException("tagHoldMillis must be 1.." + org.secondsite.wire.WireProtocol
                    .MAX_TAG_HOLD_MILLIS + ", was " + c.tagHoldMillis());
        }
        if (c.tagPrepareMillis() < 1) {
            throw new IllegalArgumentException("tagPrepareMillis must be >= 1, was " + c.tagPrepareMillis());
        }
        ps.coordinator().settings(Duration.ofMillis(c.tagHoldMillis()), Duration.ofMillis(c.tagPrepareMillis()));
        ps.coordinator().checkpointEvery(Duration.ofMillis(c.groupCheckpointMillis()));
    }

    /** The coordinator of tags of consistency groups spanning several agents of this process server. */
    public GroupCoordinator coordinator() {
        return core.coordinator();
    }

    static ProcessServerOptions options(ProcessServerConfig c, UnaryOperator<String> properties) {
        return new ProcessServerOptions(address("listen", c.listen(), true), address("masterTarget", c.masterTarget(), false),
                c.transport(), c.wanCompressor(), path("spoolDir", c.spoolDir(), properties), c.spoolMaxBytes(),
                c.spoolSegmentBytes(), BandwidthSchedule.parse(c.bandwidthSchedule()), c.windowBytes(),
                Duration.ofSeconds(c.heartbeatSeconds()), Duration.ofSeconds(10), Duration.ofMillis(200),
                Duration.ofSeconds(c.backoffMaxSeconds()));
    }

    @Modified
    synchronized void modified(ProcessServerConfig c) throws IOException {
        ProcessServerOptions now = options(c, System::getProperty);
        ProcessServerOptions before = core.options();
        if (now.equals(new ProcessServerOptions(before.listen(), before.masterTarget(), before.transport(),
                before.wanCompressor(), before.spoolDir(), before.spoolMaxBytes(), before.spoolSegmentBytes(),
                now.schedule(), before.windowBytes(), before.heartbeat(), before.connectTimeout(), before.backoffMin(),
                before.backoffMax()))) {
            core.setSchedule(now.schedule());
            tagSettings(core, c);
        } else {
            core.close();
            core = create(c);
        }
        this.config = c;
    }

    @Deactivate
    synchronized void deactivate() throws IOException {
        core.close();
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
        ProcessServer c = core;
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
            ProcessServer c = core;
            if (c != null) {
                c.ensureListening();
            }
        }
    }

    void unbindTransport(Transport t, Map<String, Object> props) {
        Object name = props.get(Transport.PROPERTY);
        if (name != null && transports.remove(name.toString(), t)) {
            ProcessServer c = core;
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
        }
    }

    void unbindCompressor(Compressor c, Map<String, Object> props) {
        Object name = props.get(Compressor.PROPERTY);
        if (name != null) {
            compressors.remove(name.toString(), c);
        }
    }

    @Override
    public Stage stage() {
        return Stage.PROCESS_SERVER;
    }

    @Override
    public List<DiskReplicationStatus> disks() {
        return core.disks();
    }

    @Override
    public long capacityBytes() {
        return core.spool().figures().maxBytes();
    }

    @Override
    public long freeBytes() {
        var f = core.spool().figures();
        return Math.max(0, f.maxBytes() - f.diskBytes());
    }

    static InetSocketAddress address(String what, String value, boolean bind) {
        String v = value == null ? "" : value.trim();
        int colon = v.lastIndexOf(':');
        if (colon <= 0 || colon == v.length() - 1) {
            throw new IllegalArgumentException(what + " '" + value + "' must be host:port, e.g. 0.0.0.0:9443");
        }
        String host = v.substring(0, colon).replace("[", "").replace("]", "");
        int port;
        try {
            port = Integer.parseInt(v.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " '" + value + "': port is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(what + " '" + value + "': port must be 0..65535");
        }
        return bind ? new InetSocketAddress(host, port) : InetSocketAddress.createUnresolved(host, port);
    }

    static Path path(String what, String value, UnaryOperator<String> properties) {
        String out = value;
        int start;
        while ((start = out.indexOf("${")) >= 0) {
            int end = out.indexOf('}', start);
            if (end < 0) {
                throw new IllegalArgumentException(what + " '" + value + "' has an unclosed ${");
            }
            String name = out.substring(start + 2, end);
            String v = properties.apply(name);
            if (v == null) {
                throw new IllegalArgumentException(what + " '" + value + "' uses ${" + name + "}, which is not set");
            }
            out = out.substring(0, start) + v + out.substring(end + 1);
        }
        return Path.of(out);
    }
}
