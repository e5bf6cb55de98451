package org.secondsite.configserver.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import javax.ws.rs.core.Response;

import org.secondsite.configserver.internal.Fixtures;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random heartbeat bodies (arbitrary JSON, a valid heartbeat with one member replaced by anything,
 * text that is not JSON) never get a 500, and never leave the catalogue inconsistent: after them a
 * valid heartbeat is stored and read back exactly.
 */
class HeartbeatFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final List<String> NAMES = List.of("componentId", "time", "metrics", "backlogBytes", "disks",
            "spoolFreePercent", "cpuLoad", "memoryUsedBytes", "diskId", "rpoSeconds", "throughputBytesPerSecond",
            "state", "resyncRequired", "x", "");
    private static Path dir;
    private static Fixtures f;
    private static HeartbeatsResource heartbeats;
    /** Statuses answered, so that the run shows it reached the store (200), validation (400) and lookups (404). */
    private static final Set<Integer> STATUSES = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @BeforeContainer
    static void open() throws Exception {
        dir = Files.createTempDirectory("heartbeat-fuzz");
        f = new Fixtures(dir);
        f.component("ps-1", "process-server");
        f.component("a-1", "agent");
        heartbeats = new HeartbeatsResource(f.server);
    }

    @AfterContainer
    static void close() throws Exception {
        try {
            assertEquals(Set.of(200, 400, 404), STATUSES, "the bodies reached every outcome");
            assertValidHeartbeatStillRoundTrips();
            assertCatalogueConsistent();
        } finally {
            f.close();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Property(tries = 300)
    void anyBodyIsAnsweredWithoutAServerError(@ForAll("bodies") String body) throws Exception {
        Response r = heartbeats.post(body);
        STATUSES.add(r.getStatus());
        assertTrue(Set.of(200, 400, 404).contains(r.getStatus()), r.getStatus() + " for " + body + ": " + r.getEntity());
        if (r.getStatus() != 200) {
            JsonNode problem = JSON.readTree((String) r.getEntity());
            assertEquals(r.getStatus(), problem.get("status").intValue());
            if (r.getStatus() == 400) {
                assertTrue(problem.hasNonNull("field"), "a 400 names the field: " + problem);
            }
        }
    }

    @Provide
    Arbitrary<String> bodies() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, mutatedValid().map(JsonNode::toString)),
                net.jqwik.api.Tuple.of(2, json(3).map(JsonNode::toString)),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(200)),
                net.jqwik.api.Tuple.of(1, mutatedValid().map(JsonNode::toString).flatMap(s ->
                        Arbitraries.integers().between(0, s.length()).map(cut -> s.substring(0, cut)))));
    }

    /** A valid heartbeat (random figures) with one member somewhere replaced by an arbitrary value, or left valid. */
    private Arbitrary<JsonNode> mutatedValid() {
        Arbitrary<ObjectNode> valid = Combinators.combine(
                Arbitraries.of("ps-1", "a-1", "ghost"),
                Arbitraries.longs().between(0, Long.MAX_VALUE),
                Arbitraries.doubles().between(0, 100).injectNull(0.3),
                Arbitraries.integers().between(0, 3),
                Arbitraries.longs().between(0, 100_000),
                Arbitraries.of(true, false)).as((id, backlog, spool, disks, rpo, resync) -> {
                    ObjectNode o = NODES.objectNode();
                    o.put("componentId", id);
                    o.put("time", "2030-01-01T00:00:00Z");
                    ObjectNode m = o.putObject("metrics");
                    m.put("backlogBytes", backlog);
                    if (spool != null) {
                        m.put("spoolFreePercent", spool);
                    }
                    ArrayNode list = m.putArray("disks");
                    for (int i = 0; i < disks; i++) {
                        ObjectNode d = list.addObject();
                        d.put("diskId", "d" + i);
                        d.put("rpoSeconds", rpo + i);
                        d.put("state", "replicating");
                        d.put("resyncRequired", resync);
                    }
                    return o;
                });
        return Combinators.combine(valid, Arbitraries.integers().between(0, 40), Arbitraries.of(NAMES), json(2),
                Arbitraries.of(true, false)).as((o, pick, name, value, remove) -> {
                    List<ObjectNode> objects = new java.util.ArrayList<>();
                    collect(o, objects);
                    ObjectNode target = objects.get(pick % objects.size());
                    if (pick >= 35) {
                        return o; // valid as generated
                    }
                    if (remove) {
                        target.remove(name);
                    } else {
                        target.set(name, value);
                    }
                    return o;
                });
    }

    private static void collect(JsonNode n, List<ObjectNode> out) {
        if (n instanceof ObjectNode o) {
            out.add(o);
        }
        n.elements().forEachRemaining(c -> collect(c, out));
    }

    /** Arbitrary JSON values nested up to {@code depth}: edge numbers, odd strings, arrays, objects. */
    private Arbitrary<JsonNode> json(int depth) {
        Arbitrary<JsonNode> leaf = Arbitraries.oneOf(
                Arbitraries.just(NODES.nullNode()),
                Arbitraries.of(true, false).map(b -> (JsonNode) NODES.booleanNode(b)),
                Arbitraries.longs().map(l -> (JsonNode) NODES.numberNode(l)),
                Arbitraries.of(Long.MIN_VALUE, -1L, 0L, 256L, 257L, Long.MAX_VALUE).map(l -> (JsonNode) NODES.numberNode(l)),
                Arbitraries.doubles().map(d -> (JsonNode) NODES.numberNode(d)),
                Arbitraries.of(Double.MAX_VALUE, -0.0, 1e-300, 29.999, 100.0001)
                        .map(d -> (JsonNode) NODES.numberNode(d)),
                Arbitraries.bigIntegers().between(java.math.BigInteger.TEN.pow(30).negate(), java.math.BigInteger.TEN.pow(30))
                        .map(b -> (JsonNode) NODES.numberNode(b)),
                Arbitraries.strings().ofMaxLength(150).map(s -> (JsonNode) NODES.textNode(s)),
                Arbitraries.of("2030-01-01T00:00:00Z", "2030-01-01T00:00:00.123456789Z", "0000-01-01T00:00:00Z",
                        "+999999999-12-31T23:59:59Z", "ps-1", "d0", "replicating", "").map(s -> (JsonNode) NODES.textNode(s)));
        if (depth == 0) {
            return leaf;
        }
        Arbitrary<JsonNode> array = json(depth - 1).list().ofMaxSize(4).map(l -> {
            ArrayNode a = NODES.arrayNode();
            a.addAll(l);
            return a;
        });
        Arbitrary<JsonNode> object = Combinators.combine(Arbitraries.of(NAMES), json(depth - 1)).as(
                (k, v) -> java.util.Map.entry(k, v)).list().ofMaxSize(4).map(entries -> {
                    ObjectNode o = NODES.objectNode();
                    entries.forEach(e -> o.set(e.getKey(), e.getValue()));
                    return o;
                });
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(4, leaf), net.jqwik.api.Tuple.of(1, array),
                net.jqwik.api.Tuple.of(1, object));
    }

    private static void assertValidHeartbeatStillRoundTrips() throws Exception {
        f.clock.advance(java.time.Duration.ofMinutes(1));
        String body = HealthResourcesTest.BEAT.replace("2030-01-01T00:00:00Z", "2030-01-01T00:01:00Z");
        Response r = heartbeats.post(body);
        assertEquals(200, r.getStatus(), String.valueOf(r.getEntity()));
        JsonNode latest = HealthResourcesTest.json(heartbeats.get("ps-1"));
        assertEquals(JSON.readTree(body).get("metrics").get("disks").toString(),
                latest.get("metrics").get("disks").toString());
        assertEquals(1024, latest.get("metrics").get("backlogBytes").longValue());
    }

    private static void assertCatalogueConsistent() throws Exception {
        try (Connection c = f.catalogue.connection(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM component_health h LEFT JOIN components c "
                    + "ON c.id = h.component_id WHERE c.id IS NULL")) {
                rs.next();
                assertEquals(0, rs.getInt(1), "health rows of unknown components");
            }
            try (ResultSet rs = st.executeQuery("SELECT component_id FROM component_health ORDER BY component_id")) {
                List<String> ids = new java.util.ArrayList<>();
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
                assertTrue(List.of("a-1", "ps-1").containsAll(ids), ids.toString());
            }
            try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM components")) {
                rs.next();
                assertEquals(2, rs.getInt(1), "no component appeared");
            }
        }
    }
}
