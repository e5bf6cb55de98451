package org.secondsite.appliance.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

class AuthenticatorTest {

    private final AtomicInteger logins = new AtomicInteger();
    private final MutableClock clock = new MutableClock();
    private final Authenticator auth = new Authenticator((user, pw) -> {
        logins.incrementAndGet();
        if (user.equals("alice") && new String(pw).equals("s3cret:with:colons")) {
            return Set.of("viewer", "operator");
        }
        throw new SecurityException("refused");
    }, Duration.ofSeconds(60), clock);

    static String basic(String userColonPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void validCredentialsGiveTheUsersRoles() {
        Authenticator.Result r = auth.authenticate(basic("alice:s3cret:with:colons"));
        assertTrue(r.ok());
        assertEquals("alice", r.user());
        assertEquals(Set.of("viewer", "operator"), r.roles());
    }

    @Test
    void successfulLoginsAreCachedForTheirTimeToLiveOnly() {
        auth.authenticate(basic("alice:s3cret:with:colons"));
        auth.authenticate(basic("alice:s3cret:with:colons"));
        assertEquals(1, logins.get());
        clock.advance(Duration.ofSeconds(61));
        auth.authenticate(basic("alice:s3cret:with:colons"));
        assertEquals(2, logins.get());
    }

    @Test
    void aWrongPasswordIsNeverServedFromTheCache() {
        auth.authenticate(basic("alice:s3cret:with:colons"));
        Authenticator.Result r = auth.authenticate(basic("alice:guess"));
        assertFalse(r.ok());
        assertEquals("invalid user name or password", r.failure());
        assertEquals(2, logins.get());
    }

    @Test
    void missingOrMalformedHeadersAreRefusedWithTheReason() {
        assertEquals("credentials required", auth.authenticate(null).failure());
        assertEquals("credentials required", auth.authenticate("  ").failure());
        assertEquals("only HTTP Basic authentication is supported", auth.authenticate("Bearer abc").failure());
        assertEquals("malformed Basic credentials", auth.authenticate("Basic %%%").failure());
        assertEquals("malformed Basic credentials", auth.authenticate(basic("no-colon")).failure());
        assertEquals("malformed Basic credentials", auth.authenticate(basic(":empty-user")).failure());
        assertEquals(0, logins.get());
    }

    @Property(tries = 500)
    void anyHeaderIsAnsweredWithoutException(@ForAll String header) {
        Authenticator.Result r = auth.authenticate(header);
        assertFalse(r.ok() && !"alice".equals(r.user()));
    }

    static final class MutableClock extends Clock {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

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
}
