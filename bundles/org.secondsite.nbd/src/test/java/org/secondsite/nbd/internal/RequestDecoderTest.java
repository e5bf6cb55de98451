package org.secondsite.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.secondsite.nbd.NbdProtocol.*;

import java.nio.ByteBuffer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/** The request decoder: examples of each outcome, and fuzzing with random and mutated headers. */
class RequestDecoderTest {
    private static final long SIZE = 1L << 30;

    static ByteBuffer header(int magic, int flags, int type, long handle, long offset, long length) {
        ByteBuffer b = ByteBuffer.allocate(REQUEST_HEADER_SIZE);
        b.putInt(magic).putShort((short) flags).putShort((short) type).putLong(handle).putLong(offset).putInt((int) length);
        return b.flip();
    }

    static NbdRequest decode(ByteBuffer header) {
        return decode(header, false);
    }

    static NbdRequest decode(ByteBuffer header, boolean readOnly) {
        NbdRequest r = new NbdRequest();
        RequestDecoder.decode(header, SIZE, readOnly, r);
        assertEquals(REQUEST_HEADER_SIZE, header.position(), "the whole header is consumed");
        return r;
    }

    @Example
    void validRequestsDecode() {
        NbdRequest r = decode(header(REQUEST_MAGIC, CMD_FLAG_FUA, CMD_WRITE, 0x1122334455667788L, SIZE - 4096, 4096));
        assertEquals(CMD_WRITE, r.type);
        assertTrue(r.fua());
        assertEquals(0x1122334455667788L, r.handle);
        assertEquals(SIZE - 4096, r.offset);
        assertEquals(4096, r.length);
        assertEquals(0, r.error);
        assertFalse(r.fatal);
        assertEquals(0, decode(header(REQUEST_MAGIC, CMD_FLAG_NO_HOLE | CMD_FLAG_FUA, CMD_WRITE_ZEROES, 1, 0, 512L << 20)).error,
                "WRITE_ZEROES may exceed the maximum payload: it has none");
        assertEquals(0, decode(header(REQUEST_MAGIC, 0, CMD_READ, 1, 0, MAX_PAYLOAD)).error);
        assertEquals(0, decode(header(REQUEST_MAGIC, 0, CMD_FLUSH, 1, 0, 0)).error);
        assertEquals(0, decode(header(REQUEST_MAGIC, 0, CMD_DISC, 1, 0, 0)).error);
    }

    @Example
    void badRequestsAreRejectedWithTheSpecErrors() {
        assertEquals(ENOSPC, decode(header(REQUEST_MAGIC, 0, CMD_WRITE, 1, SIZE - 1, 2)).error);
        assertEquals(ENOSPC, decode(header(REQUEST_MAGIC, 0, CMD_TRIM, 1, SIZE, 1)).error);
        assertEquals(ENOSPC, decode(header(REQUEST_MAGIC, 0, CMD_WRITE_ZEROES, 1, -1L, 1)).error);
        assertEquals(EINVAL, decode(header(REQUEST_MAGIC, 0, CMD_READ, 1, SIZE, 1)).error);
        assertEquals(EINVAL, decode(header(REQUEST_MAGIC, 0, CMD_READ, 1, 0, MAX_PAYLOAD + 1L)).error);
        assertEquals(EINVAL, decode(header(REQUEST_MAGIC, 0, CMD_READ, 1, 0, 0)).error);
        assertEquals(EINVAL, decode(header(REQUEST_MAGIC, CMD_FLAG_NO_HOLE, CMD_WRITE, 1, 0, 1)).error);
        assertEquals(EINVAL, decode(header(REQUEST_MAGIC, 1 << 2, CMD_READ, 1, 0, 1)).error, "DF without structured replies");
        assertEquals(EINVAL, decode(header(REQUEST_MAGIC, 0, CMD_FLUSH, 1, 0, 1)).error);
        assertEquals(EINVAL, decode(header(REQUEST_MAGIC, 0, 7, 1, 0, 1)).error, "BLOCK_STATUS");
        assertEquals(EINVAL, decode(header(REQUEST_MAGIC, 0, 0xffff, 1, 0, 1)).error);
        NbdRequest r = decode(header(REQUEST_MAGIC, 0, CMD_WRITE, 1, 0, MAX_PAYLOAD + 1L));
        assertTrue(r.fatal, "an oversized WRITE payload cannot be skipped safely");
        assertTrue(r.problem.contains("exceeds"), r.problem);
        r = decode(header(0x25609514, 0, CMD_READ, 1, 0, 1));
        assertTrue(r.fatal);
        assertTrue(r.problem.contains("magic"), r.problem);
    }

    @Example
    void aReadOnlyExportRefusesChangesWithEperm() {
        assertEquals(EPERM, decode(header(REQUEST_MAGIC, 0, CMD_WRITE, 1, 0, 4096), true).error);
        assertEquals(EPERM, decode(header(REQUEST_MAGIC, CMD_FLAG_FUA, CMD_TRIM, 1, 0, 4096), true).error);
        assertEquals(EPERM, decode(header(REQUEST_MAGIC, CMD_FLAG_NO_HOLE, CMD_WRITE_ZEROES, 1, 0, 4096), true).error);
        assertTrue(decode(header(REQUEST_MAGIC, 0, CMD_WRITE, 1, 0, 4096), true).problem.contains("read-only"));
        assertEquals(0, decode(header(REQUEST_MAGIC, 0, CMD_READ, 1, 0, 4096), true).error);
        assertEquals(0, decode(header(REQUEST_MAGIC, 0, CMD_FLUSH, 1, 0, 0), true).error);
        assertEquals(ENOSPC, decode(header(REQUEST_MAGIC, 0, CMD_WRITE, 1, SIZE, 1), true).error,
                "a range error is reported first");
        assertTrue(decode(header(REQUEST_MAGIC, 0, CMD_WRITE, 1, 0, MAX_PAYLOAD + 1L), true).fatal);
    }

    /** Whatever the header, a read-only export never gets a change to execute. */
    @Property(tries = 3000)
    void aReadOnlyExportNeverExecutesAChange(@ForAll("validHeaders") byte[] valid, @ForAll("mutations") int[] mutation) {
        byte[] bytes = valid.clone();
        for (int i = 0; i + 1 < mutation.length; i += 2) {
            bytes[mutation[i] % REQUEST_HEADER_SIZE] ^= (byte) mutation[i + 1];
        }
        NbdRequest r = decode(ByteBuffer.wrap(bytes), true);
        if (!r.fatal && r.error == 0) {
            assertTrue(r.type == CMD_READ || r.type == CMD_FLUSH || r.type == CMD_DISC, r.toString());
        }
        if (!r.fatal && r.error != 0) {
            assertTrue(r.error == EINVAL || r.error == ENOSPC || r.error == EPERM, "error " + r.error);
        }
    }

    @Property(tries = 3000)
    void randomHeadersNeverBreakTheDecoder(@ForAll @Size(REQUEST_HEADER_SIZE) byte[] bytes) {
        NbdRequest r = decode(ByteBuffer.wrap(bytes));
        checkOutcome(r);
        if (ByteBuffer.wrap(bytes).getInt() != REQUEST_MAGIC) {
            assertTrue(r.fatal, "bad magic is fatal");
        }
    }

    @Property(tries = 3000)
    void mutatedValidHeadersNeverBreakTheDecoder(@ForAll("validHeaders") byte[] valid,
            @ForAll("mutations") int[] mutation) {
        byte[] bytes = valid.clone();
        for (int i = 0; i + 1 < mutation.length; i += 2) {
            bytes[mutation[i] % REQUEST_HEADER_SIZE] ^= (byte) mutation[i + 1];
        }
        NbdRequest r = decode(ByteBuffer.wrap(bytes));
        checkOutcome(r);
        if (!r.fatal) {
            assertEquals(REQUEST_MAGIC, ByteBuffer.wrap(bytes).getInt());
        }
    }

    /** Exactly one outcome, and an executable request is always inside the export and the limits. */
    private static void checkOutcome(NbdRequest r) {
        if (r.fatal) {
            assertNotNull(r.problem);
            assertEquals(0, r.error);
            return;
        }
        if (r.error != 0) {
            assertTrue(r.error == EINVAL || r.error == ENOSPC, "error " + r.error);
            assertNotNull(r.problem);
            return;
        }
        switch (r.type) {
            case CMD_READ, CMD_WRITE, CMD_TRIM, CMD_WRITE_ZEROES -> {
                assertTrue(r.offset >= 0 && r.length >= 1 && r.offset + r.length <= SIZE, r.toString());
                if (r.type == CMD_READ || r.type == CMD_WRITE) {
                    assertTrue(r.length <= MAX_PAYLOAD, r.toString());
                }
            }
            case CMD_FLUSH -> assertTrue(r.offset == 0 && r.length == 0);
            case CMD_DISC -> {
                return; // no reply to DISC: its flags, offset and length are not checked
            }
            default -> throw new AssertionError("executable unknown command " + r);
        }
        assertEquals(0, r.flags & ~(CMD_FLAG_FUA | CMD_FLAG_NO_HOLE), "only known flags pass");
    }

    @Provide
    Arbitrary<byte[]> validHeaders() {
        Arbitrary<Integer> type = Arbitraries.of(CMD_READ, CMD_WRITE, CMD_FLUSH, CMD_TRIM, CMD_WRITE_ZEROES, CMD_DISC);
        Arbitrary<Long> offset = Arbitraries.longs().between(0, SIZE - 1);
        Arbitrary<Integer> length = Arbitraries.integers().between(1, 1 << 20);
        Arbitrary<Integer> flags = Arbitraries.of(0, CMD_FLAG_FUA);
        return net.jqwik.api.Combinators.combine(type, offset, length, flags).as((t, o, l, f) -> {
            long len = t == CMD_FLUSH || t == CMD_DISC ? 0 : Math.min(l, SIZE - o);
            long off = t == CMD_FLUSH || t == CMD_DISC ? 0 : o;
            return header(REQUEST_MAGIC, f, t, o * 31, off, len).array();
        });
    }

    @Provide
    Arbitrary<int[]> mutations() {
        return Arbitraries.integers().between(0, 255).array(int[].class).ofMinSize(2).ofMaxSize(8);
    }
}
