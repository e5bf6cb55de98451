package org.secondsite.agent.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
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

    private final AgentService agent;
    private final DiskId disk;
    private final String driverName;
    private final CaptureSpec spec;
    private final ChangeSink sink;
    private CaptureDriver driver;
    private CaptureSession session;
    private boolean active;

    @Activate
    public DiskComponent(DiskConfig config, Map<String, Object> properties,
                         @Reference(service = AgentService.class) AgentService agent) throws IOException {
        this.agent = agent;
        this.disk = DiskId.of(config.diskId());
        GroupId group = config.group() == null || config.group().isBlank() ? GroupId.of(disk.value())
                : GroupId.of(config.group());
        this.driverName = config.driver();
        Map<String, String> options = new TreeMap<>();
        for (Map.Entry<String, Object> e : properties.entrySet()) {
            if (e.getKey().startsWith(CAPTURE_PREFIX)) {
                options.put(e.getKey().substring(CAPTURE_PREFIX.length()), String.valueOf(e.getValue()));
            }
        }
        Path source = Path.of(config.source());
        long size;
        try (FileChannel ch = FileChannel.open(source, StandardOpenOption.READ)) {
            size = ch.size(); // works for block devices too
        }
        this.spec = new CaptureSpec(disk, source, options);
        this.sink = agent.protect(disk, group, size);
        synchronized (this) {
            active = true;
            startIfPossible();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    synchronized void bindDriver(CaptureDriver d, Map<String, Object> props) {
        if (driverName.equals(String.valueOf(props.get(CaptureDriver.PROPERTY))) && driver == null) {
            driver = d;
            startIfPossible();
        }
    }

    synchronized void unbindDriver(CaptureDriver d, Map<String, Object> props) {
        if (driver == d) {
            stopSession();
            driver = null;
        }
    }

    private void startIfPossible() {
        if (!active || driver == null || session != null) {
            return;
        }
        try {
            session = driver.start(spec, sink);
            agent.attachSource(disk, session.source()); // resyncs and dirty-region replays read from it
            agent.sourceProblem(disk, session::problem); // a failing source shows in the disk's status
            LOG.log(Level.INFO, "disk " + disk + ": capturing with driver '" + driverName + "'"
                    + (session.endpoint().isEmpty() ? "" : " at " + session.endpoint()));
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.ERROR, "disk " + disk + ": capture driver '" + driverName + "' cannot start: " + e, e);
        }
    }

    private void stopSession() {
        if (session != null) {
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
        agent.unprotect(disk);
    }
}
