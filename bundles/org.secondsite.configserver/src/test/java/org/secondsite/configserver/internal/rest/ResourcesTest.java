package org.secondsite.configserver.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.security.Principal;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

import javax.annotation.security.PermitAll;
import javax.annotation.security.RolesAllowed;
import javax.ws.rs.DELETE;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.PUT;
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

/** The resources called as plain objects: status codes, problem details naming fields, audit entries. */
class ResourcesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GOLD = "{\"id\":\"gold\",\"rpoThresholdSeconds\":900,\"retentionWindowSeconds\":86400,"
            + "\"compressor\":\"zstd\",\"bandwidthSchedule\":\"Mon-Fri 08:00-18:00=20MB/s, *=0\"}";

    @TempDir
    Path dir;
    Fixtures f;
    PoliciesResource policies;
    ComponentsResource components;
    RegistrationResource registration;

    @BeforeEach
    void setUp() throws Exception {
        f = new Fixtures(dir);
        policies = new PoliciesResource(f.server);
        components = new ComponentsResource(f.server);
        registration = new RegistrationResource(f.server);
    }

    @AfterEach
    void tearDown() throws Exception {
        f.close();
    }

    @Test
    void policiesCanBeCreatedReadReplacedListedAndDeleted() throws Exception {
        Response created = policies.create(GOLD, as("alice"));
        assertEquals(201, created.getStatus());
        assertEquals("policies/gold", created.getLocation().toString());
        JsonNode gold = json(policies.get("gold"));
        assertEquals(900, gold.get("rpoThresholdSeconds").intValue());
        assertEquals(300, gold.get("checkpointIntervalSeconds").intValue(), "default");
        assertEquals("PT1H", gold.get("appConsistencySchedule").textValue(), "default");
        assertEquals("zstd", gold.get("compressor").textValue());

        Response replaced = policies.replace("gold", "{\"rpoThresholdSeconds\":60,\"retentionWindowSeconds\":3600}",
                as("alice"));
        assertEquals(200, replaced.getStatus());
        assertEquals(60, json(policies.get("gold")).get("rpoThresholdSeconds").intValue());
        assertEquals("lz4", json(policies.get("gold")).get("compressor").textValue(), "a PUT replaces every field");

        for (int i = 0; i < 4; i++) {
            policies.create(GOLD.replace("gold", "p" + i), as("alice"));
        }
        JsonNode page = json(policies.list(1, 2));
        assertEquals(5, page.get("total").intValue());
        assertEquals(2, page.get("items").size());
        assertEquals("p0", page.get("items").get(0).get("id").textValue());

        assertEquals(204, policies.delete("gold", as("alice")).getStatus());
        assertEquals(404, policies.get("gold").getStatus());

        AuditLog.Entry last = f.server.recentAudit(1).get(0);
        assertEquals("alice", last.actor());
        assertEquals("policy.delete", last.action());
        assertEquals("gold", last.target());
        assertEquals("ok", last.outcome());
    }

    @Test
    void badBodiesAre400ProblemsNamingTheField() throws Exception {
        Map<String, String> cases = Map.of(
                "{not json", "body",
                "[1,2]", "body",
                "{\"rpoThresholdSeconds\":900,\"retentionWindowSeconds\":60}", "id",
                "{\"id\":\"x\",\"retentionWindowSeconds\":86400}", "rpoThresholdSeconds",
                "{\"id\":\"x\",\"rpoThresholdSeconds\":\"soon\",\"retentionWindowSeconds\":86400}", "rpoThresholdSeconds",
                "{\"id\":\"x\",\"rpoThresholdSeconds\":0,\"retentionWindowSeconds\":86400}", "rpoThresholdSeconds",
                "{\"id\":\"x\",\"rpoThresholdSeconds\":900,\"retentionWindowSeconds\":86400,\"colour\":\"red\"}", "colour",
                "{\"id\":\"x\",\"rpoThresholdSeconds\":900,\"retentionWindowSeconds\":86400,\"appConsistencySchedule\":\"hourly\"}",
                "appConsistencySchedule",
                "{\"id\":\"x\",\"rpoThresholdSeconds\":900,\"retentionWindowSeconds\":86400,\"bandwidthSchedule\":\"always fast\"}",
                "bandwidthSchedule",
                "{\"id\":\"x\",\"rpoThresholdSeconds\":99999999999,\"retentionWindowSeconds\":86400}", "rpoThresholdSeconds");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Response r = policies.create(c.getKey(), as("alice"));
            assertEquals(400, r.getStatus(), c.getKey());
            assertEquals(Rest.PROBLEM_JSON, r.getMediaType().toString());
            JsonNode problem = JSON.readTree((String) r.getEntity());
            assertEquals(c.getValue(), problem.get("field").textValue(), c.getKey() + " -> " + problem);
            assertEquals(400, problem.get("status").intValue());
            assertTrue(problem.get("detail").textValue().contains(c.getValue()), problem.toString());
        }
        Response mismatch = policies.replace("gold", GOLD.replace("\"gold\"", "\"silver\""), as("alice"));
        assertEquals(400, mismatch.getStatus());
        assertTrue(((String) mismatch.getEntity()).contains("differs from 'gold'"));
        assertEquals(400, policies.list(-1, 10).getStatus());
        assertEquals(400, components.list(0, 100_000).getStatus());
        assertTrue(f.server.recentAudit(50).stream().anyMatch(e -> e.outcome().startsWith("refused: rpoThresholdSeconds")),
                "refused mutations are audited too");
    }

    @Test
    void unknownIdsAre404AndDuplicatesAre409() throws Exception {
        assertEquals(404, policies.get("nope").getStatus());
        assertEquals(404, policies.replace("nope", GOLD.replace("gold", "nope"), as("a")).getStatus());
        assertEquals(404, policies.delete("nope", as("a")).getStatus());
        assertEquals(404, components.get("nope").getStatus());
        Response missing = components.remove("nope", as("a"));
        assertEquals(404, missing.getStatus());
        assertTrue(((String) missing.getEntity()).contains("no component 'nope'"));
        policies.create(GOLD, as("a"));
        assertEquals(409, policies.create(GOLD, as("a")).getStatus());
    }

    @Test
    void registrationThroughRestThenListedThenRemoved() throws Exception {
        String body = JSON.writeValueAsString(Map.of("passphrase", f.passphrase.reveal(), "componentId", "ps-1",
                "role", "process-server", "site", "primary", "csr", Fixtures.csr("ps-1")));
        Response ok = registration.register(body, "10.1.1.1");
        assertEquals(200, ok.getStatus());
        JsonNode answer = JSON.valueToTree(ok.getEntity());
        assertTrue(answer.get("certificate").textValue().startsWith("-----BEGIN CERTIFICATE-----"));
        assertTrue(answer.get("authority").textValue().startsWith("-----BEGIN CERTIFICATE-----"));
        assertFalse(answer.toString().contains(f.passphrase.reveal()));

        JsonNode list = json(components.list(0, 10));
        assertEquals(1, list.get("total").intValue());
        assertEquals("ps-1", list.get("items").get(0).get("id").textValue());
        assertEquals("registered", list.get("items").get(0).get("state").textValue());

        assertEquals(204, components.remove("ps-1", as("root")).getStatus());
        assertEquals("removed", json(components.get("ps-1")).get("state").textValue());
        assertEquals(answer.get("serial").textValue(), f.revocations.get(0).get(0));

        Response wrong = registration.register(body.replace(f.passphrase.reveal(), "guess"), "10.9.9.9");
        assertEquals(403, wrong.getStatus());
        for (int i = 0; i < 2; i++) {
            registration.register(body.replace(f.passphrase.reveal(), "guess"), "10.9.9.9");
        }
        Response limited = registration.register(body, "10.9.9.9");
        assertEquals(429, limited.getStatus());
        assertEquals("900", limited.getHeaderString("Retry-After"));
        assertEquals("Too Many Requests", JSON.readTree((String) limited.getEntity()).get("title").textValue());

        Response noPass = registration.register("{\"componentId\":\"x\"}", "10.2.2.2");
        assertEquals(400, noPass.getStatus());
        assertEquals("passphrase", JSON.readTree((String) noPass.getEntity()).get("field").textValue());
        assertEquals("csrx", JSON.readTree((String) registration.register(
                body.replace("\"csr\"", "\"csrx\""), "10.2.2.2").getEntity()).get("field").textValue());
        String noCsr = JSON.writeValueAsString(Map.of("passphrase", f.passphrase.reveal(), "componentId", "ps-2",
                "role", "process-server"));
        assertEquals("csr", JSON.readTree((String) registration.register(noCsr, "10.2.2.2").getEntity())
                .get("field").textValue());
    }

    @Test
    void aComponentRegistersWithTheDataAddressOthersReachItAt() throws Exception {
        String body = JSON.writeValueAsString(Map.of("passphrase", f.passphrase.reveal(), "componentId", "mt-1",
                "role", "master-target", "csr", Fixtures.csr("mt-1"), "address", "mt1.example.org:9444"));
        assertEquals(200, registration.register(body, "10.1.1.1").getStatus());
        assertEquals("mt1.example.org:9444", json(components.get("mt-1")).get("address").textValue());
        for (String bad : new String[] {"mt1.example.org", "mt1:0", "mt1:65536", "a b:1", ":9444"}) {
            String b = JSON.writeValueAsString(Map.of("passphrase", f.passphrase.reveal(), "componentId", "mt-2",
                    "role", "master-target", "csr", Fixtures.csr("mt-2"), "address", bad));
            Response r = registration.register(b, "10.1.1.2");
            assertEquals(400, r.getStatus(), bad);
            assertEquals("address", JSON.readTree((String) r.getEntity()).get("field").textValue(), bad);
        }
        String ipv6 = JSON.writeValueAsString(Map.of("passphrase", f.passphrase.reveal(), "componentId", "mt-3",
                "role", "master-target", "csr", Fixtures.csr("mt-3"), "address", "[fd00::5]:9444"));
        assertEquals(200, registration.register(ipv6, "10.1.1.3").getStatus());
    }

    /**
     * The appliance's AuthFilter admits a method by its {@code @RolesAllowed} (none: admin only). Every
     * read here is open to viewers, every change needs admin, and only registration is public.
     */
    @Test
    void everyEndpointDeclaresTheRoleTheFilterEnforces() {
        for (Class<?> resource : new Class<?>[] {PoliciesResource.class, ComponentsResource.class,
                RegistrationResource.class}) {
            for (Method m : resource.getDeclaredMethods()) {
                boolean get = m.isAnnotationPresent(GET.class);
                boolean change = m.isAnnotationPresent(POST.class) || m.isAnnotationPresent(PUT.class)
                        || m.isAnnotationPresent(DELETE.class);
                if (!get && !change) {
                    continue;
                }
                RolesAllowed roles = m.getAnnotation(RolesAllowed.class);
                if (resource == RegistrationResource.class) {
                    assertTrue(m.isAnnotationPresent(PermitAll.class), m.toString());
                    assertNull(roles);
                    continue;
                }
                assertFalse(m.isAnnotationPresent(PermitAll.class), m.toString());
                Set<String> allowed = Set.copyOf(Arrays.asList(roles.value()));
                assertEquals(get ? Set.of("viewer") : Set.of("admin"), allowed, m.toString());
            }
        }
    }

    private static JsonNode json(Response r) {
        assertEquals(200, r.getStatus(), () -> String.valueOf(r.getEntity()));
        return JSON.valueToTree(r.getEntity());
    }

    private static SecurityContext as(String user) {
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
