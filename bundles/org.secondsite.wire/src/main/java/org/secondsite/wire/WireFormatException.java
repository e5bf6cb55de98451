package org.secondsite.wire;

import java.io.IOException;

/**
 * Bytes received from a peer are not a valid frame of the protocol. The message says which
 * field was wrong, where, and what was expected. After it the connection should be closed
 * (see docs/PROTOCOL.md §2).
 */
public class WireFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public WireFormatException(String message) {
        super(message);
    }

    public WireFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
