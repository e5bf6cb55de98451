package org.secondsite.mastertarget.internal.recovery;

import static org.awaitility.Awaitility.await;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

import org.secondsite.agent.internal.Agent;
import org.secondsite.agent.internal.AgentOptions;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.api.transport.Transport;
import org.secondsite.compress.lz4.internal.Lz4Codec;
import org.secondsite.mastertarget.internal.MasterTarget;
import org.secondsite.mastertarget.internal.retention.RetentionSettings;
import org.secondsite.processserver.internal.ProcessServer;
import org.secondsite.processserver.internal.ProcessServerOptions;
import org.secondsite.storage.file.internal.FileStorageBackend;
import org.secondsite.testkit.TestPki;
import org.secondsite.transport.tls.internal.TlsOptions;
import org.secondsite.transport.tls.internal.TlsTransport;

/**
 * Agent -> process server -> master target in one JVM over mutual TLS on loopback (lz4 on the WAN
 * hop, file storage, a retention journal with a long window), plus a {@link Recovery} on the master
 * target whose exports listen on loopback.
 */
final class Stack implements Closeable {
    static final Duration BUDGET = Duration.ofSeconds(60);

    final Path dir;
    final Path storageRoot;
    final MasterTarget mt;
    final ProcessServer ps;
    final Agent agent;
    final Recovery recovery;

    private Stack(Path dir, Path storageRoot, MasterTarget mt, ProcessServer ps, Agent agent, Recovery recovery) {
        this.dir = dir;
        this.storageRoot = storageRoot;
        this.mt = mt;
        this.ps = ps;
        this.agent = agent;
        this.recovery = recovery;
    }

    static Stack start(Path dir, UnaryOperator<AgentOptions> agentSettings) throws Exception {
        TestPki pki = TestPki.newCa("recovery-test-ca");
        TlsTransport tls = new TlsTransport(TlsOptions.defaults());
        Map<String, Transport> transports = new ConcurrentHashMap<>(Map.of("tls", tls));
        Map<String, Compressor> compressors = new ConcurrentHashMap<>(Map.of("lz4", Lz4Codec.create()));
        Path storageRoot = dir.resolve("storage");
        Map<String, StorageBackend> storages = new ConcurrentHashMap<>(Map.of("file",
                new FileStorageBackend(storageRoot)));
        var agentSec = pki.security("agent-1", id -> id.equals("ps-1"));
        var psSec = pki.security("ps-1", id -> id.equals("agent-1") || id.equals("mt-1"));
        var mtSec = pki.security("mt-1", id -> id.equals("ps-1"));
        InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
        MasterTarget mt = new MasterTarget(new MasterTarget.Options(any, "tls", "file", 64L << 20)
                .withRetention(new RetentionSettings(Duration.ofDays(36500), 1L << 30), 8L << 20), () -> "mt-1",
                transports::get, () -> mtSec, storages::get, compressors::get, Clock.systemUTC());
        ProcessServer ps = null;
        Agent agent = null;
        try {
            ps = new ProcessServer(ProcessServerOptions.defaults(any, mt.listenAddress(), dir.resolve("spool"))
                    .withSpool(1L << 30, 16L << 20).withBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                    .withWanCompressor("lz4"), () -> "ps-1", transports::get, () -> psSec, compressors::get,
                    Clock.systemUTC());
            agent = new Agent(agentSettings.apply(AgentOptions.defaults(ps.listenAddress(), dir.resolve("agent"))
                    .withBackoff(Duration.ofMillis(50), Duration.ofMillis(500))), () -> "agent-1", transports::get,
                    () -> agentSec, compressors::get, Clock.systemUTC());
            Recovery recovery = new Recovery(mt, any, dir.resolve("scratch"), Clock.systemUTC());
            return new Stack(dir, storageRoot, mt, ps, agent, recovery);
        } catch (Exception | Error e) {
            if (agent != null) {
                agent.close();
            }
            try {
                if (ps != null) {
                    ps.close();
                }
            } finally {
                mt.close();
            }
            throw e;
        }
    }

    /** The replica volume file of a disk (file storage; the master target's volume naming). */
    Path replicaFile(DiskId disk) {
        return storageRoot.resolve("volumes").resolve("disk-" + disk.value().replace("_", "__").replace(":", "_-")
                + ".img");
    }

    /** Waits until everything the agent captured of {@code disk} is applied at the master target. */
    void awaitApplied(DiskId disk) {
        await("all of " + disk + " applied at the master target").atMost(BUDGET).pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    DiskReplicationStatus a = agent.disks().stream().filter(s -> s.disk().equals(disk)).findFirst()
                            .orElseThrow();
                    return agent.isDrained(disk) && a.lastSequence() > 0 && mt.lastApplied(disk) == a.lastSequence();
                });
    }

    @Override
    public void close() throws IOException {
        try {
            recovery.close();
            agent.close();
            ps.close();
        } finally {
            mt.close();
        }
    }

    /** Every byte of a device. */
    static byte[] readAll(BlockDevice d) throws IOException {
        byte[] out = new byte[Math.toIntExact(d.size())];
        ByteBuffer b = ByteBuffer.wrap(out);
        while (b.hasRemaining()) {
            int n = Math.min(b.remaining(), 1 << 20);
            d.read(b.position(), b.slice().limit(n));
            b.position(b.position() + n);
        }
        return out;
    }

    /** SHA-256 of a whole device, read in 1 MiB pieces. */
    static String sha256(BlockDevice d) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        for (long off = 0; off < d.size(); off += buf.capacity()) {
            buf.clear().limit((int) Math.min(buf.capacity(), d.size() - off));
            d.read(off, buf);
            md.update(buf.array(), 0, buf.position());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
