package org.secondsite.appliance.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.NoSuchElementException;

import javax.ws.rs.core.Response;

import org.junit.jupiter.api.Test;

class ProblemMapperTest {
    @Test
    void domainExceptionsBecomeProblemDetailsWithTheirStatus() {
        assertProblem(new IllegalArgumentException("export name 'a b' is invalid"), 400, "export name 'a b' is invalid");
        assertProblem(new NoSuchElementException("no recovery point 'p1'"), 404, "no recovery point 'p1'");
        assertProblem(new IllegalStateException("export name in use"), 409, "export name in use");
        Response r = new ProblemMapper().toResponse(new NullPointerException("secret internals"));
        assertEquals(500, r.getStatus());
        assertFalse(r.getEntity().toString().contains("secret internals"));
    }

    private static void assertProblem(RuntimeException e, int status, String detail) {
        Response r = new ProblemMapper().toResponse(e);
        assertEquals(status, r.getStatus());
        assertEquals(Problems.MEDIA_TYPE, r.getMediaType().toString());
        assertTrue(r.getEntity().toString().contains("\"detail\":\"" + detail.replace("\"", "\\\"") + "\""),
                r.getEntity().toString());
    }
}
