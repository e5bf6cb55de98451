package org.secondsite.nbd;

import java.io.Closeable;
import java.util.Map;

/**
 * A device served under a name by an {@link NbdServer}. Created by {@link NbdServer#export}; live until
 * {@link #close()} or until the server closes.
 */
public interface Export extends Closeable {

    /** The export name clients ask for. */
    String name();

    /** Size of the device in bytes, as advertised when the export was created. */
    long size();

    /** Whether writes are refused with EPERM. */
    boolean isReadOnly();

    /** {@code nbd://host:port/name}, for qemu, nbdinfo, nbdcopy and nbdfuse. */
    String uri();

    /**
     * Counters: {@code writes}, {@code bytesWritten}, {@code reads}, {@code bytesRead}, {@code flushes}
     * (FLUSH commands and FUA requests), {@code trims}, {@code zeroes}, {@code rejectedRequests},
     * {@code ioErrors}, {@code internalErrors}, {@code connections} (attached now) and
     * {@code connectionsTotal} (attached ever).
     */
    Map<String, Long> statistics();

    /** Whether {@link #close()} was called (or the server closed). */
    boolean isClosed();

    /**
     * Removes the export and disconnects its clients; each finishes the request it is applying first, and
     * none is applying one when this returns (waits up to 10 s per connection). The device is not closed:
     * it belongs to the caller. The name can be exported again afterwards. Idempotent.
     */
    @Override
    void close();
}
