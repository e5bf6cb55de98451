package org.secondsite.link.internal;

import org.slf4j.Logger;

/**
 * Logs a failure once per change of state: the same problem repeating every heartbeat is logged
 * the first time only, a different one is logged again, and the return to normal is logged once.
 */
final class ProblemLog {
    private final Logger log;
    private String current;

    ProblemLog(Logger log) {
        this.log = log;
    }

    /** Logs {@code message} at ERROR if it differs from the problem logged last. */
    void error(String message) {
        error(message, message);
    }

    /**
     * Logs {@code message} at ERROR if {@code kind} differs from the kind of problem logged last
     * (a server's detail may name the time: the kind, such as the HTTP status, stays the same).
     */
    synchronized void error(String kind, String message) {
        if (!kind.equals(current)) {
            current = kind;
            log.error(message);
        }
    }

    /** Logs {@code message} at WARN if {@code kind} differs from the kind of problem logged last. */
    synchronized void warn(String kind, String message) {
        if (!kind.equals(current)) {
            current = kind;
            log.warn(message);
        }
    }

    /** Ends the problem, logging {@code recovered} at INFO if there was one. */
    synchronized void clear(String recovered) {
        if (current != null) {
            current = null;
            log.info(recovered);
        }
    }

    synchronized String current() {
        return current;
    }
}
