package org.secondsite.mastertarget.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.replication.DiskReplicationStatus;

/** Agent -> process server -> master target over real TLS on loopback, file storage, >= 64 MiB of writes. */
class ReplicationEndToEndTest {
    static final int DISK_SIZE = 96 << 20;

    @TempDir
    Path dir;

    static void awaitReplicated(Pipeline p) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
            List<DiskReplicationStatus> a = p.agent.disks();
            return p.agent.isDrained(Pipeline.DISK) && a.get(0).lastSequence() > 0
                    && p.mt.lastApplied(Pipeline.DISK) == a.get(0).lastSequence();
        });
    }

    @Test
    void replicates64MiBOfMixedWritesExactly() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt().startPs().startAgent(o -> o);
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), DISK_SIZE);
            Pipeline.Workload w = new Pipeline.Workload(DISK_SIZE, 42);
            w.feed(sink, 64L << 20);
            sink.flush();
            awaitReplicated(p);
            assertEquals(Pipeline.sha256(w.model), p.replicaSha256());

            DiskReplicationStatus mt = p.mt.disks().get(0);
            assertEquals("replicating", mt.state());
            assertEquals(mt.lastSequence(), mt.acknowledgedSequence());
            assertTrue(mt.newestApplied().isPresent());
            DiskReplicationStatus ps = p.ps.disks().get(0);
            assertEquals(mt.acknowledgedSequence(), ps.acknowledgedSequence());
            await().atMost(Duration.ofSeconds(10)).until(() -> p.ps.disks().get(0).backlogBytes() == 0);
            assertTrue(p.ps.disks().get(0).bytesIn() > 0 && p.ps.disks().get(0).bytesOut() > 0);
        }
    }
}
