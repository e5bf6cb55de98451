package org.secondsite.appliance.rest;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checked access to a flat JSON object received as a {@code Map}: an unknown field, a missing
 * required one or a value of the wrong type is an {@link IllegalArgumentException} whose message
 * names the field ("field 'kind': must be ..."), which the appliance answers with 400.
 */
public final class JsonFields {
    private final Map<String, Object> body;

    /**
     * @param body the request body; {@code null} (no body) counts as an empty object
     * @param allowed the fields the request may carry
     */
    public JsonFields(Map<String, Object> body, Set<String> allowed) {
        this.body = body == null ? Map.of() : body;
        for (String k : this.body.keySet()) {
            if (!allowed.contains(k)) {
                throw new IllegalArgumentException("field '" + k + "': unknown; allowed fields: " + new TreeSet<>(allowed));
            }
        }
    }

    /** A required non-empty string. */
    public String required(String field) {
        return optional(field).orElseThrow(() -> new IllegalArgumentException("field '" + field + "': required"));
    }

    /** A non-empty string if present. */
    public Optional<String> optional(String field) {
        Object v = body.get(field);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof String s) || s.isEmpty()) {
            throw new IllegalArgumentException("field '" + field + "': must be a non-empty string");
        }
        return Optional.of(s);
    }

    /** A boolean, {@code false} if absent. */
    public boolean flag(String field) {
        Object v = body.get(field);
        if (v == null) {
            return false;
        }
        if (!(v instanceof Boolean b)) {
            throw new IllegalArgumentException("field '" + field + "': must be true or false");
        }
        return b;
    }

    /** One of {@code choices} (compared exactly), {@code fallback} if absent. */
    public String choice(String field, Set<String> choices, String fallback) {
        String v = optional(field).orElse(fallback);
        if (!choices.contains(v)) {
            throw new IllegalArgumentException("field '" + field + "': must be one of " + new TreeSet<>(choices)
                    + ", got '" + v + "'");
        }
        return v;
    }
}
