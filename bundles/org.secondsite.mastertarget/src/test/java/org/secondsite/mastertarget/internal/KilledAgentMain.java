package org.secondsite.mastertarget.internal;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.Random;

import org.secondsite.agent.internal.Agent;
import org.secondsite.agent.internal.AgentOptions;
import org.secondsite.agent.internal.TrackingOptions;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.replication.Tracking;
import org.secondsite.api.storage.DiskFiles;

/**
 * The agent of {@code AgentKillTest}, in a JVM of its own: protects {@link Pipeline#DISK} with
 * its process server unreachable and writes the planned writes ({@link Plan}) through the sink
 * into the source file, in the nbd driver's order (sink first, then the file), forever. After
 * each write it prints {@code W <index>}, and {@code MODE <tier>} when the tier changes. The
 * test kills it with SIGKILL.
 *
 * <pre>KilledAgentMain &lt;data dir&gt; &lt;source file&gt; &lt;seed&gt;</pre>
 */
public final class KilledAgentMain {
    /**
     * Source and replica start as the same empty disk, as after a completed initial replication:
     * what the restarted agent sends is then only what its dirty-region log holds.
     */
    static final org.secondsite.agent.internal.ResyncOptions RESYNC =
            org.secondsite.agent.internal.ResyncOptions.defaults().withoutInitialReplication();

    static final long DISK_BYTES = 64L << 20;
    static final int REGION = 64 << 10;

    private KilledAgentMain() {
    }

    static AgentOptions options(InetSocketAddress ps, Path dataDir) {
        return AgentOptions.defaults(ps, dataDir).withBatching(256 << 10, Duration.ofMillis(20))
                .withBufferBytes(1 << 20).withBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .withTracking(TrackingOptions.defaults().withRegionBytes(REGION).withSpillBytes(2 << 20)
                        .withClearDelay(Duration.ofMillis(100)));
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        Path source = Path.of(args[1]);
        Plan plan = new Plan(Long.parseLong(args[2]));
        // nothing listens on port 1 and no transport is offered: the process server is unreachable
        Agent agent = new Agent(options(new InetSocketAddress("127.0.0.1", 1), dataDir), RESYNC, () -> "agent-1",
                name -> null, () -> null, name -> null, Clock.systemUTC());
        ChangeSink sink = agent.protect(Pipeline.DISK, Pipeline.group(), DISK_BYTES);
        PrintStream out = System.out;
        Tracking.Mode last = null;
        try (FileChannel ch = FileChannel.open(source, StandardOpenOption.WRITE)) {
            for (int i = 0; ; i++) {
                long[] w = plan.next();
                ByteBuffer data = plan.data((int) w[1]);
                sink.accept(ChangeRecord.write(w[0], data.duplicate()));
                DiskFiles.writeFully(ch, w[0], data);
                Tracking.Mode m = agent.disks().get(0).tracking().mode();
                if (m != last) {
                    out.println("MODE " + m);
                    last = m;
                }
                out.println("W " + i);
                out.flush();
            }
        }
    }

    /** The writes, the same for the same seed: offsets in two areas (12 MiB at 0, 4 MiB at 48 MiB), 1 to 64 KiB long. */
    static final class Plan {
        private final Random random;

        Plan(long seed) {
            this.random = new Random(seed);
        }

        /** {offset, length} of the next write. */
        long[] next() {
            int len = 1 + random.nextInt(64 << 10);
            boolean low = random.nextInt(4) < 3;
            long base = low ? 0 : 48L << 20;
            long area = low ? 12L << 20 : 4L << 20;
            long off = base + (long) random.nextInt((int) (area - len));
            return new long[] {off, len};
        }

        /** Data of the write just planned. */
        ByteBuffer data(int len) {
            byte[] b = new byte[len];
            random.nextBytes(b);
            return ByteBuffer.wrap(b);
        }
    }
}
