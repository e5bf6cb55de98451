package org.secondsite.nbd;

import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * How a device is exported.
 *
 * @param readOnly whether the export refuses WRITE, TRIM and WRITE_ZEROES (with EPERM) and advertises
 *        {@code NBD_FLAG_READ_ONLY}; the device is then only read
 * @param observer sees each change before it is applied and acknowledged (writable exports only), or null
 * @param orderLock the lock each change is observed and applied under, or null to apply changes without one
 *        (then concurrent writes reach the device in parallel); with an observer it is never null (one is
 *        created). A reader that must see the device as the observer's stream describes it holds it.
 * @param description shown to clients asking for NBD_INFO_DESCRIPTION, or null for none
 */
public record ExportOptions(boolean readOnly, WriteObserver observer, Lock orderLock, String description) {

    /** A read-only export without description. */
    public static final ExportOptions READ_ONLY = new ExportOptions(true, null, null, null);

    /** A writable export without observer (changes go straight to the device) and without description. */
    public static final ExportOptions WRITABLE = new ExportOptions(false, null, null, null);

    /**
     * @throws IllegalArgumentException for a read-only export with an observer (there is nothing to observe)
     */
    public ExportOptions {
        if (readOnly && observer != null) {
            throw new IllegalArgumentException("a read-only export has no writes to observe: drop the write observer "
                    + "or export the device writable");
        }
        if (observer != null && orderLock == null) {
            orderLock = new ReentrantLock();
        }
    }

    /** These options with {@code observer}, observed and applied under a new lock. */
    public ExportOptions withObserver(WriteObserver observer) {
        return new ExportOptions(readOnly, observer, null, description);
    }

    /** These options with {@code observer}, observed and applied under {@code orderLock}. */
    public ExportOptions withObserver(WriteObserver observer, Lock orderLock) {
        return new ExportOptions(readOnly, observer, orderLock, description);
    }

    /** These options with {@code description}. */
    public ExportOptions withDescription(String description) {
        return new ExportOptions(readOnly, observer, orderLock, description);
    }
}
