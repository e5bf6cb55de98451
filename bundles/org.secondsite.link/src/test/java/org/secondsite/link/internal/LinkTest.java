package org.secondsite.link.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.pki.KeyMaterial;

import com.fasterxml.jackson.databind.JsonNode;

/** The link against an in-process configuration server: registration, signed heartbeats, desired state. */
class LinkTest {
    private static final Duration BUDGET = Duration.ofSeconds(20);
    private static final Link.Timing FAST = new Link.Timing(Duration.ofMillis(20), Duration.ofMillis(200));

    @TempDir
    Path dir;
    FakeConfigServer server;
    MapConfigStore store;
    FakeMonitor agent;
    Link link;

    @BeforeEach
    void start() throws Exception {
        server = new FakeConfigServer();
        store = new MapConfigStore();
        agent = new FakeMonitor(ReplicationMonitor.Stage.AGENT);
        Map<String, Object> own = new HashMap<>();
        own.put("configServer", server.url());
        own.put("componentId", "agent-1");
        own.put("role", "agent");
        own.put("passphrase", FakeConfigServer.PASSPHRASE);
        own.put("felix.fileinstall.filename", "file:/etc/org.secondsite.link.cfg");
        store.configs.put(Link.PID, own);
        store.configs.put(Link.IDENTITY_PID, new HashMap<>(Map.of("revokedSerials", new String[] {"abc"})));
    }

    @AfterEach
    void stop() {
        if (link != null) {
            link.close();
        }
        server.close();
    }

    private LinkSettings settings(String passphrase, Duration heartbeat) {
        return new LinkSettings(URI.create(server.url()), "agent-1", "agent", "primary", null, passphrase, null,
                heartbeat, dir.resolve("link"));
    }

    private Link link(LinkSettings s) {
        Collection<ReplicationMonitor> monitors = List.of(agent);
        link = new Link(s, store, () -> monitors, Clock.systemUTC(), FAST);
        link.start();
        return link;
    }

    @Test
    void registrationKeepsTheKeyStoreUpdatesTheIdentityAndRemovesThePassphrase() throws Exception {
        link(settings(FakeConfigServer.PASSPHRASE, Duration.ofMillis(200)));
        await().atMost(BUDGET).until(() -> server.heartbeats.size() >= 2);
        assertEquals("registered", link.status().phase());

        JsonNode request = server.registrations.get(0).body();
        assertEquals("agent-1", request.get("componentId").asText());
        assertEquals("agent", request.get("role").asText());
        assertEquals("primary", request.get("site").asText());
        assertFalse(request.has("address"), "agents send no address");

        Path state = dir.resolve("link");
        for (String f : List.of(Credentials.KEY_STORE, Credentials.PASSWORD, Credentials.AUTHORITY, LinkState.FILE)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve(f))),
                    f + " must be readable by its owner only");
        }
        Map<String, Object> identity = store.configs.get(Link.IDENTITY_PID);
        assertEquals(state.resolve(Credentials.KEY_STORE).toAbsolutePath().toString(), identity.get("keyStore"));
        assertEquals(state.resolve(Credentials.AUTHORITY).toAbsolutePath().toString(),
                identity.get("trustedAuthorities"));
        assertArrayEquals(new String[] {"abc"}, (String[]) identity.get("revokedSerials"), "other keys kept");
        KeyMaterial km = KeyMaterial.load(Path.of((String) identity.get("keyStore")),
                ((String) identity.get("keyStorePassword")).toCharArray());
        assertEquals("agent-1", km.commonName());
        assertEquals(server.ca.certificate(), km.chain()[1]);
        assertEquals(server.registered.get("agent-1"), km.certificate().getSerialNumber());
        assertEquals(server.ca.certificate(), Credentials.certificates(Files.readString(state.resolve(
                Credentials.AUTHORITY)), "authority").get(0));

        Map<String, Object> own = store.configs.get(Link.PID);
        assertFalse(own.containsKey("passphrase"), "the passphrase must not linger");
        assertEquals("file:/etc/org.secondsite.link.cfg", own.get("felix.fileinstall.filename"));
        assertEquals(server.url(), own.get("configServer"));

        assertTrue(server.heartbeats.stream().allMatch(FakeConfigServer.Heartbeat::verified),
                () -> "every heartbeat verifies: " + server.heartbeats);
        LinkStatus s = link.status();
        assertNotNull(s.registeredAt());
        assertEquals(km.certificate().getNotAfter().toInstant(), s.certificateExpires());
        assertEquals("accepted", s.lastHeartbeatOutcome());
    }

    @Test
    void aRegisteredComponentSkipsRegistrationAfterARestart() throws Exception {
        link(settings(FakeConfigServer.PASSPHRASE, Duration.ofMillis(200)));
        await().atMost(BUDGET).until(() -> server.heartbeats.size() >= 1);
        link.close();
        int before = server.heartbeats.size();

        link(settings(null, Duration.ofMillis(200)));
        await().atMost(BUDGET).until(() -> server.heartbeats.size() >= before + 2);
        assertEquals(1, server.registrations.size(), "registered once");
        assertEquals("registered", link.status().phase());
        assertTrue(server.heartbeats.stream().allMatch(FakeConfigServer.Heartbeat::verified));
    }

    @Test
    void aWrongPassphraseStopsRegistrationWithTheServersReason() {
        link(settings("wrong", Duration.ofMillis(200)));
        await().atMost(BUDGET).until(() -> "stopped".equals(link.status().phase()));
        String error = link.status().lastError();
        assertTrue(error.contains("HTTP 403") && error.contains("the registration passphrase is wrong")
                && error.contains("not retrying"), error);
        assertFalse(error.contains("wrong\""), "the passphrase is never shown");
        // A retry would come within the back-off of 20-200 ms.
        await().during(Duration.ofMillis(600)).atMost(BUDGET).until(() -> server.registrations.size() == 1);
        assertFalse(Files.exists(dir.resolve("link").resolve(Credentials.KEY_STORE)));
        assertTrue(store.configs.get(Link.PID).containsKey("passphrase"), "kept until a registration succeeds");
    }

    @Test
    void anAlreadyRegisteredIdStopsWithTheConflict() {
        server.scriptRegistration(409, -1);
        link(settings(FakeConfigServer.PASSPHRASE, Duration.ofMillis(200)));
        await().atMost(BUDGET).until(() -> "stopped".equals(link.status().phase()));
        assertTrue(link.status().lastError().contains("HTTP 409"), link.status().lastError());
        await().during(Duration.ofMillis(600)).atMost(BUDGET).until(() -> server.registrations.size() == 1);
    }

    @Test
    void tooManyRequestsWaitsRetryAfter() {
        server.scriptRegistration(429, 1);
        link(settings(FakeConfigServer.PASSPHRASE, Duration.ofMillis(200)));
        await().atMost(BUDGET).until(() -> server.heartbeats.size() >= 1);
        assertEquals(2, server.registrations.size());
        Duration between = Duration.between(server.registrations.get(0).at(), server.registrations.get(1).at());
        // A lower bound only: the back-off alone would retry after 20 ms.
        assertTrue(between.compareTo(Duration.ofMillis(900)) >= 0, "waited " + between + " of Retry-After 1 s");
    }

    @Test
    void serverErrorsAreRetriedWithBackoff() {
        server.scriptRegistration(503, -1);
        server.scriptRegistration(500, -1);
        link(settings(FakeConfigServer.PASSPHRASE, Duration.ofMillis(200)));
        await().atMost(BUDGET).until(() -> server.heartbeats.size() >= 1);
        assertEquals(3, server.registrations.size());
        assertTrue(link.status().lastError().contains("HTTP 500"), link.status().lastError());
    }

    @Test
    void anUnreachableServerIsRetriedUntilItAnswers() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        LinkSettings s = new LinkSettings(URI.create("http://127.0.0.1:" + port), "agent-1", "agent", null, null,
                FakeConfigServer.PASSPHRASE, null, Duration.ofMillis(200), dir.resolve("link"));
        link(s);
        await().atMost(BUDGET).until(() -> link.status().lastError() != null
                && link.status().lastError().contains("cannot connect"));
        assertEquals("registering", link.status().phase(), "still trying");
    }

    @Test
    void heartbeatsCarryTheStagesFigures() {
        Instant now = Instant.now();
        DiskId disk = DiskId.of("web01:disk0");
        agent.disks = List.of(new DiskReplicationStatus(disk, ReplicationMonitor.Stage.AGENT, "replicating", "", 10, 8,
                4096, now.minusSeconds(30), null, 1_000_000, 1_000));
        link(settings(FakeConfigServer.PASSPHRASE, Duration.ofMillis(300)));
        await().atMost(BUDGET).until(() -> server.heartbeats.size() >= 1);
        agent.disks = List.of(new DiskReplicationStatus(disk, ReplicationMonitor.Stage.AGENT, "holding: no route", "",
                10, 8, 2048, now.minusSeconds(30), null, 1_000_000, 1_000 + 3_000_000));
        await().atMost(BUDGET).until(() -> server.heartbeats.stream().anyMatch(h ->
                h.body().path("metrics").path("disks").path(0).path("state").asText().equals("holding")));
        JsonNode hb = server.heartbeats.stream().filter(h ->
                h.body().path("metrics").path("disks").path(0).path("state").asText().equals("holding"))
                .findFirst().orElseThrow().body();
        assertEquals("agent-1", hb.get("componentId").asText());
        assertNotNull(Instant.parse(hb.get("time").asText()));
        assertEquals(0, hb.get("appliedRevision").asLong());
        JsonNode m = hb.get("metrics");
        assertEquals(2048, m.get("backlogBytes").asLong());
        assertTrue(m.get("memoryUsedBytes").asLong() > 0);
        JsonNode d = m.get("disks").get(0);
        assertEquals("web01:disk0", d.get("diskId").asText());
        assertTrue(d.get("rpoSeconds").asLong() >= 30);
        assertEquals(2048, d.get("backlogBytes").asLong());
        assertTrue(d.get("throughputBytesPerSecond").asLong() > 0, "3 MB went out between two heartbeats");
        assertFalse(d.get("resyncRequired").asBoolean());
        assertTrue(server.heartbeats.stream().allMatch(FakeConfigServer.Heartbeat::verified));
    }

    @Test
    void desiredStateIsAppliedAndItsRevisionReportedAtOnce() throws Exception {
        store.putFactory("org.secondsite.agent.disk", "old", Map.of("diskId", "old:disk0",
                DesiredState.MARKER_KEY, DesiredState.MARKER_VALUE));
        store.putFactory("org.secondsite.agent.disk", "by-hand", Map.of("diskId", "hand:disk0"));
        server.desire(7, """
                {"revision":7,
                 "configurations":[
                   {"pid":"org.secondsite.agent","properties":{"processServer":"127.0.0.1:9443","checkpointMillis":1000,"appTagMinutes":60}},
                   {"factoryPid":"org.secondsite.agent.disk","name":"web01-disk0",
                    "properties":{"diskId":"web01:disk0","group":"web01","source":"/dev/sdb","driver":"nbd","capture.listen":"127.0.0.1:10809"}}
                 ],
                 "managedFactoryPids":["org.secondsite.agent.disk"]}""");
        // A long interval: only "send at once" can bring the revision within the budget.
        link(settings(FakeConfigServer.PASSPHRASE, Duration.ofSeconds(3600)));
        await().atMost(BUDGET).until(() -> server.heartbeats.stream().anyMatch(h -> h.appliedRevision() == 7));

        Map<String, Object> agentConfig = store.configs.get("org.secondsite.agent");
        assertEquals("127.0.0.1:9443", agentConfig.get("processServer"));
        assertEquals(1000L, agentConfig.get("checkpointMillis"));
        Map<String, Object> disk = store.configs.get("org.secondsite.agent.disk~web01-disk0");
        assertEquals("web01:disk0", disk.get("diskId"));
        assertEquals(DesiredState.MARKER_VALUE, disk.get(DesiredState.MARKER_KEY));
        assertNull(store.configs.get("org.secondsite.agent.disk~old"), "a marked configuration not listed is deleted");
        assertNotNull(store.configs.get("org.secondsite.agent.disk~by-hand"), "an unmarked one is never touched");
        Properties p = new Properties();
        try (var in = Files.newInputStream(dir.resolve("link").resolve(LinkState.FILE))) {
            p.load(in);
        }
        assertEquals("7", p.getProperty("appliedRevision"));
        assertEquals(7, link.status().appliedRevision());
        assertNull(link.status().applyError());
    }

    /** A configuration server whose catalogue was recreated counts revisions from 1 again: it still wins. */
    @Test
    void aLowerRevisionFromARecreatedCatalogueIsAppliedToo() {
        server.desire(7, """
                {"revision":7,"configurations":[{"pid":"org.secondsite.agent","properties":{"processServer":"a:1"}}]}""");
        link(settings(FakeConfigServer.PASSPHRASE, Duration.ofMillis(200)));
        await().atMost(BUDGET).until(() -> server.heartbeats.stream().anyMatch(h -> h.appliedRevision() == 7));
        server.desire(1, """
                {"revision":1,"configurations":[{"pid":"org.secondsite.agent","properties":{"processServer":"b:2"}}]}""");
        await().atMost(BUDGET).until(() -> server.heartbeats.stream().anyMatch(h -> h.appliedRevision() == 1));
        assertEquals("b:2", store.configs.get("org.secondsite.agent").get("processServer"));
        assertEquals(1, link.status().appliedRevision());
    }

    @Test
    void aDocumentReachingBeyondSecondSiteIsRefusedWithAnApplyError() {
        server.desire(3, """
                {"revision":3,"configurations":[{"pid":"org.apache.karaf.jaas","properties":{"x":"y"}}]}""");
        link(settings(FakeConfigServer.PASSPHRASE, Duration.ofSeconds(3600)));
        await().atMost(BUDGET).until(() -> server.heartbeats.stream().anyMatch(h -> h.applyError() != null));
        String error = server.heartbeats.stream().map(FakeConfigServer.Heartbeat::applyError)
                .filter(e -> e != null).findFirst().orElseThrow();
        assertTrue(error.contains("org.apache.karaf.jaas") && error.contains("refused"), error);
        assertNull(store.configs.get("org.apache.karaf.jaas"));
        assertEquals(0, link.status().appliedRevision());
    }

    @Test
    void aFailedWriteIsReportedAndRetriedWithTheNextHeartbeat() {
        store.failingPid = "org.secondsite.agent";
        server.desire(2, """
                {"revision":2,"configurations":[{"pid":"org.secondsite.agent","properties":{"checkpointMillis":500}}]}""");
        link(settings(FakeConfigServer.PASSPHRASE, Duration.ofMillis(200)));
        await().atMost(BUDGET).until(() -> server.heartbeats.stream().anyMatch(h -> h.applyError() != null
                && h.applyError().contains("disk full")));
        store.failingPid = null;
        await().atMost(BUDGET).until(() -> server.heartbeats.stream().anyMatch(h -> h.appliedRevision() == 2
                && h.applyError() == null));
        assertEquals(500L, store.configs.get("org.secondsite.agent").get("checkpointMillis"));
    }

    @Test
    void unreadableAnswersNeverStopTheHeartbeats() {
        server.rawHeartbeatAnswer = "this is not JSON";
        link(settings(FakeConfigServer.PASSPHRASE, Duration.ofMillis(100)));
        await().atMost(BUDGET).until(() -> server.heartbeats.size() >= 3);
        assertTrue(link.status().lastHeartbeatOutcome().startsWith("failed"), link.status().lastHeartbeatOutcome());
        server.rawHeartbeatAnswer = "{\"desiredRevision\":1,\"desired\":[1,2]}";
        int n = server.heartbeats.size();
        await().atMost(BUDGET).until(() -> server.heartbeats.size() >= n + 3);
        assertTrue(server.heartbeats.get(server.heartbeats.size() - 1).applyError().contains("desired must be an object"));
        server.rawHeartbeatAnswer = null;
        await().atMost(BUDGET).until(() -> "accepted".equals(link.status().lastHeartbeatOutcome()));
    }
}
