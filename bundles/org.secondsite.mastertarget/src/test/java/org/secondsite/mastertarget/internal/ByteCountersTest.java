package org.secondsite.mastertarget.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.storage.ObjectStore;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.api.storage.Volume;

/**
 * The byte counters of the stages agree once everything is applied: the agent's {@code bytesIn}
 * (data of the batches it numbered) equals the master target's {@code bytesOut} (data of the
 * batches it applied, each sequence once), whatever the master target went through meanwhile.
 * Before, its counters lived in the per-disk entries that every reload of the stored state
 * rebuilds, so a reload that failed half way or a storage backend that went away and returned
 * reset them to zero, while replica and sequences stayed right (HotSwapIT saw the master target
 * report 56-72 MiB less than the agent).
 */
class ByteCountersTest {
    static final int DISK_SIZE = 32 << 20;
    static final Duration BUDGET = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void storageBackendGoneAndBackKeepsTheMasterTargetCounters() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt().startPs().startAgent(o -> o);
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), DISK_SIZE);
            Pipeline.Workload w = new Pipeline.Workload(DISK_SIZE, 31);
            w.feed(sink, 6L << 20);
            sink.flush();
            ReplicationEndToEndTest.awaitReplicated(p);
            long before = p.mt.disks().get(0).bytesOut();
            assertTrue(before > 0);

            StorageBackend storage = p.storages.remove("file");
            p.mt.storageGone(storage); // as when the storage bundle is updated: connections end, state dropped
            w.feed(sink, 4L << 20);
            sink.flush();
            await().atMost(BUDGET).until(() -> p.ps.disks().get(0).lastSequence() == p.agent.disks().get(0).lastSequence());
            p.storages.put("file", storage);
            w.feed(sink, 2L << 20);
            sink.flush();
            ReplicationEndToEndTest.awaitReplicated(p);

            assertEquals(Pipeline.sha256(w.model), p.replicaSha256());
            assertCountersAgree(p);
        }
    }

    @Test
    void reloadThatFailsHalfWayKeepsTheMasterTargetCounters() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            FailingStateStore failing = new FailingStateStore(p.storage);
            p.storages.put("file", failing);
            p.startMt().startPs().startAgent(o -> o);
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), DISK_SIZE);
            Pipeline.Workload w = new Pipeline.Workload(DISK_SIZE, 32);
            w.feed(sink, 6L << 20);
            sink.flush();
            ReplicationEndToEndTest.awaitReplicated(p);

            // the next commit cannot write the state (the apply fails and the state is reloaded), and
            // that reload cannot read it either: the next connection loads it
            failing.failPuts.set(1);
            failing.failGets.set(1);
            w.feed(sink, 4L << 20);
            sink.flush();
            ReplicationEndToEndTest.awaitReplicated(p);
            assertEquals(0, failing.failPuts.get(), "the state write did not fail: nothing was reloaded");
            assertEquals(0, failing.failGets.get(), "the reload did not fail half way");
            w.feed(sink, 2L << 20);
            sink.flush();
            ReplicationEndToEndTest.awaitReplicated(p);

            assertEquals(Pipeline.sha256(w.model), p.replicaSha256());
            assertCountersAgree(p);
        }
    }

    /** Agent bytesIn = master target bytesOut; process server bytesIn = agent bytesOut (nothing resent to it). */
    private static void assertCountersAgree(Pipeline p) {
        DiskReplicationStatus a = p.agent.disks().get(0);
        DiskReplicationStatus m = p.mt.disks().get(0);
        assertEquals(a.bytesIn(), m.bytesOut(), "data bytes numbered by the agent vs applied by the master target:"
                + "\nagent " + a + "\nmaster target " + m);
        assertTrue(m.bytesIn() > 0 && m.bytesIn() <= p.ps.disks().get(0).bytesOut(),
                "master target " + m + "\nprocess server " + p.ps.disks().get(0));
    }

    /** File storage whose master-target state object fails to be written or read a given number of times. */
    private static final class FailingStateStore implements StorageBackend {
        final StorageBackend delegate;
        final AtomicInteger failPuts = new AtomicInteger();
        final AtomicInteger failGets = new AtomicInteger();

        FailingStateStore(StorageBackend delegate) {
            this.delegate = delegate;
        }

        @Override
        public String name() {
            return delegate.name();
        }

        @Override
        public Volume openVolume(String name, long size) throws IOException {
            return delegate.openVolume(name, size);
        }

        @Override
        public boolean volumeExists(String name) throws IOException {
            return delegate.volumeExists(name);
        }

        @Override
        public List<String> volumes() throws IOException {
            return delegate.volumes();
        }

        @Override
        public void deleteVolume(String name) throws IOException {
            delegate.deleteVolume(name);
        }

        @Override
        public long freeBytes() throws IOException {
            return delegate.freeBytes();
        }

        @Override
        public ObjectStore objects(String namespace) throws IOException {
            ObjectStore o = delegate.objects(namespace);
            if (!MasterTarget.NAMESPACE.equals(namespace)) {
                return o;
            }
            return new ObjectStore() {
                @Override
                public Appender create(String name) throws IOException {
                    return o.create(name);
                }

                @Override
                public SeekableByteChannel open(String name) throws IOException {
                    return o.open(name);
                }

                @Override
                public List<String> list(String prefix) throws IOException {
                    return o.list(prefix);
                }

                @Override
                public void delete(String name) throws IOException {
                    o.delete(name);
                }

                @Override
                public void put(String name, ByteBuffer content) throws IOException {
                    if (MasterTarget.STATE_OBJECT.equals(name) && failPuts.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        throw new IOException("test: state object not written");
                    }
                    o.put(name, content);
                }

                @Override
                public Optional<ByteBuffer> get(String name) throws IOException {
                    if (MasterTarget.STATE_OBJECT.equals(name) && failPuts.get() == 0
                            && failGets.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        throw new IOException("test: state object not read");
                    }
                    return o.get(name);
                }

                @Override
                public long usedBytes() throws IOException {
                    return o.usedBytes();
                }
            };
        }
    }
}
