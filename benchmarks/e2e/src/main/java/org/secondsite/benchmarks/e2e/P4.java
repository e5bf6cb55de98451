package org.secondsite.benchmarks.e2e;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.capture.nbd.internal.NbdCaptureDriver;

/**
 * P4, RPO under churn: fio writes 4 KiB random blocks at a fixed rate through the nbd capture
 * driver (fio's nbd engine, a real NBD client) into a disk replicated agent -> process server ->
 * master target (TLS, lz4, durable spool, retention journal). Every 100 ms the RPO is sampled as
 * now minus the time of the newest recovery point the master target lists (a checkpoint's time
 * is its cut: every write acknowledged before it is contained, none after). Reports p50/p99/max.
 * At the end the newest point's view must equal the source byte for byte (SHA-256): the source is
 * quiet then, so its newest point holds everything.
 *
 * <p>Usage: {@code java -cp p1.jar org.secondsite.benchmarks.e2e.P4 <workdir> [seconds] [rate] [checkpointMillis]}
 */
public final class P4 {
    static final DiskId DISK = DiskId.of("churn01:disk0");
    static final GroupId GROUP = GroupId.of("churn01");
    static final long SIZE = 1L << 30;

    private P4() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: P4 <workdir> [seconds=60] [rate=20m] [checkpointMillis=1000]");
            System.exit(2);
        }
        Path work = Paths.get(args[0]);
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        String rate = args.length > 2 ? args[2] : "20m";
        long checkpointMillis = args.length > 3 ? Long.parseLong(args[3]) : 1000;
        System.exit(run(work, seconds, rate, checkpointMillis));
    }

    static int run(Path work, int seconds, String rate, long checkpointMillis) throws Exception {
        Files.createDirectories(work);
        Path source = work.resolve("source.img");
        try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        try (Rig rig = Rig.start(work, "lz4", o -> o.withCheckpointInterval(Duration.ofMillis(checkpointMillis)))) {
            ChangeSink sink = rig.agent.protect(DISK, GROUP, SIZE);
            rig.awaitLinks(DISK);
            CaptureSession capture = new NbdCaptureDriver().start(
                    new CaptureSpec(DISK, source, Map.of("listen", "127.0.0.1:0")), sink);
            rig.agent.attachSource(DISK, capture.source());
            try {
                awaitInitialReplication(rig, DISK);
                System.out.printf(Locale.ROOT, "P4: fio randwrite 4k at %s/s for %d s into %s; checkpoint every %d ms%n",
                        rate, seconds, capture.endpoint(), checkpointMillis);
                List<Long> samples = new ArrayList<>();
                // Diagnostics of the RPO: when a new point shows up, how old it is (lag: cut to listing, at
                // the sampler's 100 ms resolution) and how far its cut is from the previous one's (gap).
                List<Long> lags = new ArrayList<>();
                List<Long> gaps = new ArrayList<>();
                RecoveryPoint[] seen = {null};
                ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
                long[] started = {0};
                sampler.scheduleAtFixedRate(() -> {
                    try {
                        Optional<RecoveryPoint> newest = rig.masterTarget.retention().newest();
                        if (started[0] != 0 && newest.isPresent()) {
                            Instant now = Instant.now();
                            long rpo = Duration.between(newest.get().time(), now).toMillis();
                            synchronized (samples) {
                                samples.add(rpo);
                                RecoveryPoint p = newest.get();
                                if (seen[0] != null && !seen[0].id().equals(p.id())) {
                                    lags.add(rpo);
                                    gaps.add(Duration.between(seen[0].time(), p.time()).toMillis());
                                }
                                seen[0] = p;
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        System.err.println("P4: sampling failed: " + e);
                    }
                }, 100, 100, TimeUnit.MILLISECONDS);
                Process fio = new ProcessBuilder("fio", "--name=p4", "--ioengine=nbd", "--uri=" + capture.endpoint(),
                        "--rw=randwrite", "--bs=4k", "--rate=" + rate, "--iodepth=8", "--time_based",
                        "--runtime=" + seconds, "--size=" + SIZE, "--randrepeat=0", "--output-format=terse")
                        .redirectErrorStream(true).redirectOutput(work.resolve("fio.out").toFile()).start();
                started[0] = System.nanoTime();
                int rc = fio.waitFor();
                sampler.shutdown();
                sampler.awaitTermination(5, TimeUnit.SECONDS);
                if (rc != 0) {
                    System.err.println("P4: fio failed (" + rc + "): " + Files.readString(work.resolve("fio.out")));
                    return 1;
                }
                List<Long> sorted;
                synchronized (samples) {
                    sorted = new ArrayList<>(samples);
                }
                sorted.sort(null);
                if (sorted.isEmpty()) {
                    System.err.println("P4: no recovery point was listed during the run");
                    return 1;
                }
                long p50 = pct(sorted, 0.50);
                long p99 = pct(sorted, 0.99);
                long max = sorted.get(sorted.size() - 1);
                System.out.printf(Locale.ROOT, "P4: %d samples; RPO p50 %d ms, p99 %d ms, max %d ms; points listed %d%n",
                        sorted.size(), p50, p99, max, rig.masterTarget.retention().points());
                synchronized (samples) {
                    lags.sort(null);
                    gaps.sort(null);
                    if (!lags.isEmpty()) {
                        System.out.printf(Locale.ROOT, "P4: %d new points seen; age when first seen p50 %d / p99 %d / "
                                        + "max %d ms; cut to previous cut p50 %d / p99 %d / max %d ms%n", lags.size(),
                                pct(lags, 0.5), pct(lags, 0.99), lags.get(lags.size() - 1), pct(gaps, 0.5),
                                pct(gaps, 0.99), gaps.get(gaps.size() - 1));
                    }
                }
                System.out.printf(Locale.ROOT, "P4: agent bytes captured %d%n",
                        Rig.status(rig.agent.disks(), DISK).bytesIn());
                boolean ok = newestPointEqualsSource(rig, source);
                System.out.printf(Locale.ROOT, "RESULT rpo_p50_ms=%d rpo_p99_ms=%d rpo_max_ms=%d ok=%b%n", p50, p99, max,
                        ok);
                return ok ? 0 : 1;
            } finally {
                rig.agent.detachSource(DISK, capture.source());
                capture.close();
            }
        }
    }

    /** Waits until a point newer than the last write is listed, then compares its view with the source. */
    private static boolean newestPointEqualsSource(Rig rig, Path source) throws Exception {
        Instant quiet = Instant.now();
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        RecoveryPoint newest;
        long nextTag = System.nanoTime();
        int tags = 0;
        while (true) {
            // A bookmark closes the stream after the last write (checkpoints skip an idle group).
            Optional<RecoveryPoint> p = rig.masterTarget.retention().newest();
            if (p.isPresent() && !p.get().time().isBefore(quiet)) {
                newest = p.get();
                break;
            }
            if (System.nanoTime() > deadline) {
                System.err.println("P4: no point after the workload within 2 minutes (newest " + p + ")");
                return false;
            }
            // One bookmark, repeated only if none arrived within 5 s (each one becomes a listed point).
            if (System.nanoTime() - nextTag >= 0) {
                rig.agent.insertTag(GROUP, new org.secondsite.api.model.ConsistencyTag(java.util.UUID.randomUUID(),
                        "p4-end-" + (++tags), org.secondsite.api.model.TagKind.BOOKMARK, Instant.now()));
                nextTag = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            }
            LockSupport.parkNanos(200_000_000);
        }
        String want = P1.sha256(source);
        String got;
        try (BlockDevice view = rig.masterTarget.openView(newest.id(), DISK)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            byte[] a = new byte[1 << 20];
            for (long off = 0; off < view.size(); off += buf.capacity()) {
                buf.clear().limit((int) Math.min(buf.capacity(), view.size() - off));
                view.read(off, buf);
                buf.flip();
                int n = buf.remaining();
                buf.get(a, 0, n);
                md.update(a, 0, n);
            }
            got = HexFormat.of().formatHex(md.digest());
        }
        System.out.println("P4: point " + newest.id() + " view sha256 " + got + (got.equals(want) ? " == " : " != ")
                + "source " + want);
        return got.equals(want);
    }

    /** The disk's initial replication (a hash comparison of the empty disk) ends before the clock starts. */
    static void awaitInitialReplication(Rig rig, DiskId disk) {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (true) {
            var r = Rig.status(rig.agent.disks(), disk).resync();
            if (r == null || r.phase() == org.secondsite.api.replication.ResyncProgress.Phase.DONE) {
                return;
            }
            if (r.phase() == org.secondsite.api.replication.ResyncProgress.Phase.FAILED || System.nanoTime() > deadline) {
                throw new IllegalStateException("initial replication did not complete: " + r);
            }
            LockSupport.parkNanos(50_000_000);
        }
    }

    private static long pct(List<Long> sorted, double p) {
        int i = (int) Math.ceil(p * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }
}
