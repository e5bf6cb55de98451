package org.secondsite.capture.scan.internal;

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
 * The {@code scan} capture driver: for any file or block device, periodically hashes fixed blocks and
 * passes the changed ones, with their data, to the sink. Options: {@code blockSize} (default 65536),
 * {@code interval} (default 60 s), {@code hash} ({@code xxh64} or {@code sha256}), {@code initialFull}
 * (default false), {@code stateDir} (default none). See {@link ScanSettings}.
 */
@Component(service = CaptureDriver.class, property = CaptureDriver.PROPERTY + "=" + ScanCaptureDriver.NAME)
public final class ScanCaptureDriver implements CaptureDriver {
    static final String NAME = "scan";
    private static final Logger LOG = LoggerFactory.getLogger(ScanCaptureDriver.class);

    private final Set<ScanCaptureSession> sessions = ConcurrentHashMap.newKeySet();

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Returns after the first scan (the baseline, or the comparison with the persisted table) is done.
     *
     * @throws IllegalArgumentException for an unknown option key or a bad option value
     * @throws IOException if the disk cannot be read or the first scan fails
     */
    @Override
    public CaptureSession start(CaptureSpec spec, ChangeSink sink) throws IOException {
        ScanSettings settings = ScanSettings.parse(spec.options());
        ScanCaptureSession[] self = new ScanCaptureSession[1];
        ScanCaptureSession session = ScanCaptureSession.start(spec, sink, settings, () -> {
            if (self[0] != null) {
                sessions.remove(self[0]);
            }
        });
        self[0] = session;
        sessions.add(session);
        return session;
    }

    /** Closes the sessions still open when the bundle stops, so no scan thread outlives it. */
    @Deactivate
    void deactivate() {
        for (ScanCaptureSession s : sessions) {
            try {
                s.close();
            } catch (IOException e) {
                LOG.warn("closing {} failed: {}", s, e.toString());
            }
        }
    }
}
