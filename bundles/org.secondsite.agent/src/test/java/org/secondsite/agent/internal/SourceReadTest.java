package org.secondsite.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DiskId;

/** Source reads that enter the stream are refused when a workload write to the same range raced them. */
class SourceReadTest {
    @TempDir
    Path dir;
    private Agent agent;
    private Agent.DiskStream disk;

    @BeforeEach
    void setUp() throws Exception {
        // No transport: the sender only waits, so everything stays in the open batch for inspection.
        AgentOptions o = AgentOptions.defaults(new InetSocketAddress("127.0.0.1", 9), dir)
                .withBatching(1 << 20, Duration.ofHours(1));
        agent = new Agent(o, () -> "agent-1", name -> null, () -> null, name -> null, Clock.systemUTC());
        disk = (Agent.DiskStream) agent.protect(DiskId.of("d0"), null, 1 << 20);
    }

    @AfterEach
    void tearDown() throws Exception {
        agent.close();
    }

    private static ByteBuffer bytes(int n, int value) {
        ByteBuffer b = ByteBuffer.allocate(n);
        for (int i = 0; i < n; i++) {
            b.put((byte) value);
        }
        return b.flip();
    }

    @Test
    void appendsWhenNoWriteRacedTheRead() throws Exception {
        disk.accept(ChangeRecord.write(0, bytes(4096, 1))); // before the read: the read sees it
        try (Agent.SourceRead read = disk.openSourceRead()) {
            assertTrue(disk.appendSourceRead(read, 0, bytes(4096, 1)));
        }
        assertEquals(2, disk.openRecords.size());
    }

    @Test
    void refusesWhenAnOverlappingWriteWasAcceptedSinceTheRead() throws Exception {
        try (Agent.SourceRead read = disk.openSourceRead()) {
            disk.accept(ChangeRecord.write(6144, bytes(512, 2))); // overlaps [4096, 8192)
            assertFalse(disk.appendSourceRead(read, 4096, bytes(4096, 0)));
        }
        try (Agent.SourceRead again = disk.openSourceRead()) {
            assertTrue(disk.appendSourceRead(again, 4096, bytes(4096, 2)));
        }
        assertEquals(2, disk.openRecords.size());
        assertEquals(6144, disk.openRecords.get(0).offset());
        assertEquals(4096, disk.openRecords.get(1).offset());
    }

    @Test
    void aWriteOutsideTheRangeDoesNotRefuse() throws Exception {
        try (Agent.SourceRead read = disk.openSourceRead()) {
            disk.accept(ChangeRecord.write(8192, bytes(4096, 3))); // adjacent, not overlapping
            disk.accept(ChangeRecord.write(0, bytes(4096, 3)));
            assertTrue(disk.appendSourceRead(read, 4096, bytes(4096, 0)));
        }
    }

    @Test
    void eachReadOnlySeesWritesAfterItsOwnStart() throws Exception {
        Agent.SourceRead first = disk.openSourceRead();
        disk.accept(ChangeRecord.write(0, bytes(4096, 4)));
        Agent.SourceRead second = disk.openSourceRead();
        assertTrue(disk.appendSourceRead(second, 0, bytes(4096, 4)));
        assertFalse(disk.appendSourceRead(first, 0, bytes(4096, 0)));
        first.close();
        second.close();
        assertThrows(IllegalArgumentException.class, () -> disk.appendSourceRead(first, 0, bytes(4096, 0)));
    }
}
