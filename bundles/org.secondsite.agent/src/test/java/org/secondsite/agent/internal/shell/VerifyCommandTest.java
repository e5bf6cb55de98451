package org.secondsite.agent.internal.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.secondsite.agent.internal.AgentService;
import org.secondsite.agent.internal.VerifyReport;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.storage.BlockDevice;

class VerifyCommandTest {
    private static final DiskId DISK = DiskId.of("web01:disk0");
    private final List<String> started = new ArrayList<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private VerifyReport report;
    private ResyncProgress progress;
    private RuntimeException refusal;

    private boolean run(String disk, String... flags) {
        VerifyCommand c = new VerifyCommand();
        c.disk = disk;
        List<String> f = List.of(flags);
        c.repair = f.contains("--repair");
        c.repairFound = f.contains("--repair-found");
        c.result = f.contains("--result");
        c.agent = new FakeAgent();
        return c.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void startsTheModeTheFlagsName() {
        assertTrue(run("web01:disk0"));
        assertTrue(run("web01:disk0", "--repair"));
        assertTrue(run("web01:disk0", "--repair-found"));
        assertEquals(List.of("web01:disk0/VERIFY", "web01:disk0/VERIFY_AND_REPAIR", "web01:disk0/REPAIR"), started);
        assertTrue(out().contains("Verification of web01:disk0 started (compare only; the replica is not changed"), out());
        assertTrue(out().contains("Follow it with dr:replication; the result: dr:verify --result web01:disk0"), out());
    }

    @Test
    void printsTheResultAndOffersTheRepair() {
        assertTrue(run("web01:disk0", "--result"));
        assertTrue(out().contains("No verification of web01:disk0 ended since the agent started"), out());
        report = new VerifyReport(DISK, VerifyReport.Mode.VERIFY, VerifyReport.Outcome.COMPLETED, "", 1 << 20,
                List.of(new VerifyReport.Region(4096, 8192)), List.of(), 0, Instant.EPOCH, Duration.ofSeconds(2));
        progress = new ResyncProgress(ResyncProgress.Phase.COMPARING, "repair of mismatched regions", 100, 50, 0,
                Instant.EPOCH, Instant.EPOCH.plusSeconds(1), "");
        assertTrue(run("web01:disk0", "--result"));
        assertTrue(out().contains("Running on web01:disk0: repair of mismatched regions, 50.0 % (50 of 100 bytes)"),
                out());
        assertTrue(out().contains("Mismatched regions: 1 (8192 bytes)\n  offset 4096 length 8192"), out());
        assertTrue(out().contains("Resync just these regions: dr:verify --repair-found web01:disk0"), out());
        assertTrue(started.isEmpty());
    }

    @Test
    void refusesBadInputClearly() {
        assertFalse(run("web02:disk0"));
        assertTrue(err().contains("disk web02:disk0 is not protected by this agent; protected disks: [web01:disk0]"),
                err());
        assertFalse(run("bad disk"));
        assertTrue(err().contains("'bad disk' is not a disk id"), err());
        assertFalse(run("web01:disk0", "--repair", "--result"));
        assertTrue(err().contains("--repair, --repair-found and --result exclude each other"), err());
        refusal = new IllegalStateException("a resync of disk web01:disk0 is running (initial replication, 3.0 %); "
                + "verify once it is done");
        assertFalse(run("web01:disk0"));
        assertTrue(err().contains("Error: a resync of disk web01:disk0 is running"), err());
        assertTrue(started.isEmpty());
    }

    private final class FakeAgent extends UnusedAgentService {
        FakeAgent() {
            super("dr:verify");
        }

        @Override
        public List<DiskId> protectedDisks() {
            return List.of(DISK);
        }

        @Override
        public Optional<ResyncProgress> resyncProgress(DiskId disk) {
            return Optional.ofNullable(progress);
        }

        @Override
        public void verify(DiskId disk, VerifyReport.Mode mode) {
            if (refusal != null) {
                throw refusal;
            }
            started.add(disk + "/" + mode);
        }

        @Override
        public Optional<VerifyReport> verifyReport(DiskId disk) {
            return Optional.ofNullable(report);
        }
    }
}
