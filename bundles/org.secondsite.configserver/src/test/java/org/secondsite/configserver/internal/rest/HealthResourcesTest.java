package org.secondsite.configserver.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.security.Principal;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.annotation.security.PermitAll;
import javax.annotation.security.RolesAllowed;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.core.Response;
import javax.ws.rs.core.SecurityContext;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.configserver.internal.Fixtures;
import org.secondsite.configserver.internal.catalogue.AuditLog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Heartbeats, alerts, events and audit resources called as plain objects, in the style of ResourcesTest. */
class HealthResourcesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String BEAT = "{\"componentId\":\"ps-1\",\"time\":\"2030-01-01T00:00:00Z\",\"metrics\":{"
            + "\"backlogBytes\":1024,\"spoolFreePercent\":20.5,\"cpuLoad\":0.7,\"memoryUsedBytes\":268435456,"
            + "\"disks\":[{\"diskId\":\"web01:disk0\",\"rpoSeconds\":12,\"backlogBytes\":512,"
            + "\"throughputBytesPerSecond\":1048576,\"state\":\"replicating\",\"resyncRequired\":false}]}}";

    @TempDir
    Path dir;
    Fixtures f;
    HeartbeatsResource heartbeats;
    AlertsResource alerts;
    EventsResource events;
    AuditResource audit;
    ComponentsResource components;

    @BeforeEach
    void setUp() throws Exception {
        f = new Fixtures(dir);
        f.component("ps-1", "process-server");
        heartbeats = new HeartbeatsResource(f.server);
        alerts = new AlertsResource(f.server);
        events = new EventsResource(f.server);
        audit = new AuditResource(f.server);
        components = new ComponentsResource(f.server);
    }

    @AfterEach
    void tearDown() throws Exception {
        f.close();
    }

    @Test
    void aHeartbeatIsStoredAndReadBackAndMarksTheComponentSeen() throws Exception {
        JsonNode answer = json(heartbeats.post(BEAT));
        assertEquals("ps-1", answer.get("componentId").textValue());
        assertTrue(answer.get("stored").booleanValue());
        JsonNode latest = json(heartbeats.get("ps-1"));
        assertEquals("2030-01-01T00:00:00Z", latest.get("time").textValue());
        assertEquals(20.5, latest.get("metrics").get("spoolFreePercent").doubleValue());
        assertEquals(268435456L, latest.get("metrics").get("memoryUsedBytes").longValue());
        JsonNode disk = latest.get("metrics").get("disks").get(0);
        assertEquals(JSON.readTree(BEAT).get("metrics").get("disks").get(0).toString(), disk.toString(),
                "disk figures as sent");
        assertEquals("2030-01-01T00:00:00Z", json(components.get("ps-1")).get("lastHeartbeat").textValue());

        assertEquals(404, heartbeats.post(BEAT.replace("ps-1", "ghost")).getStatus());
        f.component("a-1", "agent");
        Response never = heartbeats.get("a-1");
        assertEquals(404, never.getStatus());
        assertTrue(((String) never.getEntity()).contains("has sent no heartbeat"));
        assertEquals(404, heartbeats.get("ghost").getStatus());
    }

    @Test
    void badHeartbeatsAre400ProblemsNamingTheField() throws Exception {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("", "body");
        cases.put("{\"componentId\":", "body");
        cases.put("[]", "body");
        cases.put(BEAT.replace("\"componentId\"", "\"component\""), "component");
        cases.put(BEAT.replace("\"componentId\":\"ps-1\",", ""), "componentId");
        cases.put(BEAT.replace("\"ps-1\"", "\"bad id!\""), "componentId");
        cases.put(BEAT.replace("\"ps-1\"", "17"), "componentId");
        cases.put(BEAT.replace("2030-01-01T00:00:00Z", "yesterday"), "time");
        cases.put(BEAT.replace("2030-01-01T00:00:00Z", "2030-01-01T01:00:01Z"), "time");
        cases.put(BEAT.replace("2030-01-01T00:00:00Z", "1999-12-31T23:59:59Z"), "time");
        cases.put(BEAT.replace("2030-01-01T00:00:00Z", "+1000000000-12-31T23:59:59Z"), "time");
        cases.put("{\"componentId\":\"ps-1\",\"time\":\"2030-01-01T00:00:00Z\"}", "metrics");
        cases.put("{\"componentId\":\"ps-1\",\"time\":\"2030-01-01T00:00:00Z\",\"metrics\":[]}", "metrics");
        cases.put(BEAT.replace("\"backlogBytes\":1024,", ""), "metrics.backlogBytes");
        cases.put(BEAT.replace("\"backlogBytes\":1024", "\"backlogBytes\":-1"), "metrics.backlogBytes");
        cases.put(BEAT.replace("\"backlogBytes\":1024", "\"backlogBytes\":1.5"), "metrics.backlogBytes");
        cases.put(BEAT.replace("\"backlogBytes\":1024", "\"backlogBytes\":99999999999999999999"), "metrics.backlogBytes");
        cases.put(BEAT.replace("\"cpuLoad\"", "\"cpu\""), "metrics.cpu");
        cases.put(BEAT.replace("20.5", "100.5"), "metrics.spoolFreePercent");
        cases.put(BEAT.replace("20.5", "\"20.5\""), "metrics.spoolFreePercent");
        cases.put(BEAT.replace("20.5", "1e400"), "metrics.spoolFreePercent");
        cases.put(BEAT.replace("0.7", "-0.1"), "metrics.cpuLoad");
        cases.put(BEAT.replace("268435456", "-5"), "metrics.memoryUsedBytes");
        cases.put(BEAT.replace("[{", "{").replace("}]", "}"), "metrics.disks");
        cases.put(BEAT.replace("[{\"diskId\"", "[7,{\"diskId\""), "metrics.disks[0]");
        cases.put(BEAT.replace("\"diskId\":\"web01:disk0\",", ""), "metrics.disks[0].diskId");
        cases.put(BEAT.replace("web01:disk0", "web01 disk0"), "metrics.disks[0].diskId");
        cases.put(BEAT.replace("\"rpoSeconds\":12", "\"rpoSeconds\":-12"), "metrics.disks[0].rpoSeconds");
        cases.put(BEAT.replace("\"rpoSeconds\":12", "\"rpoSeconds\":\"12\""), "metrics.disks[0].rpoSeconds");
        cases.put(BEAT.replace("\"rpoSeconds\":12", "\"rpoSeconds\":400000000"), "metrics.disks[0].rpoSeconds");
        cases.put(BEAT.replace("\"state\":\"replicating\"", "\"state\":\"Replicating!\""), "metrics.disks[0].state");
        cases.put(BEAT.replace("\"resyncRequired\":false", "\"resyncRequired\":\"no\""),
                "metrics.disks[0].resyncRequired");
        cases.put(BEAT.replace("\"resyncRequired\":false", "\"resyncRequired\":false,\"colour\":1"),
                "metrics.disks[0].colour");
        String disk = JSON.readTree(BEAT).get("metrics").get("disks").get(0).toString();
        cases.put(BEAT.replace(disk, disk + "," + disk), "metrics.disks[1].diskId");
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 257; i++) {
            many.append(i == 0 ? "" : ",").append(disk.replace("web01:disk0", "d" + i));
        }
        cases.put(BEAT.replace(disk, many), "metrics.disks");
        cases.put("{\"x\":\"" + "y".repeat(HeartbeatsResource.MAX_BODY_CHARS) + "\"}", "body");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Response r = heartbeats.post(c.getKey());
            String label = c.getKey().length() > 300 ? c.getKey().substring(0, 300) : c.getKey();
            assertEquals(400, r.getStatus(), label + " -> " + r.getEntity());
            assertEquals(Rest.PROBLEM_JSON, r.getMediaType().toString());
            JsonNode problem = JSON.readTree((String) r.getEntity());
            assertEquals(c.getValue(), problem.get("field").textValue(), label + " -> " + problem);
            assertTrue(problem.get("detail").textValue().contains(c.getValue()), problem.toString());
        }
        StringBuilder max = new StringBuilder();
        for (int i = 0; i < 256; i++) {
            max.append(i == 0 ? "" : ",").append(disk.replace("web01:disk0", "d" + i));
        }
        assertEquals(200, heartbeats.post(BEAT.replace(disk, max)).getStatus(), "256 disks are fine");
        assertEquals(256, json(heartbeats.get("ps-1")).get("metrics").get("disks").size());
    }

    @Test
    void alertsAreListedFilteredReadAndAcknowledgedWithAudit() throws Exception {
        assertEquals(200, heartbeats.post(BEAT).getStatus());
        f.component("a-1", "agent");
        f.clock.advance(Duration.ofMinutes(15));
        f.server.evaluateAlerts(); // spool 20.5 % (critical) on ps-1; ps-1 and a-1 silent for 15 min
        JsonNode active = json(alerts.list("true", 0, 50));
        assertEquals(3, active.get("total").intValue(), active.toString());
        JsonNode first = active.get("items").get(0);
        assertTrue(first.get("active").booleanValue());
        assertTrue(first.get("alert").booleanValue());
        assertNotNull(first.get("time").textValue());
        JsonNode page = json(alerts.list("true", 1, 1));
        assertEquals(1, page.get("items").size());
        assertEquals(active.get("items").get(1), page.get("items").get(0));

        f.clock.advance(Duration.ofMinutes(1));
        assertEquals(200, heartbeats.post(BEAT.replace("20.5", "90").replace("00:00:00Z", "00:16:00Z")).getStatus());
        f.server.evaluateAlerts(); // ps-1's spool and heartbeat alerts clear
        assertEquals(1, json(alerts.list("true", 0, 50)).get("total").intValue());
        assertEquals(3, json(alerts.list("false", 0, 50)).get("total").intValue());
        JsonNode allEvents = json(events.list(0, 50));
        assertEquals(5, allEvents.get("total").intValue(), "3 alerts, 2 clearings");
        assertEquals("info", allEvents.get("items").get(0).get("severity").textValue());
        assertFalse(allEvents.get("items").get(0).get("alert").booleanValue());

        long id = json(alerts.list("true", 0, 50)).get("items").get(0).get("id").longValue();
        JsonNode acked = json(alerts.acknowledge(Long.toString(id), as("olivia")));
        assertEquals("olivia", acked.get("acknowledgedBy").textValue());
        assertEquals("olivia", json(alerts.get(Long.toString(id))).get("acknowledgedBy").textValue());
        assertEquals(409, alerts.acknowledge(Long.toString(id), as("oscar")).getStatus());
        AuditLog.Entry last = f.server.recentAudit(1).get(0);
        assertEquals(List.of("oscar", "alert.acknowledge", "alert " + id),
                List.of(last.actor(), last.action(), last.target()));
        assertTrue(last.outcome().startsWith("refused: alert " + id + " was acknowledged already"), last.outcome());

        long clearing = allEvents.get("items").get(0).get("id").longValue();
        for (String unknown : List.of("999", "abc", Long.toString(clearing), "99999999999999999999")) {
            assertEquals(404, alerts.get(unknown).getStatus(), unknown);
            Response r = alerts.acknowledge(unknown, as("olivia"));
            assertEquals(404, r.getStatus(), unknown);
            assertTrue(((String) r.getEntity()).contains("no alert"), unknown);
        }
        Response badFilter = alerts.list("yes", 0, 50);
        assertEquals(400, badFilter.getStatus());
        assertEquals("active", JSON.readTree((String) badFilter.getEntity()).get("field").textValue());
        assertEquals(400, alerts.list("true", 0, 501).getStatus());
        assertEquals(400, events.list(-1, 50).getStatus());
    }

    @Test
    void auditIsNewestFirstPagedAndFilteredByUser() throws Exception {
        f.server.revealPassphrase("alice");
        f.server.rotatePassphrase("bob");
        f.server.revealPassphrase("alice");
        assertEquals(404, components.remove("ghost", as("carol")).getStatus());
        JsonNode all = json(audit.list(null, 0, 50));
        assertEquals(4, all.get("total").intValue());
        List<String> users = List.of(all.get("items").get(0).get("user").textValue(),
                all.get("items").get(1).get("user").textValue(), all.get("items").get(3).get("user").textValue());
        assertEquals(List.of("carol", "alice", "alice"), users, "newest first");
        assertTrue(all.get("items").get(0).get("outcome").textValue().startsWith("refused: no component 'ghost'"));
        JsonNode alice = json(audit.list("alice", 0, 1));
        assertEquals(2, alice.get("total").intValue());
        assertEquals(1, alice.get("items").size());
        assertEquals("passphrase.show", alice.get("items").get(0).get("action").textValue());
        assertEquals(0, json(audit.list("nobody", 0, 50)).get("total").intValue());
        assertEquals(4, json(audit.list("", 0, 50)).get("total").intValue(), "an empty filter is no filter");
        assertEquals(400, audit.list(null, 0, 0).getStatus());
    }

    /**
     * Walks every endpoint of these resources with each role, as the appliance's AuthFilter admits
     * them by {@code @RolesAllowed}: viewers read, operators (and components, by signed requests) send
     * heartbeats, operators acknowledge alerts, only admins read the audit log.
     */
    @Test
    void everyEndpointDeclaresTheRoleTheFilterEnforces() {
        Map<String, Set<String>> expected = Map.of(
                "HeartbeatsResource.post", Set.of("operator", "component"),
                "HeartbeatsResource.get", Set.of("viewer"),
                "AlertsResource.list", Set.of("viewer"),
                "AlertsResource.get", Set.of("viewer"),
                "AlertsResource.acknowledge", Set.of("operator"),
                "EventsResource.list", Set.of("viewer"),
                "AuditResource.list", Set.of("admin"));
        Map<String, Set<String>> found = new LinkedHashMap<>();
        for (Class<?> resource : new Class<?>[] {HeartbeatsResource.class, AlertsResource.class, EventsResource.class,
            AuditResource.class}) {
            for (Method m : resource.getDeclaredMethods()) {
                if (!m.isAnnotationPresent(GET.class) && !m.isAnnotationPresent(POST.class)) {
                    continue;
                }
                assertFalse(m.isAnnotationPresent(PermitAll.class), m.toString());
                found.put(resource.getSimpleName() + "." + m.getName(),
                        Set.copyOf(Arrays.asList(m.getAnnotation(RolesAllowed.class).value())));
            }
        }
        assertEquals(expected, found);
        // Which of viewer < operator < admin may call each endpoint (Karaf's admin user holds all three).
        Map<String, Set<String>> holders = Map.of("viewer", Set.of("viewer"), "operator", Set.of("viewer", "operator"),
                "admin", Set.of("viewer", "operator", "admin"));
        for (Map.Entry<String, Set<String>> e : found.entrySet()) {
            for (Map.Entry<String, Set<String>> user : holders.entrySet()) {
                boolean admitted = e.getValue().stream().anyMatch(user.getValue()::contains);
                String lowest = e.getValue().contains("viewer") ? "viewer"
                        : e.getValue().contains("operator") ? "operator" : "admin";
                boolean wanted = switch (lowest) {
                    case "viewer" -> true;
                    case "operator" -> !user.getKey().equals("viewer");
                    default -> user.getKey().equals("admin");
                };
                assertEquals(wanted, admitted, e.getKey() + " as " + user.getKey());
            }
        }
    }

    static JsonNode json(Response r) {
        assertEquals(200, r.getStatus(), () -> String.valueOf(r.getEntity()));
        return JSON.valueToTree(r.getEntity());
    }

    static SecurityContext as(String user) {
        return new SecurityContext() {
            @Override
            public Principal getUserPrincipal() {
                return () -> user;
            }

            @Override
            public boolean isUserInRole(String role) {
                return true;
            }

            @Override
            public boolean isSecure() {
                return false;
            }

            @Override
            public String getAuthenticationScheme() {
                return BASIC_AUTH;
            }
        };
    }
}
