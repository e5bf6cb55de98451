package org.secondsite.nbd;

import java.io.IOException;

/**
 * A failure of a {@link org.secondsite.api.storage.BlockDevice} operation that carries the NBD error the
 * client is to get, e.g. {@link NbdProtocol#EPERM} for a device that turned read-only or
 * {@link NbdProtocol#ENOSPC} for a full one. Any other {@link IOException} of a device is answered with
 * {@link NbdProtocol#EIO} and logged at ERROR for each request; an {@code NbdFailure} is logged at DEBUG
 * only, as its device is expected to have reported the problem once already.
 */
public class NbdFailure extends IOException {
    private static final long serialVersionUID = 1L;

    private final int nbdError;

    /**
     * @param message what failed, for the operator
     * @param nbdError the NBD error value to reply with (an errno value the protocol defines, e.g. 1, 5, 28)
     * @param cause the underlying failure, or null
     * @throws IllegalArgumentException if {@code nbdError} is not positive
     */
    public NbdFailure(String message, int nbdError, Throwable cause) {
        super(message, cause);
        if (nbdError <= 0) {
            throw new IllegalArgumentException("NBD error value must be positive (e.g. 1 EPERM, 5 EIO, 28 ENOSPC), got "
                    + nbdError);
        }
        this.nbdError = nbdError;
    }

    /** The NBD error value to reply with. */
    public int nbdError() {
        return nbdError;
    }
}
