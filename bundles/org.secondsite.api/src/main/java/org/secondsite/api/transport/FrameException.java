package org.secondsite.api.transport;

import java.io.IOException;

/** A peer sent bytes that are not a valid frame; the connection is unusable afterwards. */
public class FrameException extends IOException {
    private static final long serialVersionUID = 1L;

    public FrameException(String message) {
        super(message);
    }
}
