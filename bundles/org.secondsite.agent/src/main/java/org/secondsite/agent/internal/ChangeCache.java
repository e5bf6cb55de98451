package org.secondsite.agent.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.TreeMap;

import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.storage.DiskFiles;
import org.secondsite.wire.BatchDecoder;
import org.secondsite.wire.BatchEncoder;
import org.secondsite.wire.Compressors;
import org.secondsite.wire.WireFormatException;

/**
 * Tier 2 of change tracking for one disk: sealed, not yet numbered batches that did not fit
 * in memory, appended in order to segment files under the agent's data directory and read
 * back, oldest first, when memory frees up.
 *
 * <p>Each entry is one batch in the wire format (BATCH frame, uncompressed, CRC32C over the
 * frame and per record), so reading back checks it whole. The index (where each entry lies)
 * is kept in memory only: the cache does not survive a restart, and need not, because every
 * region its entries touch stays marked in the dirty-region log until the process server
 * acknowledges it; after a crash those regions are replayed from the source instead. For the
 * same reason nothing here is forced to disk.
 *
 * <p>Space: the bytes of the segment files count against {@code capacity}; a segment is
 * deleted once every entry in it was read back. Appends and removals happen under the
 * agent's lock; {@link #read} may run concurrently with them (positional reads of entries
 * already written).
 */
final class ChangeCache implements Closeable {
    static final String SEGMENT_PREFIX = "segment-";
    static final String SEGMENT_SUFFIX = ".batches";

    /** Where one cached batch lies, and what the agent needs to know of it without reading it. */
    record Entry(long segment, long offset, int length, long cost, long maxStamp, Instant firstWrite) {
    }

    private final Path dir;
    private final long capacity;
    private final long segmentBytes;
    private final BatchEncoder encoder = new BatchEncoder();
    private final BatchDecoder decoder = new BatchDecoder(name -> Compressors.NONE_NAME.equals(name) ? Compressors.NONE : null);
    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private final TreeMap<Long, FileChannel> segments = new TreeMap<>();
    private ByteBuffer frame = ByteBuffer.allocate(0);
    private ByteBuffer readBuffer = ByteBuffer.allocate(0);
    private long nextSegment;
    private long writeOffset;
    private long fileBytes;
    private boolean closed;

    /**
     * @param dir the disk's cache folder; whatever it holds is deleted (left over from before a restart)
     * @param capacity most bytes of segment files; 0 disables the cache
     */
    ChangeCache(Path dir, long capacity) throws IOException {
        this.dir = dir;
        this.capacity = capacity;
        this.segmentBytes = Math.max(1L << 20, Math.min(64L << 20, capacity / 8));
        deleteAll(dir);
    }

    long capacity() {
        return capacity;
    }

    synchronized boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Bytes the segment files take. */
    synchronized long bytes() {
        return fileBytes;
    }

    synchronized int entries() {
        return entries.size();
    }

    synchronized Entry head() {
        return entries.peekFirst();
    }

    /**
     * Appends {@code batch} (its sequence is a placeholder; the real one is given when it is read
     * back). Returns the entry, or {@code null} when it does not fit in the capacity.
     *
     * @throws IOException if the segment cannot be written (the batch is not in the cache)
     */
    synchronized Entry append(DeltaBatch batch, long cost, long maxStamp) throws IOException {
        if (closed || capacity == 0) {
            return null;
        }
        int max = BatchEncoder.maxFrameLength(batch, Compressors.NONE);
        if (fileBytes + max > capacity) {
            return null;
        }
        if (frame.capacity() < max) {
            frame = ByteBuffer.allocate(max);
        }
        frame.clear();
        int len;
        try {
            len = encoder.encode(batch, Compressors.NONE, frame);
        } catch (CompressionException e) {
            throw new IOException("change cache: cannot encode batch: " + e.getMessage(), e);
        }
        frame.flip();
        FileChannel ch = segments.isEmpty() || writeOffset >= segmentBytes ? newSegment() : segments.lastEntry().getValue();
        long segment = segments.lastKey();
        long at = writeOffset;
        DiskFiles.writeFully(ch, at, frame);
        writeOffset += len;
        fileBytes += len;
        Entry e = new Entry(segment, at, len, cost, maxStamp, batch.firstWrite());
        entries.addLast(e);
        return e;
    }

    /**
     * Reads {@code entry} back (checks its CRCs). Safe to call without the agent's lock.
     *
     * @throws IOException if it cannot be read or fails a check ({@link WireFormatException})
     */
    DeltaBatch read(Entry entry) throws IOException {
        FileChannel ch;
        ByteBuffer buf;
        synchronized (this) {
            ch = segments.get(entry.segment());
            if (ch == null || closed) {
                throw new IOException("change cache: segment " + entry.segment() + " is gone");
            }
            if (readBuffer.capacity() < entry.length()) {
                readBuffer = ByteBuffer.allocate(entry.length()); // our own index: at most one frame
            }
            buf = readBuffer;
            readBuffer = ByteBuffer.allocate(0); // taken: a concurrent reader allocates its own
        }
        try {
            buf.clear().limit(entry.length());
            DiskFiles.readFully(ch, entry.offset(), buf);
            buf.flip();
            return decoder.decode(buf);
        } finally {
            synchronized (this) {
                if (readBuffer.capacity() < buf.capacity()) {
                    readBuffer = buf;
                }
            }
        }
    }

    /** Drops the oldest entry, which must be {@code entry}; deletes its segment once fully read. */
    synchronized void removeHead(Entry entry) throws IOException {
        if (entries.peekFirst() != entry) {
            throw new IllegalStateException("change cache: " + entry + " is not the oldest entry");
        }
        entries.pollFirst();
        Entry next = entries.peekFirst();
        boolean writing = entry.segment() == segments.lastKey();
        if (next == null && writing) {
            // empty: start the segment over instead of growing it
            FileChannel ch = segments.get(entry.segment());
            ch.truncate(0);
            fileBytes -= writeOffset;
            writeOffset = 0;
        } else if (!writing && (next == null || next.segment() != entry.segment())) {
            deleteSegment(entry.segment());
        }
    }

    /** Drops every entry and deletes the segments. */
    synchronized void clear() throws IOException {
        entries.clear();
        for (Long s : new java.util.ArrayList<>(segments.keySet())) {
            deleteSegment(s);
        }
        writeOffset = 0;
        fileBytes = 0;
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        clear();
        closed = true;
        Files.deleteIfExists(dir);
    }

    private FileChannel newSegment() throws IOException {
        Files.createDirectories(dir);
        long id = nextSegment++;
        FileChannel ch = FileChannel.open(dir.resolve(SEGMENT_PREFIX + id + SEGMENT_SUFFIX), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        segments.put(id, ch);
        writeOffset = 0;
        return ch;
    }

    private void deleteSegment(long id) throws IOException {
        FileChannel ch = segments.remove(id);
        if (ch != null) {
            fileBytes -= ch.size();
            ch.close();
            Files.deleteIfExists(dir.resolve(SEGMENT_PREFIX + id + SEGMENT_SUFFIX));
        }
    }

    /** Deletes the cache folder's segment files (and the folder). */
    static void deleteAll(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                if (Files.isDirectory(p)) {
                    deleteAll(p);
                } else {
                    Files.deleteIfExists(p);
                }
            }
        }
        Files.deleteIfExists(dir);
    }
}
