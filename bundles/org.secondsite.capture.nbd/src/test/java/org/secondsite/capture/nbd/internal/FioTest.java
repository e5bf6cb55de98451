package org.secondsite.capture.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.model.DiskId;

/**
 * fio's nbd engine (libnbd): 4 KiB random writes at iodepth 32 from 4 jobs, each on its own
 * connection. Phase 1 writes disjoint regions and lets fio verify them; phase 2 has all jobs write
 * anywhere for two seconds, so connections race on the same blocks: the source must still equal the
 * sink's stream replayed in order.
 */
class FioTest {
    private static final int SIZE = 128 << 20;
    private static final Pattern IOPS = Pattern.compile("write: IOPS=([0-9.]+k?)");

    @TempDir
    Path dir;

    @Test
    void randomWritesFromFourConnectionsAreVerifiedAndCapturedInOrder() throws Exception {
        Tools.assumeTool("fio");
        String engines = Tools.run(30, "fio", "--enghelp");
        org.junit.jupiter.api.Assumptions.assumeTrue(engines.contains("nbd"), "this fio has no nbd engine:\n" + engines);
        Path file = dir.resolve("disk0.img");
        Files.write(file, new byte[SIZE]);
        ReplayingSink sink = new ReplayingSink(SIZE, false); // no record list: fio writes GiBs
        try (var session = new NbdCaptureDriver().start(new CaptureSpec(DiskId.of("disk0"), file, Map.of()), sink)) {
            String verify = Tools.run(120, List.of("fio", "--name=verify", "--ioengine=nbd", "--uri=" + session.endpoint(),
                    "--rw=randwrite", "--bs=4k", "--iodepth=32", "--numjobs=4", "--size=32m", "--offset_increment=32m",
                    "--verify=crc32c", "--verify_fatal=1", "--do_verify=1", "--verify_state_save=0",
                    "--group_reporting"));
            assertTrue(verify.contains("err= 0"), verify);
            assertTrue(verify.contains("read: IOPS="), "verify phase read back:\n" + verify);

            String race = Tools.run(120, List.of("fio", "--name=race", "--ioengine=nbd", "--uri=" + session.endpoint(),
                    "--rw=randwrite", "--bs=4k", "--iodepth=32", "--numjobs=4", "--time_based", "--runtime=2",
                    "--norandommap", "--group_reporting"));
            assertTrue(race.contains("err= 0"), race);
            Matcher m = IOPS.matcher(race);
            assertTrue(m.find(), race);
            System.out.println("fio nbd randwrite 4k iodepth 32, 4 jobs: IOPS=" + m.group(1)
                    + " (information only; noisy shared machine)");

            Map<String, Long> stats = session.statistics();
            assertTrue(stats.get("connectionsTotal") >= 8, stats.toString());
            assertEquals(stats.get("writes"), sink.accepted(), "every write reached the sink");
        }
        byte[] source = Files.readAllBytes(file);
        assertEquals(TestDisk.sha256(source), TestDisk.sha256(sink.image()),
                "change stream replayed onto a zero image vs source (SHA-256)");
    }
}
