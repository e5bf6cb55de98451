package org.secondsite.itests;

import static org.awaitility.Awaitility.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestWatcher;
import org.junit.runner.Description;
import org.junit.runners.MethodSorters;
import org.secondsite.pki.CertificateAuthority;
import org.secondsite.pki.KeyMaterial;

/**
 * The whole data path across three appliance processes on loopback: an agent, a process
 * server and a master target, each an unpacked assembly started with {@code bin/start}, with
 * one certificate authority for their mutual TLS. A 256 MiB source disk is protected with the
 * NBD capture; {@code qemu-io} writes a known pattern through the real NBD export; the
 * replica under the master target's storage root must end with the source's SHA-256 — also
 * after {@code kill -9} of the process server and of the master target while qemu-io writes.
 *
 * <p>Not a Pax Exam test: the appliances are real processes. The methods run in name order
 * on the same three processes, each writing a different pattern over the whole disk. Status
 * comes from each appliance's {@code GET /api/v1/replication}; the admin user is provisioned
 * into {@code etc/users.properties} before the first start (see {@link ApplianceInstance}).
 * On failure the tail of every {@code data/log/karaf.log} and its replication status are
 * printed (failsafe keeps them in {@code target/failsafe-reports/*-output.txt}); the
 * instances stay under {@code target/multiprocess/}.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class MultiProcessReplicationIT {
    private static final String DISK = "disk0";
    private static final long SIZE = 256L << 20;
    private static final Duration BOOT_BUDGET = Duration.ofMinutes(3);
    private static final Duration WRITE_BUDGET = Duration.ofMinutes(4);
    private static final Duration REPLICATION_BUDGET = Duration.ofMinutes(4);

    private static Path work;
    private static ApplianceInstance agent;
    private static ApplianceInstance processServer;
    private static ApplianceInstance masterTarget;
    private static Path source;
    private static Path replica;
    private static int nbdPort;

    @Rule
    public final TestWatcher keepLogsOnFailure = new TestWatcher() {
        @Override
        protected void failed(Throwable e, Description d) {
            dumpLogs(d.getMethodName() + " failed: " + e);
        }
    };

    @BeforeClass
    public static void startThreeAppliances() throws Exception {
        Assume.assumeTrue("qemu-io is not installed (package qemu-utils): it writes through the NBD export",
                WritePattern.onPath("qemu-io"));
        Path archive = Paths.get(System.getProperty("appliance.archive"));
        work = Paths.get("target", "multiprocess").toAbsolutePath();
        try {
            agent = ApplianceInstance.unpack("agent", archive, work.resolve("agent"), "agent");
            processServer = ApplianceInstance.unpack("process-server", archive, work.resolve("ps"), "process-server");
            masterTarget = ApplianceInstance.unpack("master-target", archive, work.resolve("mt"), "master-target");
            Path pki = work.resolve("pki");
            issueIdentities(pki);

            int psPort = ApplianceInstance.freePort();
            int mtPort = ApplianceInstance.freePort();
            nbdPort = ApplianceInstance.freePort();
            source = work.resolve("source").resolve(DISK + ".img");
            Files.createDirectories(source.getParent());
            try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
                f.setLength(SIZE);
            }

            agent.put("org.secondsite.agent.cfg", "processServer", "127.0.0.1:" + psPort);
            // A small buffer (the window must hold one 18 MiB frame) ties qemu-io's progress to the process server's acknowledgements.
            agent.put("org.secondsite.agent.cfg", "bufferBytes", Long.toString(48L << 20));
            agent.put("org.secondsite.agent.cfg", "windowBytes", Long.toString(24L << 20));
            agent.put("org.secondsite.agent.cfg", "backoffMaxSeconds", "2");
            String diskCfg = "org.secondsite.agent.disk-" + DISK + ".cfg";
            agent.put(diskCfg, "diskId", DISK);
            agent.put(diskCfg, "source", source.toString());
            agent.put(diskCfg, "driver", "nbd");
            agent.put(diskCfg, "capture.listen", "127.0.0.1:" + nbdPort);

            String ps = "org.secondsite.processserver.cfg";
            processServer.put(ps, "listen", "127.0.0.1:" + psPort);
            processServer.put(ps, "masterTarget", "127.0.0.1:" + mtPort);
            processServer.put(ps, "spoolDir", processServer.home.resolve("spool").toString());
            processServer.put(ps, "spoolMaxBytes", Long.toString(2L << 30));
            processServer.put(ps, "backoffMaxSeconds", "2");

            masterTarget.put("org.secondsite.mastertarget.cfg", "listen", "127.0.0.1:" + mtPort);
            Path storage = masterTarget.home.resolve("replicas");
            masterTarget.put("org.secondsite.storage.file.cfg", "root", storage.toString());
            replica = storage.resolve("volumes").resolve("disk-" + DISK + ".img");

            for (ApplianceInstance a : all()) {
                a.start();
            }
            for (ApplianceInstance a : all()) {
                a.awaitHealthy(BOOT_BUDGET);
            }
            await("agent protects " + DISK + " and serves it over NBD on port " + nbdPort).atMost(BOOT_BUDGET)
                    .pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .until(() -> agent.replication(DISK).isPresent() && accepts(nbdPort));
        } catch (Throwable t) {
            dumpLogs("start-up failed: " + t);
            throw t;
        }
    }

    /** One CA for the three processes; one PKCS#12 per process, the CA as PEM. */
    private static void issueIdentities(Path pki) throws Exception {
        Files.createDirectories(pki);
        CertificateAuthority ca = CertificateAuthority.create("secondsite-itest-ca", Duration.ofDays(2));
        Path caPem = pki.resolve("ca.pem");
        Files.writeString(caPem, pem(ca.certificate()));
        String[][] ids = {{"agent-itest"}, {"ps-itest"}, {"mt-itest"}};
        List<ApplianceInstance> instances = all();
        for (int i = 0; i < ids.length; i++) {
            ApplianceInstance a = instances.get(i);
            KeyMaterial km = ca.issue(ids[i][0], Duration.ofDays(2));
            char[] password = ("pw-" + ids[i][0]).toCharArray();
            Path p12 = pki.resolve(ids[i][0] + ".p12");
            km.save(p12, password);
            a.put("org.secondsite.identity.cfg", "keyStore", p12.toString());
            a.put("org.secondsite.identity.cfg", "keyStorePassword", new String(password));
            a.put("org.secondsite.identity.cfg", "trustedAuthorities", caPem.toString());
        }
    }

    private static String pem(X509Certificate cert) throws Exception {
        return "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }

    private static List<ApplianceInstance> all() {
        return List.of(agent, processServer, masterTarget);
    }

    @AfterClass
    public static void stopAll() {
        for (ApplianceInstance a : new ApplianceInstance[] {agent, processServer, masterTarget}) {
            if (a != null) {
                a.stop();
            }
        }
    }

    @Test
    public void a_knownPatternOf256MiBEndsWithEqualHashes() throws Exception {
        writeAndVerify(1, null, null);
    }

    @Test
    public void b_kill9OfTheProcessServerMidStreamLosesNothing() throws Exception {
        writeAndVerify(2, processServer, "process-server");
    }

    @Test
    public void c_kill9OfTheMasterTargetMidStreamLosesNothing() throws Exception {
        writeAndVerify(3, masterTarget, "master-target");
    }

    /**
     * Writes pattern {@code seed} over the whole disk through NBD; with a {@code victim}, kills it
     * with SIGKILL once its stage took in a few batches of this pattern (qemu-io still writing),
     * restarts it, and lets everything finish. Source and replica must hold the expected bytes.
     */
    private void writeAndVerify(int seed, ApplianceInstance victim, String victimStage) throws Exception {
        WritePattern pattern = new WritePattern(SIZE, seed, work.resolve("patterns"));
        File qemuLog = work.resolve("qemu-io-" + seed + ".log").toFile();
        long t0 = System.nanoTime();
        long victimStart = victim == null ? 0 : stage(victim).map(StageStatus::lastSequence).orElse(0L);
        Process qemu = pattern.qemuIo("nbd://127.0.0.1:" + nbdPort + "/" + DISK, qemuLog).start();
        try {
            if (victim != null) {
                await(victimStage + " took in batches of " + pattern).atMost(WRITE_BUDGET)
                        .pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                        .until(() -> stage(victim).map(StageStatus::lastSequence).orElse(0L) >= victimStart + 16);
                assertTrue("qemu-io already finished: the kill of the " + victimStage + " would not be mid-stream",
                        qemu.isAlive());
                Optional<StageStatus> before = stage(victim);
                victim.kill9();
                System.out.printf("kill -9 of the %s at %s, %.1f s into the write%n", victimStage, before.orElse(null),
                        (System.nanoTime() - t0) / 1e9);
                victim.start();
                victim.awaitHealthy(BOOT_BUDGET);
            }
            assertTrue("qemu-io did not finish within " + WRITE_BUDGET,
                    qemu.waitFor(WRITE_BUDGET.toSeconds(), TimeUnit.SECONDS));
            assertEquals("qemu-io failed: " + Files.readString(qemuLog.toPath()), 0, qemu.exitValue());
        } finally {
            qemu.destroyForcibly();
        }
        double written = (System.nanoTime() - t0) / 1e9;
        String expected = pattern.expectedSha256();
        assertEquals("the source disk does not hold " + pattern, expected, WritePattern.sha256(source));

        await("master target applied and made durable every batch the agent sealed").atMost(REPLICATION_BUDGET)
                .pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
                    StageStatus a = agent.replication(DISK).orElseThrow();
                    StageStatus m = masterTarget.replication(DISK).orElseThrow();
                    return a.lastSequence() > 0 && a.acknowledgedSequence() == a.lastSequence()
                            && a.backlogBytes() == 0 && m.lastSequence() == a.lastSequence()
                            && m.acknowledgedSequence() == a.lastSequence();
                });
        double replicated = (System.nanoTime() - t0) / 1e9;
        assertEquals("replica " + replica + " differs from the source after " + pattern, expected,
                WritePattern.sha256(replica));
        System.out.printf("%s: written through NBD in %.1f s, replicated in %.1f s (agent %s, ps %s, mt %s)%n",
                pattern, written, replicated, agent.replication(DISK).orElse(null),
                processServer.replication(DISK).orElse(null), masterTarget.replication(DISK).orElse(null));
    }

    private static Optional<StageStatus> stage(ApplianceInstance a) throws IOException, InterruptedException {
        return a.replication(DISK);
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void dumpLogs(String why) {
        System.out.println("=== " + why);
        for (ApplianceInstance a : new ApplianceInstance[] {agent, processServer, masterTarget}) {
            if (a != null) {
                System.out.println("=== tail of " + a + " data/log/karaf.log:\n" + a.logTail(60));
                try {
                    System.out.println("=== " + a.name + " /api/v1/replication: " + a.get("/api/v1/replication").body());
                } catch (Exception e) {
                    System.out.println("=== " + a.name + " /api/v1/replication unavailable: " + e);
                }
            }
        }
    }
}
