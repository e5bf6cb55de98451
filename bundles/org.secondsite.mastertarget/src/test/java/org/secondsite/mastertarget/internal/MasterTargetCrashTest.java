package org.secondsite.mastertarget.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.storage.file.internal.FileStorageBackend;

/**
 * kill -9 of the master target at random moments of apply loses no listed point: a master
 * target in a JVM of its own applies the {@link CheckpointPlan} stream (journal, replica
 * writes, group commits, point records) and is killed with SIGKILL after a random number of
 * ACKs, many times over on the same storage. After each kill a master target reopened on that
 * storage (its production recovery: undo entries past the committed end rolled back) lists
 * every point listed before and more; every listed point materialises to exactly the plan's
 * content at its sequence, and each replica equals the plan's content at its committed sequence.
 */
class MasterTargetCrashTest {
    static final int ITERATIONS = 10;

    @TempDir
    Path dir;

    @Test
    void everyListedPointSurvivesKillNineAtRandomMoments() throws Exception {
        Random random = new Random();
        long seed = random.nextLong();
        CheckpointPlan plan = new CheckpointPlan(seed);
        Path storage = dir.resolve("storage");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Set<String> listedBefore = new LinkedHashSet<>();
        long rolledBackTotal = 0;
        long childNanos = 0;
        long verifyNanos = 0;
        for (int it = 1; it <= ITERATIONS; it++) {
            int killAfter = 1 + random.nextInt(25);
            String where = "seed " + seed + ", iteration " + it + ", kill after " + killAfter + " ACKs";
            Path stderr = dir.resolve("child-" + it + ".err");
            long t0 = System.nanoTime();
            // C1 only: the child lives for seconds, start-up dominates
            Process child = new ProcessBuilder(javaBin, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                    "-cp", classpath, KilledMasterTargetMain.class.getName(),
                    storage.toString(), Long.toString(seed)).redirectError(stderr.toFile()).start();
            int acks = 0;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null;) {
                    if (line.startsWith("A ") && ++acks >= killAfter && child.isAlive()) {
                        child.toHandle().destroyForcibly(); // SIGKILL, mid-apply
                    }
                }
            } finally {
                child.destroyForcibly();
            }
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), where + ": the killed master target did not end");
            assertEquals(137, child.exitValue(), where + ": not killed by SIGKILL but ended: " + Files.readString(stderr));
            assertTrue(acks >= killAfter, where + ": only " + acks + " ACKs");

            boolean last = it == ITERATIONS;
            long t1 = System.nanoTime();
            rolledBackTotal += verify(storage, plan, listedBefore, random, last, where);
            childNanos += t1 - t0;
            verifyNanos += System.nanoTime() - t1;
        }
        System.out.println("master target killed " + ITERATIONS + " times (seed " + seed + "); " + listedBefore.size()
                + " points listed; " + rolledBackTotal + " undo entries rolled back in all; children ran "
                + childNanos / 1_000_000 + " ms, checks took " + verifyNanos / 1_000_000 + " ms");
        assertTrue(listedBefore.size() > ITERATIONS, "points were made: " + listedBefore.size());
    }

    /** Reopens the storage with a master target and checks it; returns the entries rolled back. */
    private long verify(Path storage, CheckpointPlan plan, Set<String> listedBefore, Random random, boolean all,
                        String where) throws Exception {
        FileStorageBackend backend = new FileStorageBackend(storage);
        Map<String, StorageBackend> storages = Map.of("file", backend);
        try (MasterTarget mt = new MasterTarget(KilledMasterTargetMain.options(new InetSocketAddress("127.0.0.1", 0)),
                () -> "mt-1", name -> null, () -> null, storages::get, name -> null, Clock.systemUTC())) {
            List<RecoveryPoint> points = mt.points(Optional.empty()); // loads: recovery runs here
            Set<String> now = new LinkedHashSet<>();
            for (RecoveryPoint p : points) {
                now.add(p.id());
            }
            for (String id : listedBefore) {
                assertTrue(now.contains(id), where + ": point " + id + " was listed before the kill and is gone");
            }
            // which points to materialise: all at the end, else the new ones, the oldest, the newest and a sample
            List<RecoveryPoint> check = new ArrayList<>();
            for (int i = 0; i < points.size(); i++) {
                RecoveryPoint p = points.get(i);
                if (all || !listedBefore.contains(p.id()) || i == 0 || i == points.size() - 1 || random.nextInt(10) == 0) {
                    check.add(p);
                }
            }
            listedBefore.addAll(now);
            for (int disk = 0; disk < 2; disk++) {
                DiskId d = CheckpointPlan.DISKS.get(disk);
                TreeSet<Long> seqs = new TreeSet<>();
                for (RecoveryPoint p : check) {
                    seqs.add(mt.point(p.id()).sequences().get(d));
                }
                long committed = mt.lastApplied(d);
                seqs.add(committed);
                Map<Long, String> want = plan.hashesAfter(disk, seqs);
                for (RecoveryPoint p : check) {
                    long seq = mt.point(p.id()).sequences().get(d);
                    try (BlockDevice v = mt.openView(p.id(), d)) {
                        assertEquals(want.get(seq), CheckpointPlan.sha256(RecoveryPointsEndToEndTest.readAll(v)),
                                where + ": view of " + d + " at point " + p.id() + " (seq " + seq + ")");
                    }
                }
                Path img = storage.resolve("volumes").resolve(MasterTarget.volumeName(d) + ".img");
                if (Files.exists(img) && Files.size(img) == CheckpointPlan.DISK_BYTES) {
                    assertEquals(want.get(committed), Pipeline.sha256(img),
                            where + ": replica of " + d + " differs from the plan at its committed sequence " + committed);
                } else {
                    assertEquals(0, committed, where + ": no replica image of " + d);
                }
            }
            return mt.rolledBackOnLoad();
        }
    }
}
