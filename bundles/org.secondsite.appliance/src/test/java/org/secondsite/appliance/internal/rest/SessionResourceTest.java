package org.secondsite.appliance.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import javax.security.auth.login.FailedLoginException;
import javax.ws.rs.core.Response;

import org.junit.jupiter.api.Test;

class SessionResourceTest {
    private final SessionStore store = new SessionStore(new SessionStoreTest.MovableClock(), Duration.ofMinutes(30));
    private final SessionResource resource = new SessionResource(store, (user, password) -> {
        if (user.equals("admin") && new String(password).equals("s3cret")) {
            return Set.of("admin", "operator", "viewer", "ssh");
        }
        if (user.equals("sshonly") && new String(password).equals("pw")) {
            return Set.of("ssh");
        }
        throw new FailedLoginException("refused");
    });

    private static Map<String, Object> body(String user, String password) {
        Map<String, Object> b = new HashMap<>();
        b.put("user", user);
        b.put("password", password);
        return b;
    }

    @Test
    void aLoginOpensASessionWithTheApplianceRolesOnly() {
        Response r = resource.create(body("admin", "s3cret"));
        assertEquals(201, r.getStatus());
        SessionResource.SessionView v = (SessionResource.SessionView) r.getEntity();
        assertEquals("admin", v.user());
        assertEquals(Set.of("admin", "operator", "viewer"), v.roles());
        assertEquals(1800, v.idleTimeoutSeconds());
        assertTrue(store.authenticate("Bearer " + v.token()).ok());
        SessionResource.SessionView current = resource.current("Bearer " + v.token());
        assertNull(current.token());
        assertEquals("admin", current.user());
        assertEquals(204, resource.end("Bearer " + v.token()).getStatus());
        assertTrue(store.authenticate("Bearer " + v.token()).failure().contains("unknown"));
    }

    @Test
    void wrongCredentialsAre401AndAUserWithoutApplianceRoleIs403() {
        Response wrong = resource.create(body("admin", "nope"));
        assertEquals(401, wrong.getStatus());
        assertTrue(wrong.getEntity().toString().contains("invalid user name or password"));
        assertEquals(null, wrong.getHeaderString("WWW-Authenticate"), "no Basic challenge: the browser would prompt");
        Response noRole = resource.create(body("sshonly", "pw"));
        assertEquals(403, noRole.getStatus());
        assertTrue(noRole.getEntity().toString().contains("none of the roles"));
        assertEquals(0, store.size());
    }

    @Test
    void badBodiesNameTheField() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resource.create(Map.of("user", "admin")))
                .getMessage().startsWith("field 'password': required"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resource.create(null))
                .getMessage().startsWith("field 'user': required"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> resource.create(Map.of("user", "a", "password", "b", "extra", "c"))).getMessage()
                .startsWith("field 'extra': unknown"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> resource.create(body("a".repeat(300), "b"))).getMessage().startsWith("field 'user'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resource.end("Basic YTpi")).getMessage()
                .contains("no session"));
    }
}
