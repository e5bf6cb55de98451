package org.secondsite.benchmarks.e2e;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.UnaryOperator;

import org.secondsite.agent.internal.Agent;
import org.secondsite.agent.internal.AgentOptions;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.api.transport.Transport;
import org.secondsite.compress.lz4.internal.Lz4Codec;
import org.secondsite.mastertarget.internal.MasterTarget;
import org.secondsite.processserver.internal.ProcessServer;
import org.secondsite.processserver.internal.ProcessServerOptions;
import org.secondsite.storage.file.internal.FileStorageBackend;
import org.secondsite.testkit.TestPki;
import org.secondsite.transport.tls.internal.TlsOptions;
import org.secondsite.transport.tls.internal.TlsTransport;

/**
 * The replication pipeline of the end-to-end benchmarks in one JVM, as the appliance wires it:
 * agent -> process server -> master target over mutual TLS 1.3 on loopback, lz4 on the WAN hop,
 * durable spool, the master target applying to a {@link FileStorageBackend} with its retention
 * journal. Plain classes, no OSGi.
 */
final class Rig implements AutoCloseable {
    final MasterTarget masterTarget;
    final ProcessServer processServer;
    final Agent agent;
    final Path storageRoot;
    final AgentOptions agentOptions;
    final ProcessServerOptions processServerOptions;

    private Rig(MasterTarget mt, ProcessServer ps, Agent agent, Path storageRoot, AgentOptions ao,
                ProcessServerOptions po) {
        this.masterTarget = mt;
        this.processServer = ps;
        this.agent = agent;
        this.storageRoot = storageRoot;
        this.agentOptions = ao;
        this.processServerOptions = po;
    }

    /**
     * Starts the three stages under {@code work}.
     *
     * @param agentCompressor {@code lz4} or {@code none}
     * @param agentSettings changes to the agent's defaults (e.g. the checkpoint interval)
     */
    static Rig start(Path work, String agentCompressor, UnaryOperator<AgentOptions> agentSettings) throws Exception {
        Files.createDirectories(work);
        TestPki pki = TestPki.newCa("bench-ca");
        TlsTransport tls = new TlsTransport(TlsOptions.defaults());
        Map<String, Transport> transports = new ConcurrentHashMap<>(Map.of("tls", tls));
        Map<String, Compressor> psCompressors = new ConcurrentHashMap<>(Map.of("lz4", Lz4Codec.create()));
        Map<String, Compressor> mtCompressors = new ConcurrentHashMap<>(Map.of("lz4", Lz4Codec.create()));
        Map<String, Compressor> agentCompressors = new ConcurrentHashMap<>(
                "lz4".equals(agentCompressor) ? Map.of("lz4", Lz4Codec.create()) : Map.of());
        Path storageRoot = work.resolve("storage");
        Map<String, StorageBackend> storages = new ConcurrentHashMap<>(Map.of("file",
                new FileStorageBackend(storageRoot)));
        var agentSec = pki.security("agent-1", id -> id.equals("ps-1"));
        var psSec = pki.security("ps-1", id -> id.equals("agent-1") || id.equals("mt-1"));
        var mtSec = pki.security("mt-1", id -> id.equals("ps-1"));
        InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);

        MasterTarget mt = new MasterTarget(new MasterTarget.Options(any, "tls", "file", 64L << 20), () -> "mt-1",
                transports::get, () -> mtSec, storages::get, mtCompressors::get, Clock.systemUTC());
        ProcessServer ps = null;
        try {
            ProcessServerOptions po = ProcessServerOptions.defaults(any, mt.listenAddress(), work.resolve("spool"))
                    .withWanCompressor("lz4");
            ps = new ProcessServer(po, () -> "ps-1", transports::get, () -> psSec, psCompressors::get,
                    Clock.systemUTC());
            AgentOptions ao = agentSettings.apply(
                    AgentOptions.defaults(ps.listenAddress(), work.resolve("agent")).withCompressor(agentCompressor));
            Agent agent = new Agent(ao, () -> "agent-1", transports::get, () -> agentSec, agentCompressors::get,
                    Clock.systemUTC());
            return new Rig(mt, ps, agent, storageRoot, ao, po);
        } catch (Exception | Error e) {
            if (ps != null) {
                ps.close();
            }
            mt.close();
            throw e;
        }
    }

    /** The replica volume file of a disk (see MasterTarget.volumeName). */
    Path replicaFile(DiskId disk) {
        return storageRoot.resolve("volumes").resolve("disk-" + disk.value().replace("_", "__").replace(":", "_-") + ".img");
    }

    /** Waits until the agent and the process server both replicate {@code disk}, so the clock sees no handshake. */
    void awaitLinks(DiskId disk) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            DiskReplicationStatus a = status(agent.disks(), disk);
            DiskReplicationStatus p = processServer.disks().stream().filter(d -> d.disk().equals(disk)).findFirst()
                    .orElse(null);
            if ("replicating".equals(a.state()) && p != null && "replicating".equals(p.state())) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("links not up within 30 s: agent " + a.state() + " " + a.message()
                        + ", process server " + (p == null ? "no disk" : p.state()));
            }
            LockSupport.parkNanos(10_000_000);
        }
    }

    static DiskReplicationStatus status(java.util.List<DiskReplicationStatus> all, DiskId disk) {
        return all.stream().filter(d -> d.disk().equals(disk)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no status for " + disk));
    }

    @Override
    public void close() throws java.io.IOException {
        agent.close();
        processServer.close();
        masterTarget.close();
    }
}
