package org.secondsite.appliance.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import org.junit.jupiter.api.Test;

class JsonFieldsTest {
    @Test
    void readsTheFieldsAndNamesTheOneThatIsWrong() {
        JsonFields f = new JsonFields(Map.of("name", "n1", "writable", true, "kind", "bookmark"),
                Set.of("name", "writable", "kind", "disk"));
        assertEquals("n1", f.required("name"));
        assertEquals(Optional.empty(), f.optional("disk"));
        assertTrue(f.flag("writable"));
        assertEquals("bookmark", f.choice("kind", Set.of("bookmark", "application"), "bookmark"));
        assertEquals("field 'disk': required", assertThrows(IllegalArgumentException.class,
                () -> f.required("disk")).getMessage());
        assertEquals("field 'x': unknown; allowed fields: [a]", assertThrows(IllegalArgumentException.class,
                () -> new JsonFields(Map.of("x", 1), Set.of("a"))).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new JsonFields(Map.of("w", "yes"), Set.of("w"))
                .flag("w")).getMessage().startsWith("field 'w'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new JsonFields(Map.of("k", "other"), Set.of("k"))
                .choice("k", Set.of("a"), "a")).getMessage().startsWith("field 'k'"));
        assertFalse(new JsonFields(null, Set.of()).flag("anything"));
    }

    /** Whatever JSON-like values arrive, reading fails only with IllegalArgumentException naming a field. */
    @Property(tries = 500)
    void anyBodyIsReadOrRefusedByField(@ForAll("values") Object name, @ForAll("values") Object flag,
                                       @ForAll boolean extra) {
        Map<String, Object> body = new HashMap<>();
        body.put("name", name);
        body.put("flag", flag);
        if (extra) {
            body.put("other", 1);
        }
        try {
            JsonFields f = new JsonFields(body, Set.of("name", "flag"));
            f.optional("name");
            f.flag("flag");
            assertFalse(extra);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("field '"), e.getMessage());
        }
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<Object> values() {
        return net.jqwik.api.Arbitraries.oneOf(List.of(net.jqwik.api.Arbitraries.strings().map(s -> (Object) s),
                net.jqwik.api.Arbitraries.integers().map(i -> (Object) i),
                net.jqwik.api.Arbitraries.of(true, false).map(b -> (Object) b),
                net.jqwik.api.Arbitraries.just(List.of(1, 2)).map(l -> (Object) l)));
    }
}
