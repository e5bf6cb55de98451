package org.secondsite.processserver.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;

class PsStateTest {

    @TempDir
    Path dir;

    private static PsState.Disk disk(String id, long forwarded) {
        return new PsState.Disk(DiskId.of(id), GroupId.of("g"), 1L << 30, "agent-1", forwarded);
    }

    @Test
    void updatesAreWrittenOnlyBySnapshotsAndAnOlderSnapshotNeverReplacesANewerOne() throws Exception {
        PsState state = new PsState(dir);
        state.put(disk("a", 0));
        state.update(disk("a", 5));
        assertTrue(state.dirty());
        assertEquals(0, new PsState(dir).disks().get(DiskId.of("a")).forwarded(), "update alone writes nothing");

        PsState.Snapshot older = state.takeSnapshot();
        assertFalse(state.dirty());
        state.update(disk("a", 9));
        state.put(disk("b", 0)); // written at once, with a's 9
        state.write(older); // late writer of the older snapshot: must not undo the newer file
        PsState reread = new PsState(dir);
        assertEquals(9, reread.disks().get(DiskId.of("a")).forwarded());
        assertEquals(0, reread.disks().get(DiskId.of("b")).forwarded());

        state.update(disk("a", 12));
        state.write(state.takeSnapshot());
        assertEquals(12, new PsState(dir).disks().get(DiskId.of("a")).forwarded());
        assertEquals("agent-1", new PsState(dir).disks().get(DiskId.of("b")).agent());
    }

    @Test
    void aTornWriteLeavesThePreviousStateAndEachSlotIsOverwrittenInPlace() throws Exception {
        PsState state = new PsState(dir);
        state.put(disk("a", 1)); // slot a
        state.update(disk("a", 2));
        state.write(state.takeSnapshot()); // slot b
        Path a = dir.resolve(PsState.FILE + ".a");
        Path b = dir.resolve(PsState.FILE + ".b");
        assertEquals(PsState.SLOT_BYTES, java.nio.file.Files.size(a), "preallocated");
        assertEquals(PsState.SLOT_BYTES, java.nio.file.Files.size(b), "preallocated");
        assertEquals(2, new PsState(dir).disks().get(DiskId.of("a")).forwarded());

        // a crash tears the next write (slot a): a byte of its text never reached the disk
        state.update(disk("a", 3));
        state.write(state.takeSnapshot());
        assertEquals(3, new PsState(dir).disks().get(DiskId.of("a")).forwarded());
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(a,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {'#'}), 40);
        }
        assertEquals(2, new PsState(dir).disks().get(DiskId.of("a")).forwarded(), "the other slot's state");
        assertEquals(PsState.SLOT_BYTES, java.nio.file.Files.size(a), "rewritten in place, not grown");
    }
}
