package org.secondsite.processserver.internal.spool;

import java.io.IOException;

/**
 * A segment holds bytes that are not a valid entry where later data proves the spool had
 * been durable: media corruption or outside tampering, not a torn write. The spool refuses to
 * open rather than silently skipping acknowledged data.
 */
public final class SpoolCorruptedException extends IOException {
    private static final long serialVersionUID = 1L;

    SpoolCorruptedException(String message) {
        super(message);
    }
}
