package org.secondsite.capture.nbd.internal;

import java.io.IOException;

import org.secondsite.nbd.NbdFailure;

/**
 * A read, write or flush of the source disk failed (as opposed to the change sink refusing a change).
 * Carries the NBD error the client gets for the request and, as message, the operator-readable
 * problem that {@link SourceHealth} recorded.
 */
final class SourceFailure extends NbdFailure {
    private static final long serialVersionUID = 1L;

    /** @param nbdError the NBD error value to reply with ({@code EPERM}, {@code ENOSPC} or {@code EIO}) */
    SourceFailure(String problem, int nbdError, IOException cause) {
        super(problem, nbdError, cause);
    }
}
