package org.secondsite.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Sees every change a client makes to a writable export <em>before</em> it reaches the device and before
 * it is acknowledged: the hook of change capture (CDP). Each change is passed to the observer and then
 * applied to the device under the export's order lock ({@link ExportOptions#orderLock()}), so the sequence
 * of states the device passes through is exactly the sequence of changes the observer saw, whatever the
 * number of connections; a change whose reply a client received was observed before any change that client
 * issued after seeing the reply.
 *
 * <p>If the observer throws, the device is left untouched and the client gets the error
 * ({@link NbdFailure#nbdError()} for an {@link NbdFailure}, else EIO). If the device then refuses a change
 * the observer already took, {@link #refused} is called, still under the lock.
 *
 * <p>WRITE_ZEROES and TRIM ranges are passed in pieces of at most {@link NbdProtocol#MAX_PAYLOAD} bytes,
 * each observed and then applied before the next. A TRIM is passed to the observer only: the device keeps
 * its bytes (the protocol lets a server ignore a trim; {@code BlockDevice} has no discard).
 */
public interface WriteObserver {

    /**
     * A WRITE of {@code data.remaining()} bytes at {@code offset}. The buffer is the server's and is reused
     * after the call: keep a copy, not the buffer. Its position and limit are restored after the call.
     */
    void write(long offset, ByteBuffer data) throws IOException;

    /** A WRITE_ZEROES piece: the range will read as zeros. */
    void zero(long offset, long length) throws IOException;

    /** A TRIM piece: the device is not changed. */
    void trim(long offset, long length) throws IOException;

    /**
     * The device failed to apply a change this observer already took ({@code failure} is what the client
     * gets): the device may or may not hold the change in {@code [offset, offset + length)}. Called under
     * the order lock. The default does nothing.
     */
    default void refused(long offset, long length, IOException failure) {
        // nothing to undo by default
    }

    /**
     * Called after the device was flushed for a FLUSH or a FUA request (outside the order lock): every
     * change observed before is durable in the device, and should now be in the observer's store too.
     * The default does nothing.
     */
    default void flushed() throws IOException {
        // nothing to make durable by default
    }
}
