package org.secondsite.mastertarget.internal.recovery;

import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;

import org.secondsite.api.model.DiskId;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.mastertarget.internal.MasterTarget;
import org.secondsite.mastertarget.internal.retention.PointDetail;
import org.secondsite.nbd.ExportOptions;
import org.secondsite.nbd.ImageCopy;
import org.secondsite.nbd.NbdServer;
import org.secondsite.nbd.OverlayDevice;

/**
 * Point-in-time recovery at the master target: a listed recovery point materialised as
 * (a) a read-only NBD export of the view "replica + undo chain" (no copy, ready at once),
 * (b) a writable test-failover export whose writes go to a scratch overlay that is deleted on
 * {@link #discard}, or (c) a raw image copy. Replication goes on untouched meanwhile; an
 * open export pins its point against pruning until it is discarded.
 *
 * <p>One export per disk of the point: a one-disk point is exported under the operator's name,
 * a point of several disks as {@code <name>-<disk index>} in disk order.
 */
public final class Recovery implements Closeable {
    private static final System.Logger LOG = System.getLogger(Recovery.class.getName());
    /** Operator-chosen export names. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /** What an export serves. */
    public enum Mode {
        /** The point as it was; writes refused. */
        READ_ONLY,
        /** The point with a scratch overlay taking writes (test failover); discarded afterwards. */
        TEST_FAILOVER
    }

    /** One live export of one disk of a point. */
    public record ExportInfo(String name, String exportName, String pointId, DiskId disk, Mode mode, String uri,
                             Instant created, long scratchBytes) {
    }

    /** A raw image copy of one disk of a point, running or finished. */
    public record CopyInfo(long id, String pointId, DiskId disk, Path target, long doneBytes, long totalBytes,
                           String state, String message, Instant started, Instant finished) {
        public double percent() {
            return totalBytes == 0 ? 100 : 100.0 * doneBytes / totalBytes;
        }
    }

    private record Served(String name, String pointId, DiskId disk, Mode mode, BlockDevice view, OverlayDevice overlay,
                          org.secondsite.nbd.Export export, Instant created) {
        ExportInfo info() {
            return new ExportInfo(name, export.name(), pointId, disk, mode, export.uri(), created,
                    overlay == null ? 0 : overlay.scratchBytes());
        }
    }

    private final class Copy {
        final long id;
        final String pointId;
        final DiskId disk;
        final Path target;
        final Instant started;
        /** Taken once: by the copier thread when it starts the copy, or by {@link #close} if it never did. */
        final java.util.concurrent.atomic.AtomicBoolean claimed = new java.util.concurrent.atomic.AtomicBoolean();
        volatile BlockDevice view;
        volatile ImageCopy copy;
        volatile long done;
        volatile long total;
        volatile String state = "running";
        volatile String message = "";
        volatile Instant finished;
        final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);

        Copy(long id, String pointId, DiskId disk, Path target) {
            this.id = id;
            this.pointId = pointId;
            this.disk = disk;
            this.target = target;
            this.started = clock.instant();
        }

        CopyInfo info() {
            return new CopyInfo(id, pointId, disk, target, done, total, state, message, started, finished);
        }
    }

    private final MasterTarget masterTarget;
    private final InetSocketAddress exportAddress;
    private final Path scratchDir;
    private final Clock clock;
    private final Map<String, List<Served>> exports = new LinkedHashMap<>();
    private final Map<Long, Copy> copies = new LinkedHashMap<>();
    private final ExecutorService copier = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "secondsite-recovery-copy");
        t.setDaemon(true);
        return t;
    });
    private NbdServer server;
    private long nextCopy = 1;
    private boolean closed;

    /**
     * Scratch overlays ({@code *.scratch}) found in {@code scratchDir} are left by an earlier run that
     * ended without discarding its test-failover exports (exports do not survive a restart): they are
     * deleted here, so their space comes back and their names can be exported again.
     *
     * @param exportAddress where the NBD server for exports listens (started with the first export)
     * @param scratchDir where test-failover overlays keep their writes (created if missing); owned by
     *        this instance
     */
    public Recovery(MasterTarget masterTarget, InetSocketAddress exportAddress, Path scratchDir, Clock clock) {
        this.masterTarget = Objects.requireNonNull(masterTarget, "masterTarget");
        this.exportAddress = Objects.requireNonNull(exportAddress, "exportAddress");
        this.scratchDir = Objects.requireNonNull(scratchDir, "scratchDir");
        this.clock = Objects.requireNonNull(clock, "clock");
        deleteStaleScratch(scratchDir);
    }

    private static void deleteStaleScratch(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (java.nio.file.DirectoryStream<Path> stale = Files.newDirectoryStream(dir, "*.scratch")) {
            for (Path p : stale) {
                try {
                    long bytes = Files.size(p);
                    Files.deleteIfExists(p);
                    LOG.log(Level.WARNING, "recovery: deleted the scratch overlay " + p + " (" + bytes
                            + " bytes) of a test-failover export an earlier run did not discard");
                } catch (IOException e) {
                    LOG.log(Level.WARNING, "recovery: cannot delete the stale scratch overlay " + p + ": " + e);
                }
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "recovery: cannot list " + dir + " for stale scratch overlays: " + e);
        }
    }

    /**
     * Exports every disk of a point (or only {@code disk}) over NBD under {@code name}.
     *
     * @throws IllegalArgumentException for a bad or used name, or a disk not in the point
     * @throws org.secondsite.mastertarget.internal.retention.UnknownPointException for an unknown or pruned point
     */
    public synchronized List<ExportInfo> export(String name, String pointId, Optional<DiskId> disk, Mode mode)
            throws IOException {
        Objects.requireNonNull(mode, "mode");
        if (closed) {
            throw new IllegalStateException("recovery is shut down");
        }
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("export name '" + name + "' must be 1-64 letters, digits, '.', '_' or '-'");
        }
        if (exports.containsKey(name)) {
            throw new IllegalArgumentException("export name '" + name + "' is in use (by point "
                    + exports.get(name).get(0).pointId() + "); discard it first or pick another name");
        }
        PointDetail point = masterTarget.point(pointId);
        List<DiskId> disks = new ArrayList<>(point.sequences().keySet());
        if (disk.isPresent()) {
            if (!disks.contains(disk.get())) {
                throw new IllegalArgumentException("disk " + disk.get() + " is not part of recovery point '" + pointId
                        + "' (its disks: " + disks + ")");
            }
            disks = List.of(disk.get());
        }
        NbdServer nbd = server();
        List<Served> served = new ArrayList<>();
        try {
            for (int i = 0; i < disks.size(); i++) {
                DiskId d = disks.get(i);
                String exportName = disks.size() == 1 ? name : name + "-" + i;
                if (nbd.find(exportName).isPresent()) {
                    throw new IllegalArgumentException("NBD export name '" + exportName + "' is in use");
                }
                BlockDevice view = masterTarget.openView(pointId, d);
                OverlayDevice overlay = null;
                try {
                    BlockDevice device = view;
                    if (mode == Mode.TEST_FAILOVER) {
                        Files.createDirectories(scratchDir);
                        overlay = OverlayDevice.create(view, scratchDir.resolve(exportName + ".scratch"));
                        device = overlay;
                    }
                    org.secondsite.nbd.Export e = nbd.export(exportName, device,
                            (mode == Mode.READ_ONLY ? ExportOptions.READ_ONLY : ExportOptions.WRITABLE)
                                    .withDescription("recovery point " + pointId + " of " + d
                                            + (mode == Mode.TEST_FAILOVER ? " (test failover)" : "")));
                    served.add(new Served(name, pointId, d, mode, view, overlay, e, clock.instant()));
                } catch (IOException | RuntimeException e) {
                    closeQuietly(overlay);
                    closeQuietly(view);
                    throw e;
                }
            }
        } catch (IOException | RuntimeException e) {
            served.forEach(Recovery::closeServed);
            throw e;
        }
        exports.put(name, served);
        LOG.log(Level.INFO, "recovery: point " + pointId + " exported as " + served.stream()
                .map(s -> s.export().uri()).toList() + " (" + mode + ")");
        return served.stream().map(Served::info).toList();
    }

    /** Ends an export: its clients are disconnected, a test-failover overlay and its writes are deleted. */
    public synchronized void discard(String name) {
        List<Served> served = exports.remove(name);
        if (served == null) {
            throw new IllegalArgumentException("no export named '" + name + "'"
                    + (exports.isEmpty() ? "" : "; exports: " + exports.keySet()));
        }
        served.forEach(Recovery::closeServed);
        LOG.log(Level.INFO, "recovery: export " + name + " of point " + served.get(0).pointId() + " discarded");
    }

    /** Live exports, by name then disk. */
    public synchronized List<ExportInfo> exports() {
        return exports.values().stream().flatMap(List::stream).map(Served::info).toList();
    }

    /**
     * Starts copying one disk of a point to a raw image file (sparse; written to
     * {@code <target>.partial}, renamed when complete). Follow it with {@link #copies()}.
     *
     * @throws java.nio.file.FileAlreadyExistsException if the target exists
     */
    public synchronized CopyInfo copy(String pointId, DiskId disk, Path target) throws IOException {
        if (closed) {
            throw new IllegalStateException("recovery is shut down");
        }
        if (Files.exists(target)) {
            throw new java.nio.file.FileAlreadyExistsException(target.toString(), null, "the image file exists");
        }
        Path parent = target.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IllegalArgumentException("the folder of " + target + " does not exist");
        }
        BlockDevice view = masterTarget.openView(pointId, disk);
        Copy c = new Copy(nextCopy++, pointId, disk, target);
        c.view = view;
        try {
            c.total = view.size();
            c.copy = new ImageCopy(view, target, (done, total) -> {
                c.done = done;
                c.total = total;
            });
        } catch (IOException | RuntimeException e) {
            closeQuietly(view);
            throw e;
        }
        copies.put(c.id, c);
        copier.execute(() -> {
            if (!c.claimed.compareAndSet(false, true)) {
                return; // recovery shut down before this copy started; close() released it
            }
            try {
                c.copy.run();
                c.state = "done";
                LOG.log(Level.INFO, "recovery: point " + pointId + " of " + disk + " copied to " + target);
            } catch (CancellationException e) {
                c.state = "cancelled";
            } catch (IOException | RuntimeException e) {
                c.state = "failed";
                c.message = String.valueOf(e.getMessage());
                LOG.log(Level.WARNING, "recovery: copying point " + pointId + " of " + disk + " to " + target
                        + " failed: " + e);
            } finally {
                c.finished = clock.instant();
                closeQuietly(view);
                c.ended.countDown();
            }
        });
        return c.info();
    }

    /** Copies since start, newest last. */
    public synchronized List<CopyInfo> copies() {
        return copies.values().stream().map(Copy::info).sorted(Comparator.comparingLong(CopyInfo::id)).toList();
    }

    /** Waits at most {@code timeout} for a copy to end; returns whether it has ended. */
    public boolean awaitCopy(long id, java.time.Duration timeout) throws InterruptedException {
        Copy c;
        synchronized (this) {
            c = copies.get(id);
        }
        if (c == null) {
            throw new IllegalArgumentException("no copy with id " + id);
        }
        return c.ended.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Cancels a running copy. */
    public synchronized void cancelCopy(long id) {
        Copy c = copies.get(id);
        if (c == null) {
            throw new IllegalArgumentException("no copy with id " + id);
        }
        c.copy.cancel();
    }

    /** Where exports are served, once the first one started. */
    public synchronized Optional<InetSocketAddress> exportAddress() {
        return Optional.ofNullable(server).map(NbdServer::address);
    }

    private NbdServer server() throws IOException {
        if (server == null) {
            server = NbdServer.start(exportAddress);
        }
        return server;
    }

    /**
     * Ends every export (overlays deleted) and every copy (running ones cancelled, waited for at most
     * 30 s; queued ones never start), releasing the views, so no point stays pinned.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        exports.values().forEach(l -> l.forEach(Recovery::closeServed));
        exports.clear();
        copies.values().forEach(c -> c.copy.cancel());
        // No shutdownNow(): an interrupt during a read of a view closes the FileChannel it reads, which
        // may be the master target's own channel of the replica volume. ImageCopy stops on cancel().
        copier.shutdown();
        for (Copy c : copies.values()) {
            if (c.claimed.compareAndSet(false, true)) { // queued, never started
                c.state = "cancelled";
                c.message = "recovery shut down before the copy started";
                c.finished = clock.instant();
                closeQuietly(c.view);
                c.ended.countDown();
            }
        }
        try {
            if (!copier.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
                LOG.log(Level.WARNING, "recovery: a cancelled image copy did not stop within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(server);
        server = null;
    }

    private static void closeServed(Served s) {
        closeQuietly(s.export());
        closeQuietly(s.overlay());
        closeQuietly(s.view());
    }

    private static void closeQuietly(Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.DEBUG, "closing " + c + ": " + e);
            }
        }
    }
}
