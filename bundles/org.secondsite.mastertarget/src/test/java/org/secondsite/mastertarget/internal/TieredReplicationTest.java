package org.secondsite.mastertarget.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.agent.internal.TrackingOptions;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.replication.Tracking;

/** Tiered change tracking across the whole chain: the process server stops and returns. */
class TieredReplicationTest {
    static final int DISK_SIZE = 48 << 20;
    static final Duration BUDGET = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void stoppedProcessServerTakesTheAgentThroughMemorySpillAndBitmapAndBackToAnExactReplica() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt().startPs().startAgent(o -> o.withBatching(256 << 10, Duration.ofMillis(20))
                    .withBufferBytes(2 << 20).withTracking(TrackingOptions.defaults().withSpillBytes(4 << 20)
                            .withClearDelay(Duration.ofMillis(100))));
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), DISK_SIZE);
            Pipeline.Workload w = new Pipeline.Workload(DISK_SIZE, 21);
            p.agent.attachSource(Pipeline.DISK, Sources.of(w.model));
            w.feed(sink, 4L << 20);
            sink.flush();
            ReplicationEndToEndTest.awaitReplicated(p);

            p.ps.close(); // the process server stops: memory fills, then the change cache, then bitmap mode
            List<Tracking.Mode> seen = new ArrayList<>();
            while (seen.isEmpty() || seen.get(seen.size() - 1) != Tracking.Mode.BITMAP) {
                assertTrue(w.written < 256L << 20, "no bitmap mode after " + w.written + " bytes: " + seen);
                w.feed(sink, 128 << 10);
                Tracking.Mode m = p.agent.disks().get(0).tracking().mode();
                if (seen.isEmpty() || seen.get(seen.size() - 1) != m) {
                    seen.add(m);
                }
            }
            assertEquals(List.of(Tracking.Mode.MEMORY, Tracking.Mode.SPILL, Tracking.Mode.BITMAP), seen);
            w.feed(sink, 8L << 20); // more writes in bitmap mode: regions only
            Tracking t = p.agent.disks().get(0).tracking();
            assertTrue(t.dirtyBytes() > 0 && t.spilledBytes() > 0 && t.memoryBytes() <= 2 << 20, t.toString());

            p.startPs(); // back: the cache drains, bitmap mode ends, the dirty regions are replayed
            w.feed(sink, 4L << 20); // while the workload goes on
            sink.flush();
            await().atMost(BUDGET).until(() -> {
                DiskReplicationStatus s = p.agent.disks().get(0);
                return s.resync() != null && s.resync().phase() == ResyncProgress.Phase.DONE;
            });
            ReplicationEndToEndTest.awaitReplicated(p);
            DiskReplicationStatus s = p.agent.disks().get(0);
            assertEquals(Tracking.Mode.MEMORY, s.tracking().mode());
            assertEquals(0, s.tracking().dirtyBytes());
            assertEquals("dirty regions after bitmap mode", s.resync().reason());
            assertTrue(s.resync().sentBytes() > 0 && s.resync().sentBytes() < DISK_SIZE, s.resync().toString());
            assertEquals(Pipeline.sha256(w.model), p.replicaSha256());
            // every byte in the stream reached the replica once: a batch given up as dirty regions is not
            // counted by the agent (its regions are, when replayed), and the master target applied each
            // sequence once
            DiskReplicationStatus mt = p.mt.disks().get(0);
            assertEquals(s.bytesIn(), mt.bytesOut(), "agent " + s + "\nmaster target " + mt);
        }
    }
}
