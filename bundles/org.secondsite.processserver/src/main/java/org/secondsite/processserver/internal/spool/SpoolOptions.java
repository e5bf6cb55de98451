package org.secondsite.processserver.internal.spool;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of a {@link Spool}.
 *
 * @param directory where the segment files live (created if missing)
 * @param segmentSize a segment is closed and a new one started once appending would make it
 *        larger than this (a single entry larger than it gets a segment of its own)
 * @param maxBytes bound on the bytes of all segment files; an append that would exceed it
 *        throws {@link SpoolFullException}
 * @param maxEntrySize largest payload accepted by {@link Spool#append}, in bytes
 */
public record SpoolOptions(Path directory, long segmentSize, long maxBytes, int maxEntrySize) {

    public static final long DEFAULT_SEGMENT_SIZE = 64L * 1024 * 1024;
    public static final int DEFAULT_MAX_ENTRY_SIZE = 64 * 1024 * 1024;
    /** Segments above 1 GiB would make recovery and deletion needlessly coarse. */
    public static final long MAX_SEGMENT_SIZE = 1L << 30;

    public SpoolOptions {
        Objects.requireNonNull(directory, "directory");
        if (segmentSize < 4096 || segmentSize > MAX_SEGMENT_SIZE) {
            throw new IllegalArgumentException("segmentSize must be between 4096 and " + MAX_SEGMENT_SIZE
                    + " bytes, was " + segmentSize);
        }
        if (maxEntrySize < 1 || maxEntrySize > Integer.MAX_VALUE - Spool.MAX_OVERHEAD) {
            throw new IllegalArgumentException("maxEntrySize must be between 1 and "
                    + (Integer.MAX_VALUE - Spool.MAX_OVERHEAD) + " bytes, was " + maxEntrySize);
        }
        if (maxBytes < segmentSize) {
            throw new IllegalArgumentException("maxBytes (" + maxBytes + ") must be at least one segment ("
                    + segmentSize + " bytes)");
        }
    }

    /** 64 MiB segments, 64 MiB entries, the given bound. */
    public static SpoolOptions of(Path directory, long maxBytes) {
        return new SpoolOptions(directory, DEFAULT_SEGMENT_SIZE, maxBytes, DEFAULT_MAX_ENTRY_SIZE);
    }
}
