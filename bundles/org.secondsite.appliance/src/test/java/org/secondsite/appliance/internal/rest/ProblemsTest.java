package org.secondsite.appliance.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

class ProblemsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void writesAProblemDocument() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("title", "Unauthorized");
        m.put("status", 401);
        assertEquals("{\"title\":\"Unauthorized\",\"status\":401}", Problems.toJson(m));
    }

    @Property(tries = 1000)
    void anyTextSurvivesAsValidJson(@ForAll String detail) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("detail", detail);
        assertEquals(detail, JSON.readTree(Problems.toJson(m)).get("detail").asText());
    }
}
