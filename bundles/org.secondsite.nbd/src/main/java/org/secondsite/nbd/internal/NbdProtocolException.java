package org.secondsite.nbd.internal;

import java.io.IOException;

/**
 * A violation of the NBD protocol by the client that leaves no way to go on with the connection
 * (bad magic, unknown client flags, a WRITE payload too large to read): the server closes it.
 */
final class NbdProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    NbdProtocolException(String message) {
        super(message);
    }
}
