package org.secondsite.benchmarks.resync;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

import org.secondsite.agent.internal.Agent;
import org.secondsite.agent.internal.AgentOptions;
import org.secondsite.agent.internal.ResyncFigures;
import org.secondsite.agent.internal.ResyncOptions;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.DiskFiles;
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
 * Benchmark P3 (docs/PERFORMANCE.md), our side; {@code p3.sh} runs it beside rsync.
 *
 * <pre>
 *   P3 generate FILE BYTES          write BYTES of realistic mixed data (TestData.mixed) to FILE
 *   P3 mutate FILE PERCENT SEED     overwrite PERCENT % of FILE's 4 KiB blocks, chosen at random, with random bytes
 *   P3 ours SRC DST WORKDIR [SHA [WARM_DST,...]]
 *                                   resync the replica DST from the source SRC and print the time
 * </pre>
 *
 * "ours": agent, process server and master target in this JVM, each hop its own TLS 1.3
 * connection over loopback; DST is moved into the master target's file storage as the replica of
 * a disk the agent protects for the first time, so its initial replication compares SRC with it
 * (offline seeding) and sends the differing blocks. Timed: from attaching the source (the links
 * are up) until the resync is DONE and the master target has durably applied the last sequence.
 * Before that, an untimed warm-up resync goes through the same path in the same JVM: with
 * WARM_DST (another copy of the replica) the very same comparison, SRC into WARM_DST, so the
 * timed run meets compiled code as a long-running appliance does; without it a generated
 * 512 MiB pair with 5 % of its blocks changed ({@code -Dp3.warmupBytes}, 0 turns it off). Then (untimed) the replica's SHA-256 is compared
 * with the source's. Resync settings are the defaults unless {@code -Dp3.chunkBytes},
 * {@code -Dp3.blockBytes}, {@code -Dp3.segmentBytes}, {@code -Dp3.inFlight}, {@code -Dp3.threads} say
 * otherwise. The CPU time of the JVM and of its threads (from /proc) during the timed part is printed.
 */
public final class P3 {
    static final DiskId DISK = DiskId.of("bench01:disk0");
    static final DiskId WARMUP = DiskId.of("bench01:warmup");
    static final DiskId WARMUP_SMALL = DiskId.of("bench01:warmup-small");
    static final int BLOCK = 4096;

    private P3() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("generate")) {
            generate(Path.of(args[1]), Long.parseLong(args[2]));
        } else if (args.length >= 4 && args[0].equals("mutate")) {
            long blocks = mutate(Path.of(args[1]), Double.parseDouble(args[2]), Long.parseLong(args[3]));
            System.out.println("CHANGED blocks=" + blocks + " bytes=" + blocks * BLOCK);
        } else if (args.length >= 4 && args[0].equals("ours")) {
            System.exit(ours(Path.of(args[1]), Path.of(args[2]), Path.of(args[3]),
                    args.length > 4 && !args[4].isEmpty() ? args[4] : null,
                    args.length > 5 ? java.util.Arrays.stream(args[5].split(",")).map(Path::of).toList() : List.of()));
        } else {
            System.err.println("usage: P3 generate FILE BYTES | P3 mutate FILE PERCENT SEED"
                    + " | P3 ours SRC DST WORKDIR [SRC_SHA256 [WARM_DST,...]]");
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
                DiskFiles.writeFully(ch, done, ByteBuffer.wrap(TestData.mixed((int) Math.min(piece, bytes - done), seed++)));
            }
        }
    }

    /** Overwrites {@code percent} % of the file's 4 KiB blocks (distinct, at random) with random bytes. */
    static long mutate(Path file, double percent, long seed) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            long blocks = ch.size() / BLOCK;
            int n = (int) Math.round(blocks * percent / 100.0);
            Random r = new Random(seed);
            java.util.BitSet chosen = new java.util.BitSet((int) blocks);
            byte[] data = new byte[BLOCK];
            for (int done = 0; done < n; ) {
                int b = (int) (r.nextDouble() * blocks);
                if (!chosen.get(b)) {
                    chosen.set(b);
                    r.nextBytes(data);
                    DiskFiles.writeFully(ch, (long) b * BLOCK, ByteBuffer.wrap(data));
                    done++;
                }
            }
            ch.force(false);
            return n;
        }
    }

    static int ours(Path src, Path dst, Path work, String expected, List<Path> warmDsts) throws Exception {
        long size = Files.size(src);
        if (Files.size(dst) != size) {
            throw new IllegalArgumentException(dst + " is " + Files.size(dst) + " bytes, " + src + " " + size);
        }
        Files.createDirectories(work.resolve("storage").resolve("volumes"));
        Path replica = work.resolve("storage").resolve("volumes").resolve(volumeName(DISK) + ".img");
        Files.move(dst, replica, StandardCopyOption.REPLACE_EXISTING);

        TestPki pki = TestPki.newCa("p3-ca");
        TlsTransport tls = new TlsTransport(TlsOptions.defaults());
        Map<String, Transport> transports = new ConcurrentHashMap<>(Map.of("tls", tls));
        Map<String, Compressor> psCompressors = new ConcurrentHashMap<>(Map.of("lz4", Lz4Codec.create()));
        Map<String, Compressor> mtCompressors = new ConcurrentHashMap<>(Map.of("lz4", Lz4Codec.create()));
        Map<String, StorageBackend> storages = new ConcurrentHashMap<>(Map.of("file",
                new FileStorageBackend(work.resolve("storage"))));
        var agentSec = pki.security("agent-1", id -> id.equals("ps-1"));
        var psSec = pki.security("ps-1", id -> id.equals("agent-1") || id.equals("mt-1"));
        var mtSec = pki.security("mt-1", id -> id.equals("ps-1"));
        InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);

        MasterTarget mt = new MasterTarget(new MasterTarget.Options(any, "tls", "file", 64L << 20), () -> "mt-1",
                transports::get, () -> mtSec, storages::get, mtCompressors::get, Clock.systemUTC());
        ProcessServer ps = null;
        Agent agent = null;
        try (FileSource source = new FileSource(src)) {
            ProcessServerOptions po = ProcessServerOptions.defaults(any, mt.listenAddress(), work.resolve("spool"))
                    .withWanCompressor("lz4");
            ps = new ProcessServer(po, () -> "ps-1", transports::get, () -> psSec, psCompressors::get,
                    Clock.systemUTC());
            ResyncOptions d = ResyncOptions.defaults();
            ResyncOptions ro = d.withLevels(Integer.getInteger("p3.chunkBytes", d.chunkBytes()),
                    Integer.getInteger("p3.blockBytes", d.blockBytes()),
                    Integer.getInteger("p3.segmentBytes", d.segmentBytes()))
                    .withPipeline(Integer.getInteger("p3.inFlight", d.segmentsInFlight()),
                            Integer.getInteger("p3.threads", d.threads()));
            agent = new Agent(AgentOptions.defaults(ps.listenAddress(), work.resolve("agent")), ro, () -> "agent-1",
                    transports::get, () -> agentSec, new ConcurrentHashMap<String, Compressor>()::get,
                    Clock.systemUTC());
            System.out.printf(Locale.ROOT, "ours: chunks %d KiB, blocks %d KiB, segments %d MiB x %d in flight, %d agent"
                            + " hashing threads, %d master-target hashing threads%n", ro.chunkBytes() >> 10,
                    ro.blockBytes() >> 10, ro.segmentBytes() >> 20, ro.segmentsInFlight(), ro.threads(),
                    mt.options().hashThreads());

            threadCpu(); // loads its classes now: a class loaded in the timed part can deoptimize compiled code
            long warm = Long.getLong("p3.warmupBytes", 512L << 20);
            for (int round = 0; round < warmDsts.size(); round++) {
                DiskId warmDisk = DiskId.of(WARMUP.value() + "-" + round);
                long w0 = System.nanoTime();
                Files.move(warmDsts.get(round), replica.resolveSibling(volumeName(warmDisk) + ".img"),
                        StandardCopyOption.REPLACE_EXISTING);
                agent.protect(warmDisk, GroupId.of("bench01-warmup"), size);
                awaitLink(agent, ps, warmDisk);
                agent.attachSource(warmDisk, source);
                awaitResync(agent, mt, warmDisk);
                System.out.printf(Locale.ROOT, "ours: warm-up %d: the same resync into another copy of the replica in"
                        + " %.2f s (untimed)%n", round + 1, (System.nanoTime() - w0) / 1e9);
                agent.unprotect(warmDisk);
                System.out.printf(Locale.ROOT, "ours: JIT compiler settled after %.1f s more%n", settleJit());
            }
            if (warmDsts.isEmpty() && warm > 0) {
                long w0 = System.nanoTime();
                Path warmSrc = work.resolve("warmup-source.img");
                generate(warmSrc, warm);
                Files.copy(warmSrc, replica.resolveSibling(volumeName(WARMUP_SMALL) + ".img"));
                mutate(warmSrc, 5, 99); // 5 %: the data path (TLS, spool, apply) warms up too, not only the hashing
                try (FileSource ws = new FileSource(warmSrc)) {
                    agent.protect(WARMUP_SMALL, GroupId.of("bench01-warmup"), warm);
                    awaitLink(agent, ps, WARMUP_SMALL);
                    agent.attachSource(WARMUP_SMALL, ws);
                    awaitResync(agent, mt, WARMUP_SMALL);
                }
                System.out.printf(Locale.ROOT, "ours: warm-up pair of %d MiB resynced in %.2f s (untimed)%n", warm >> 20,
                        (System.nanoTime() - w0) / 1e9);
                System.out.printf(Locale.ROOT, "ours: JIT compiler settled after %.1f s more%n", settleJit());
            }

            agent.protect(DISK, GroupId.of("bench01"), size);
            awaitLink(agent, ps, DISK);
            com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
            long jit0 = jit.getTotalCompilationTime();
            Map<String, Long> threadsBefore = threadCpu();
            long cpu0 = os.getProcessCpuTime();
            long start = System.nanoTime();
            agent.attachSource(DISK, source);
            ResyncProgress done = awaitResync(agent, mt, DISK);
            long nanos = System.nanoTime() - start;
            double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
            Map<String, Long> threadsAfter = threadCpu();

            double secs = nanos / 1e9;
            ResyncFigures f = agent.resyncFigures(DISK);
            DiskReplicationStatus psStatus = status(ps.disks(), DISK);
            System.out.printf(Locale.ROOT, "ours: CPU time of the JVM while timed: %.2f s (%.0f %% of one core)%n", cpu,
                    100 * cpu / secs);
            java.util.TreeMap<String, Long> byKind = new java.util.TreeMap<>();
            threadsAfter.forEach((name, t) -> byKind.merge(name.replaceAll("#.*", "").replaceAll("[0-9]+", "N"),
                    t - threadsBefore.getOrDefault(name, 0L), Long::sum));
            StringBuilder kinds = new StringBuilder();
            byKind.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(14)
                    .forEach(e -> kinds.append(String.format(Locale.ROOT, " %s %.2f s;", e.getKey(), e.getValue() / 1e9)));
            // threads are sampled from /proc at 10 ms resolution
            System.out.println("ours: CPU by thread:" + kinds);
            System.out.printf(Locale.ROOT, "ours: JIT compilation time while timed (CompilationMXBean): %.2f s%n",
                    (jit.getTotalCompilationTime() - jit0) / 1e3);
            System.out.printf(Locale.ROOT, "ours: %d bytes compared in %.2f s; data sent %d B, hashes received %d B in %d"
                            + " queries; agent -> PS frames %d B; appends refused %d, retries %d; %s%n", size, secs,
                    f.dataBytesSent(), f.hashBytesReceived(), f.queries(), psStatus.bytesIn(), f.appendsRefused(),
                    f.retries(), done.message());
            String got = sha256(replica);
            String want = expected != null ? expected : sha256(src);
            boolean ok = got.equals(want);
            System.out.println("ours: replica sha256 " + got + (ok ? " == source" : " != source " + want));
            System.out.printf(Locale.ROOT, "RESULT ours_seconds=%.3f sent=%d wire=%d hashes=%d ok=%b%n", secs,
                    f.dataBytesSent(), psStatus.bytesIn(), f.hashBytesReceived(), ok);
            return ok ? 0 : 1;
        } finally {
            if (agent != null) {
                agent.close();
            }
            if (ps != null) {
                ps.close();
            }
            mt.close();
        }
    }

    /**
     * CPU time (ns) of every thread of this process, by "name#tid", from /proc/self/task (Linux;
     * includes the JVM's own GC and compiler threads, whose names the kernel cuts to 15 characters).
     */
    private static Map<String, Long> threadCpu() {
        Map<String, Long> out = new java.util.HashMap<>();
        long tick = 10_000_000L; // USER_HZ = 100 on Linux
        try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    int close = stat.lastIndexOf(')');
                    String name = stat.substring(stat.indexOf('(') + 1, close);
                    String[] f = stat.substring(close + 2).split(" ");
                    out.put(name + "#" + t.getFileName(), (Long.parseLong(f[11]) + Long.parseLong(f[12])) * tick);
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /**
     * Waits (at most 20 s) until the JIT compilers have been idle for half a second: the warm-up
     * leaves a queue of methods to compile, which would otherwise compete with the timed part.
     * Returns the seconds waited.
     */
    private static double settleJit() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        long t0 = System.nanoTime();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return 0;
        }
        long last = jit.getTotalCompilationTime();
        while (System.nanoTime() - t0 < Duration.ofSeconds(20).toNanos()) {
            LockSupport.parkNanos(Duration.ofMillis(500).toNanos());
            long now = jit.getTotalCompilationTime();
            if (now == last) {
                break;
            }
            last = now;
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Waits until the agent's link is up and the process server knows the disk. */
    private static void awaitLink(Agent agent, ProcessServer ps, DiskId disk) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            boolean agentUp = agent.disks().stream().anyMatch(d -> d.disk().equals(disk) && "replicating".equals(d.state()));
            boolean psUp = ps.disks().stream().anyMatch(d -> d.disk().equals(disk) && "replicating".equals(d.state()));
            if (agentUp && psUp) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("links not up within 30 s for " + disk + ": agent " + agent.disks()
                        + ", process server " + ps.disks());
            }
            LockSupport.parkNanos(5_000_000);
        }
    }

    /** Waits until the disk's resync is DONE and the master target applied the disk's last sequence. */
    private static ResyncProgress awaitResync(Agent agent, MasterTarget mt, DiskId disk) {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (true) {
            ResyncProgress p = agent.resyncProgress(disk).orElse(null);
            if (p != null && p.phase() == ResyncProgress.Phase.FAILED) {
                throw new IllegalStateException("resync of " + disk + " failed: " + p.message());
            }
            if (p != null && p.phase() == ResyncProgress.Phase.DONE
                    && mt.lastApplied(disk) >= status(agent.disks(), disk).lastSequence()) {
                return p;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("resync of " + disk + " not done within 10 minutes: " + p);
            }
            LockSupport.parkNanos(2_000_000);
        }
    }

    private static DiskReplicationStatus status(java.util.List<DiskReplicationStatus> all, DiskId disk) {
        return all.stream().filter(d -> d.disk().equals(disk)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no status for " + disk));
    }

    /** The replica volume name the master target uses (see MasterTarget.volumeName). */
    static String volumeName(DiskId disk) {
        return "disk-" + disk.value().replace("_", "__").replace(":", "_-");
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

    /** A file as a capture session's read-only source. */
    static final class FileSource implements BlockDevice {
        private final FileChannel channel;
        private final long size;

        FileSource(Path file) throws IOException {
            this.channel = FileChannel.open(file, StandardOpenOption.READ);
            this.size = channel.size();
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void read(long offset, ByteBuffer dst) throws IOException {
            DiskFiles.checkRange(offset, dst.remaining(), size);
            DiskFiles.readFully(channel, offset, dst);
        }

        @Override
        public void write(long offset, ByteBuffer src) throws IOException {
            throw new IOException("the source is read-only");
        }

        @Override
        public void zero(long offset, long length) throws IOException {
            throw new IOException("the source is read-only");
        }

        @Override
        public void flush() {
        }

        @Override
        public boolean isReadOnly() {
            return true;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
