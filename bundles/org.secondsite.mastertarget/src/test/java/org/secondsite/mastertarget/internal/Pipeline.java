package org.secondsite.mastertarget.internal;

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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

import org.secondsite.agent.internal.Agent;
import org.secondsite.agent.internal.AgentOptions;
import org.secondsite.agent.internal.ResyncOptions;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.compress.lz4.internal.Lz4Codec;
import org.secondsite.processserver.internal.ProcessServer;
import org.secondsite.processserver.internal.ProcessServerOptions;
import org.secondsite.storage.file.internal.FileStorageBackend;
import org.secondsite.testkit.TestData;
import org.secondsite.testkit.TestPki;
import org.secondsite.transport.tls.internal.TlsOptions;
import org.secondsite.transport.tls.internal.TlsTransport;

/** Agent, process server and master target in one JVM over real TLS on loopback, with file storage. */
final class Pipeline implements Closeable {
    static final DiskId DISK = DiskId.of("web01:disk0");

    final Path dir;
    final TestPki pki;
    final TlsTransport tls = new TlsTransport(TlsOptions.defaults());
    final Map<String, Transport> transports = new ConcurrentHashMap<>(Map.of("tls", tls));
    final Map<String, Compressor> agentCompressors = new ConcurrentHashMap<>();
    final Map<String, Compressor> psCompressors = new ConcurrentHashMap<>(Map.of("lz4", Lz4Codec.create()));
    final Map<String, Compressor> mtCompressors = new ConcurrentHashMap<>(Map.of("lz4", Lz4Codec.create()));
    final Map<String, StorageBackend> storages = new ConcurrentHashMap<>();
    final TransportSecurity agentSecurity;
    final TransportSecurity psSecurity;
    final TransportSecurity mtSecurity;
    final FileStorageBackend storage;
    MasterTarget mt;
    ProcessServer ps;
    Agent agent;
    InetSocketAddress mtAddress = new InetSocketAddress("127.0.0.1", 0);
    InetSocketAddress psAddress = new InetSocketAddress("127.0.0.1", 0);
    UnaryOperator<ProcessServerOptions> psTweak = o -> o;
    UnaryOperator<MasterTarget.Options> mtTweak = o -> o;
    ResyncOptions resyncOptions = ResyncOptions.defaults();

    Pipeline(Path dir) throws Exception {
        this.dir = dir;
        this.pki = TestPki.newCa("secondsite-test-ca");
        this.agentSecurity = pki.security("agent-1", id -> id.equals("ps-1"));
        this.psSecurity = pki.security("ps-1", id -> id.equals("agent-1") || id.equals("mt-1"));
        this.mtSecurity = pki.security("mt-1", id -> id.equals("ps-1"));
        this.storage = new FileStorageBackend(dir.resolve("storage"));
        storages.put("file", storage);
    }

    Pipeline startMt() {
        mt = new MasterTarget(mtTweak.apply(new MasterTarget.Options(mtAddress, "tls", "file", 64L << 20)), () -> "mt-1",
                transports::get, () -> mtSecurity, storages::get, mtCompressors::get, Clock.systemUTC());
        mtAddress = mt.listenAddress();
        return this;
    }

    Pipeline startPs() throws IOException {
        ProcessServerOptions o = ProcessServerOptions.defaults(psAddress, mtAddress, dir.resolve("spool"))
                .withSpool(1L << 30, 16L << 20).withBackoff(Duration.ofMillis(50), Duration.ofMillis(500));
        ps = new ProcessServer(psTweak.apply(o), () -> "ps-1", transports::get, () -> psSecurity,
                psCompressors::get, Clock.systemUTC());
        psAddress = ps.listenAddress();
        return this;
    }

    Pipeline startAgent(UnaryOperator<AgentOptions> tweak) throws IOException {
        AgentOptions o = AgentOptions.defaults(psAddress, dir.resolve("agent"))
                .withBackoff(Duration.ofMillis(50), Duration.ofMillis(500));
        agent = new Agent(tweak.apply(o), resyncOptions, () -> "agent-1", transports::get, () -> agentSecurity,
                agentCompressors::get, Clock.systemUTC());
        return this;
    }

    /** The replica image of {@link #DISK} (file storage). */
    Path replicaPath() {
        return dir.resolve("storage").resolve("volumes").resolve(MasterTarget.volumeName(DISK) + ".img");
    }

    /** SHA-256 of the replica image of {@link #DISK}. */
    String replicaSha256() throws Exception {
        return sha256(replicaPath());
    }

    /** SHA-256 of a file. */
    static String sha256(Path img) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(img)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String sha256(byte[] model) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(model));
    }

    @Override
    public void close() throws IOException {
        if (agent != null) {
            agent.close();
        }
        if (ps != null) {
            ps.close();
        }
        if (mt != null) {
            mt.close();
        }
    }

    /**
     * A recorded write log: random offsets and sizes (overlapping), mostly writes of mixed data,
     * some ZERO and TRIM ranges; applied to a model disk and fed to a sink.
     */
    static final class Workload {
        final byte[] model;
        final byte[] pool;
        final Random random;
        long written;

        Workload(int diskSize, long seed) {
            this.model = new byte[diskSize];
            this.pool = TestData.mixed(8 << 20, seed);
            this.random = new Random(seed);
        }

        /** Feeds changes until {@code bytes} of data were written; returns the records fed. */
        List<ChangeRecord> feed(ChangeSink sink, long bytes) throws IOException {
            List<ChangeRecord> fed = new ArrayList<>();
            long target = written + bytes;
            while (written < target) {
                int kind = random.nextInt(100);
                int len = 1 + random.nextInt(random.nextInt(4) == 0 ? 1 << 20 : 64 << 10);
                int off = random.nextInt(model.length - len);
                ChangeRecord r;
                if (kind < 88) {
                    int from = random.nextInt(pool.length - len);
                    System.arraycopy(pool, from, model, off, len);
                    r = ChangeRecord.write(off, ByteBuffer.wrap(pool, from, len));
                    written += len;
                } else if (kind < 95) {
                    java.util.Arrays.fill(model, off, off + len, (byte) 0);
                    r = ChangeRecord.zero(off, len);
                } else {
                    java.util.Arrays.fill(model, off, off + len, (byte) 0); // the master target zeroes trimmed ranges
                    r = ChangeRecord.trim(off, len);
                }
                sink.accept(r);
                fed.add(r);
            }
            return fed;
        }
    }

    /** A test compressor ("xor"): flips every byte; available only where a test puts it. */
    static final Compressor XOR = new Compressor() {
        @Override
        public String name() {
            return "xor";
        }

        @Override
        public int maxCompressedLength(int length) {
            return length;
        }

        @Override
        public int compress(ByteBuffer src, ByteBuffer dst) throws CompressionException {
            int n = src.remaining();
            if (dst.remaining() < n) {
                throw new CompressionException("xor: destination too small");
            }
            while (src.hasRemaining()) {
                dst.put((byte) (src.get() ^ 0x5a));
            }
            return n;
        }

        @Override
        public void decompress(ByteBuffer src, ByteBuffer dst, int originalLength) throws CompressionException {
            if (src.remaining() != originalLength || dst.remaining() < originalLength) {
                throw new CompressionException("xor: length mismatch");
            }
            while (src.hasRemaining()) {
                dst.put((byte) (src.get() ^ 0x5a));
            }
        }
    };

    static GroupId group() {
        return GroupId.of("web01");
    }
}
