package org.secondsite.appliance.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.annotation.security.PermitAll;
import javax.annotation.security.RolesAllowed;
import javax.ws.rs.Consumes;
import javax.ws.rs.DELETE;
import javax.ws.rs.DefaultValue;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.PUT;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.QueryParam;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;
import javax.ws.rs.core.SecurityContext;

import org.junit.jupiter.api.Test;
import org.secondsite.appliance.rest.ApiDoc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

class OpenApiGeneratorTest {
    /** The root resources of the appliance bundle. */
    static final List<Class<?>> APPLIANCE = List.of(HealthResource.class, MetricsResource.class,
            ReplicationResource.class, OpenApiResource.class);
    static final OpenApiGenerator.Info INFO = new OpenApiGenerator.Info("test", "1.2.3", "d");

    // ---- a fixture with every feature the generator reads ----

    enum Kind { SMALL, LARGE }

    public record Thing(String name, long size, List<String> tags, Map<String, Long> counts, Kind kind, Thing parent,
                        Instant at) {
    }

    @Path("/things/")
    @RolesAllowed("operator")
    @ApiDoc(summary = "Things", description = "All about things.")
    public static class Things {
        @GET
        @Produces(MediaType.APPLICATION_JSON)
        public List<Thing> list(@QueryParam("offset") @DefaultValue("0") int offset,
                                @QueryParam("active") @DefaultValue("true") boolean active,
                                @QueryParam("kind") Kind kind) {
            return List.of();
        }

        @GET
        @Path("{id: [0-9]+}")
        @Produces(MediaType.APPLICATION_JSON)
        @RolesAllowed({"viewer", "auditor"})
        public Thing get(@PathParam("id") long id) {
            return null;
        }

        @DELETE
        @Path("{id}")
        public Response remove(@PathParam("id") String id, @Context SecurityContext security) {
            return Response.noContent().build();
        }

        @POST
        @Consumes(MediaType.APPLICATION_JSON)
        @Produces(MediaType.APPLICATION_JSON)
        @ApiDoc(summary = "Create a thing", status = 201, response = Thing.class)
        public Response create(Map<String, Object> body, @Context SecurityContext security) {
            return Response.status(201).build();
        }

        @PUT
        @Path("{id}/name")
        @Consumes(MediaType.APPLICATION_JSON)
        @RolesAllowed("admin")
        public void rename(@PathParam("id") String id, String body) {
        }

        @POST
        @Path("open")
        @PermitAll
        @Consumes(MediaType.APPLICATION_JSON)
        @Produces(MediaType.APPLICATION_JSON)
        @ApiDoc(summary = "Anyone may", errors = {403, 429})
        public Response open(String body) {
            return Response.ok().build();
        }

        /** Not a resource method: no HTTP method annotation. */
        public String helper() {
            return "";
        }
    }

    /** No role annotation anywhere: admin, as AuthFilter enforces; @PermitAll on the class does not open it. */
    @Path("bare")
    @PermitAll
    public static class Bare {
        @GET
        @Produces(MediaType.TEXT_PLAIN)
        public String get() {
            return "";
        }
    }

    /** A record with the simple name of another one. */
    @Path("other")
    public static class Other {
        public record Thing(String id) {
        }

        @GET
        @Produces(MediaType.APPLICATION_JSON)
        @RolesAllowed("viewer")
        public Thing get() {
            return null;
        }
    }

    private static ObjectNode fixtures() {
        return OpenApiGenerator.generate(INFO, "api/v1/", List.of(Things.class, Bare.class, Other.class));
    }

    @Test
    void everyResourceMethodOfTheApplianceIsDocumentedWithItsRoles() {
        ObjectNode doc = OpenApiGenerator.generate(INFO, "/api/v1", APPLIANCE);
        // What the appliance bundle serves, written down independently of the generator.
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("get /health", "HealthResource.health [viewer]");
        expected.put("get /metrics", "MetricsResource.scrape [viewer]");
        expected.put("get /replication", "ReplicationResource.list [viewer]");
        expected.put("get /openapi.json", "OpenApiResource.document open");
        assertEquals(expected, operations(doc));

        // And every HTTP-annotated method of those classes, found by reflection, is one of them.
        int annotated = 0;
        for (Class<?> c : APPLIANCE) {
            for (java.lang.reflect.Method m : c.getMethods()) {
                if (OpenApiGenerator.httpMethod(m) != null) {
                    annotated++;
                    String id = c.getSimpleName() + "." + m.getName();
                    assertTrue(expected.values().stream().anyMatch(v -> v.startsWith(id + " ")), id);
                }
            }
        }
        assertEquals(expected.size(), annotated);

        assertEquals("/api/v1", doc.at("/servers/0/url").asText());
        assertEquals("#/components/schemas/Health",
                doc.at("/paths/~1health/get/responses/200/content/application~1json/schema/$ref").asText());
        assertTrue(doc.at("/paths/~1metrics/get/responses/200/content").fieldNames().next().startsWith("text/plain"));
        assertEquals("string", doc.at("/paths/~1metrics/get/responses/200/content").elements().next()
                .at("/schema/type").asText());
        assertEquals("array", doc.at("/paths/~1replication/get/responses/200/content/application~1json/schema/type")
                .asText());
        // ComponentHealth.Problem does not take the place of the shared Problem schema.
        assertEquals(List.of("type", "title", "status", "detail", "field"),
                names(doc.at("/components/schemas/Problem/properties")));
        assertEquals("#/components/schemas/ComponentHealth.Problem",
                doc.at("/components/schemas/Health/properties/problems/items/$ref").asText());
        assertEquals("Health of this appliance", doc.at("/paths/~1health/get/summary").asText());
        assertEquals("[]", doc.at("/paths/~1openapi.json/get/security").toString());
        assertTrue(doc.at("/paths/~1openapi.json/get/responses/401").isMissingNode());
        assertEquals("#/components/responses/Unauthorized", doc.at("/paths/~1health/get/responses/401/$ref").asText());
        assertEquals("http", doc.at("/components/securitySchemes/basicAuth/type").asText());
        assertEquals("basic", doc.at("/components/securitySchemes/basicAuth/scheme").asText());
        assertValid(doc);
    }

    @Test
    void pathsParametersBodiesAndStatusesComeFromTheAnnotations() {
        ObjectNode doc = fixtures();
        assertEquals(Map.of(
                "get /things", "Things.list [operator]",
                "post /things", "Things.create [operator]",
                "get /things/{id}", "Things.get [auditor, viewer]",
                "delete /things/{id}", "Things.remove [operator]",
                "put /things/{id}/name", "Things.rename [admin]",
                "post /things/open", "Things.open open",
                "get /bare", "Bare.get [admin]",
                "get /other", "Other.get [viewer]"), operations(doc));
        assertEquals("/api/v1", doc.at("/servers/0/url").asText());

        JsonNode list = doc.at("/paths/~1things/get");
        assertEquals("offset", list.at("/parameters/0/name").asText());
        assertEquals("query", list.at("/parameters/0/in").asText());
        assertEquals("integer", list.at("/parameters/0/schema/type").asText());
        assertEquals(0, list.at("/parameters/0/schema/default").asInt());
        assertTrue(list.at("/parameters/1/schema/default").isBoolean());
        assertEquals("[\"SMALL\",\"LARGE\"]", list.at("/parameters/2/schema/enum").toString());
        assertFalse(list.at("/parameters/0/required").asBoolean());
        assertEquals("#/components/schemas/OpenApiGeneratorTest.Thing", list.at("/responses/200/content/application~1json/schema/items/$ref")
                .asText());
        assertEquals(Set.of("200", "400", "401", "403", "500"), fieldSet(list.get("responses")));

        JsonNode get = doc.at("/paths/~1things~1{id}/get");
        assertEquals("path", get.at("/parameters/0/in").asText());
        assertTrue(get.at("/parameters/0/required").asBoolean());
        assertEquals("^(?:[0-9]+)$", get.at("/parameters/0/schema/pattern").asText());
        assertEquals("int64", get.at("/parameters/0/schema/format").asText());
        assertEquals(Set.of("200", "400", "401", "403", "404", "500"), fieldSet(get.get("responses")));

        JsonNode remove = doc.at("/paths/~1things~1{id}/delete");
        assertEquals(1, remove.get("parameters").size(), "the @Context parameter is not a parameter");
        assertTrue(remove.at("/responses/204/content").isMissingNode());
        assertTrue(remove.has("responses") && remove.get("responses").has("409"));
        assertTrue(remove.at("/requestBody").isMissingNode());

        JsonNode create = doc.at("/paths/~1things/post");
        assertEquals("Create a thing", create.get("summary").asText());
        assertEquals("object", create.at("/requestBody/content/application~1json/schema/type").asText());
        assertEquals("#/components/schemas/OpenApiGeneratorTest.Thing", create.at("/responses/201/content/application~1json/schema/$ref")
                .asText());
        assertTrue(create.at("/responses/200").isMissingNode());
        assertEquals(Set.of("201", "400", "401", "403", "409", "500"), fieldSet(create.get("responses")));

        JsonNode rename = doc.at("/paths/~1things~1{id}~1name/put");
        assertEquals("{}", rename.at("/requestBody/content/application~1json/schema").toString(),
                "a String body of a JSON consumer is any JSON");
        assertTrue(rename.at("/responses/204").isObject());

        JsonNode open = doc.at("/paths/~1things~1open/post");
        assertEquals("[]", open.get("security").toString());
        assertFalse(open.has(OpenApiGenerator.ROLES));
        assertEquals("#/components/responses/TooManyRequests", open.at("/responses/429/$ref").asText());
        assertEquals("#/components/responses/Forbidden", open.at("/responses/403/$ref").asText());
        assertTrue(open.at("/responses/401").isMissingNode());

        JsonNode thing = doc.at("/components/schemas/OpenApiGeneratorTest.Thing");
        assertEquals(List.of("name", "size", "tags", "counts", "kind", "parent", "at"), names(thing.get("properties")));
        assertEquals("int64", thing.at("/properties/size/format").asText());
        assertFalse(thing.at("/properties/size/nullable").asBoolean());
        assertTrue(thing.at("/properties/name/nullable").asBoolean());
        assertEquals("string", thing.at("/properties/tags/items/type").asText());
        assertEquals("int64", thing.at("/properties/counts/additionalProperties/format").asText());
        assertEquals("#/components/schemas/OpenApiGeneratorTest.Thing", thing.at("/properties/parent/allOf/0/$ref").asText());
        assertEquals("date-time", thing.at("/properties/at/format").asText());
        // Classes are read in name order: Other's record came first and kept the simple name.
        assertEquals("#/components/schemas/Thing",
                doc.at("/paths/~1other/get/responses/200/content/application~1json/schema/$ref").asText());
        List<String> tags = new ArrayList<>();
        doc.get("tags").forEach(t -> tags.add(t.get("name").asText()));
        assertEquals(List.of("bare", "other", "things"), tags);
        assertEquals("Things\n\nAll about things.", doc.at("/tags/2/description").asText());
        assertValid(doc);
    }

    @Test
    void theSameResourcesInAnotherOrderGiveTheSameDocument() {
        List<Class<?>> all = new ArrayList<>(APPLIANCE);
        all.addAll(List.of(Things.class, Bare.class, Other.class));
        ObjectNode first = OpenApiGenerator.generate(INFO, "/api/v1", all);
        Collections.reverse(all);
        assertEquals(first.toString(), OpenApiGenerator.generate(INFO, "/api/v1", all).toString());
        assertValid(first);
    }

    @Test
    void pathTemplatesKeepTheirRegexOutOfThePath() {
        OpenApiGenerator.Template t = OpenApiGenerator.Template.parse("/a/{code: [a-z]{2}}/b/{ id }");
        assertEquals("/a/{code}/b/{id}", t.path());
        assertEquals(Map.of("code", "[a-z]{2}"), t.patterns());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OpenApiGenerator.Template.parse("/a/{code"));
        assertTrue(e.getMessage().contains("unbalanced '{'"), e.getMessage());
    }

    @Test
    void theValidityCheckFindsADanglingReference() {
        ObjectNode doc = fixtures();
        ((ObjectNode) doc.at("/components/schemas")).remove("Thing");
        AssertionError e = assertThrows(AssertionError.class, () -> assertValid(doc));
        assertTrue(e.getMessage().contains("unresolved $ref #/components/schemas/Thing"), e.getMessage());
    }

    // ---- helpers ----

    /** "verb path" → "operationId [roles]" or "operationId open". */
    static Map<String, String> operations(JsonNode doc) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> p = doc.get("paths").fields(); p.hasNext();) {
            Map.Entry<String, JsonNode> path = p.next();
            for (Iterator<Map.Entry<String, JsonNode>> o = path.getValue().fields(); o.hasNext();) {
                Map.Entry<String, JsonNode> op = o.next();
                JsonNode roles = op.getValue().get(OpenApiGenerator.ROLES);
                List<String> r = new ArrayList<>();
                if (roles != null) {
                    roles.forEach(x -> r.add(x.asText()));
                }
                out.put(op.getKey() + " " + path.getKey(), op.getValue().get("operationId").asText()
                        + (roles == null ? " open" : " " + r));
            }
        }
        return out;
    }

    private static List<String> names(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static Set<String> fieldSet(JsonNode object) {
        return new TreeSet<>(names(object));
    }

    private static final Set<String> VERBS = Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");
    private static final Pattern TEMPLATE = Pattern.compile("\\{([^}]+)}");

    /** The structure OpenAPI 3.0 requires of the parts this generator writes, and that every $ref resolves. */
    static void assertValid(JsonNode doc) {
        List<String> wrong = new ArrayList<>();
        if (!doc.path("openapi").asText().matches("3\\.0\\.\\d+")) {
            wrong.add("openapi: " + doc.get("openapi"));
        }
        if (!doc.at("/info/title").isTextual() || !doc.at("/info/version").isTextual()) {
            wrong.add("info needs title and version");
        }
        if (!doc.path("paths").isObject()) {
            wrong.add("paths missing");
        }
        Set<String> ids = new HashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> p = doc.path("paths").fields(); p.hasNext();) {
            Map.Entry<String, JsonNode> path = p.next();
            if (!path.getKey().startsWith("/")) {
                wrong.add("path " + path.getKey() + " does not start with /");
            }
            Set<String> vars = new TreeSet<>();
            Matcher m = TEMPLATE.matcher(path.getKey());
            while (m.find()) {
                vars.add(m.group(1));
            }
            for (Iterator<Map.Entry<String, JsonNode>> o = path.getValue().fields(); o.hasNext();) {
                Map.Entry<String, JsonNode> e = o.next();
                if (!VERBS.contains(e.getKey())) {
                    if (!e.getKey().startsWith("x-")) {
                        wrong.add(path.getKey() + ": unexpected field " + e.getKey());
                    }
                    continue;
                }
                JsonNode op = e.getValue();
                String where = e.getKey() + " " + path.getKey();
                if (!ids.add(op.path("operationId").asText())) {
                    wrong.add(where + ": operationId missing or repeated");
                }
                if (!op.path("responses").isObject() || op.path("responses").isEmpty()) {
                    wrong.add(where + ": no responses");
                }
                op.path("responses").fields().forEachRemaining(r -> {
                    if (!r.getKey().matches("[1-5][0-9][0-9]|default")) {
                        wrong.add(where + ": response key " + r.getKey());
                    }
                    if (!r.getValue().has("$ref") && !r.getValue().path("description").isTextual()) {
                        wrong.add(where + ": response " + r.getKey() + " without description");
                    }
                });
                Set<String> declared = new TreeSet<>();
                for (JsonNode param : op.path("parameters")) {
                    if (!param.path("name").isTextual() || !Set.of("path", "query", "header", "cookie")
                            .contains(param.path("in").asText()) || !param.has("schema")) {
                        wrong.add(where + ": parameter " + param);
                    }
                    if (param.path("in").asText().equals("path")) {
                        declared.add(param.path("name").asText());
                        if (!param.path("required").asBoolean()) {
                            wrong.add(where + ": path parameter " + param.path("name") + " not required");
                        }
                    }
                }
                if (!declared.equals(vars)) {
                    wrong.add(where + ": path parameters " + declared + " but template variables " + vars);
                }
                if (op.has("requestBody") && op.at("/requestBody/content").isEmpty()) {
                    wrong.add(where + ": requestBody without content");
                }
            }
        }
        for (String section : new String[] {"schemas", "responses", "securitySchemes"}) {
            doc.at("/components/" + section).fieldNames().forEachRemaining(n -> {
                if (!n.matches("[a-zA-Z0-9._-]+")) {
                    wrong.add("component name " + n);
                }
            });
        }
        for (JsonNode requirement : doc.path("security")) {
            requirement.fieldNames().forEachRemaining(n -> {
                if (!doc.at("/components/securitySchemes").has(n)) {
                    wrong.add("security scheme " + n + " undefined");
                }
            });
        }
        checkRefs(doc, doc, wrong);
        if (!wrong.isEmpty()) {
            throw new AssertionError(String.join("\n", wrong));
        }
    }

    private static void checkRefs(JsonNode root, JsonNode node, List<String> wrong) {
        if (node.isObject()) {
            JsonNode ref = node.get("$ref");
            if (ref != null) {
                String r = ref.asText();
                if (!r.startsWith("#/") || root.at(r.substring(1)).isMissingNode()) {
                    wrong.add("unresolved $ref " + r);
                }
            }
            node.elements().forEachRemaining(n -> checkRefs(root, n, wrong));
        } else if (node.isArray()) {
            node.forEach(n -> checkRefs(root, n, wrong));
        }
    }

    @Test
    void aClassThatCannotBeReadIsNamedNotFatal() {
        assertNotNull(fixtures());
        // A method whose parameter type is missing at run time throws from reflection; simulated
        // here by a path template the runtime would refuse.
        ObjectNode doc = OpenApiGenerator.generate(INFO, "/api/v1", List.of(Broken.class, Bare.class));
        assertEquals(Broken.class.getName(), doc.at("/x-secondsite-unreadable/0/class").asText());
        assertTrue(doc.at("/x-secondsite-unreadable/0/reason").asText().contains("unbalanced"));
        assertTrue(doc.at("/paths/~1bare/get").isObject());
        assertValid(doc);
    }

    @Path("broken/{id")
    public static class Broken {
        @GET
        public String get() {
            return "";
        }
    }
}
