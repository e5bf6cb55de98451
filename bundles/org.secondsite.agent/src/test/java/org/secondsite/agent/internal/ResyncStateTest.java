package org.secondsite.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.DiskId;

class ResyncStateTest {
    @TempDir
    Path dir;

    @Test
    void owedResyncsSurviveARestartUntilDone() throws Exception {
        DiskId a = DiskId.of("web01:disk0");
        DiskId b = DiskId.of("web01:disk1");
        ResyncState s = new ResyncState(dir);
        assertFalse(s.known(a));
        s.pending(a, "initial replication");
        s.pending(b, "operator request: été");
        s.done(b, "operator request: été");

        ResyncState again = new ResyncState(dir);
        assertTrue(again.known(a));
        assertEquals(Optional.of("initial replication"), again.pending(a));
        assertTrue(again.known(b));
        assertEquals(Optional.empty(), again.pending(b));
        again.forget(a);
        assertFalse(new ResyncState(dir).known(a));
    }

    @Test
    void aDamagedFileIsRefusedWithTheLineAtFault() throws Exception {
        Files.writeString(dir.resolve(ResyncState.FILE), "web01\\:disk0=maybe\n");
        IOException e = assertThrows(IOException.class, () -> new ResyncState(dir));
        assertTrue(e.getMessage().contains("'maybe', expected 'pending:<reason>' or 'done:<reason>'"), e.getMessage());
        Files.writeString(dir.resolve(ResyncState.FILE), "bad\\ disk=done:x\n");
        e = assertThrows(IOException.class, () -> new ResyncState(dir));
        assertTrue(e.getMessage().contains("is not a disk id"), e.getMessage());
    }
}
