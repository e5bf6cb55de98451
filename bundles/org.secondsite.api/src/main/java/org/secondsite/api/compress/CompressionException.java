package org.secondsite.api.compress;

import java.io.IOException;

/** A compressor could not encode or decode its input. */
public class CompressionException extends IOException {
    private static final long serialVersionUID = 1L;

    public CompressionException(String message) {
        super(message);
    }

    public CompressionException(String message, Throwable cause) {
        super(message, cause);
    }
}
