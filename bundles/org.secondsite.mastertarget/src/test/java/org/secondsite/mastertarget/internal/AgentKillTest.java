package org.secondsite.mastertarget.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.agent.internal.Agent;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ResyncProgress;

/**
 * kill -9 of the agent loses no change: an agent in a JVM of its own writes through its sink
 * into a source file while the process server is unreachable and is killed with SIGKILL at a
 * random point; an agent started on the same data directory replays the regions its
 * dirty-region log holds — every region an accepted write touched, nothing more, far less
 * than the disk — and the replica ends equal to the source.
 */
class AgentKillTest {
    static final Duration BUDGET = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void killedAgentLosesNoChangeAndReplaysOnlyItsDirtyRegions() throws Exception {
        Path source = dir.resolve("source.img");
        try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
            f.setLength(KilledAgentMain.DISK_BYTES);
        }
        Random random = new Random();
        long seed = random.nextLong();
        int killAfter = 20 + random.nextInt(600);
        String where = "seed " + seed + ", kill after " + killAfter + " writes";
        Path stderr = dir.resolve("child.err");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process child = new ProcessBuilder(javaBin, "-cp", classpath, KilledAgentMain.class.getName(),
                dir.resolve("agent").toString(), source.toString(), Long.toString(seed))
                .redirectError(stderr.toFile()).start();
        int reported = -1;
        Set<String> modes = new LinkedHashSet<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null;) {
                if (line.startsWith("W ")) {
                    reported = Integer.parseInt(line.substring(2));
                    if (reported + 1 >= killAfter && child.isAlive()) {
                        // SIGKILL: no shutdown hook, no close. Through the handle, which (unlike
                        // Process.destroyForcibly) keeps the pipe: the lines written before the kill are read on.
                        child.toHandle().destroyForcibly();
                    }
                } else if (line.startsWith("MODE ")) {
                    modes.add(line.substring(5));
                }
            }
        } finally {
            child.destroyForcibly();
        }
        assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the killed agent did not end");
        assertEquals(137, child.exitValue(), where + ": the agent was not killed by SIGKILL but ended: "
                + Files.readString(stderr));
        assertTrue(reported + 1 >= killAfter, where + ": only " + (reported + 1) + " writes reported");
        System.out.println("agent killed after " + (reported + 1) + " reported writes (" + where + "), tiers seen: " + modes);

        // The dirty set: the regions of every write reported done, and of the next one, which may have been accepted.
        KilledAgentMain.Plan plan = new KilledAgentMain.Plan(seed);
        Set<Long> sure = new HashSet<>();
        Set<Long> maybe = new HashSet<>();
        for (int i = 0; i <= reported + 1; i++) {
            long[] w = plan.next();
            plan.data((int) w[1]);
            for (long r = w[0] / KilledAgentMain.REGION; r <= (w[0] + w[1] - 1) / KilledAgentMain.REGION; r++) {
                maybe.add(r);
                if (i <= reported) {
                    sure.add(r);
                }
            }
        }

        try (Pipeline p = new Pipeline(dir)) {
            p.startMt().startPs();
            p.agent = new Agent(KilledAgentMain.options(p.psAddress, dir.resolve("agent")),
                    KilledAgentMain.RESYNC, () -> "agent-1",
                    p.transports::get, () -> p.agentSecurity, p.agentCompressors::get, Clock.systemUTC());
            p.agent.protect(Pipeline.DISK, Pipeline.group(), KilledAgentMain.DISK_BYTES);
            p.agent.attachSource(Pipeline.DISK, Sources.of(source));
            await().atMost(BUDGET).until(() -> {
                DiskReplicationStatus s = p.agent.disks().get(0);
                return s.resync() != null && s.resync().phase() == ResyncProgress.Phase.DONE;
            });
            ReplicationEndToEndTest.awaitReplicated(p);
            ResyncProgress replay = p.agent.disks().get(0).resync();
            assertEquals("dirty regions after restart", replay.reason());
            long replayed = replay.sentBytes();
            long dirtyAtMost = maybe.size() * (long) KilledAgentMain.REGION;
            long dirtyAtLeast = sure.size() * (long) KilledAgentMain.REGION;
            System.out.println("replayed " + replayed + " bytes; regions written: " + sure.size() + " to " + maybe.size()
                    + " (" + dirtyAtLeast + " to " + dirtyAtMost + " bytes) of a " + KilledAgentMain.DISK_BYTES + "-byte disk");
            assertTrue(replayed >= dirtyAtLeast, where + ": replayed " + replayed + " bytes, but accepted writes touched "
                    + dirtyAtLeast + " bytes of regions");
            assertTrue(replayed <= dirtyAtMost, where + ": replayed " + replayed + " bytes, more than the dirty set of "
                    + dirtyAtMost + " bytes");
            assertTrue(replayed <= KilledAgentMain.DISK_BYTES / 4, "never a full resync (the writes cover at most "
                    + "a quarter of the disk): " + replayed);
            assertEquals(sha256(source), p.replicaSha256(), where + ": the replica differs from the source");
        }
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }
}
