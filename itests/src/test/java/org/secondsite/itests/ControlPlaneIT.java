package org.secondsite.itests;

import static org.awaitility.Awaitility.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestWatcher;
import org.junit.runner.Description;

/**
 * The control plane across three appliance processes on loopback, set up the way an administrator
 * would: a "secondary" appliance playing the configuration server with a master target beside it,
 * a "primary" process server, and an agent. Each component registers with the configuration
 * server's passphrase over HTTPS (its link makes its own key and receives its certificate; the data path's
 * mutual TLS then uses those certificates), heartbeats with signed requests, and is configured only
 * through the desired state its heartbeats bring back. A disk is protected through REST, replicates
 * (a pattern written by qemu-io through the NBD capture ends with equal hashes on the master
 * target), its RPO and its recovery points reach the configuration server, and it is unprotected cleanly.
 *
 * <p>Not a Pax Exam test: the appliances are real processes (see {@link ApplianceInstance}). On
 * failure the tails of the three logs are printed; the instances stay under
 * {@code target/controlplane/}.
 */
public class ControlPlaneIT {
    private static final String DISK = "web01-disk0";
    private static final long SIZE = 64L << 20;
    private static final Duration BOOT_BUDGET = Duration.ofMinutes(3);
    private static final Duration JOB_BUDGET = Duration.ofMinutes(4);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path work;
    private static ApplianceInstance secondary;
    private static ApplianceInstance primary;
    private static ApplianceInstance agent;
    private static int httpsPort;
    private static int psPort;
    private static int mtPort;
    private static int nbdPort;
    private static Path source;
    private static Path replica;

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
        work = Paths.get("target", "controlplane").toAbsolutePath();
        try {
            secondary = ApplianceInstance.unpack("secondary", archive, work.resolve("secondary"), "config-server");
            secondary.put("org.secondsite.appliance.cfg", "additionalRoles", "master-target");
            primary = ApplianceInstance.unpack("primary", archive, work.resolve("primary"), "process-server");
            agent = ApplianceInstance.unpack("agent", archive, work.resolve("agent"), "agent");
            psPort = ApplianceInstance.freePort();
            mtPort = ApplianceInstance.freePort();
            nbdPort = ApplianceInstance.freePort();

            secondary.put("org.secondsite.mastertarget.cfg", "listen", "127.0.0.1:" + mtPort);
            Path storage = secondary.home.resolve("replicas");
            secondary.put("org.secondsite.storage.file.cfg", "root", storage.toString());
            replica = storage.resolve("volumes").resolve("disk-" + DISK + ".img");
            secondary.put("org.secondsite.configserver.cfg", "jobIntervalSeconds", "1");
            httpsPort = ApplianceInstance.freePort();
            Path serverPem = https(secondary, httpsPort);
            for (ApplianceInstance a : new ApplianceInstance[] {secondary, primary, agent}) {
                Files.copy(serverPem, a.etc("configserver-https.pem"));
            }

            String ps = "org.secondsite.processserver.cfg";
            primary.put(ps, "listen", "127.0.0.1:" + psPort);
            primary.put(ps, "spoolDir", primary.home.resolve("spool").toString());
            primary.put(ps, "spoolMaxBytes", Long.toString(1L << 30));
            primary.put(ps, "backoffMaxSeconds", "2");
            agent.put("org.secondsite.agent.cfg", "backoffMaxSeconds", "2");

            source = work.resolve("source").resolve(DISK + ".img");
            Files.createDirectories(source.getParent());
            try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
                f.setLength(SIZE);
            }

            // The recovery site first: its configuration server creates the passphrase at first start.
            secondary.start();
            secondary.awaitHealthy(BOOT_BUDGET);
            Path passphraseFile = secondary.home.resolve("data/secondsite/registration-passphrase");
            await("the configuration server's passphrase").atMost(BOOT_BUDGET)
                    .until(() -> Files.isRegularFile(passphraseFile) && Files.size(passphraseFile) > 0);
            String passphrase = Files.readString(passphraseFile).trim();

            link(secondary, "mt-it", "master-target", "127.0.0.1:" + mtPort, passphrase);
            link(primary, "ps-it", "process-server", "127.0.0.1:" + psPort, passphrase);
            link(agent, "agent-it", "agent", null, passphrase);
            primary.start();
            agent.start();
            primary.awaitHealthy(BOOT_BUDGET);
            agent.awaitHealthy(BOOT_BUDGET);
        } catch (Throwable t) {
            dumpLogs("start-up failed: " + t);
            throw t;
        }
    }

    /** The link settings an administrator writes on a component appliance (etc/org.secondsite.link.cfg). */
    private static void link(ApplianceInstance a, String id, String role, String address, String passphrase)
            throws IOException {
        String cfg = "org.secondsite.link.cfg";
        a.put(cfg, "componentId", id);
        a.put(cfg, "role", role);
        if (address != null) {
            a.put(cfg, "address", address);
        }
        a.put(cfg, "heartbeatSeconds", "2");
        a.put(cfg, "passphrase", passphrase);
        a.put(cfg, "trustedCertificate", a.etc("configserver-https.pem").toString());
        a.put(cfg, "configServer", "https://127.0.0.1:" + httpsPort); // last: the link starts once this is set
    }

    /**
     * HTTPS for the configuration server as an administrator sets it up: a key pair made with the
     * JDK's keytool (for 127.0.0.1 and localhost) and Pax Web's TLS connector; the certificate, as
     * PEM, is what the components are told to trust.
     */
    private static Path https(ApplianceInstance a, int port) throws Exception {
        Path store = a.etc("configserver-https.p12");
        Path pem = work.resolve("configserver-https.pem");
        String password = "https-" + Long.toHexString(System.nanoTime());
        String keytool = Paths.get(System.getProperty("java.home"), "bin", "keytool").toString();
        run(List.of(keytool, "-genkeypair", "-alias", "configserver", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "30", "-keystore",
                store.toString(), "-storetype", "PKCS12", "-storepass", password, "-keypass", password));
        run(List.of(keytool, "-exportcert", "-rfc", "-alias", "configserver", "-keystore", store.toString(),
                "-storepass", password, "-file", pem.toString()));
        String web = "org.ops4j.pax.web.cfg";
        a.put(web, "org.osgi.service.http.secure.enabled", "true");
        a.put(web, "org.osgi.service.http.port.secure", Integer.toString(port));
        a.put(web, "org.ops4j.pax.web.ssl.keystore", store.toString());
        a.put(web, "org.ops4j.pax.web.ssl.keystore.type", "PKCS12");
        a.put(web, "org.ops4j.pax.web.ssl.keystore.password", password);
        a.put(web, "org.ops4j.pax.web.ssl.key.password", password);
        a.put(web, "org.ops4j.pax.web.ssl.key.alias", "configserver");
        return pem;
    }

    private static void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(command.get(0) + " failed: " + out);
        }
    }

    @AfterClass
    public static void stopAll() {
        for (ApplianceInstance a : new ApplianceInstance[] {agent, primary, secondary}) {
            if (a != null) {
                a.stop();
            }
        }
    }

    @Test
    public void componentsRegisterAndADiskIsProtectedReplicatedWithItsRpoReportedThenUnprotected() throws Exception {
        // 1. Every component registered with the passphrase and heartbeats with its own signed requests
        await("three components registered and heartbeating").atMost(BOOT_BUDGET).pollInterval(Duration.ofSeconds(1))
                .ignoreExceptions().until(() -> {
                    JsonNode items = json(secondary.get("/api/v1/components")).get("items");
                    int beating = 0;
                    for (JsonNode c : items) {
                        if ("registered".equals(c.get("state").asText()) && !c.get("lastHeartbeat").isNull()) {
                            beating++;
                        }
                    }
                    return beating == 3;
                });
        for (ApplianceInstance a : new ApplianceInstance[] {secondary, primary, agent}) {
            String link = Files.readString(a.etc("org.secondsite.link.cfg"));
            assertFalse(a.name + ": the passphrase must not stay in the link's configuration after registration",
                    link.lines().anyMatch(l -> l.trim().startsWith("passphrase") && l.contains("=")
                            && !l.trim().endsWith("=")));
        }

        // 2. A policy and a protect job through REST
        HttpResponse<String> policy = secondary.send("POST", "/api/v1/policies", "{\"id\":\"gold\","
                + "\"rpoThresholdSeconds\":300,\"checkpointIntervalSeconds\":1,\"retentionWindowSeconds\":3600,"
                + "\"appConsistencySchedule\":\"off\"}");
        assertEquals(policy.body(), 201, policy.statusCode());
        HttpResponse<String> protect = secondary.send("POST", "/api/v1/machines/web01/protect", "{\"agentId\":"
                + "\"agent-it\",\"processServerId\":\"ps-it\",\"masterTargetId\":\"mt-it\",\"policyId\":\"gold\","
                + "\"disks\":[{\"diskId\":\"" + DISK + "\",\"source\":\"" + source + "\",\"options\":{\"listen\":"
                + "\"127.0.0.1:" + nbdPort + "\"}}]}");
        assertEquals(protect.body(), 202, protect.statusCode());
        long job = JSON.readTree(protect.body()).get("id").asLong();
        JsonNode done = awaitJob(job);
        assertEquals(done.toString(), "succeeded", done.get("state").asText());
        assertEquals("protected", json(secondary.get("/api/v1/machines/web01")).get("state").asText());
        // The desired state reached each component through its heartbeat (and the data path's mutual TLS works
        // with the certificates the components received at registration: the agent's and the process server's
        // appliances started with authorities of their own)
        assertEquals("127.0.0.1:" + psPort, writtenBack(() -> propertyOf(agent, "org.secondsite.agent.cfg",
                "processServer")));
        assertEquals("127.0.0.1:" + mtPort, writtenBack(() -> propertyOf(primary,
                "org.secondsite.processserver.cfg", "masterTarget")));
        // The policy's checkpoint interval reached the agent's live schedule (no agent restart)
        assertTrue(agent.logTail(400), agent.logTail(400).contains("checkpoints every 1000 ms"));

        // 3. Data written through the agent's NBD capture replicates to the master target
        WritePattern pattern = new WritePattern(SIZE, 11, work.resolve("patterns"));
        File log = work.resolve("qemu-io.log").toFile();
        Process qemu = pattern.qemuIo("nbd://127.0.0.1:" + nbdPort + "/" + DISK, log).start();
        try {
            assertTrue("qemu-io did not finish within " + JOB_BUDGET, qemu.waitFor(JOB_BUDGET.toSeconds(), TimeUnit.SECONDS));
            assertEquals("qemu-io failed: " + Files.readString(log.toPath()), 0, qemu.exitValue());
        } finally {
            qemu.destroyForcibly();
        }
        String expected = pattern.expectedSha256();
        assertEquals(expected, WritePattern.sha256(source));
        await("the master target applied every batch the agent sealed").atMost(JOB_BUDGET)
                .pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
                    StageStatus a = agent.replication(DISK).orElseThrow();
                    StageStatus m = secondary.replication(DISK).orElseThrow();
                    return a.lastSequence() > 0 && a.acknowledgedSequence() == a.lastSequence() && a.backlogBytes() == 0
                            && m.acknowledgedSequence() == a.lastSequence();
                });
        assertEquals("replica " + replica + " differs from the source", expected, WritePattern.sha256(replica));

        // 4. The RPO reaches the configuration server in the agent's heartbeats
        AtomicReference<JsonNode> disk = new AtomicReference<>();
        await("the agent reports the disk replicating with its RPO").atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() -> {
                    for (JsonNode d : json(secondary.get("/api/v1/heartbeats/agent-it")).at("/metrics/disks")) {
                        if (DISK.equals(d.get("diskId").asText()) && "replicating".equals(d.get("state").asText())) {
                            disk.set(d);
                            return true;
                        }
                    }
                    return false;
                });
        assertTrue(disk.get().toString(), disk.get().get("rpoSeconds").asLong() < 60);
        JsonNode ps = json(secondary.get("/api/v1/heartbeats/ps-it")).get("metrics");
        double spoolFree = ps.get("spoolFreePercent").asDouble(-1);
        assertTrue(ps.toString(), spoolFree > 0 && spoolFree <= 100);
        String metrics = secondary.get("/api/v1/metrics").body();
        assertTrue(metrics, metrics.contains("secondsite"));

        // 5. The master target's recovery points (a checkpoint a second while qemu-io wrote) reach the catalogue
        await("recovery points of web01 mirrored into the catalogue").atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                .until(() -> json(secondary.get("/api/v1/machines/web01/points")).get("total").asLong() > 0);
        JsonNode point = json(secondary.get("/api/v1/machines/web01/points")).at("/items/0");
        assertEquals(point.toString(), "crash", point.get("kind").asText());
        assertEquals(point.toString(), DISK, point.at("/disks/0").asText());

        // 6. Unprotect: the agent stops capturing; the replica stays on the master target
        HttpResponse<String> unprotect = secondary.send("POST", "/api/v1/machines/web01/unprotect", null);
        assertEquals(unprotect.body(), 202, unprotect.statusCode());
        JsonNode ended = awaitJob(JSON.readTree(unprotect.body()).get("id").asLong());
        assertEquals(ended.toString(), "succeeded", ended.get("state").asText());
        assertEquals("unprotected", json(secondary.get("/api/v1/machines/web01")).get("state").asText());
        await("the agent no longer protects the disk nor serves it").atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> agent.replication(DISK).isEmpty() && !accepts(nbdPort));
        assertEquals("the replica is kept after unprotect", expected, WritePattern.sha256(replica));
        JsonNode jobs = json(secondary.get("/api/v1/jobs?machine=web01"));
        assertEquals(2, jobs.get("total").asLong());
        String audit = secondary.get("/api/v1/audit?user=admin").body();
        assertTrue(audit, audit.contains("machine.protect") && audit.contains("machine.unprotect"));
    }

    /** Waits for a job to end, printing each change of its progress. */
    private static JsonNode awaitJob(long id) {
        AtomicReference<JsonNode> last = new AtomicReference<>();
        AtomicReference<String> shown = new AtomicReference<>("");
        await("job " + id + " ends").atMost(JOB_BUDGET).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                .until(() -> {
                    JsonNode j = json(secondary.get("/api/v1/jobs/" + id));
                    last.set(j);
                    String now = j.get("state").asText() + " " + j.get("progress").asInt() + "%";
                    if (!now.equals(shown.getAndSet(now))) {
                        System.out.println("job " + id + " (" + j.get("kind").asText() + "): " + now);
                    }
                    return !"running".equals(j.get("state").asText());
                });
        return last.get();
    }

    private static String propertyOf(ApplianceInstance a, String file, String key) throws IOException {
        for (String line : Files.readAllLines(a.etc(file))) {
            String t = line.trim();
            if (t.startsWith(key) && t.substring(key.length()).trim().startsWith("=")) {
                return t.substring(t.indexOf('=') + 1).trim().replaceAll("^\"|\"$", ""); // typed: "value"
            }
        }
        return null;
    }

    /** Karaf writes a configuration back to its etc/ file shortly after an update: read when it has. */
    private static String writtenBack(java.util.concurrent.Callable<String> read) {
        AtomicReference<String> value = new AtomicReference<>();
        await("the configuration written to etc/").atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> {
                    value.set(read.call());
                    return value.get() != null;
                });
        return value.get();
    }

    private static JsonNode json(HttpResponse<String> r) throws IOException {
        if (r.statusCode() != 200) {
            throw new IOException("answer " + r.statusCode() + ": " + r.body());
        }
        return JSON.readTree(r.body());
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
        for (ApplianceInstance a : new ApplianceInstance[] {secondary, primary, agent}) {
            if (a != null) {
                System.out.println("=== tail of " + a + " data/log/karaf.log:\n" + a.logTail(80));
            }
        }
        if (secondary != null) {
            try {
                System.out.println("=== jobs: " + secondary.get("/api/v1/jobs").body());
                System.out.println("=== components: " + secondary.get("/api/v1/components").body());
            } catch (Exception e) {
                System.out.println("=== the configuration server does not answer: " + e);
            }
        }
    }
}
