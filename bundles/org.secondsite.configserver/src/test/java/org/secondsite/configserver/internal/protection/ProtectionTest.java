package org.secondsite.configserver.internal.protection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.configserver.internal.ConfigServer;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.Fixtures;
import org.secondsite.configserver.internal.catalogue.Heartbeat;
import org.secondsite.configserver.internal.catalogue.Policy;

/**
 * Protection jobs against a real Derby catalogue: what each component is told to apply, how a job
 * follows the components' reports step by step, conflicts, failures, and resuming after a restart.
 */
class ProtectionTest {
    @TempDir
    Path dir;
    Fixtures f;

    @BeforeEach
    void setUp() throws Exception {
        f = new Fixtures(dir);
        f.component("agent-1", "agent", "10.0.0.9");
        f.component("ps-1", "process-server", "127.0.0.1:9443");
        f.component("mt-1", "master-target", "127.0.0.1:9444");
        f.server.createPolicy(new Policy("gold", 900, 5, 86_400, 2L << 30, "PT1H", "lz4", "", null, null), "admin");
        f.server.createPolicy(new Policy("silver", 1800, 60, 7_200, 0, "off", "lz4", "", null, null), "admin");
    }

    @AfterEach
    void tearDown() throws Exception {
        f.close();
    }

    static ProtectRequest request(String machine, String... disks) {
        List<Machine.Disk> list = new ArrayList<>();
        for (int i = 0; i < disks.length; i++) {
            list.add(new Machine.Disk(disks[i], "/dev/vd" + (char) ('b' + i), "nbd",
                    Map.of("listen", "127.0.0.1:" + (10809 + i)), 0, 0));
        }
        return new ProtectRequest(machine, null, null, "agent-1", "ps-1", "mt-1", "gold", null, list);
    }

    /** A heartbeat reporting the revision applied (and disk states for agents); returns the answer. */
    ConfigServer.HeartbeatAnswer beat(String component, Long applied, String error, String... diskStates)
            throws Exception {
        List<Heartbeat.Disk> disks = new ArrayList<>();
        for (String s : diskStates) {
            String[] p = s.split("=");
            String[] state = p[1].split("@"); // "resyncing@40": state and resync percent
            disks.add(new Heartbeat.Disk(p[0], 1, 0, 0, state[0], false,
                    state.length > 1 ? Integer.valueOf(state[1]) : null));
        }
        f.clock.advance(Duration.ofSeconds(1));
        return f.server.heartbeat(new Heartbeat(component, f.clock.instant(), 0, null, null, null, disks), applied,
                error);
    }

    /** Applies whatever the component is told (reports the revision it was given). */
    long applyDesired(String component, String... diskStates) throws Exception {
        ConfigServer.HeartbeatAnswer a = beat(component, null, null, diskStates);
        beat(component, a.desiredRevision(), null, diskStates);
        return a.desiredRevision();
    }

    Job advanced(long id) throws Exception {
        f.server.advanceJobs();
        return f.server.job(id);
    }

    @Test
    void protectingTellsEachComponentItsConfigurationAndFollowsThemToReplication() throws Exception {
        Job job = f.server.protect(request("web01", "web01:disk0", "web01:disk1"), "operator1");
        assertEquals(Job.RUNNING, job.state());
        assertEquals(5, job.steps().size());
        assertEquals("web01", f.server.machine("web01").id());
        assertEquals(Machine.PROTECTING, f.server.machine("web01").state());

        // What each component is told, in the Configuration Admin form
        JsonNode mt = beat("mt-1", 0L, null).desired().document();
        assertEquals(DesiredState.MASTER_TARGET_PID, mt.at("/configurations/0/pid").asText());
        assertEquals(86_400, mt.at("/configurations/0/properties/retentionWindowSeconds").asLong());
        assertEquals(2048, mt.at("/configurations/0/properties/retentionSpaceMiB").asLong());
        JsonNode ps = beat("ps-1", 0L, null).desired().document();
        assertEquals("127.0.0.1:9444", ps.at("/configurations/0/properties/masterTarget").asText());
        assertEquals("lz4", ps.at("/configurations/0/properties/wanCompressor").asText());
        ConfigServer.HeartbeatAnswer agentAnswer = beat("agent-1", 0L, null);
        JsonNode agent = agentAnswer.desired().document();
        assertEquals("127.0.0.1:9443", agent.at("/configurations/0/properties/processServer").asText());
        assertEquals(DesiredState.SCHEDULE_PID, agent.at("/configurations/1/pid").asText());
        assertEquals(5000, agent.at("/configurations/1/properties/checkpointMillis").asLong());
        assertEquals(60, agent.at("/configurations/1/properties/appTagMinutes").asLong());
        assertEquals(DesiredState.DISK_FACTORY_PID, agent.at("/configurations/2/factoryPid").asText());
        assertEquals("web01-disk0", agent.at("/configurations/2/name").asText());
        assertEquals("web01:disk0", agent.at("/configurations/2/properties/diskId").asText());
        assertEquals("web01", agent.at("/configurations/2/properties/group").asText());
        assertEquals("/dev/vdb", agent.at("/configurations/2/properties/source").asText());
        assertEquals("127.0.0.1:10809", agent.at("/configurations/2/properties/capture.listen").asText());
        assertEquals("127.0.0.1:10810", agent.at("/configurations/3/properties/capture.listen").asText());
        assertEquals(DesiredState.DISK_FACTORY_PID, agent.at("/managedFactoryPids/0").asText());

        // Steps wait for the components in order
        job = advanced(job.id());
        assertEquals(Job.RUNNING, job.steps().get(0).state());
        applyDesired("mt-1");
        job = advanced(job.id());
        assertEquals(Job.SUCCEEDED, job.steps().get(0).state());
        assertEquals(Job.RUNNING, job.steps().get(1).state());
        applyDesired("ps-1");
        applyDesired("agent-1");
        job = advanced(job.id());
        assertEquals(Job.SUCCEEDED, job.steps().get(2).state());
        assertEquals(Job.RUNNING, job.steps().get(3).state(), job.toString());

        // Initial replication: done when fresh heartbeats show every disk replicating
        beat("agent-1", agentAnswer.desiredRevision(), null, "web01:disk0=replicating", "web01:disk1=resyncing@40");
        job = advanced(job.id());
        assertEquals(70, job.steps().get(3).progress());
        assertEquals(Job.RUNNING, job.state());
        assertTrue(job.progress() > 0 && job.progress() < 100, job.toString());
        beat("agent-1", agentAnswer.desiredRevision(), null, "web01:disk0=replicating", "web01:disk1=replicating");
        job = advanced(job.id());
        assertEquals(Job.SUCCEEDED, job.state(), job.toString());
        assertEquals(100, job.progress());
        assertEquals(Machine.PROTECTED, f.server.machine("web01").state());

        // A component that applied its revision is not sent the document again
        ConfigServer.HeartbeatAnswer quiet = beat("agent-1", agentAnswer.desiredRevision(), null);
        assertNull(quiet.desired());
        assertEquals(agentAnswer.desiredRevision(), quiet.desiredRevision());
        // One that reports a revision this catalogue never gave (it was recreated) is sent the document
        ConfigServer.HeartbeatAnswer restored = beat("agent-1", agentAnswer.desiredRevision() + 40, null);
        assertNotNull(restored.desired());
        assertEquals(agentAnswer.desiredRevision(), restored.desired().revision());
    }

    @Test
    void oneJobAtATimePerMachineAndClearRefusals() throws Exception {
        Job job = f.server.protect(request("web01", "web01:disk0"), "op");
        ConfigServerException e = assertThrows(ConfigServerException.class,
                () -> f.server.unprotect("web01", "op"));
        assertEquals(ConfigServerException.Kind.CONFLICT, e.kind());
        assertTrue(e.getMessage().contains("job " + job.id()), e.getMessage());
        assertEquals(ConfigServerException.Kind.CONFLICT, assertThrows(ConfigServerException.class,
                () -> f.server.protect(request("web01", "web01:disk0"), "op")).kind());
        // A disk belongs to one machine
        e = assertThrows(ConfigServerException.class, () -> f.server.protect(request("db01", "web01:disk0"), "op"));
        assertEquals(ConfigServerException.Kind.CONFLICT, e.kind());
        assertTrue(e.getMessage().contains("belongs to machine 'web01'"), e.getMessage());
        // Unknown or wrong components, unknown policy
        ProtectRequest r = request("db01", "db01:disk0");
        e = assertThrows(ConfigServerException.class, () -> f.server.protect(new ProtectRequest("db01", null, null,
                "ps-1", "ps-1", "mt-1", "gold", null, r.disks()), "op"));
        assertEquals("agentId", e.field());
        assertEquals(ConfigServerException.Kind.NOT_FOUND, assertThrows(ConfigServerException.class,
                () -> f.server.protect(new ProtectRequest("db01", null, null, "agent-9", "ps-1", "mt-1", "gold", null,
                        r.disks()), "op")).kind());
        assertEquals(ConfigServerException.Kind.NOT_FOUND, assertThrows(ConfigServerException.class,
                () -> f.server.protect(new ProtectRequest("db01", null, null, "agent-1", "ps-1", "mt-1", "bronze",
                        null, r.disks()), "op")).kind());
        // A process server registered without a data address cannot be routed to
        f.component("ps-2", "process-server", "10.1.1.1");
        e = assertThrows(ConfigServerException.class, () -> f.server.protect(new ProtectRequest("db01", null, null,
                "agent-1", "ps-2", "mt-1", "gold", null, r.disks()), "op"));
        assertEquals("processServerId", e.field());
        // Bad fields are named with their path
        e = assertThrows(ConfigServerException.class, () -> f.server.protect(new ProtectRequest("db01", null, null,
                "agent-1", "ps-1", "mt-1", "gold", null, List.of(new Machine.Disk("db01:disk0", " ", "nbd", Map.of(), 0,
                0))), "op"));
        assertEquals("disks[0].source", e.field());
        e = assertThrows(ConfigServerException.class, () -> f.server.protect(new ProtectRequest("db01", null, "vax",
                "agent-1", "ps-1", "mt-1", "gold", null, r.disks()), "op"));
        assertEquals("kind", e.field());
        // None of the refusals left a machine or a job behind
        assertEquals(1, f.server.machines(0, 50).total());
        assertEquals(1, f.server.jobs(null, null, 0, 50).total());
        // Refusals are audited with their reason
        assertTrue(f.server.recentAudit(20).stream().anyMatch(a -> a.action().equals("machine.protect")
                && a.outcome().startsWith("refused: ")));
    }

    @Test
    void aProcessServerForwardsToOneMasterTargetWithOneCompressor() throws Exception {
        f.server.protect(request("web01", "web01:disk0"), "op");
        f.component("mt-2", "master-target", "127.0.0.1:9555");
        ProtectRequest r = request("db01", "db01:disk0");
        ConfigServerException e = assertThrows(ConfigServerException.class, () -> f.server.protect(
                new ProtectRequest("db01", null, null, "agent-1", "ps-1", "mt-2", "gold", null, r.disks()), "op"));
        assertEquals(ConfigServerException.Kind.CONFLICT, e.kind());
        f.server.createPolicy(new Policy("zstd", 900, 5, 86_400, 0, "off", "zstd", "", null, null), "admin");
        e = assertThrows(ConfigServerException.class, () -> f.server.protect(
                new ProtectRequest("db01", null, null, "agent-1", "ps-1", "mt-1", "zstd", null, r.disks()), "op"));
        assertTrue(e.getMessage().contains("policy 'zstd' differs"), e.getMessage());
    }

    @Test
    void aComponentThatCannotApplyFailsTheJobWithItsReason() throws Exception {
        Job job = f.server.protect(request("web01", "web01:disk0"), "op");
        advanced(job.id());
        beat("mt-1", 0L, "retentionSpaceMiB: at least 64");
        job = advanced(job.id());
        assertEquals(Job.FAILED, job.state());
        assertTrue(job.error().contains("step 1") && job.error().contains("retentionSpaceMiB: at least 64"),
                job.error());
        assertEquals(Job.FAILED, job.steps().get(0).state());
        // The machine may be protected again (or unprotected) once the job ended
        Job again = f.server.protect(request("web01", "web01:disk0"), "op");
        assertEquals(Job.RUNNING, again.state());
    }

    @Test
    void aComponentThatNeverAppliesFailsTheStepAfterTheTimeout() throws Exception {
        Job job = f.server.protect(request("web01", "web01:disk0"), "op");
        advanced(job.id());
        f.clock.advance(ConfigServer.DEFAULT_APPLY_TIMEOUT.plusSeconds(1));
        job = advanced(job.id());
        assertEquals(Job.FAILED, job.state());
        assertTrue(job.error().contains("did not apply revision") && job.error().contains("last heartbeat: never"),
                job.error());
    }

    void protectFully(String machine, String... disks) throws Exception {
        Job job = f.server.protect(request(machine, disks), "op");
        applyDesired("mt-1");
        applyDesired("ps-1");
        List<String> states = new ArrayList<>();
        for (String d : disks) {
            states.add(d + "=replicating");
        }
        applyDesired("agent-1", states.toArray(new String[0]));
        advanced(job.id());
        beat("agent-1", f.server.job(job.id()).steps().get(2).waitRevision(), null, states.toArray(new String[0]));
        assertEquals(Job.SUCCEEDED, advanced(job.id()).state());
    }

    @Test
    void unprotectStopsCaptureAndReleasesTheComponents() throws Exception {
        protectFully("web01", "web01:disk0");
        Job job = f.server.unprotect("web01", "op");
        assertEquals(Machine.UNPROTECTING, f.server.machine("web01").state());
        JsonNode agent = beat("agent-1", null, null).desired().document();
        assertEquals(0, agent.get("configurations").size(), "no disk left to capture: " + agent);
        assertEquals(DesiredState.DISK_FACTORY_PID, agent.at("/managedFactoryPids/0").asText());
        applyDesired("agent-1");
        applyDesired("ps-1");
        applyDesired("mt-1");
        job = advanced(job.id());
        assertEquals(Job.SUCCEEDED, job.state(), job.toString());
        assertEquals(Machine.UNPROTECTED, f.server.machine("web01").state());
        // Protect again later
        protectFully("web01", "web01:disk0");
        assertEquals(Machine.PROTECTED, f.server.machine("web01").state());
    }

    @Test
    void resyncRaisesTheDiskCounterTheAgentActsOn() throws Exception {
        protectFully("web01", "web01:disk0", "web01:disk1");
        Job job = f.server.resync("web01", List.of("web01:disk1"), "op");
        JsonNode agent = beat("agent-1", null, null).desired().document();
        assertEquals(0, agent.at("/configurations/2/properties/resyncRequest").asLong());
        assertEquals(1, agent.at("/configurations/3/properties/resyncRequest").asLong());
        assertEquals(ConfigServerException.Kind.CONFLICT, assertThrows(ConfigServerException.class,
                () -> f.server.resync("web01", List.of("web01:disk0"), "op2")).kind());
        applyDesired("agent-1", "web01:disk0=replicating", "web01:disk1=resyncing");
        job = advanced(job.id());
        assertEquals(Job.RUNNING, job.state());
        beat("agent-1", f.server.job(job.id()).steps().get(0).waitRevision(), null, "web01:disk0=replicating",
                "web01:disk1=replicating");
        assertEquals(Job.SUCCEEDED, advanced(job.id()).state());
        ConfigServerException e = assertThrows(ConfigServerException.class,
                () -> f.server.resync("web01", List.of("db01:disk0"), "op2"));
        assertEquals("disks[0]", e.field());
    }

    @Test
    void policiesArePushedLiveAndMachinesMayChangePolicy() throws Exception {
        protectFully("web01", "web01:disk0");
        long mtBefore = f.server.heartbeat(new Heartbeat("mt-1", f.clock.instant(), 0, null, null, null, List.of()),
                null, null).desiredRevision();
        f.server.updatePolicy(new Policy("gold", 900, 5, 3_600, 2L << 30, "PT1H", "lz4", "", null, null), "admin");
        ConfigServer.HeartbeatAnswer a = beat("mt-1", mtBefore, null);
        assertEquals(mtBefore + 1, a.desiredRevision());
        assertEquals(3_600, a.desired().document().at("/configurations/0/properties/retentionWindowSeconds").asLong());

        Job job = f.server.changePolicy("web01", "silver", "op");
        JsonNode agent = beat("agent-1", null, null).desired().document();
        assertEquals(60_000, agent.at("/configurations/1/properties/checkpointMillis").asLong());
        assertEquals(0, agent.at("/configurations/1/properties/appTagMinutes").asLong());
        applyDesired("mt-1");
        applyDesired("ps-1");
        applyDesired("agent-1");
        assertEquals(Job.SUCCEEDED, advanced(job.id()).state());
        assertEquals("silver", f.server.machine("web01").policyId());
        assertEquals(List.of(Job.CHANGE_POLICY, Job.PROTECT), f.server.jobs("web01", null, 0, 10).items().stream()
                .map(Job::kind).toList());
        assertEquals(0, f.server.jobs(null, Job.RUNNING, 0, 10).total());
        assertEquals(ConfigServerException.Kind.INVALID, assertThrows(ConfigServerException.class,
                () -> f.server.jobs(null, "sleeping", 0, 10)).kind());
    }

    @Test
    void recoveryPointsOfAMasterTargetAreMirroredPerMachineAndPrunedWithItsRetention() throws Exception {
        protectFully("web01", "web01:disk0", "web01:disk1");
        Instant t0 = Instant.parse("2030-01-01T01:00:00Z");
        List<MirroredPoint> first = List.of(
                new MirroredPoint("p1", "web01", t0, "crash", null, null),
                new MirroredPoint("p2", "web01", t0.plusSeconds(1), "app", "before-upgrade", null),
                new MirroredPoint("q1", "unknown-group", t0.plusSeconds(1), "crash", null, null));
        f.server.heartbeat(new Heartbeat("mt-1", f.clock.instant(), 0, null, null, null, List.of()), null, null,
                new ConfigServer.PointsReport(t0, first));
        var page = f.server.points("web01", 0, 10);
        assertEquals(2, page.total(), "the point of a group the catalogue does not know is skipped");
        assertEquals("p2", page.items().get(0).id(), "newest first");
        assertEquals("before-upgrade", page.items().get(0).tag());
        assertEquals(List.of("web01:disk0", "web01:disk1"), page.items().get(0).disks());
        // Reported again (an overlap) and a new one; the oldest pruned by the master target's retention
        f.server.heartbeat(new Heartbeat("mt-1", f.clock.instant(), 0, null, null, null, List.of()), null, null,
                new ConfigServer.PointsReport(t0.plusSeconds(1), List.of(first.get(1),
                        new MirroredPoint("p3", "web01", t0.plusSeconds(2), "crash", null, null))));
        assertEquals(List.of("p3", "p2"), f.server.points("web01", 0, 10).items().stream().map(MirroredPoint::id)
                .toList());
        assertEquals(List.of("p2"), f.server.points("web01", 1, 1).items().stream().map(MirroredPoint::id).toList());
        // Only master targets report points
        assertEquals("points", assertThrows(ConfigServerException.class, () -> f.server.heartbeat(new Heartbeat(
                "agent-1", f.clock.instant(), 0, null, null, null, List.of()), null, null,
                new ConfigServer.PointsReport(null, List.of()))).field());
        // A master target that lists nothing any more
        f.server.heartbeat(new Heartbeat("mt-1", f.clock.instant(), 0, null, null, null, List.of()), null, null,
                new ConfigServer.PointsReport(null, List.of()));
        assertEquals(0, f.server.points("web01", 0, 10).total());
        assertEquals(ConfigServerException.Kind.NOT_FOUND, assertThrows(ConfigServerException.class,
                () -> f.server.points("nope", 0, 10)).kind());
    }

    @Test
    void aRunningJobResumesAfterARestart() throws Exception {
        Job job = f.server.protect(request("web01", "web01:disk0"), "op");
        applyDesired("mt-1");
        advanced(job.id());
        f.close();
        f = new Fixtures(dir);
        assertEquals(Job.RUNNING, f.server.job(job.id()).state());
        assertEquals(Job.SUCCEEDED, f.server.job(job.id()).steps().get(0).state());
        applyDesired("ps-1");
        applyDesired("agent-1", "web01:disk0=replicating");
        advanced(job.id());
        beat("agent-1", f.server.job(job.id()).steps().get(2).waitRevision(), null, "web01:disk0=replicating");
        Job done = advanced(job.id());
        assertEquals(Job.SUCCEEDED, done.state(), done.toString());
        assertFalse(done.steps().stream().anyMatch(s -> s.endedAt() == null));
        assertNotNull(f.server.machine("web01").createdAt());
    }
}
