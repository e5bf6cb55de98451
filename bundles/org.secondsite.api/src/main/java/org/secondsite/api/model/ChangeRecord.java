package org.secondsite.api.model;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One change to a disk, in the order in which the write was acknowledged to the
 * workload. Records of a disk are applied in that order (write-order fidelity), so any
 * prefix of the stream is a state the source disk really passed through.
 *
 * <p>For {@link ChangeKind#WRITE} the record carries exactly {@code length} bytes of data;
 * for the other kinds it carries none. The data buffer is shared, not copied: callers must
 * not modify it after handing the record over, and readers get a read-only duplicate.
 */
public final class ChangeRecord {
    /** Largest range one record may cover: 64 MiB. Larger writes are split. */
    public static final int MAX_LENGTH = 64 << 20;

    private final ChangeKind kind;
    private final long offset;
    private final int length;
    private final ByteBuffer data;

    private ChangeRecord(ChangeKind kind, long offset, int length, ByteBuffer data) {
        this.kind = Objects.requireNonNull(kind, "kind");
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0: " + offset);
        }
        if (length <= 0 || length > MAX_LENGTH) {
            throw new IllegalArgumentException("length must be 1.." + MAX_LENGTH + ": " + length);
        }
        if (offset + length < 0) {
            throw new IllegalArgumentException("offset + length overflows: " + offset + " + " + length);
        }
        this.offset = offset;
        this.length = length;
        this.data = data;
    }

    /**
     * A write of {@code data.remaining()} bytes at {@code offset}. The buffer's content
     * between position and limit is taken without copying.
     */
    public static ChangeRecord write(long offset, ByteBuffer data) {
        Objects.requireNonNull(data, "data");
        return new ChangeRecord(ChangeKind.WRITE, offset, data.remaining(), data.slice().asReadOnlyBuffer());
    }

    /** A range that now reads as zeros. */
    public static ChangeRecord zero(long offset, int length) {
        return new ChangeRecord(ChangeKind.ZERO, offset, length, null);
    }

    /** A discarded range. */
    public static ChangeRecord trim(long offset, int length) {
        return new ChangeRecord(ChangeKind.TRIM, offset, length, null);
    }

    /** A range known to have changed whose data must be fetched by resync. */
    public static ChangeRecord dirty(long offset, int length) {
        return new ChangeRecord(ChangeKind.DIRTY, offset, length, null);
    }

    public ChangeKind kind() {
        return kind;
    }

    /** Byte offset on the disk. */
    public long offset() {
        return offset;
    }

    /** Number of bytes covered, 1 to {@link #MAX_LENGTH}. */
    public int length() {
        return length;
    }

    /** First byte after the range. */
    public long end() {
        return offset + length;
    }

    /** Whether data travels with this record (only {@link ChangeKind#WRITE}). */
    public boolean hasData() {
        return data != null;
    }

    /**
     * The written bytes as a fresh read-only buffer positioned at 0 with
     * {@code remaining() == length()}.
     *
     * @throws IllegalStateException for records without data
     */
    public ByteBuffer data() {
        if (data == null) {
            throw new IllegalStateException(kind + " record carries no data");
        }
        return data.duplicate();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChangeRecord r && r.kind == kind && r.offset == offset && r.length == length
                && Objects.equals(r.data, data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, offset, length);
    }

    @Override
    public String toString() {
        return kind + "[" + offset + "+" + length + "]";
    }
}
