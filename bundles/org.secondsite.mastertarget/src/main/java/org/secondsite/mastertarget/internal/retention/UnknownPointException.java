package org.secondsite.mastertarget.internal.retention;

import java.util.NoSuchElementException;

/** A recovery point id that is not listed: never made, pruned, or of another disk. */
public final class UnknownPointException extends NoSuchElementException {
    private static final long serialVersionUID = 1L;

    public UnknownPointException(String message) {
        super(message);
    }
}
