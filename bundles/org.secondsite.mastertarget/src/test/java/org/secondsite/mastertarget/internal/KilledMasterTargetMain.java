package org.secondsite.mastertarget.internal;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.api.transport.Transport;
import org.secondsite.mastertarget.internal.retention.RetentionSettings;
import org.secondsite.storage.file.internal.FileStorageBackend;
import org.secondsite.testkit.TestPki;
import org.secondsite.transport.tls.internal.TlsOptions;
import org.secondsite.transport.tls.internal.TlsTransport;

/**
 * The master target of {@code MasterTargetCrashTest}, in a JVM of its own: a real
 * {@link MasterTarget} on file storage, fed over TLS by a process server spoken by hand with
 * the {@link CheckpointPlan} stream from where the master target's RESUME_POINT says, forever
 * (at most 16 batches per disk unacknowledged). Prints {@code READY} when it starts sending
 * and {@code A <disk> <seq>} for every ACK. The test kills it with SIGKILL.
 *
 * <pre>KilledMasterTargetMain &lt;storage dir&gt; &lt;seed&gt;</pre>
 */
public final class KilledMasterTargetMain {
    static final int WINDOW = 16;

    private KilledMasterTargetMain() {
    }

    static MasterTarget.Options options(InetSocketAddress listen) {
        return new MasterTarget.Options(listen, "tls", "file", 1L << 20)
                .withRetention(new RetentionSettings(Duration.ofDays(36500), 1L << 30), 4L << 20);
    }

    public static void main(String[] args) throws Exception {
        Path storageDir = Path.of(args[0]);
        CheckpointPlan plan = new CheckpointPlan(Long.parseLong(args[1]));
        TestPki pki = TestPki.newCa("crash-ca");
        TlsTransport tls = new TlsTransport(TlsOptions.defaults());
        Map<String, Transport> transports = Map.of("tls", tls);
        Map<String, StorageBackend> storages = Map.of("file", new FileStorageBackend(storageDir));
        Map<String, Compressor> compressors = Map.of();
        org.secondsite.api.transport.TransportSecurity mtSecurity = pki.security("mt-1", id -> id.equals("ps-1"));
        MasterTarget mt = new MasterTarget(options(new InetSocketAddress("127.0.0.1", 0)), () -> "mt-1",
                transports::get, () -> mtSecurity, storages::get, compressors::get,
                Clock.systemUTC());
        PrintStream out = System.out;
        Object acked = new Object();
        FakeProcessServer ps = new FakeProcessServer(tls, mt.listenAddress(), pki.security("ps-1", id -> id.equals("mt-1")),
                (disk, seq) -> {
                    synchronized (out) {
                        out.println("A " + disk + " " + seq);
                        out.flush();
                    }
                    synchronized (acked) {
                        acked.notifyAll();
                    }
                });
        for (DiskId d : CheckpointPlan.DISKS) {
            ps.diskInfo(d, CheckpointPlan.GROUP, CheckpointPlan.DISK_BYTES);
        }
        Map<DiskId, Long> resume = ps.resume(CheckpointPlan.DISKS);
        long[] next = new long[2];
        for (int i = 0; i < 2; i++) {
            next[i] = resume.getOrDefault(CheckpointPlan.DISKS.get(i), 0L) + 1;
        }
        synchronized (out) {
            out.println("READY " + resume);
            out.flush();
        }
        while (true) {
            int disk = next[0] <= next[1] ? 0 : 1;
            DiskId d = CheckpointPlan.DISKS.get(disk);
            synchronized (acked) {
                while (next[disk] - ps.acked.getOrDefault(d, resume.getOrDefault(d, 0L)) > WINDOW) {
                    if (ps.failure() != null) {
                        throw new IllegalStateException("the master target ended the connection: " + ps.failure());
                    }
                    acked.wait(1000);
                }
            }
            ps.send(plan.batch(disk, next[disk]++));
        }
    }
}
