package org.secondsite.appliance.internal.rest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * Login sessions of the REST API (the web console's): an opaque random token given after a JAAS
 * login, sent back as {@code Authorization: Bearer <token>}, valid while used at least every
 * {@link #IDLE_TIMEOUT} (each use pushes the expiry back). Only a SHA-256 of each token is kept.
 * An expired token is remembered for a day so that its user is told the session expired rather
 * than that the token is unknown. At most {@link #MAX_SESSIONS} sessions live at once; a login
 * beyond that first forgets expired sessions, then is refused.
 */
@Component(service = SessionStore.class)
public class SessionStore {
    /** Sessions end after this long without a request. */
    public static final Duration IDLE_TIMEOUT = Duration.ofMinutes(30);
    /** How long an expired token is still recognised as expired (then it is unknown). */
    static final Duration REMEMBER_EXPIRED = Duration.ofDays(1);
    static final int MAX_SESSIONS = 10_000;
    /** The challenge sent with a refused Bearer token. */
    static final String CHALLENGE = "Bearer realm=\"SecondSite\"";
    static final String EXPIRED = "session expired after " + IDLE_TIMEOUT.toMinutes()
            + " minutes without activity; log in again";

    /** A live session. */
    public record Session(String user, Set<String> roles, Instant created, Instant expiresAt) {
    }

    /** A session just created, with the token its holder must send. */
    public record Created(String token, Session session) {
    }

    private final Clock clock;
    private final Duration idle;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    @Activate
    public SessionStore() {
        this(Clock.systemUTC(), IDLE_TIMEOUT);
    }

    SessionStore(Clock clock, Duration idle) {
        this.clock = clock;
        this.idle = idle;
    }

    /** Whether an Authorization header carries a Bearer token (scheme case-insensitive). */
    static boolean isBearer(String authorization) {
        return authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7);
    }

    /**
     * Opens a session for a user the realm has just logged in.
     *
     * @throws IllegalStateException when {@link #MAX_SESSIONS} live sessions exist
     */
    public Created create(String user, Set<String> roles) {
        Instant now = clock.instant();
        if (sessions.size() >= MAX_SESSIONS) {
            purge(now);
            if (sessions.size() >= MAX_SESSIONS) {
                throw new IllegalStateException("too many open sessions (" + MAX_SESSIONS + "); try again later");
            }
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Session s = new Session(user, Set.copyOf(roles), now, now.plus(idle));
        sessions.put(hash(token), s);
        return new Created(token, s);
    }

    /**
     * Checks a {@code Bearer} Authorization header; a valid session's expiry moves to now plus the
     * idle timeout.
     */
    Authenticator.Result authenticate(String authorization) {
        if (!isBearer(authorization)) {
            return new Authenticator.Result(null, Set.of(), "a Bearer session token is required");
        }
        String token = authorization.substring(7).trim();
        if (token.isEmpty() || token.length() > 100) {
            return new Authenticator.Result(null, Set.of(), "malformed Bearer token");
        }
        String key = hash(token);
        Instant now = clock.instant();
        Session s = sessions.get(key);
        if (s == null) {
            return new Authenticator.Result(null, Set.of(), "unknown session; log in again");
        }
        if (!now.isBefore(s.expiresAt())) {
            if (now.isAfter(s.expiresAt().plus(REMEMBER_EXPIRED))) {
                sessions.remove(key, s);
                return new Authenticator.Result(null, Set.of(), "unknown session; log in again");
            }
            return new Authenticator.Result(s.user(), Set.of(), EXPIRED);
        }
        Session touched = new Session(s.user(), s.roles(), s.created(), now.plus(idle));
        sessions.replace(key, s, touched);
        return new Authenticator.Result(s.user(), s.roles(), null);
    }

    /** The live session of a Bearer Authorization header, if any (without touching it). */
    Optional<Session> current(String authorization) {
        if (!isBearer(authorization)) {
            return Optional.empty();
        }
        Session s = sessions.get(hash(authorization.substring(7).trim()));
        return s == null || !clock.instant().isBefore(s.expiresAt()) ? Optional.empty() : Optional.of(s);
    }

    /** Ends the session of a Bearer Authorization header; false if there was none. */
    boolean end(String authorization) {
        return isBearer(authorization) && sessions.remove(hash(authorization.substring(7).trim())) != null;
    }

    /** Sessions held (live and remembered expired ones). */
    int size() {
        return sessions.size();
    }

    private void purge(Instant now) {
        for (Iterator<Session> it = sessions.values().iterator(); it.hasNext();) {
            if (!now.isBefore(it.next().expiresAt())) {
                it.remove();
            }
        }
    }

    private static String hash(String token) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
