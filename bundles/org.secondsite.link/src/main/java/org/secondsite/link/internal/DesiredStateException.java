package org.secondsite.link.internal;

/** A desired-state document the link refuses, or could not apply; the message says why (sent as applyError). */
public final class DesiredStateException extends Exception {
    private static final long serialVersionUID = 1L;

    public DesiredStateException(String message) {
        super(message);
    }

    public DesiredStateException(String message, Throwable cause) {
        super(message, cause);
    }
}
