package org.secondsite.link.internal;

import java.time.Duration;

/**
 * A request to the configuration server that did not succeed.
 */
public final class CallFailed extends Exception {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final transient Duration retryAfter;

    /**
     * @param status the HTTP status, or 0 when no answer came (connection refused, timeout, TLS failure)
     * @param retryAfter the wait the server asked for (429 with Retry-After), or null
     * @param message what happened, with the server's problem detail when it sent one
     */
    public CallFailed(int status, Duration retryAfter, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.retryAfter = retryAfter;
    }

    /** The HTTP status, 0 when the server was not reached or its answer was unreadable. */
    public int status() {
        return status;
    }

    /** The wait the server asked for, or null. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
