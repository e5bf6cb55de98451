package org.secondsite.link.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class DesiredStateDecoderTest {
    static final String CONTRACT_EXAMPLE = """
            {"revision":7,
             "configurations":[
               {"pid":"org.secondsite.agent","properties":{"processServer":"127.0.0.1:9443","checkpointMillis":1000,"appTagMinutes":60}},
               {"factoryPid":"org.secondsite.agent.disk","name":"web01-disk0",
                "properties":{"diskId":"web01:disk0","group":"web01","source":"/dev/sdb","driver":"nbd","capture.listen":"127.0.0.1:10809"}}
             ],
             "managedFactoryPids":["org.secondsite.agent.disk"]
            }""";

    @Test
    void theContractsExampleDecodesWithTypedValues() throws Exception {
        DesiredState d = DesiredStateDecoder.decode(CONTRACT_EXAMPLE);
        assertEquals(7, d.revision());
        assertEquals(List.of("org.secondsite.agent.disk"), d.managedFactoryPids());
        DesiredState.Entry agent = d.configurations().get(0);
        assertEquals("org.secondsite.agent", agent.pid());
        assertEquals(1000L, agent.properties().get("checkpointMillis"));
        DesiredState.Entry disk = d.configurations().get(1);
        assertEquals("org.secondsite.agent.disk~web01-disk0", disk.effectivePid());
        assertEquals("127.0.0.1:10809", disk.properties().get("capture.listen"));
    }

    @Test
    void valuesMapToStringLongDoubleBooleanAndStringArrays() throws Exception {
        DesiredState d = DesiredStateDecoder.decode("""
                {"revision":1,"configurations":[{"pid":"org.secondsite.x","properties":
                {"s":"a","l":-5,"d":2.5,"e":1e3,"b":true,"f":false,"a":["x","y"],"empty":[]}}]}""");
        Map<String, Object> p = d.configurations().get(0).properties();
        assertEquals("a", p.get("s"));
        assertEquals(-5L, p.get("l"));
        assertEquals(2.5, p.get("d"));
        assertEquals(1000.0, p.get("e"));
        assertEquals(Boolean.TRUE, p.get("b"));
        assertEquals(Boolean.FALSE, p.get("f"));
        assertArrayEquals(new String[] {"x", "y"}, (String[]) p.get("a"));
        assertArrayEquals(new String[0], (String[]) p.get("empty"));
        assertEquals(List.of(), d.managedFactoryPids(), "managedFactoryPids is optional");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown top member | {'revision':1,'configurations':[],'extra':1} | unknown member 'extra'",
        "revision missing | {'configurations':[]} | desired.revision is missing",
        "revision zero | {'revision':0,'configurations':[]} | desired.revision must be an integer from 1",
        "revision text | {'revision':'7','configurations':[]} | desired.revision must be an integer",
        "revision huge | {'revision':123456789012345678901234567890,'configurations':[]} | desired.revision must be",
        "configurations missing | {'revision':1} | desired.configurations is missing",
        "configurations object | {'revision':1,'configurations':{}} | desired.configurations must be an array",
        "JAAS | {'revision':1,'configurations':[{'pid':'org.apache.karaf.jaas','properties':{}}]} | 'org.apache.karaf.jaas' is refused",
        "prefix trick | {'revision':1,'configurations':[{'pid':'org.secondsitex.a','properties':{}}]} | is refused",
        "bare prefix | {'revision':1,'configurations':[{'pid':'org.secondsite','properties':{}}]} | is refused",
        "identity | {'revision':1,'configurations':[{'pid':'org.secondsite.identity','properties':{}}]} | may not change the link's own configuration",
        "link itself | {'revision':1,'configurations':[{'pid':'org.secondsite.link','properties':{}}]} | may not change",
        "factory outside | {'revision':1,'configurations':[{'factoryPid':'org.ops4j.pax.logging','name':'a','properties':{}}]} | is refused",
        "managed outside | {'revision':1,'configurations':[],'managedFactoryPids':['org.apache.felix.x']} | managedFactoryPids[0] 'org.apache.felix.x' is refused",
        "pid and factory | {'revision':1,'configurations':[{'pid':'org.secondsite.a','factoryPid':'org.secondsite.b','name':'n','properties':{}}]} | has a pid and a factoryPid",
        "neither | {'revision':1,'configurations':[{'properties':{}}]} | has neither pid nor factoryPid",
        "factory without name | {'revision':1,'configurations':[{'factoryPid':'org.secondsite.b','properties':{}}]} | name is missing",
        "bad name | {'revision':1,'configurations':[{'factoryPid':'org.secondsite.b','name':'a~b','properties':{}}]} | name 'a~b' is invalid",
        "no properties | {'revision':1,'configurations':[{'pid':'org.secondsite.a'}]} | properties is missing",
        "null value | {'revision':1,'configurations':[{'pid':'org.secondsite.a','properties':{'k':null}}]} | properties.k must be a string, number, boolean or array of strings, was null",
        "object value | {'revision':1,'configurations':[{'pid':'org.secondsite.a','properties':{'k':{}}}]} | was an object",
        "mixed array | {'revision':1,'configurations':[{'pid':'org.secondsite.a','properties':{'k':['a',1]}}]} | properties.k[1] must be a string",
        "reserved key | {'revision':1,'configurations':[{'pid':'org.secondsite.a','properties':{'service.pid':'x'}}]} | key 'service.pid' is reserved",
        "marker key | {'revision':1,'configurations':[{'pid':'org.secondsite.a','properties':{'secondsite.managed':'x'}}]} | is reserved",
        "fileinstall key | {'revision':1,'configurations':[{'pid':'org.secondsite.a','properties':{'felix.fileinstall.filename':'x'}}]} | is reserved",
        "bad key | {'revision':1,'configurations':[{'pid':'org.secondsite.a','properties':{'a b':'x'}}]} | key 'a b' is invalid",
        "duplicate pid | {'revision':1,'configurations':[{'pid':'org.secondsite.a','properties':{}},{'pid':'org.secondsite.a','properties':{}}]} | is listed twice",
        "duplicate member | {'revision':1,'revision':2,'configurations':[]} | revision",
        "unknown entry member | {'revision':1,'configurations':[{'pid':'org.secondsite.a','properties':{},'x':1}]} | unknown member 'x'",
        "huge integer | {'revision':1,'configurations':[{'pid':'org.secondsite.a','properties':{'k':99999999999999999999}}]} | integer out of range",
        "infinite | {'revision':1,'configurations':[{'pid':'org.secondsite.a','properties':{'k':1e999}}]} | finite double",
        "trailing | {'revision':1,'configurations':[]} {} | unexpected content after the document",
        "not an object | [1] | expected a JSON object",
        "broken | {'revision':1, | not valid JSON",
    })
    void badDocumentsAreRefusedSayingWhy(String what, String json, String expected) {
        DesiredStateException e = assertThrows(DesiredStateException.class,
                () -> DesiredStateDecoder.decode(json.replace('\'', '"')), what);
        assertTrue(e.getMessage().contains(expected.replace('\'', '"')) || e.getMessage().contains(expected),
                what + ": " + e.getMessage());
    }

    @Test
    void limitsAreEnforcedBeforeValuesAreBuilt() {
        StringBuilder many = new StringBuilder("{\"revision\":1,\"configurations\":[");
        for (int i = 0; i <= DesiredStateDecoder.MAX_CONFIGURATIONS; i++) {
            many.append(i == 0 ? "" : ",").append("{\"pid\":\"org.secondsite.p").append(i).append("\",\"properties\":{}}");
        }
        many.append("]}");
        assertTrue(assertThrows(DesiredStateException.class, () -> DesiredStateDecoder.decode(many.toString()))
                .getMessage().contains("more than " + DesiredStateDecoder.MAX_CONFIGURATIONS));

        String longValue = "{\"revision\":1,\"configurations\":[{\"pid\":\"org.secondsite.a\",\"properties\":{\"k\":\""
                + "x".repeat(DesiredStateDecoder.MAX_STRING_CHARS + 1) + "\"}}]}";
        assertTrue(assertThrows(DesiredStateException.class, () -> DesiredStateDecoder.decode(longValue))
                .getMessage().contains("longer than " + DesiredStateDecoder.MAX_STRING_CHARS));

        byte[] tooBig = new byte[DesiredStateDecoder.MAX_DOCUMENT_BYTES + 1];
        assertTrue(assertThrows(DesiredStateException.class, () -> DesiredStateDecoder.decode(tooBig))
                .getMessage().contains("at most " + DesiredStateDecoder.MAX_DOCUMENT_BYTES));

        String deep = "{\"revision\":1,\"configurations\":[{\"pid\":\"org.secondsite.a\",\"properties\":{\"k\":"
                + "[".repeat(100_000) + "]".repeat(100_000) + "}}]}";
        assertTrue(assertThrows(DesiredStateException.class, () -> DesiredStateDecoder.decode(deep))
                .getMessage().contains("must be a string"), "nesting stops at the first unexpected array");
    }

    // ------------------------------------------------------------------ properties

    @Property(tries = 2000)
    void arbitraryBytesAreDecodedOrRefusedNeverAnotherFailure(@ForAll byte[] input) {
        try {
            DesiredStateDecoder.decode(input);
        } catch (DesiredStateException expected) {
            // refused with a reason
        }
    }

    @Property(tries = 1000)
    void mutatedValidDocumentsAreDecodedOrRefusedNeverAnotherFailure(@ForAll("documents") DesiredState d,
            @ForAll("mutations") int[] mutation) {
        byte[] json = encode(d);
        int at = Math.floorMod(mutation[0], json.length);
        switch (Math.floorMod(mutation[1], 3)) {
            case 0 -> json[at] = (byte) mutation[2];
            case 1 -> json = java.util.Arrays.copyOf(json, at);
            default -> {
                byte[] longer = new byte[json.length + 1];
                System.arraycopy(json, 0, longer, 0, at);
                longer[at] = (byte) mutation[2];
                System.arraycopy(json, at, longer, at + 1, json.length - at);
                json = longer;
            }
        }
        try {
            DesiredStateDecoder.decode(json);
        } catch (DesiredStateException expected) {
            // refused with a reason
        }
    }

    @Property(tries = 500)
    void validDocumentsRoundTrip(@ForAll("documents") DesiredState d) throws Exception {
        assertEquals(d, DesiredStateDecoder.decode(encode(d)));
    }

    @Property(tries = 300)
    void anUnknownMemberAnywhereIsRefused(@ForAll("documents") DesiredState d) {
        String json = new String(encode(d), StandardCharsets.UTF_8);
        String withTop = json.replaceFirst("^\\{", "{\"unexpected\":1,");
        assertThrows(DesiredStateException.class, () -> DesiredStateDecoder.decode(withTop));
        if (!d.configurations().isEmpty()) {
            String withEntry = json.replaceFirst("\\[\\{", "[{\"unexpected\":1,");
            assertThrows(DesiredStateException.class, () -> DesiredStateDecoder.decode(withEntry));
        }
    }

    @Provide
    Arbitrary<int[]> mutations() {
        return Arbitraries.integers().array(int[].class).ofSize(3);
    }

    @Provide
    Arbitrary<DesiredState> documents() {
        Arbitrary<String> segment = Arbitraries.strings().withChars("abcxyz09_-").ofMinLength(1).ofMaxLength(8);
        Arbitrary<String> pid = segment.list().ofMinSize(1).ofMaxSize(3).map(l -> "org.secondsite." + String.join(".", l))
                .filter(p -> DesiredStateDecoder.PROTECTED_PIDS.stream().noneMatch(x -> p.equals(x) || p.startsWith(x + ".")));
        Arbitrary<String> name = Arbitraries.strings().withChars("abcXYZ019._:-").ofMinLength(1).ofMaxLength(12)
                .filter(n -> DesiredStateDecoder.NAME.matcher(n).matches());
        Arbitrary<String> key = Arbitraries.strings().withChars("abcKEY09._-").ofMinLength(1).ofMaxLength(10)
                .filter(k -> DesiredStateDecoder.KEY.matcher(k).matches() && !k.startsWith("service.")
                        && !k.startsWith("felix.") && !k.startsWith("component.") && !k.equals(DesiredState.MARKER_KEY));
        Arbitrary<Object> value = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(20).map(Object.class::cast),
                Arbitraries.longs().map(Object.class::cast),
                Arbitraries.doubles().filter(Double::isFinite).map(Object.class::cast),
                Arbitraries.of(Boolean.TRUE, Boolean.FALSE).map(Object.class::cast),
                Arbitraries.strings().ofMaxLength(6).list().ofMaxSize(3).map(l -> (Object) l.toArray(String[]::new)));
        Arbitrary<Map<String, Object>> props = Arbitraries.maps(key, value).ofMaxSize(5).map(LinkedHashMap::new);
        Arbitrary<DesiredState.Entry> single = Combinators.combine(pid, props)
                .as((p, m) -> new DesiredState.Entry(p, null, null, m));
        Arbitrary<DesiredState.Entry> factory = Combinators.combine(pid, name, props)
                .as((f, n, m) -> new DesiredState.Entry(null, f, n, m));
        Arbitrary<List<DesiredState.Entry>> entries = Arbitraries.oneOf(single, factory).list().ofMaxSize(6)
                .uniqueElements(DesiredState.Entry::effectivePid);
        return Combinators.combine(Arbitraries.longs().between(1, Long.MAX_VALUE), entries,
                pid.list().ofMaxSize(3).uniqueElements())
                .as((r, e, m) -> new DesiredState(r, new ArrayList<>(e), m));
    }

    /** The document as the configuration server would write it. */
    static byte[] encode(DesiredState d) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("revision", d.revision());
            g.writeArrayFieldStart("configurations");
            for (DesiredState.Entry e : d.configurations()) {
                g.writeStartObject();
                if (e.pid() != null) {
                    g.writeStringField("pid", e.pid());
                } else {
                    g.writeStringField("factoryPid", e.factoryPid());
                    g.writeStringField("name", e.name());
                }
                g.writeObjectFieldStart("properties");
                for (var p : e.properties().entrySet()) {
                    g.writeFieldName(p.getKey());
                    Object v = p.getValue();
                    if (v instanceof String s) {
                        g.writeString(s);
                    } else if (v instanceof Long l) {
                        g.writeNumber(l);
                    } else if (v instanceof Double x) {
                        g.writeNumber(x);
                    } else if (v instanceof Boolean b) {
                        g.writeBoolean(b);
                    } else {
                        g.writeStartArray();
                        for (String s : (String[]) v) {
                            g.writeString(s);
                        }
                        g.writeEndArray();
                    }
                }
                g.writeEndObject();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("managedFactoryPids");
            for (String m : d.managedFactoryPids()) {
                g.writeString(m);
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }
}
