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
        if (body == null || body.isBlank()) {
            throw ConfigServerException.invalid("body", "a JSON object is required as the request body");
        }
        if (body.length() > MAX_BODY_CHARS) {
            throw ConfigServerException.invalid("body", "the request body is larger than " + MAX_BODY_CHARS
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
        for (Iterator<String> names = node.fieldNames(); names.hasNext();) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw ConfigServerException.invalid(name, "unknown field '" + name + "'; expected "
                        + String.join(", ", new java.util.TreeSet<>(allowed)));
            }
        }
        return (ObjectNode) node;
    }

    static String requiredString(ObjectNode o, String field) {
        String v = optionalString(o, field, null);
        if (v == null) {
            throw ConfigServerException.invalid(field, "field '" + field + "' is required (a string)");
        }
        return v;
    }

    static String optionalString(ObjectNode o, String field, String fallback) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw ConfigServerException.invalid(field, "field '" + field + "' must be a string");
        }
        return n.textValue();
    }

    static long requiredLong(ObjectNode o, String field) {
        if (o.get(field) == null || o.get(field).isNull()) {
            throw ConfigServerException.invalid(field, "field '" + field + "' is required (an integer)");
        }
        return optionalLong(o, field, 0);
    }

    static long optionalLong(ObjectNode o, String field, long fallback) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw ConfigServerException.invalid(field, "field '" + field + "' must be an integer");
        }
        return n.longValue();
    }

    /** A long that must fit an int (the range check itself is the policy's). */
    static int toInt(String field, long v) {
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw ConfigServerException.invalid(field, field + " is out of range: " + v);
        }
        return (int) v;
    }
}
