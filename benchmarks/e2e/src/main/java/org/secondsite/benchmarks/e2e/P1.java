package org.secondsite.benchmarks.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

import org.secondsite.agent.internal.Agent;
import org.secondsite.agent.internal.AgentOptions;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.api.transport.Transport;
import org.secondsite.compress.lz4.internal.Lz4Codec;
import org.secondsite.mastertarget.internal.MasterTarget;
import org.secondsite.processserver.internal.ProcessServer;
import org.secondsite.processserver.internal.ProcessServerOptions;
import org.secondsite.storage.file.internal.FileStorageBackend;
import org.secondsite.testkit.TestData;
import org.secondsite.testkit.TestPki;
import org.secondsite.transport.tls.internal.TlsOptions;
import org.secondsite.transport.tls.internal.TlsTransport;

/**
 * Benchmark P1 (docs/PERFORMANCE.md), our side; {@code p1.sh} runs it beside the peer pipeline.
 *
 * <pre>
 *   P1 generate FILE BYTES       write BYTES of realistic mixed data (TestData.mixed) to FILE
 *   P1 ours FILE WORKDIR [SHA]   replicate FILE agent -> PS -> MT and print the rate
 * </pre>
 *
 * "ours": agent, process server and master target in this JVM, each on its own TLS 1.3
 * connection over loopback; the agent sends uncompressed, the process server spools with
 * fsync and forwards lz4, the master target applies to file storage with its flush policy.
 * The file is fed through the agent's ChangeSink as sequential 1 MiB writes (each in its own
 * buffer, as a capture driver hands them over). Timed: from the first write until the master
 * target has durably applied the last sequence. Then (untimed) the replica's SHA-256 is
 * compared with the file's.
 */
public final class P1 {
    static final DiskId DISK = DiskId.of("bench01:disk0");
    static final DiskId WARMUP = DiskId.of("bench01:warmup");
    static final int WRITE = 1 << 20;

    private P1() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("generate")) {
            generate(Path.of(args[1]), Long.parseLong(args[2]));
        } else if (args.length >= 3 && args[0].equals("ours")) {
            System.exit(ours(Path.of(args[1]), Path.of(args[2]), args.length > 3 ? args[3] : null));
        } else {
            System.err.println("usage: P1 generate FILE BYTES | P1 ours FILE WORKDIR [EXPECTED_SHA256]");
            System.exit(2);
        }
    }

    /** Writes {@code bytes} of mixed data in 64 MiB pieces, each from its own seed. */
    static void generate(Path file, long bytes) throws IOException {
        int piece = 64 << 20;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            long seed = 1;
            for (long done = 0; done < bytes; done += piece) {
                ByteBuffer b = ByteBuffer.wrap(TestData.mixed((int) Math.min(piece, bytes - done), seed++));
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
        }
    }

    static int ours(Path data, Path work, String expected) throws Exception {
        long size = Files.size(data);
        if (size == 0 || size % WRITE != 0) {
            throw new IllegalArgumentException(data + " must be a positive multiple of 1 MiB, is " + size + " bytes");
        }
        // Like the peer (lz4 -1 at the sender), the agent compresses by default: half the bytes cross
        // TLS twice and reach the spool, and the process server only checks them (no recompression).
        String agentCompressor = System.getProperty("p1.agentCompressor", "lz4");
        try (Rig rig = Rig.start(work, agentCompressor, o -> o)) {
            Agent agent = rig.agent;
            MasterTarget mt = rig.masterTarget;
            ProcessServer ps = rig.processServer;
            ChangeSink sink = agent.protect(DISK, GroupId.of("bench01"), size);
            rig.awaitLinks(DISK);
            // Without a source the disk stays in its initial replication, during which no checkpoint is
            // taken and the master target journals nothing. -Dp1.retention=true attaches an empty sparse
            // source (the initial replication compares hashes and ends) so that checkpoints run and the
            // retention journal is active during the timed part. The writes still go to the sink only.
            org.secondsite.api.capture.CaptureSession capture = null;
            if (Boolean.getBoolean("p1.retention")) {
                Path source = work.resolve("source.img");
                try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(source.toFile(), "rw")) {
                    f.setLength(size);
                }
                capture = new org.secondsite.capture.nbd.internal.NbdCaptureDriver().start(
                        new org.secondsite.api.capture.CaptureSpec(DISK, source, Map.of("listen", "127.0.0.1:0")), sink);
                agent.attachSource(DISK, capture.source());
                long i0 = System.nanoTime();
                P4.awaitInitialReplication(rig, DISK);
                System.out.printf(Locale.ROOT, "ours: empty source attached, initial replication done in %.1f s%n",
                        (System.nanoTime() - i0) / 1e9);
            }
            System.out.printf(Locale.ROOT, "ours: agent compressor %s, PS wan compressor %s, %d MiB writes%n",
                    rig.agentOptions.compressor(), rig.processServerOptions.wanCompressor(), WRITE >> 20);

            // The appliance runs for days: measure it warm. A first, untimed disk takes the JIT through the
            // hot paths (TLS record crypto needs ~4 s of run time here before its intrinsics are in effect).
            long warm = Math.min(size, Long.getLong("p1.warmupBytes", 512L << 20));
            if (warm > 0) {
                long w0 = System.nanoTime();
                replicate(agent, mt, agent.protect(WARMUP, GroupId.of("bench01-warmup"), warm), WARMUP, data, warm);
                System.out.printf(Locale.ROOT, "ours: warm-up disk of %d MiB replicated in %.2f s (untimed)%n",
                        warm >> 20, (System.nanoTime() - w0) / 1e9);
            }

            // Checkpoints are on by default: once a group has a point, the master target journals what each
            // write overwrites. Say whether that was the case during the timed part.
            System.out.println("ours: retention before the timed part: " + describe(mt));
            long start = System.nanoTime();
            long last = replicate(agent, mt, sink, DISK, data, size);
            long nanos = System.nanoTime() - start;
            System.out.println("ours: retention after the timed part: " + describe(mt) + "; points of bench01: "
                    + mt.points(java.util.Optional.of(GroupId.of("bench01"))).size() + ", agent checkpoint interval "
                    + rig.agentOptions.checkpointInterval());

            double secs = nanos / 1e9;
            System.out.printf(Locale.ROOT, "ours: %d bytes in %.2f s = %.1f MB/s (%d batches; PS in %d B, out %d B)%n",
                    size, secs, size / 1e6 / secs, last, Rig.status(ps.disks(), DISK).bytesIn(),
                    Rig.status(ps.disks(), DISK).bytesOut());
            String got = sha256(rig.replicaFile(DISK));
            String want = expected != null ? expected : sha256(data);
            boolean ok = got.equals(want);
            System.out.println("ours: replica sha256 " + got + (ok ? " == data" : " != data " + want));
            System.out.printf(Locale.ROOT, "RESULT ours_mbps=%.1f ok=%b%n", size / 1e6 / secs, ok);
            if (capture != null) {
                agent.detachSource(DISK, capture.source());
                capture.close();
            }
            return ok ? 0 : 1;
        }
    }

    /** Bytes the workload lets wait in the agent before it writes more (a quarter of its default memory). */
    private static final long PACE = 64L << 20;

    /** Feeds {@code bytes} of the data file as sequential 1 MiB writes, then waits until all is applied. */
    private static long replicate(Agent agent, MasterTarget mt, ChangeSink sink, DiskId disk, Path data, long bytes)
            throws Exception {
        try (FileChannel in = FileChannel.open(data, StandardOpenOption.READ)) {
            // The workload's writes come from the page cache without copies (as lz4 reads its input in the
            // peer): 1 MiB slices of a read-only mapping, 256 MiB at a time.
            final long window = 256L << 20;
            for (long base = 0; base < bytes; base += window) {
                long n = Math.min(window, bytes - base);
                if (base + n > in.size()) {
                    throw new IOException("short data file " + data + ": " + in.size() + " bytes, need " + (base + n));
                }
                ByteBuffer map = in.map(FileChannel.MapMode.READ_ONLY, base, n);
                for (long off = 0; off < n; off += WRITE) {
                    int len = (int) Math.min(WRITE, n - off);
                    // Paced like the peer's pipe: the writer waits while PACE bytes wait to be sent. The agent
                    // never blocks a workload (beyond memory it spills to its change cache, then keeps only a
                    // dirty-region bitmap); this measures the data path, not the spill and replay path.
                    while (Rig.status(agent.disks(), disk).backlogBytes() > PACE) {
                        LockSupport.parkNanos(100_000);
                    }
                    sink.accept(ChangeRecord.write(base + off, map.slice((int) off, len)));
                }
            }
        }
        sink.flush();
        long last = Rig.status(agent.disks(), disk).lastSequence();
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (mt.lastApplied(disk) < last || !agent.isDrained(disk)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the master target did not apply sequence " + last
                        + " of " + disk + " within 10 minutes (at " + mt.lastApplied(disk) + ")");
            }
            LockSupport.parkNanos(200_000);
        }
        return last;
    }

    private static String describe(MasterTarget mt) throws IOException {
        var r = mt.retention();
        return String.format(Locale.ROOT, "%d points listed, journal %d bytes in %d segments", r.points(),
                r.usedBytes(), r.segments());
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
