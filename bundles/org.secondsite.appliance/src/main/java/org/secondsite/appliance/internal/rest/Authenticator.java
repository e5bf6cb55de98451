package org.secondsite.appliance.internal.rest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HTTP Basic credentials checked against a login function (JAAS in production), with a
 * short cache of successful logins so that frequent callers (heartbeats, a console
 * polling) do not pay a login each time. The cache key holds a SHA-256 of the password,
 * never the password.
 */
final class Authenticator {
    /** Logs a user in; returns the user's roles or throws if the credentials are refused. */
    interface Login {
        Set<String> login(String user, char[] password) throws Exception;
    }

    /** Outcome of checking an Authorization header. */
    record Result(String user, Set<String> roles, String failure) {
        boolean ok() {
            return failure == null;
        }
    }

    private record Cached(Set<String> roles, long expiresAtMillis) {
    }

    private final Login login;
    private final Duration ttl;
    private final Clock clock;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    Authenticator(Login login, Duration ttl, Clock clock) {
        this.login = login;
        this.ttl = ttl;
        this.clock = clock;
    }

    Result authenticate(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            return new Result(null, Set.of(), "credentials required");
        }
        if (!authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return new Result(null, Set.of(), "only HTTP Basic authentication is supported");
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return new Result(null, Set.of(), "malformed Basic credentials");
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0) {
            return new Result(null, Set.of(), "malformed Basic credentials");
        }
        String user = decoded.substring(0, colon);
        String password = decoded.substring(colon + 1);
        String key = user + '\0' + sha256(password);
        long now = clock.millis();
        Cached hit = cache.get(key);
        if (hit != null && hit.expiresAtMillis > now) {
            return new Result(user, hit.roles, null);
        }
        try {
            Set<String> roles = Set.copyOf(login.login(user, password.toCharArray()));
            if (cache.size() > 10_000) {
                cache.clear();
            }
            cache.put(key, new Cached(roles, now + ttl.toMillis()));
            return new Result(user, roles, null);
        } catch (Exception e) {
            cache.remove(key);
            return new Result(user, Set.of(), "invalid user name or password");
        }
    }

    private static String sha256(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
