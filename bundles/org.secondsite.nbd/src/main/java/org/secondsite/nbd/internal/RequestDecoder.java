package org.secondsite.nbd.internal;

import static org.secondsite.nbd.NbdProtocol.*;

import org.secondsite.nbd.NbdProtocol;

import java.nio.ByteBuffer;

/**
 * Decodes and validates the 28-byte transmission request header. Pure: no I/O, no allocation on
 * valid input. Every outcome is one of: a request to execute, a request to answer with an NBD
 * error (the stream stays in sync, a WRITE's payload is then skipped by the caller), or a fatal
 * violation after which the connection must be closed.
 */
final class RequestDecoder {
    private RequestDecoder() {
    }

    /**
     * Reads one header from {@code src} (which must hold at least {@value NbdProtocol#REQUEST_HEADER_SIZE}
     * bytes; exactly that many are consumed) into {@code r}.
     *
     * @param exportSize size of the export in bytes
     * @param readOnly whether the export refuses changes: a valid WRITE, TRIM or WRITE_ZEROES is then
     *        rejected with EPERM (a WRITE's payload is skipped by the caller)
     */
    static void decode(ByteBuffer src, long exportSize, boolean readOnly, NbdRequest r) {
        int magic = src.getInt();
        r.flags = src.getShort() & 0xffff;
        r.type = src.getShort() & 0xffff;
        r.handle = src.getLong();
        r.offset = src.getLong();
        r.length = src.getInt() & 0xffffffffL;
        r.error = 0;
        r.fatal = false;
        r.problem = null;

        if (magic != REQUEST_MAGIC) {
            r.fail(String.format("bad request magic 0x%08x, expected 0x%08x", magic, REQUEST_MAGIC));
            return;
        }
        switch (r.type) {
            case CMD_WRITE -> {
                if (r.length > MAX_PAYLOAD) {
                    // The payload follows the header; reading it to skip it would let a client make us
                    // consume up to 4 GiB, so the connection ends (the spec allows a hard disconnect).
                    r.fail("WRITE payload of " + r.length + " bytes exceeds the maximum of " + MAX_PAYLOAD
                            + " bytes; the request stream cannot be resynchronised");
                    return;
                }
                if (checkFlags(r, CMD_FLAG_FUA) && checkRange(r, exportSize, ENOSPC)) {
                    checkWritable(r, readOnly);
                }
            }
            case CMD_READ -> {
                if (!checkFlags(r, CMD_FLAG_FUA)) {
                    return;
                }
                if (r.length > MAX_PAYLOAD) {
                    r.reject(EINVAL, "READ of " + r.length + " bytes exceeds the maximum of " + MAX_PAYLOAD + " bytes");
                    return;
                }
                checkRange(r, exportSize, EINVAL);
            }
            case CMD_TRIM -> {
                if (checkFlags(r, CMD_FLAG_FUA) && checkRange(r, exportSize, ENOSPC)) {
                    checkWritable(r, readOnly);
                }
            }
            case CMD_WRITE_ZEROES -> {
                if (checkFlags(r, CMD_FLAG_FUA | CMD_FLAG_NO_HOLE) && checkRange(r, exportSize, ENOSPC)) {
                    checkWritable(r, readOnly);
                }
            }
            case CMD_FLUSH -> {
                if (checkFlags(r, CMD_FLAG_FUA) && (r.offset != 0 || r.length != 0)) {
                    r.reject(EINVAL, "FLUSH must have offset 0 and length 0, got offset "
                            + Long.toUnsignedString(r.offset) + " and length " + r.length);
                }
            }
            case CMD_DISC -> {
                // No reply is sent to DISC; offset and length are ignored.
            }
            default -> r.reject(EINVAL, "unknown or unsupported command " + commandName(r.type)
                    + "; supported: READ, WRITE, DISC, FLUSH, TRIM, WRITE_ZEROES");
        }
    }

    private static boolean checkFlags(NbdRequest r, int allowed) {
        int unknown = r.flags & ~allowed;
        if (unknown != 0) {
            r.reject(EINVAL, "command flags 0x" + Integer.toHexString(unknown) + " are not valid for "
                    + commandName(r.type) + " (allowed: 0x" + Integer.toHexString(allowed) + ")");
            return false;
        }
        return true;
    }

    /** Returns whether the range is valid; else rejects the request. */
    private static boolean checkRange(NbdRequest r, long exportSize, int errorValue) {
        if (r.length == 0) {
            r.reject(EINVAL, commandName(r.type) + " with length 0");
            return false;
        }
        if (r.offset < 0 || r.offset > exportSize || r.length > exportSize - r.offset) {
            r.reject(errorValue, commandName(r.type) + " of " + r.length + " bytes at offset "
                    + Long.toUnsignedString(r.offset) + " goes beyond the end of the export (" + exportSize + " bytes)");
            return false;
        }
        return true;
    }

    private static void checkWritable(NbdRequest r, boolean readOnly) {
        if (readOnly) {
            r.reject(EPERM, commandName(r.type) + " refused: the export is read-only");
        }
    }
}
