package org.secondsite.agent.internal.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.secondsite.agent.internal.AgentService;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.storage.BlockDevice;

class ResyncCommandTest {
    private final List<String> requested = new ArrayList<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private boolean run(String disk, String reason) {
        ResyncCommand c = new ResyncCommand();
        c.disk = disk;
        if (reason != null) {
            c.reason = reason;
        }
        c.agent = new FakeAgent();
        return c.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void requestsTheResyncOfAProtectedDisk() {
        assertTrue(run("web01:disk0", null));
        assertEquals(List.of("web01:disk0/operator request"), requested);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("Resync of web01:disk0 requested (operator request)"));
        assertTrue(run("web01:disk0", "replica restored from tape"));
        assertEquals("web01:disk0/replica restored from tape", requested.get(1));
    }

    @Test
    void refusesAnUnknownOrMalformedDisk() {
        assertFalse(run("web02:disk0", null));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("disk web02:disk0 is not protected by this agent; "
                + "protected disks: [web01:disk0]"), err.toString(StandardCharsets.UTF_8));
        assertFalse(run("bad disk", null));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("'bad disk' is not a disk id"));
        assertTrue(requested.isEmpty());
    }

    private final class FakeAgent extends UnusedAgentService {
        FakeAgent() {
            super("dr:resync");
        }

        @Override
        public List<DiskId> protectedDisks() {
            return List.of(DiskId.of("web01:disk0"));
        }

        @Override
        public void requestResync(DiskId disk, String reason) {
            requested.add(disk + "/" + reason);
        }

        @Override
        public Optional<ResyncProgress> resyncProgress(DiskId disk) {
            return Optional.empty();
        }
    }
}
