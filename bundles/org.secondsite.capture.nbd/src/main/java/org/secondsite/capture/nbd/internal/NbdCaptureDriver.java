package org.secondsite.capture.nbd.internal;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.secondsite.api.capture.CaptureDriver;
import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.capture.ChangeSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code nbd} capture driver: serves each protected disk over NBD and passes every write, trim
 * and write-zeroes to the change sink before acknowledging it, in acknowledgement order (true CDP).
 * Options: {@code listen} (host:port, default 127.0.0.1:0), {@code maxConnections} (default 16),
 * {@code handshakeTimeout} (seconds, default 30).
 */
@Component(service = CaptureDriver.class, property = CaptureDriver.PROPERTY + "=" + NbdCaptureDriver.NAME)
public final class NbdCaptureDriver implements CaptureDriver {
    static final String NAME = "nbd";
    private static final Logger LOG = LoggerFactory.getLogger(NbdCaptureDriver.class);

    private final Set<NbdCaptureSession> sessions = ConcurrentHashMap.newKeySet();

    @Override
    public String name() {
        return NAME;
    }

    /**
     * @throws IllegalArgumentException for an unknown option key or a bad option value
     * @throws IOException if the disk cannot be opened or the address cannot be bound
     */
    @Override
    public CaptureSession start(CaptureSpec spec, ChangeSink sink) throws IOException {
        NbdSettings settings = NbdSettings.parse(spec.options());
        NbdCaptureSession[] self = new NbdCaptureSession[1];
        NbdCaptureSession session = NbdCaptureSession.start(spec, sink, settings, () -> sessions.remove(self[0]));
        self[0] = session;
        sessions.add(session);
        return session;
    }

    /** Closes the sessions still open when the bundle stops, so no disk stays held. */
    @Deactivate
    void deactivate() {
        for (NbdCaptureSession s : sessions) {
            try {
                s.close();
            } catch (IOException e) {
                LOG.warn("closing {} failed: {}", s, e.toString());
            }
        }
    }
}
