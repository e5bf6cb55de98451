package org.secondsite.nbd.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Counters of one export, updated by all its connections. */
final class NbdStatistics {
    final LongAdder writes = new LongAdder();
    final LongAdder bytesWritten = new LongAdder();
    final LongAdder reads = new LongAdder();
    final LongAdder bytesRead = new LongAdder();
    final LongAdder flushes = new LongAdder();
    final LongAdder trims = new LongAdder();
    final LongAdder zeroes = new LongAdder();
    final LongAdder rejectedRequests = new LongAdder();
    final LongAdder ioErrors = new LongAdder();
    /** Connections ended by an unexpected exception in the server (a bug; fuzz tests require 0). */
    final LongAdder internalErrors = new LongAdder();
    final AtomicLong connections = new AtomicLong();
    final LongAdder connectionsTotal = new LongAdder();

    /**
     * A snapshot: {@code writes}, {@code bytesWritten}, {@code reads}, {@code bytesRead}, {@code flushes}
     * (FLUSH commands and FUA writes), {@code trims}, {@code zeroes}, {@code rejectedRequests},
     * {@code ioErrors}, {@code internalErrors}, {@code connections} (open now) and {@code connectionsTotal}.
     */
    Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("writes", writes.sum());
        m.put("bytesWritten", bytesWritten.sum());
        m.put("reads", reads.sum());
        m.put("bytesRead", bytesRead.sum());
        m.put("flushes", flushes.sum());
        m.put("trims", trims.sum());
        m.put("zeroes", zeroes.sum());
        m.put("rejectedRequests", rejectedRequests.sum());
        m.put("ioErrors", ioErrors.sum());
        m.put("internalErrors", internalErrors.sum());
        m.put("connections", connections.get());
        m.put("connectionsTotal", connectionsTotal.sum());
        return java.util.Collections.unmodifiableMap(m);
    }
}
