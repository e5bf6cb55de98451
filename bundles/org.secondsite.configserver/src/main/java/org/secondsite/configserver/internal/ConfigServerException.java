package org.secondsite.configserver.internal;

/**
 * A request the configuration server refuses, with the reason a caller can act on. REST maps the
 * kind to its status code (and names {@link #field()} in the problem details); the shell prints
 * the message.
 */
public final class ConfigServerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why a request was refused. */
    public enum Kind {
        /** Malformed or invalid input (400). */
        INVALID(400),
        /** Credentials accepted but not sufficient, or a wrong registration passphrase (403). */
        FORBIDDEN(403),
        /** No such object (404). */
        NOT_FOUND(404),
        /** The request conflicts with the catalogue's state (409). */
        CONFLICT(409),
        /** Too many failed attempts from this client (429). */
        TOO_MANY_REQUESTS(429),
        /** Something the server needs is missing now, e.g. its certificate authority (503). */
        UNAVAILABLE(503);

        private final int status;

        Kind(int status) {
            this.status = status;
        }

        /** The HTTP status code of this kind. */
        public int status() {
            return status;
        }
    }

    private final Kind kind;
    private final String field;
    private final long retryAfterSeconds;

    private ConfigServerException(Kind kind, String field, String message, long retryAfterSeconds) {
        super(message);
        this.kind = kind;
        this.field = field;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** Bad input in {@code field} (a JSON field or option name), with what was expected. */
    public static ConfigServerException invalid(String field, String message) {
        return new ConfigServerException(Kind.INVALID, field, message, 0);
    }

    public static ConfigServerException notFound(String message) {
        return new ConfigServerException(Kind.NOT_FOUND, null, message, 0);
    }

    public static ConfigServerException conflict(String message) {
        return new ConfigServerException(Kind.CONFLICT, null, message, 0);
    }

    public static ConfigServerException forbidden(String message) {
        return new ConfigServerException(Kind.FORBIDDEN, null, message, 0);
    }

    public static ConfigServerException tooManyRequests(String message, long retryAfterSeconds) {
        return new ConfigServerException(Kind.TOO_MANY_REQUESTS, null, message, retryAfterSeconds);
    }

    public static ConfigServerException unavailable(String message) {
        return new ConfigServerException(Kind.UNAVAILABLE, null, message, 0);
    }

    public Kind kind() {
        return kind;
    }

    /** The offending field, or null when the refusal is not about one field. */
    public String field() {
        return field;
    }

    /** For {@link Kind#TOO_MANY_REQUESTS}: seconds until a new attempt is accepted. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
