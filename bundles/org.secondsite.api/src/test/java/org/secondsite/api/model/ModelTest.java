package org.secondsite.api.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;

class ModelTest {
    @Test
    void idsAcceptTheDocumentedAlphabetOnly() {
        assertEquals("web01:disk0", DiskId.of("web01:disk0").value());
        assertEquals("sql-group_1.a", GroupId.of("sql-group_1.a").value());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DiskId.of("../etc"));
        assertTrue(e.getMessage().startsWith("disk id '../etc' is invalid"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DiskId.of(""));
        assertThrows(IllegalArgumentException.class, () -> DiskId.of("x".repeat(129)));
        assertThrows(NullPointerException.class, () -> DiskId.of(null));
    }

    @Test
    void writeRecordsShareButProtectTheirData() {
        ByteBuffer data = ByteBuffer.wrap(new byte[] {1, 2, 3, 4});
        data.position(1);
        ChangeRecord r = ChangeRecord.write(4096, data);
        assertEquals(3, r.length());
        assertEquals(4099, r.end());
        assertTrue(r.data().isReadOnly());
        assertEquals(2, r.data().get(0));
        assertFalse(ChangeRecord.zero(0, 512).hasData());
        assertThrows(IllegalStateException.class, () -> ChangeRecord.trim(0, 512).data());
    }

    @Test
    void recordsRefuseImpossibleRanges() {
        assertThrows(IllegalArgumentException.class, () -> ChangeRecord.zero(-1, 512));
        assertThrows(IllegalArgumentException.class, () -> ChangeRecord.zero(0, 0));
        assertThrows(IllegalArgumentException.class, () -> ChangeRecord.zero(Long.MAX_VALUE - 10, 512));
        assertThrows(IllegalArgumentException.class, () -> ChangeRecord.dirty(0, ChangeRecord.MAX_LENGTH + 1));
        assertThrows(IllegalArgumentException.class, () -> ChangeRecord.write(0, ByteBuffer.allocate(0)));
    }

    @Test
    void batchesCheckSequenceAndTimes() {
        Instant t = Instant.parse("2026-11-27T10:00:00Z");
        DeltaBatch b = new DeltaBatch(DiskId.of("d"), GroupId.of("g"), 1, t, t.plusMillis(5),
                List.of(ChangeRecord.write(0, ByteBuffer.allocate(10)), ChangeRecord.zero(10, 10)),
                List.of(new ConsistencyTag(UUID.randomUUID(), "nightly", TagKind.APPLICATION, t)));
        assertEquals(10, b.dataBytes());
        assertThrows(IllegalArgumentException.class,
                () -> new DeltaBatch(DiskId.of("d"), GroupId.of("g"), 0, t, t, List.of(), List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> new DeltaBatch(DiskId.of("d"), GroupId.of("g"), 1, t, t.minusMillis(1), List.of(), List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> new ConsistencyTag(UUID.randomUUID(), "bad\nname", TagKind.BOOKMARK, t));
    }
}
