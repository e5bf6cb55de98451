package org.secondsite.capture.scan.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.storage.BlockDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One disk under scan capture: a {@link BlockScanner} driven by a single scheduled thread. Scans run
 * with a fixed delay between the end of one and the start of the next, so they never overlap;
 * {@link #scanNow()} runs one on the same thread. {@link #close()} stops the schedule, makes a running
 * scan stop at its next read and waits for it.
 */
final class ScanCaptureSession implements CaptureSession {
    private static final Logger LOG = LoggerFactory.getLogger(ScanCaptureSession.class);

    private final DiskId disk;
    private final BlockScanner scanner;
    private final ScanSource source;
    private final ScheduledThreadPoolExecutor executor;
    private final Runnable onClose;
    private volatile boolean closed;

    private ScanCaptureSession(DiskId disk, BlockScanner scanner, ScanSource source, Runnable onClose) {
        this.disk = disk;
        this.scanner = scanner;
        this.source = source;
        this.onClose = onClose;
        this.executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "scan-capture-" + disk);
            t.setDaemon(true);
            return t;
        });
        executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /**
     * Opens the source, loads the persisted table and runs the first scan (the baseline, or the comparison
     * with the persisted table) before returning, so that capture is in effect when this returns; then
     * schedules the periodic scans.
     */
    static ScanCaptureSession start(CaptureSpec spec, ChangeSink sink, ScanSettings settings, Runnable onClose)
            throws IOException {
        StateFile stateFile = null;
        if (settings.stateDir() != null) {
            Files.createDirectories(settings.stateDir());
            stateFile = new StateFile(settings.stateDir().resolve(spec.disk().value() + ".scanstate"));
        }
        BlockScanner scanner = new BlockScanner(spec.disk().value(), spec.source(), settings, sink, stateFile);
        ScanSource source;
        try {
            source = new ScanSource(spec.source());
        } catch (IOException e) {
            scanner.close();
            throw e;
        }
        ScanCaptureSession session = new ScanCaptureSession(spec.disk(), scanner, source, onClose);
        try {
            session.scanNow();
        } catch (IOException | RuntimeException e) {
            session.close();
            throw e;
        }
        long every = settings.interval().toMillis();
        session.executor.scheduleWithFixedDelay(session::scheduledScan, every, every, TimeUnit.MILLISECONDS);
        return session;
    }

    private void scheduledScan() {
        try {
            scanner.scan();
        } catch (BlockScanner.SourceReadException e) {
            // logged by the scanner when the problem appeared; problem() reports it
            LOG.debug("scan {}: scan failed, retrying at the next interval: {}", disk, e.getMessage());
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.warn("scan {}: scan failed, retrying at the next interval: {}", disk, e.toString());
            }
        }
    }

    /**
     * Runs one scan now on the scanning thread (after any scan in progress) and returns the statistics
     * after it. Used for the first scan and by tests, which so never wait for the interval.
     *
     * @throws IllegalStateException if the session is closed
     */
    Map<String, Long> scanNow() throws IOException {
        if (closed) {
            throw new IllegalStateException("scan capture of " + disk + " is closed");
        }
        Future<Map<String, Long>> f = executor.submit(scanner::scan);
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a scan of " + disk);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException("scan of " + disk + " failed", c);
        }
    }

    @Override
    public DiskId disk() {
        return disk;
    }

    @Override
    public BlockDevice source() {
        return source;
    }

    /** Empty: the driver does not interpose on the disk. */
    @Override
    public String endpoint() {
        return "";
    }

    @Override
    public Map<String, Long> statistics() {
        return scanner.snapshot();
    }

    /**
     * Empty while the source can be scanned; otherwise why not, e.g. {@code "source /dev/sdb cannot be read
     * (No such device or address): scans fail, and find no changes until it can"}, or that the source file
     * was deleted or replaced (scans keep reading the file opened at start). A read problem clears after the
     * next scan that completes.
     */
    @Override
    public String problem() {
        return scanner.problem();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        scanner.stop();
        // Drops the scheduled scans without interrupting the running one (an interrupt would close its
        // channel mid-read); the stop flag ends that one at its next read.
        executor.shutdown();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    if (executor.awaitTermination(1, TimeUnit.MINUTES)) {
                        break;
                    }
                    LOG.info("scan {}: still waiting for the running scan to stop", disk);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            try {
                release(scanner);
                release(source);
            } finally {
                onClose.run();
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * Closes a channel on the source. The descriptor is released even when close(2) reports an error, as
     * on a vanished source (a dead FUSE mount: ENOTCONN); that is logged, not thrown.
     */
    private void release(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("scan {}: closing the source reported {}; it is released", disk, e.toString());
        }
    }

    @Override
    public String toString() {
        return "scan capture of " + disk;
    }
}
