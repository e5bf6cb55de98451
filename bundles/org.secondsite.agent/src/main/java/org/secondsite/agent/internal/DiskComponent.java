package org.secondsite.agent.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

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
import org.secondsite.api.capture.CaptureDriver;
import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;

/**
 * One protected disk (factory PID {@code org.secondsite.agent.disk}): protects it in the
 * agent and runs a capture session with the named driver while that driver is registered
 * (the session stops when the driver goes away and restarts when it returns).
 */
@Component(name = "org.secondsite.agent.disk", service = {}, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = DiskConfig.class, factory = true)
public final class DiskComponent {
    private static final System.Logger LOG = System.getLogger(DiskComponent.class.getName());
    static final String CAPTURE_PREFIX = "capture.";

    /** What protecting the disk depends on; a change of any of it restarts the capture. */
    record Layout(DiskId disk, GroupId group, Path source, String driver, Map<String, String> options) {
        static Layout of(DiskConfig config, Map<String, Object> properties) {
            DiskId disk = DiskId.of(config.diskId());
            GroupId group = config.group() == null || config.group().isBlank() ? GroupId.of(disk.value())
                    : GroupId.of(config.group());
            Map<String, String> options = new TreeMap<>();
            for (Map.Entry<String, Object> e : properties.entrySet()) {
                if (e.getKey().startsWith(CAPTURE_PREFIX)) {
                    options.put(e.getKey().substring(CAPTURE_PREFIX.length()), String.valueOf(e.getValue()));
                }
            }
            return new Layout(disk, group, Path.of(config.source()), config.driver(), Map.copyOf(options));
        }
    }

    private final AgentService agent;
    private final Map<String, CaptureDriver> drivers = new HashMap<>();
    private Layout layout;
    private long resyncRequest;
    private CaptureSpec spec;
    private ChangeSink sink;
    private CaptureSession session;
    private boolean active;

    @Activate
    public DiskComponent(DiskConfig config, Map<String, Object> properties,
                         @Reference(service = AgentService.class) AgentService agent) throws IOException {
        this.agent = agent;
        synchronized (this) {
            setUp(Layout.of(config, properties));
            resyncRequest = config.resyncRequest(); // the counter as it is now: only a later raise resyncs
        }
    }

    private void setUp(Layout l) throws IOException {
        long size;
        try (FileChannel ch = FileChannel.open(l.source(), StandardOpenOption.READ)) {
            size = ch.size(); // works for block devices too
        }
        this.spec = new CaptureSpec(l.disk(), l.source(), l.options());
        this.sink = agent.protect(l.disk(), l.group(), size);
        this.layout = l;
        active = true;
        startIfPossible();
    }

    /**
     * A changed configuration: a raised {@code resyncRequest} alone resyncs the disk and leaves the
     * capture running; any other change stops the capture and protects the disk anew (its tracking
     * state carries over).
     */
    @Modified
    synchronized void modified(DiskConfig config, Map<String, Object> properties) throws IOException {
        Layout next = Layout.of(config, properties);
        if (!next.equals(layout)) {
            LOG.log(Level.INFO, "disk " + layout.disk() + ": configuration changed, restarting its capture");
            deactivate();
            setUp(next);
        } else if (config.resyncRequest() > resyncRequest) {
            agent.requestResync(layout.disk(), "requested by the configuration server (request "
                    + config.resyncRequest() + ")");
        }
        resyncRequest = config.resyncRequest();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    synchronized void bindDriver(CaptureDriver d, Map<String, Object> props) {
        drivers.putIfAbsent(String.valueOf(props.get(CaptureDriver.PROPERTY)), d);
        startIfPossible();
    }

    synchronized void unbindDriver(CaptureDriver d, Map<String, Object> props) {
        String name = String.valueOf(props.get(CaptureDriver.PROPERTY));
        if (drivers.get(name) == d) {
            drivers.remove(name);
            if (layout != null && name.equals(layout.driver())) {
                stopSession();
            }
        }
    }

    private void startIfPossible() {
        CaptureDriver driver = layout == null ? null : drivers.get(layout.driver());
        if (!active || driver == null || session != null) {
            return;
        }
        DiskId disk = layout.disk();
        try {
            session = driver.start(spec, sink);
            agent.attachSource(disk, session.source()); // resyncs and dirty-region replays read from it
            agent.sourceProblem(disk, session::problem); // a failing source shows in the disk's status
            LOG.log(Level.INFO, "disk " + disk + ": capturing with driver '" + layout.driver() + "'"
                    + (session.endpoint().isEmpty() ? "" : " at " + session.endpoint()));
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.ERROR, "disk " + disk + ": capture driver '" + layout.driver() + "' cannot start: " + e, e);
        }
    }

    private void stopSession() {
        if (session != null) {
            DiskId disk = layout.disk();
            agent.detachSource(disk, session.source());
            agent.sourceProblem(disk, null);
            try {
                session.close();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "disk " + disk + ": closing the capture session: " + e);
            }
            session = null;
        }
    }

    @Deactivate
    synchronized void deactivate() throws IOException {
        active = false;
        stopSession();
        agent.unprotect(layout.disk());
    }
}
