package org.secondsite.configserver.internal.rest;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import javax.ws.rs.core.Response;
import javax.ws.rs.core.SecurityContext;

import org.secondsite.configserver.internal.ConfigServerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What the configuration server's resources share: request bodies read as JSON here (so that a
 * bad one is answered with the offending field named), and refusals and failures answered as
 * {@code application/problem+json}.
 */
final class Rest {
    static final String PROBLEM_JSON = "application/problem+json";
    /** Request bodies are small documents; a larger one is refused before parsing. */
    static final int MAX_BODY_CHARS = 64 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(Rest.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The body of a resource method, which may be refused or fail. */
    @FunctionalInterface
    interface Call {
        Response run() throws Exception;
    }

    private Rest() {
    }

    /** Runs a call, turning refusals into problem details and failures into a logged 500. */
    static Response answer(Call call) {
        try {
            return call.run();
        } catch (ConfigServerException e) {
            Response.ResponseBuilder b = problem(e.kind().status(), e.getMessage(), e.field());
            if (e.retryAfterSeconds() > 0) {
                b.header("Retry-After", Long.toString(e.retryAfterSeconds()));
            }
            return b.build();
        } catch (Exception e) {
            LOG.error("Configuration server request failed", e);
            return problem(500, "the configuration server failed: " + e.getMessage(), null).build();
        }
    }

    static Response.ResponseBuilder problem(int status, String detail, String field) {
        Map<String, Object> body = new LinkedHashMap<>();
        Response.Status s = Response.Status.fromStatusCode(status);
        body.put("type", "about:blank");
        body.put("title", s == null ? (status == 429 ? "Too Many Requests" : "Error") : s.getReasonPhrase());
        body.put("status", status);
        body.put("detail", detail);
        if (field != null) {
            body.put("field", field);
        }
        try {
            return Response.status(status).type(PROBLEM_JSON).entity(MAPPER.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String user(SecurityContext security) {
        return security == null || security.getUserPrincipal() == null ? "unknown"
                : security.getUserPrincipal().getName();
    }

    /**
     * Parses a request body that must be one JSON object with only the {@code allowed} fields.
     *
     * @throws ConfigServerException (invalid) naming {@code body} or the unknown field
     */
    static ObjectNode object(String body, Set<String> allowed) {
        return object(body, allowed, MAX_BODY_CHARS);
    }

    /** As {@link #object(String, Set)}, for a body of at most {@code maxChars} characters. */
    static ObjectNode object(String body, Set<String> allowed, int maxChars) {
        if (body == null || body.isBlank()) {
            throw ConfigServerException.invalid("body", "a JSON object is required as the request body");
        }
        if (body.length() > maxChars) {
            throw ConfigServerException.invalid("body", "the request body is larger than " + maxChars
                    + " characters");
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            throw ConfigServerException.invalid("body", "the request body is not valid JSON: "
                    + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw ConfigServerException.invalid("body", "the request body must be a JSON object");
        }
        return onlyFields((ObjectNode) node, "", allowed);
    }

    /**
     * A member that must be a JSON object with only the {@code allowed} fields (any when null); null
     * when it is absent (or JSON null) and not required.
     */
    static ObjectNode objectField(ObjectNode o, String prefix, String field, Set<String> allowed, boolean required) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                throw ConfigServerException.invalid(prefix + field, "field '" + prefix + field
                        + "' is required (an object)");
            }
            return null;
        }
        if (!n.isObject()) {
            throw ConfigServerException.invalid(prefix + field, "field '" + prefix + field + "' must be an object");
        }
        return allowed == null ? (ObjectNode) n : onlyFields((ObjectNode) n, prefix + field + ".", allowed);
    }

    /** A member that must be a JSON array of at most {@code max} elements; empty when absent or null. */
    static ArrayNode arrayField(ObjectNode o, String prefix, String field, int max) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return MAPPER.createArrayNode();
        }
        if (!n.isArray()) {
            throw ConfigServerException.invalid(prefix + field, "field '" + prefix + field + "' must be an array");
        }
        if (n.size() > max) {
            throw ConfigServerException.invalid(prefix + field, "field '" + prefix + field + "' has " + n.size()
                    + " entries; at most " + max);
        }
        return (ArrayNode) n;
    }

    /** Checks that {@code node} has only the {@code allowed} fields, naming an unknown one with its path. */
    static ObjectNode onlyFields(ObjectNode node, String prefix, Set<String> allowed) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext();) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw ConfigServerException.invalid(prefix + name, "unknown field '" + prefix + name + "'; expected "
                        + String.join(", ", new java.util.TreeSet<>(allowed)));
            }
        }
        return node;
    }

    static String requiredString(ObjectNode o, String field) {
        return requiredString(o, "", field);
    }

    /** A required string member; {@code prefix} is the JSON path of {@code o} named in errors ({@code metrics.}). */
    static String requiredString(ObjectNode o, String prefix, String field) {
        String v = optionalString(o, prefix, field, null);
        if (v == null) {
            throw ConfigServerException.invalid(prefix + field, "field '" + prefix + field + "' is required (a string)");
        }
        return v;
    }

    static String optionalString(ObjectNode o, String field, String fallback) {
        return optionalString(o, "", field, fallback);
    }

    static String optionalString(ObjectNode o, String prefix, String field, String fallback) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw ConfigServerException.invalid(prefix + field, "field '" + prefix + field + "' must be a string");
        }
        return n.textValue();
    }

    static long requiredLong(ObjectNode o, String field) {
        return requiredLong(o, "", field);
    }

    static long requiredLong(ObjectNode o, String prefix, String field) {
        if (o.get(field) == null || o.get(field).isNull()) {
            throw ConfigServerException.invalid(prefix + field, "field '" + prefix + field
                    + "' is required (an integer)");
        }
        return optionalLong(o, prefix, field, 0);
    }

    static long optionalLong(ObjectNode o, String field, long fallback) {
        return optionalLong(o, "", field, fallback);
    }

    static long optionalLong(ObjectNode o, String prefix, String field, long fallback) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw ConfigServerException.invalid(prefix + field, "field '" + prefix + field
                    + "' must be an integer (64 bits)");
        }
        return n.longValue();
    }

    /** An optional finite number; null when absent or JSON null. */
    static Double optionalDouble(ObjectNode o, String prefix, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        double v = n.isNumber() ? n.doubleValue() : Double.NaN;
        if (!Double.isFinite(v)) {
            throw ConfigServerException.invalid(prefix + field, "field '" + prefix + field + "' must be a finite number");
        }
        return v;
    }

    static boolean optionalBoolean(ObjectNode o, String prefix, String field, boolean fallback) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw ConfigServerException.invalid(prefix + field, "field '" + prefix + field
                    + "' must be true or false");
        }
        return n.booleanValue();
    }

    /** A long that must fit an int (the range check itself is the policy's). */
    static int toInt(String field, long v) {
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw ConfigServerException.invalid(field, field + " is out of range: " + v);
        }
        return (int) v;
    }
}
