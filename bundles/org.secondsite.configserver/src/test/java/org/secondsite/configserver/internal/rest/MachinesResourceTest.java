package org.secondsite.configserver.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.secondsite.configserver.internal.rest.HealthResourcesTest.as;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

import javax.annotation.security.PermitAll;
import javax.annotation.security.RolesAllowed;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.PUT;
import javax.ws.rs.core.Response;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.Fixtures;
import org.secondsite.configserver.internal.catalogue.Policy;

/** {@code /machines}, {@code /jobs} and the desired state in heartbeat answers, called as plain objects. */
class MachinesResourceTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PROTECT = "{\"agentId\":\"agent-1\",\"processServerId\":\"ps-1\",\"masterTargetId\":\"mt-1\","
            + "\"policyId\":\"gold\",\"disks\":[{\"diskId\":\"web01:disk0\",\"source\":\"/srv/disk0.img\","
            + "\"options\":{\"listen\":\"127.0.0.1:10809\"}}]}";

    @TempDir
    Path dir;
    Fixtures f;
    MachinesResource machines;
    JobsResource jobs;
    HeartbeatsResource heartbeats;

    @BeforeEach
    void setUp() throws Exception {
        f = new Fixtures(dir);
        f.component("agent-1", "agent", "10.0.0.9");
        f.component("ps-1", "process-server", "127.0.0.1:9443");
        f.component("mt-1", "master-target", "127.0.0.1:9444");
        f.server.createPolicy(new Policy("gold", 900, 5, 86_400, 0, "PT1H", "lz4", "", null, null), "admin");
        machines = new MachinesResource(f.server);
        jobs = new JobsResource(f.server);
        heartbeats = new HeartbeatsResource(f.server);
    }

    @AfterEach
    void tearDown() throws Exception {
        f.close();
    }

    static JsonNode body(Response r, int status) {
        assertEquals(status, r.getStatus(), () -> String.valueOf(r.getEntity()));
        Object e = r.getEntity();
        try {
            return e instanceof String s ? JSON.readTree(s) : JSON.valueToTree(e);
        } catch (Exception x) {
            throw new AssertionError(x);
        }
    }

    @Test
    void protectAnswersAcceptedWithTheJobAndASecondJobIsAConflict() throws Exception {
        Response accepted = machines.protect("web01", PROTECT, as("olga"));
        JsonNode job = body(accepted, 202);
        assertEquals("jobs/" + job.get("id").asLong(), accepted.getLocation().toString());
        assertEquals("protect", job.get("kind").asText());
        assertEquals("running", job.get("state").asText());
        assertEquals(5, job.get("steps").size());
        body(machines.protect("web02", PROTECT.replace("web01", "web02"), as("olga")), 202);
        JsonNode conflict = body(machines.unprotect("web01", as("olga")), 409);
        assertTrue(conflict.get("detail").asText().contains("running"), conflict.toString());

        JsonNode machine = body(machines.get("web01"), 200);
        assertEquals("protecting", machine.get("state").asText());
        assertEquals("/srv/disk0.img", machine.at("/disks/0/source").asText());
        assertEquals("127.0.0.1:10809", machine.at("/disks/0/options/listen").asText());
        assertEquals(2, body(machines.list(0, 50), 200).get("total").asLong());
        assertEquals(1, body(jobs.list("web01", null, 0, 50), 200).get("total").asLong());
        assertEquals(2, body(jobs.list(null, "running", 0, 50), 200).get("total").asLong());
        assertEquals("web01", body(jobs.get(job.get("id").asLong()), 200).get("machineId").asText());
        body(jobs.get(999), 404);
        body(machines.get("nope"), 404);
        assertTrue(f.server.recentAudit(10).stream().anyMatch(a -> a.actor().equals("olga")
                && a.action().equals("machine.protect") && a.outcome().equals("ok")));
    }

    @Test
    void theHeartbeatAnswerCarriesTheDesiredStateUntilItIsApplied() throws Exception {
        machines.protect("web01", PROTECT, as("olga"));
        String beat = "{\"componentId\":\"agent-1\",\"time\":\"2030-01-01T00:00:05Z\",\"metrics\":{\"backlogBytes\":0}";
        JsonNode a = body(heartbeats.post(beat + "}", as("component:agent-1")), 200);
        long revision = a.get("desiredRevision").asLong();
        assertEquals(revision, a.at("/desired/revision").asLong());
        assertEquals("/srv/disk0.img", a.at("/desired/configurations/2/properties/source").asText());
        JsonNode quiet = body(heartbeats.post(beat + ",\"appliedRevision\":" + revision + "}", as("component:agent-1")),
                200);
        assertFalse(quiet.has("desired"), quiet.toString());
        // A component speaks only for itself; apply errors are bounded
        body(heartbeats.post(beat + "}", as("component:ps-1")), 403);
        JsonNode tooLong = body(heartbeats.post(beat + ",\"applyError\":\"" + "x".repeat(2001) + "\"}",
                as("component:agent-1")), 400);
        assertEquals("applyError", tooLong.get("field").asText());
        assertEquals("appliedRevision", body(heartbeats.post(beat + ",\"appliedRevision\":\"one\"}",
                as("component:agent-1")), 400).get("field").asText());
    }

    @Test
    void aMasterTargetsPointsAreReadBackPerMachineAndBadOnesNameTheField() throws Exception {
        machines.protect("web01", PROTECT, as("olga"));
        String beat = "{\"componentId\":\"mt-1\",\"time\":\"2030-01-01T00:00:05Z\",\"metrics\":{\"backlogBytes\":0},"
                + "\"points\":";
        String ok = "{\"oldest\":\"2030-01-01T00:00:01Z\",\"items\":[{\"id\":\"p1\",\"group\":\"web01\","
                + "\"time\":\"2030-01-01T00:00:01Z\",\"kind\":\"app\",\"tag\":\"nightly\"}]}";
        body(heartbeats.post(beat + ok + "}", as("component:mt-1")), 200);
        JsonNode points = body(machines.points("web01", 0, 10), 200);
        assertEquals(1, points.get("total").asLong());
        assertEquals("nightly", points.at("/items/0/tag").asText());
        assertEquals("web01:disk0", points.at("/items/0/disks/0").asText());
        String[][] bad = {
            {ok.replace("\"app\"", "\"warm\""), "points.items[0].kind"},
            {ok.replace("\"time\":\"2030-01-01T00:00:01Z\"", "\"time\":\"yesterday\""), "points.items[0].time"},
            {ok.replace("\"oldest\":\"2030-01-01T00:00:01Z\",", ""), "points.oldest"},
            {ok.replace("\"tag\"", "\"label\""), "points.items[0].label"},
            {"[]", "points"},
        };
        for (String[] b : bad) {
            assertEquals(b[1], body(heartbeats.post(beat + b[0] + "}", as("component:mt-1")), 400).get("field").asText(),
                    b[0]);
        }
        String agentBeat = beat.replace("mt-1", "agent-1") + ok + "}";
        assertEquals("points", body(heartbeats.post(agentBeat, as("component:agent-1")), 400).get("field").asText());
        body(machines.points("nope", 0, 10), 404);
    }

    @Test
    void badProtectBodiesNameTheField() {
        assertEquals("disk", body(machines.protect("web01", PROTECT.replace("\"disks\"", "\"disk\""), as("o")), 400)
                .get("field").asText());
        assertEquals("disks[0].source", body(machines.protect("web01", PROTECT.replace("\"/srv/disk0.img\"", "\"\""),
                as("o")), 400).get("field").asText());
        assertEquals("disks[0].options.listen", body(machines.protect("web01", PROTECT.replace("\"127.0.0.1:10809\"",
                "5"), as("o")), 400).get("field").asText());
        assertEquals("disks[0].flavour", body(machines.protect("web01", PROTECT.replace("\"source\"",
                "\"flavour\":1,\"source\""), as("o")), 400).get("field").asText());
        assertEquals("machineId", body(machines.protect("bad id", PROTECT, as("o")), 400).get("field").asText());
        assertEquals("policyId", body(machines.changePolicy("web01", "{}", as("o")), 400).get("field").asText());
        assertEquals("disks[0]", body(machines.resync("web01", "{\"disks\":[1]}", as("o")), 400).get("field").asText());
        body(machines.unprotect("web01", as("o")), 404);
        assertEquals(0, body(machines.list(0, 50), 200).get("total").asLong());
    }

    @Property(tries = 500)
    void arbitraryBodiesAreRefusedNamingAFieldNeverWithAnotherError(@ForAll @StringLength(max = 400) String text) {
        parsedOrRefused(text);
    }

    /** The valid body with one character replaced: mostly near-valid JSON, exercising every field's check. */
    @Property(tries = 1000)
    void damagedBodiesAreRefusedNamingAFieldNeverWithAnotherError(@ForAll @IntRange(max = 1000) int at,
                                                                  @ForAll char c) {
        int i = at % PROTECT.length();
        parsedOrRefused(PROTECT.substring(0, i) + c + PROTECT.substring(i + 1));
    }

    private static void parsedOrRefused(String body) {
        try {
            MachinesResource.parseProtect("m1", body).validate();
        } catch (ConfigServerException e) {
            assertEquals(ConfigServerException.Kind.INVALID, e.kind(), e.getMessage());
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank());
        }
    }

    /** Reads are for viewers; protecting, unprotecting, resyncing and changing policy for operators. */
    @Test
    void everyEndpointDeclaresItsRole() {
        for (Class<?> resource : new Class<?>[] {MachinesResource.class, JobsResource.class}) {
            for (Method m : resource.getDeclaredMethods()) {
                boolean get = m.isAnnotationPresent(GET.class);
                boolean change = m.isAnnotationPresent(POST.class) || m.isAnnotationPresent(PUT.class);
                if (!get && !change) {
                    continue;
                }
                assertFalse(m.isAnnotationPresent(PermitAll.class), m.toString());
                assertEquals(get ? Set.of("viewer") : Set.of("operator"),
                        Set.copyOf(Arrays.asList(m.getAnnotation(RolesAllowed.class).value())), m.toString());
            }
        }
    }
}
