package org.secondsite.appliance.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;

import org.junit.jupiter.api.Test;

class SessionStoreTest {
    /** A clock the test moves. */
    static final class MovableClock extends Clock {
        Instant now = Instant.parse("2026-03-01T10:00:00Z");

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final MovableClock clock = new MovableClock();
    private final SessionStore store = new SessionStore(clock, Duration.ofMinutes(30));

    @Test
    void aTokenAuthenticatesItsUserWithTheRolesGivenAtLogin() {
        SessionStore.Created c = store.create("alice", Set.of("operator", "viewer"));
        assertTrue(c.token().length() >= 40, c.token());
        assertEquals(clock.now.plus(Duration.ofMinutes(30)), c.session().expiresAt());
        Authenticator.Result r = store.authenticate("Bearer " + c.token());
        assertNull(r.failure());
        assertEquals("alice", r.user());
        assertEquals(Set.of("operator", "viewer"), r.roles());
        assertEquals("alice", store.authenticate("bearer  " + c.token() + " ").user());
        assertNotEquals(c.token(), store.create("alice", Set.of("viewer")).token());
    }

    @Test
    void useKeepsTheSessionAliveAndIdlenessEndsItWithAMessageSayingItExpired() {
        String auth = "Bearer " + store.create("bob", Set.of("viewer")).token();
        clock.now = clock.now.plus(Duration.ofMinutes(29));
        assertTrue(store.authenticate(auth).ok());
        clock.now = clock.now.plus(Duration.ofMinutes(29)); // 58 min after login, 29 after last use
        assertTrue(store.authenticate(auth).ok());
        assertEquals("bob", store.current(auth).orElseThrow().user());
        clock.now = clock.now.plus(Duration.ofMinutes(30));
        Authenticator.Result r = store.authenticate(auth);
        assertFalse(r.ok());
        assertTrue(r.roles().isEmpty());
        assertTrue(r.failure().contains("session expired"), r.failure());
        assertTrue(store.current(auth).isEmpty());
        // Long after, the token is forgotten: unknown, not expired.
        clock.now = clock.now.plus(SessionStore.REMEMBER_EXPIRED).plusSeconds(1);
        assertTrue(store.authenticate(auth).failure().contains("unknown session"));
        assertEquals(0, store.size());
    }

    @Test
    void logoutEndsTheSessionAndUnknownOrMalformedTokensAreRefused() {
        String auth = "Bearer " + store.create("carol", Set.of("admin")).token();
        assertTrue(store.end(auth));
        assertFalse(store.end(auth));
        assertTrue(store.authenticate(auth).failure().contains("unknown session"));
        assertTrue(store.authenticate("Bearer ").failure().contains("malformed"));
        assertTrue(store.authenticate("Bearer " + "x".repeat(200)).failure().contains("malformed"));
        assertFalse(store.authenticate("Basic YTpi").ok());
        assertFalse(store.end("Basic YTpi"));
        assertFalse(SessionStore.isBearer(null));
        assertTrue(SessionStore.isBearer("BEARER abc"));
    }
}
