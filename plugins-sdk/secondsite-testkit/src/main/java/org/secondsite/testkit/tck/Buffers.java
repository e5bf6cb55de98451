package org.secondsite.testkit.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The kinds of {@link ByteBuffer} a plugin must accept, and guarded destination windows that
 * reveal writes outside a buffer's bounds. Package-private helper of the TCKs.
 */
final class Buffers {

    /** Bytes of known content around a window; a write outside the window changes one of them. */
    static final int GUARD = 64;
    private static final byte GUARD_BYTE = (byte) 0xA5;
    private static final byte NOISE_BYTE = (byte) 0x5A;

    private Buffers() {
    }

    /** How a buffer handed to a plugin is made. */
    enum Kind {
        /** {@code ByteBuffer.wrap(array)}: position 0, array offset 0. */
        HEAP(false, false, false),
        /** A direct buffer at position 0. */
        DIRECT(true, false, false),
        /** A read-only view of a heap buffer (no accessible array). */
        READ_ONLY_HEAP(false, true, false),
        /** A read-only view of a direct buffer. */
        READ_ONLY_DIRECT(true, true, false),
        /** A heap slice with a non-zero array offset, a non-zero position and bytes after its limit. */
        SLICED_HEAP(false, false, true),
        /** A direct slice with a non-zero position and bytes after its limit. */
        SLICED_DIRECT(true, false, true);

        final boolean direct;
        final boolean readOnly;
        final boolean sliced;

        Kind(boolean direct, boolean readOnly, boolean sliced) {
            this.direct = direct;
            this.readOnly = readOnly;
            this.sliced = sliced;
        }

        /** A buffer whose remaining bytes are {@code data}; sliced kinds carry unrelated bytes around them. */
        ByteBuffer source(byte[] data) {
            int before = sliced ? 13 : 0;
            int after = sliced ? 11 : 0;
            ByteBuffer whole = direct ? ByteBuffer.allocateDirect(before + data.length + after)
                    : ByteBuffer.allocate(before + data.length + after);
            for (int i = 0; i < before; i++) {
                whole.put(i, NOISE_BYTE);
            }
            whole.put(before, data);
            for (int i = 0; i < after; i++) {
                whole.put(before + data.length + i, NOISE_BYTE);
            }
            ByteBuffer b;
            if (sliced) {
                // slice at 6: array offset 6, then position 7 inside the slice, limit before the trailing noise
                b = whole.slice(6, whole.capacity() - 6);
                b.position(before - 6).limit(before - 6 + data.length);
            } else {
                b = whole;
            }
            return readOnly ? b.asReadOnlyBuffer() : b;
        }

        /** A writable destination with {@code room} bytes remaining; read-only kinds are not destinations. */
        Window window(int room) {
            if (readOnly) {
                throw new IllegalStateException(this + " is not a destination kind");
            }
            return new Window(this, room);
        }
    }

    /** Destination kinds (writable). */
    static final Kind[] DESTINATIONS = {Kind.HEAP, Kind.DIRECT, Kind.SLICED_HEAP, Kind.SLICED_DIRECT};

    /**
     * A destination buffer of {@code room} remaining bytes. Sliced kinds sit inside a larger
     * buffer filled with guard bytes before the position and after the limit.
     */
    static final class Window {
        final Kind kind;
        final ByteBuffer whole;
        final ByteBuffer buffer;
        /** Index in {@link #whole} of the buffer's initial position. */
        final int start;
        final int room;

        Window(Kind kind, int room) {
            this.kind = kind;
            this.room = room;
            int guard = kind.sliced ? GUARD : 0;
            int size = guard + room + guard;
            whole = kind.direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
            for (int i = 0; i < guard; i++) {
                whole.put(i, GUARD_BYTE);
                whole.put(guard + room + i, GUARD_BYTE);
            }
            start = guard;
            if (kind.sliced) {
                // non-zero array offset (heap), non-zero position, guard bytes after the limit but inside capacity
                ByteBuffer s = whole.slice(guard - 7, room + 7 + guard / 2);
                s.position(7).limit(7 + room);
                buffer = s;
            } else {
                buffer = whole;
            }
        }

        /** Index of {@link #buffer}'s current position in {@link #whole}. */
        int offsetOf(ByteBuffer b) {
            return start + b.position() - initialPosition();
        }

        int initialPosition() {
            return kind.sliced ? 7 : 0;
        }

        /** The {@code length} bytes starting at the window's start. */
        byte[] written(int length) {
            byte[] out = new byte[length];
            whole.get(start, out);
            return out;
        }

        /** Fails if anything outside the window changed. */
        void assertGuardsIntact(String what) {
            if (!kind.sliced) {
                return;
            }
            byte[] guard = new byte[GUARD];
            Arrays.fill(guard, GUARD_BYTE);
            byte[] before = new byte[GUARD];
            byte[] after = new byte[GUARD];
            whole.get(0, before);
            whole.get(start + room, after);
            assertEquals(-1, Arrays.mismatch(guard, before), what + ": wrote before the destination's position ("
                    + kind + ")");
            assertEquals(-1, Arrays.mismatch(guard, after), what + ": wrote past the destination's limit (" + kind + ")");
        }
    }

    static byte[] remaining(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
