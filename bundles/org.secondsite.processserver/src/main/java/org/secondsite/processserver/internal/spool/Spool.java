package org.secondsite.processserver.internal.spool;

import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The process server's durable spool: an append-only log of opaque records (encoded delta
 * batches), each keyed by (disk id, sequence), kept in segment files under one directory.
 *
 * <h2>Format</h2>
 * Segment files are named by the global position of their first byte ({@code
 * 00000000000000000000.spool}); positions grow across segments and never repeat while any
 * segment exists. An entry is:
 * <pre>
 *   int   bodyLength                 big endian, bytes after this 8-byte prefix
 *   int   crc32c(body)
 *   body: long  durableMark          every position below it was durable when this entry was encoded
 *         long  sequence
 *         long  timestamp            supplied by the caller (e.g. the batch's newest write time)
 *         byte  diskIdLength         1..255, unsigned
 *         ...   diskId               UTF-8
 *         ...   payload
 * </pre>
 *
 * <h2>Durability and group commit</h2>
 * {@link #append} returns once the entry is on disk (fdatasync); {@link #appendNoWait} queues
 * the entry the same way and {@link #awaitDurable} waits for it later. Concurrent appenders share
 * fsyncs: each encodes its entry into a shared pending buffer under the lock; whichever
 * appender finds no flush running takes the whole pending group, writes it with one write
 * and one fsync, publishes the new durable position and wakes the others. Appenders that
 * arrive during a flush form the next group.
 *
 * <h2>Recovery</h2>
 * On open every segment is scanned and its CRCs checked. A sealed (non-last) segment must be
 * entirely valid. In the last segment an invalid or incomplete entry at position {@code p}
 * is a torn write if no valid entry's durable mark exceeds {@code p} — then the file is
 * truncated at {@code p}; otherwise bytes that had been durable are damaged and opening fails
 * with {@link SpoolCorruptedException}. (Damage inside the last one or two commit groups, whose
 * durability no later entry attests, cannot be told from a torn write and is truncated, with a
 * warning.)
 *
 * <h2>A full filesystem</h2>
 * When a write fails because the filesystem is full (ENOSPC, or a quota), the segment files
 * are truncated back to their durable length and the group is kept in memory, in order, as
 * <em>stalled</em>: nothing is lost and nothing becomes durable out of order. Appends are then
 * refused with {@link SpoolFullException} (as for the size bound), and waits for durability
 * that the stall blocks fail with it at once rather than hang. Each later append, wait or
 * release retries the stalled group once a retry is due (every {@value #STALL_RETRY_MILLIS}
 * ms, or at once when a release deletes a segment), so the spool resumes by itself when space
 * returns. Any other write error leaves the spool unusable until reopened.
 *
 * <h2>Release</h2>
 * {@link #release} marks entries acknowledged downstream; a segment whose entries are all
 * released is deleted. Releases are kept in memory only: after a restart, entries of
 * segments that were not yet deleted are delivered again (at-least-once; downstream
 * de-duplicates by (disk id, sequence)). Sequences are strictly increasing per disk.
 */
public final class Spool implements Closeable {

    static final int PREFIX = 8;
    static final int FIXED_BODY = 8 + 8 + 8 + 1;
    static final int MAX_DISK_ID_BYTES = 255;
    /** Framing bytes around a payload, at most. */
    static final int MAX_OVERHEAD = PREFIX + FIXED_BODY + MAX_DISK_ID_BYTES;
    private static final int MIN_BODY = FIXED_BODY + 1;
    private static final String SUFFIX = ".spool";
    private static final Pattern SEGMENT_NAME = Pattern.compile("\\d{20}\\.spool");
    private static final int RECYCLE_LIMIT = 32 * 1024 * 1024;
    private static final int GROUP_BYTES = 16 * 1024 * 1024;
    static final long STALL_RETRY_MILLIS = 500;
    private static final System.Logger LOG = System.getLogger(Spool.class.getName());

    private final SpoolOptions options;
    private final Path dir;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final CRC32C crc = new CRC32C();

    // ---- guarded by lock ----
    private final TreeMap<Long, Segment> segments = new TreeMap<>();
    private final Map<String, ArrayDeque<Entry>> unreleased = new HashMap<>();
    private final Map<String, Long> lastSequence = new HashMap<>();
    private final List<Segment> deferredDeletes = new ArrayList<>();
    private Segment active;
    private long writeEnd;
    private long durableEnd;
    private long diskBytes;
    private long backlogBytes;
    private long entryCount;
    private Group pending;
    /** Group buffers written and free again (a group fills while the previous one is written). */
    private final ArrayDeque<ByteBuffer> spares = new ArrayDeque<>();
    private boolean flushing;
    private IOException failure;
    /** A group whose write hit a full filesystem; written again before anything newer. */
    private Group stalled;
    private String stallReason;
    private long nextRetryNanos;
    private boolean closed;
    private long flushes;
    /** The segment whose channel the flusher writes to; only the flusher changes it. */
    private Segment writing;

    private Spool(SpoolOptions options) {
        this.options = options;
        this.dir = options.directory();
    }

    /**
     * Opens the spool in {@code options.directory()}, creating it if needed, and recovers
     * its content.
     *
     * @throws SpoolCorruptedException if durable entries are damaged
     */
    public static Spool open(SpoolOptions options) throws IOException {
        Objects.requireNonNull(options, "options");
        Spool spool = new Spool(options);
        spool.recover();
        return spool;
    }

    // ------------------------------------------------------------------ append

    /**
     * Appends one entry and returns once it is durable.
     *
     * @param diskId the disk the record belongs to: 1 to 255 bytes of UTF-8
     * @param sequence must be above every sequence appended for {@code diskId} so far
     * @param timestamp the caller's timestamp (e.g. epoch millis of the batch), reported by
     *        {@link SpoolFigures#oldestTimestamp()}
     * @param payload the record: its remaining bytes, at most {@code maxEntrySize}; not modified
     * @return the entry's position
     * @throws SpoolFullException if the entry would exceed the size bound (nothing written)
     * @throws IOException if the spool is closed or a write failed (the spool is then unusable)
     */
    public long append(String diskId, long sequence, long timestamp, ByteBuffer payload) throws IOException {
        lock.lock();
        try {
            long position = writeEnd; // where the entry starts
            flushUpTo(enqueueLocked(diskId, sequence, timestamp, payload));
            return position;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Appends one entry without waiting for it to become durable: the entry is copied into
     * the pending group at once (so {@code payload} may be reused on return) and in order
     * with every other append; {@link #awaitDurable} with the returned end position waits
     * for it. Lets a caller prepare its next entry while this one is being written, and lets
     * consecutive entries of one caller share an fsync. Readers and {@link #release} see an
     * entry only once it is durable.
     *
     * @return the position just after the entry (what to pass to {@link #awaitDurable})
     * @throws SpoolFullException if the entry would exceed the size bound (nothing written)
     * @throws IOException if the spool is closed or a write failed
     * @see #append
     */
    public long appendNoWait(String diskId, long sequence, long timestamp, ByteBuffer payload) throws IOException {
        lock.lock();
        try {
            return enqueueLocked(diskId, sequence, timestamp, payload);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Returns once everything appended before {@code end} is durable, flushing pending
     * entries (as group-commit leader) if no flush is running.
     *
     * @throws IOException if a write failed (the entries are then not durable)
     */
    public void awaitDurable(long end) throws IOException {
        lock.lock();
        try {
            flushUpTo(end);
        } finally {
            lock.unlock();
        }
    }

    /** Registers and encodes one entry into the pending group; returns its end position. Lock held. */
    private long enqueueLocked(String diskId, long sequence, long timestamp, ByteBuffer payload) throws IOException {
        byte[] id = checkDiskId(diskId);
        int payloadLength = payload.remaining();
        if (payloadLength > options.maxEntrySize()) {
            throw new IllegalArgumentException("entry payload of " + payloadLength + " bytes for disk '" + diskId
                    + "' exceeds the spool's maxEntrySize of " + options.maxEntrySize() + " bytes");
        }
        int frame = PREFIX + FIXED_BODY + id.length + payloadLength;
        ensureUsable();
        if (stalled != null && !retryStalled()) { // retrying releases the lock: check everything after it
            throw new SpoolFullException(figuresLocked(), frame, stallReason);
        }
        ensureUsable();
        Long last = lastSequence.get(diskId);
        if (last != null && sequence <= last) {
            throw new IllegalArgumentException("sequence " + sequence + " for disk '" + diskId
                    + "' is not above the last spooled sequence " + last);
        }
        if (diskBytes + frame > options.maxBytes()) {
            throw new SpoolFullException(figuresLocked(), frame);
        }

        Segment seg = segmentFor(frame);
        long position = writeEnd;
        Group g = groupWithRoom(frame);
        int from = g.buf.position();
        encode(g.buf, frame, id, sequence, timestamp, payload);
        g.add(seg, from, g.buf.position());
        Entry e = new Entry(position, frame, diskId, sequence, timestamp, seg);
        seg.entries.add(e);
        seg.size += frame;
        seg.unreleasedCount++;
        writeEnd += frame;
        g.end = writeEnd;
        diskBytes += frame;
        backlogBytes += frame;
        entryCount++;
        unreleased.computeIfAbsent(diskId, k -> new ArrayDeque<>()).addLast(e);
        lastSequence.put(diskId, sequence);
        return writeEnd;
    }

    private static byte[] checkDiskId(String diskId) {
        Objects.requireNonNull(diskId, "diskId");
        byte[] id = diskId.getBytes(StandardCharsets.UTF_8);
        if (id.length == 0 || id.length > MAX_DISK_ID_BYTES) {
            throw new IllegalArgumentException("disk id must be 1 to " + MAX_DISK_ID_BYTES + " bytes of UTF-8, was "
                    + id.length + " bytes");
        }
        return id;
    }

    private void ensureUsable() throws IOException {
        if (closed) {
            throw new IOException("spool in " + dir + " is closed");
        }
        if (failure != null) {
            throw new IOException("spool in " + dir + " is unusable after a failed write; reopen it to recover",
                    failure);
        }
    }

    /** The segment the next entry of {@code frame} bytes goes to, starting a new one if needed. */
    private Segment segmentFor(int frame) {
        if (active != null && active.size > 0 && active.size + frame > options.segmentSize()) {
            active = null; // sealed: the flusher closes its file when it moves on
        }
        if (active == null) {
            active = new Segment(writeEnd, dir.resolve(fileName(writeEnd)), false);
            segments.put(active.base, active);
        }
        return active;
    }

    private Group groupWithRoom(int frame) {
        if (pending == null) {
            ByteBuffer buf = spares.pollFirst();
            if (buf == null || buf.capacity() < frame) {
                // room for a few batches: a group rarely needs to grow (a new direct buffer is zeroed)
                buf = ByteBuffer.allocateDirect(Math.max(frame, GROUP_BYTES));
            }
            pending = new Group(buf.clear());
        } else if (pending.buf.remaining() < frame) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(
                    (int) Math.min(Integer.MAX_VALUE - 8, Math.max(2L * pending.buf.capacity(),
                            (long) pending.buf.position() + frame)));
            pending.buf.flip();
            bigger.put(pending.buf);
            pending.buf = bigger;
        }
        return pending;
    }

    private void encode(ByteBuffer buf, int frame, byte[] id, long sequence, long timestamp, ByteBuffer payload) {
        int start = buf.position();
        buf.putInt(frame - PREFIX);
        buf.putInt(0); // CRC, filled below
        buf.putLong(durableEnd);
        buf.putLong(sequence);
        buf.putLong(timestamp);
        buf.put((byte) id.length);
        buf.put(id);
        buf.put(payload.duplicate());
        crc.reset();
        crc.update(buf.duplicate().limit(buf.position()).position(start + PREFIX));
        buf.putInt(start + 4, (int) crc.getValue());
    }

    /** Group commit: returns once {@code target} is durable, flushing pending groups as leader when needed. */
    private void flushUpTo(long target) throws IOException {
        while (durableEnd < target) {
            if (failure != null) {
                throw new IOException("spool write failed; the entry is not durable", failure);
            }
            if (flushing) {
                changed.awaitUninterruptibly();
                continue;
            }
            if (stalled != null) {
                if (!retryStalled()) {
                    throw new SpoolFullException(figuresLocked(), 0, stallReason);
                }
                continue;
            }
            Group g = pending;
            pending = null;
            writeLocked(g);
        }
    }

    /** Whether a write error means the filesystem (or the owner's quota) is full. */
    static boolean noSpace(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Writes the stalled group again if a retry is due. Lock held, no flush running.
     *
     * @return whether the stall is over
     */
    private boolean retryStalled() throws IOException {
        if (stalled == null) {
            return true;
        }
        if (flushing || closed || System.nanoTime() - nextRetryNanos < 0) {
            return false;
        }
        Group g = stalled;
        stalled = null;
        writeLocked(g);
        if (stalled == null && failure == null) {
            LOG.log(Level.INFO, "spool in " + dir + ": space is back, the stalled entries are durable");
        }
        return stalled == null;
    }

    /** Writes one group as the single flusher, releasing the lock meanwhile. Lock held, no flush running. */
    private void writeLocked(Group g) {
        flushing = true;
        {
            IOException error = null;
            lock.unlock();
            try {
                writeGroup(g);
            } catch (IOException e) {
                error = e;
            } catch (RuntimeException | Error e) {
                error = new IOException("spool write failed: " + e, e);
            } finally {
                lock.lock();
            }
            flushing = false;
            if (error != null && noSpace(error)) {
                // the flusher truncated the files back: keep the group, in order, for a retry
                if (stallReason == null || stalled == null) {
                    LOG.log(Level.WARNING, "spool in " + dir + ": the filesystem is full (" + error.getMessage()
                            + "); refusing appends and retrying until space returns");
                }
                stalled = g;
                stallReason = "the spool's filesystem is full (" + error.getMessage() + ")";
                nextRetryNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STALL_RETRY_MILLIS);
                runDeferredDeletes();
            } else if (error != null) {
                failure = error;
                LOG.log(Level.ERROR, "spool in " + dir + " failed to write; it refuses appends until reopened", error);
            } else {
                durableEnd = g.end;
                flushes++;
                if (g.buf.capacity() <= RECYCLE_LIMIT && spares.size() < 2) {
                    spares.addLast(g.buf);
                }
                runDeferredDeletes();
            }
            changed.signalAll();
        }
    }

    /**
     * Runs without the lock, by the single flusher. On failure every segment file it touched is
     * truncated back to its length before this group, so the group can be written again.
     */
    private void writeGroup(Group g) throws IOException {
        java.util.LinkedHashMap<Segment, Long> before = new java.util.LinkedHashMap<>();
        try {
            writeParts(g, before);
        } catch (IOException | RuntimeException e) {
            for (Map.Entry<Segment, Long> b : before.entrySet()) {
                try {
                    FileChannel w = b.getKey().writer;
                    if (w != null) {
                        w.truncate(b.getValue());
                        w.position(b.getValue());
                    }
                } catch (IOException t) {
                    e.addSuppressed(t);
                    throw new IOException("spool write failed and the segment " + b.getKey().file
                            + " could not be truncated back: " + t.getMessage(), e);
                }
            }
            throw e;
        }
    }

    private void writeParts(Group g, Map<Segment, Long> before) throws IOException {
        ByteBuffer all = g.buf; // parts are absolute ranges of it: a stalled group is written again as is
        for (Part p : g.parts) {
            if (writing != p.segment) {
                if (writing != null && writing.writer != null) {
                    writing.writer.force(false);
                    writing.writer.close();
                    writing.writer = null;
                }
                writing = p.segment;
                if (writing.writer == null) {
                    if (writing.fileExists) {
                        writing.writer = FileChannel.open(writing.file, StandardOpenOption.WRITE);
                        writing.writer.position(writing.writer.size());
                    } else {
                        writing.writer = FileChannel.open(writing.file, StandardOpenOption.CREATE_NEW,
                                StandardOpenOption.WRITE);
                        writing.fileExists = true;
                        fsyncDirectory();
                    }
                }
            }
            before.putIfAbsent(writing, writing.writer.position());
            ByteBuffer slice = all.duplicate().limit(p.to).position(p.from);
            while (slice.hasRemaining()) {
                writing.writer.write(slice);
            }
        }
        writing.writer.force(false);
    }

    private void fsyncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    // ------------------------------------------------------------------ release

    /**
     * Marks the entries of {@code diskId} with a sequence up to {@code uptoSequence} as
     * acknowledged downstream (only durable entries can be). Segments left with no unreleased
     * entry are deleted.
     *
     * @return the number of entries released by this call
     */
    public int release(String diskId, long uptoSequence) throws IOException {
        lock.lock();
        try {
            ensureUsable();
            ArrayDeque<Entry> queue = unreleased.get(diskId);
            if (queue == null) {
                return 0;
            }
            int released = 0;
            List<Segment> emptied = new ArrayList<>();
            while (!queue.isEmpty() && queue.peekFirst().sequence <= uptoSequence
                    && queue.peekFirst().position + queue.peekFirst().frameSize <= durableEnd) {
                Entry e = queue.pollFirst();
                e.released = true;
                backlogBytes -= e.frameSize;
                entryCount--;
                released++;
                if (--e.segment.unreleasedCount == 0) {
                    emptied.add(e.segment);
                }
            }
            if (queue.isEmpty()) {
                unreleased.remove(diskId);
            }
            for (Segment s : emptied) {
                if (flushing) {
                    deferredDeletes.add(s);
                } else {
                    delete(s);
                }
            }
            return released;
        } finally {
            lock.unlock();
        }
    }

    private void runDeferredDeletes() {
        for (Segment s : deferredDeletes) {
            try {
                delete(s);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "cannot delete released spool segment " + s.file, e);
            }
        }
        deferredDeletes.clear();
    }

    /** Deletes a fully released, durable segment. Called with the lock held and no flush running. */
    private void delete(Segment s) throws IOException {
        if (s.deleted || s.unreleasedCount != 0 || s.entries.isEmpty() || s.base + s.size > durableEnd) {
            return;
        }
        if (s.writer != null) {
            s.writer.close();
            s.writer = null;
        }
        if (writing == s) {
            writing = null;
        }
        if (active == s) {
            active = null; // the next append starts a new segment at writeEnd
        }
        Files.deleteIfExists(s.file);
        s.deleted = true;
        nextRetryNanos = System.nanoTime(); // space returned: a stalled group may be written at once
        segments.remove(s.base);
        diskBytes -= s.size;
        changed.signalAll();
    }

    // ------------------------------------------------------------------ figures

    /** A snapshot of backlog, size and durability figures. */
    public SpoolFigures figures() {
        lock.lock();
        try {
            return figuresLocked();
        } finally {
            lock.unlock();
        }
    }

    private SpoolFigures figuresLocked() {
        long oldest = Long.MIN_VALUE;
        boolean any = false;
        for (ArrayDeque<Entry> q : unreleased.values()) {
            Entry head = q.peekFirst();
            if (head != null && (!any || head.timestamp < oldest)) {
                oldest = head.timestamp;
                any = true;
            }
        }
        return new SpoolFigures(backlogBytes, entryCount, oldest, diskBytes, options.maxBytes(), segments.size(),
                durableEnd);
    }

    /** The highest sequence spooled for {@code diskId}, if any entry of it is still in the spool's memory. */
    public OptionalLong lastSequence(String diskId) {
        lock.lock();
        try {
            Long s = lastSequence.get(diskId);
            return s == null ? OptionalLong.empty() : OptionalLong.of(s);
        } finally {
            lock.unlock();
        }
    }

    /** Number of group fsyncs performed since open (each made one or more appends durable). */
    public long flushCount() {
        lock.lock();
        try {
            return flushes;
        } finally {
            lock.unlock();
        }
    }

    /** The position of the oldest unreleased entry, or the durable end when everything is released. */
    public long firstUnreleasedPosition() {
        lock.lock();
        try {
            long first = durableEnd;
            for (ArrayDeque<Entry> q : unreleased.values()) {
                Entry head = q.peekFirst();
                if (head != null && head.position < first) {
                    first = head.position;
                }
            }
            return first;
        } finally {
            lock.unlock();
        }
    }

    /** The position just past the last durable entry. */
    public long durablePosition() {
        lock.lock();
        try {
            return durableEnd;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until an entry at or after {@code position} is durable, the spool closes, or the
     * timeout passes.
     *
     * @return whether data beyond {@code position} is durable
     */
    public boolean awaitData(long position, long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lock();
        try {
            while (durableEnd <= position && !closed && failure == null) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = changed.awaitNanos(nanos);
            }
            return durableEnd > position;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ reading

    /** A reader starting at {@code position}, which must be the start of an entry (or the durable end). */
    public Reader reader(long position) {
        return new Reader(position);
    }

    /** A reader starting at the oldest unreleased entry. */
    public Reader readerFromOldestUnreleased() {
        return new Reader(firstUnreleasedPosition());
    }

    /**
     * Iterates durable entries in append order, skipping released ones and segments deleted
     * meanwhile. Not thread-safe; use one reader per forwarding thread.
     */
    public final class Reader implements Closeable {
        private long position;
        private Segment open;
        private FileChannel channel;

        private ByteBuffer reusable;
        private boolean reuse;

        private Reader(long position) {
            this.position = position;
        }

        /**
         * From now on reads every entry into one buffer, grown as needed, instead of a new one
         * each: an entry's payload is then valid only until the next {@link #next()}. For a
         * forwarder that sends each entry before reading the next.
         *
         * @return this reader
         */
        public Reader reuseBuffer() {
            reuse = true;
            return this;
        }

        /** Where the next entry will be read from. */
        public long position() {
            return position;
        }

        /**
         * The next durable, unreleased entry, or {@code null} when the reader has caught up
         * (call again later, e.g. after {@link Spool#awaitData}).
         *
         * @throws SpoolCorruptedException if the entry's bytes fail their check
         */
        public SpoolEntry next() throws IOException {
            for (;;) {
                Segment seg;
                Entry e;
                lock.lock();
                try {
                    if (closed) {
                        throw new IOException("spool in " + dir + " is closed");
                    }
                    if (position >= durableEnd) {
                        return null;
                    }
                    Map.Entry<Long, Segment> floor = segments.floorEntry(position);
                    if (floor == null || position >= floor.getValue().base + floor.getValue().size) {
                        Map.Entry<Long, Segment> higher = segments.higherEntry(position);
                        if (higher == null) {
                            return null;
                        }
                        position = higher.getKey(); // the segment it pointed into was released and deleted
                        continue;
                    }
                    seg = floor.getValue();
                    int idx = indexOf(seg.entries, position);
                    if (idx < 0) {
                        throw new IllegalArgumentException("position " + position + " is not the start of an entry"
                                + " of spool segment " + seg.file.getFileName());
                    }
                    e = seg.entries.get(idx);
                    if (e.released) {
                        position += e.frameSize;
                        continue;
                    }
                } finally {
                    lock.unlock();
                }
                ByteBuffer body;
                try {
                    body = readBody(seg, e);
                } catch (NoSuchFileException | java.nio.channels.ClosedChannelException gone) {
                    closeChannel();
                    lock.lock();
                    try {
                        if (!seg.deleted) {
                            throw gone;
                        }
                    } finally {
                        lock.unlock();
                    }
                    continue;
                }
                position = e.position + e.frameSize;
                int payloadStart = FIXED_BODY + (body.get(FIXED_BODY - 1) & 0xff);
                ByteBuffer payload = body.position(payloadStart).slice();
                return new SpoolEntry(e.position, position, e.diskId, e.sequence, e.timestamp, payload);
            }
        }

        private ByteBuffer readBody(Segment seg, Entry e) throws IOException {
            if (open != seg) {
                closeChannel();
                channel = FileChannel.open(seg.file, StandardOpenOption.READ);
                open = seg;
            }
            ByteBuffer frame;
            if (reuse) {
                if (reusable == null || reusable.capacity() < e.frameSize) {
                    reusable = ByteBuffer.allocate(Math.max(e.frameSize, 4 << 20));
                }
                frame = reusable.clear().limit(e.frameSize);
            } else {
                frame = ByteBuffer.allocate(e.frameSize);
            }
            long at = e.position - seg.base;
            while (frame.hasRemaining()) {
                if (channel.read(frame, at + frame.position()) < 0) {
                    throw new SpoolCorruptedException("spool segment " + seg.file + " ends inside the entry at position "
                            + e.position + " (disk '" + e.diskId + "', sequence " + e.sequence + ")");
                }
            }
            frame.flip();
            int bodyLength = frame.getInt(0);
            int expected = frame.getInt(4);
            CRC32C check = new CRC32C();
            check.update(frame.duplicate().position(PREFIX));
            if (bodyLength != e.frameSize - PREFIX || (int) check.getValue() != expected
                    || frame.getLong(PREFIX + 8) != e.sequence) {
                throw new SpoolCorruptedException("spool entry at position " + e.position + " in " + seg.file
                        + " (disk '" + e.diskId + "', sequence " + e.sequence + ") fails its CRC32C check on read");
            }
            return frame.position(PREFIX).slice();
        }

        private void closeChannel() throws IOException {
            if (channel != null) {
                FileChannel c = channel;
                channel = null;
                open = null;
                c.close();
            }
        }

        @Override
        public void close() throws IOException {
            closeChannel();
        }
    }

    private static int indexOf(List<Entry> entries, long position) {
        int lo = 0;
        int hi = entries.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long p = entries.get(mid).position;
            if (p < position) {
                lo = mid + 1;
            } else if (p > position) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------ close

    /** Waits for appends in progress to become durable, then closes the segment files. */
    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (failure == null && stalled == null) {
                    flushUpTo(writeEnd);
                } else if (stalled != null) {
                    LOG.log(Level.WARNING, "spool in " + dir + " closed while its filesystem is full: entries up to "
                            + "position " + writeEnd + " were never durable nor acknowledged; senders resend them");
                }
            } finally {
                while (flushing) {
                    changed.awaitUninterruptibly();
                }
                for (Segment s : segments.values()) {
                    if (s.writer != null) {
                        s.writer.close();
                        s.writer = null;
                    }
                }
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ recovery

    private void recover() throws IOException {
        Files.createDirectories(dir);
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path p : stream) {
                if (SEGMENT_NAME.matcher(p.getFileName().toString()).matches()) {
                    files.add(p);
                }
            }
        }
        files.sort(null);
        long previousEnd = 0;
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            String name = file.getFileName().toString();
            long base = Long.parseLong(name.substring(0, name.length() - SUFFIX.length()));
            if (base < previousEnd) {
                throw new SpoolCorruptedException("spool segment " + file + " starts at position " + base
                        + " inside the previous segment, which ends at " + previousEnd);
            }
            Segment seg = new Segment(base, file, true);
            scan(seg, i == files.size() - 1);
            if (seg.size == 0 && i < files.size() - 1) {
                Files.delete(file); // an empty sealed segment holds nothing
                continue;
            }
            segments.put(base, seg);
            previousEnd = base + seg.size;
        }
        writeEnd = previousEnd;
        durableEnd = previousEnd;
        if (!segments.isEmpty()) {
            Segment last = segments.lastEntry().getValue();
            active = last.size < options.segmentSize() ? last : null;
        }
    }

    /** Scans one segment file, indexing its entries; truncates a torn tail of the last one. */
    private void scan(Segment seg, boolean last) throws IOException {
        try (FileChannel ch = FileChannel.open(seg.file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long fileSize = ch.size();
            ByteBuffer prefix = ByteBuffer.allocate(PREFIX);
            ByteBuffer body = ByteBuffer.allocate(64 * 1024);
            CRC32C check = new CRC32C();
            long mark = Long.MIN_VALUE;
            long firstBad = -1;
            String badReason = null;
            String stopReason = null;
            long off = 0;
            while (off < fileSize) {
                if (fileSize - off < PREFIX) {
                    stopReason = "an incomplete entry header";
                    break;
                }
                readFully(ch, prefix.clear(), off);
                int bodyLength = prefix.getInt(0);
                int expectedCrc = prefix.getInt(4);
                if (bodyLength < MIN_BODY || bodyLength > options.maxEntrySize() + MAX_OVERHEAD - PREFIX) {
                    stopReason = "an impossible entry length " + bodyLength;
                    break;
                }
                if (off + PREFIX + bodyLength > fileSize) {
                    stopReason = "an entry of " + (PREFIX + bodyLength) + " bytes that extends past the end of the"
                            + " file (" + (fileSize - off) + " bytes left)";
                    break;
                }
                if (body.capacity() < bodyLength) {
                    body = ByteBuffer.allocate(Math.max(bodyLength, body.capacity() * 2));
                }
                body.clear().limit(bodyLength);
                readFully(ch, body, off + PREFIX);
                body.flip();
                check.reset();
                check.update(body.duplicate());
                int idLength = body.get(FIXED_BODY - 1) & 0xff;
                if ((int) check.getValue() != expectedCrc || idLength == 0 || FIXED_BODY + idLength > bodyLength) {
                    if (firstBad < 0) {
                        firstBad = off;
                        badReason = "an entry failing its CRC32C check";
                    }
                    off += PREFIX + bodyLength; // keep scanning: a later durable mark tells torn from corrupt
                    continue;
                }
                mark = Math.max(mark, body.getLong(0));
                if (firstBad < 0) {
                    long sequence = body.getLong(8);
                    long timestamp = body.getLong(16);
                    String diskId = new String(body.array(), body.arrayOffset() + FIXED_BODY, idLength,
                            StandardCharsets.UTF_8);
                    index(seg, new Entry(seg.base + off, PREFIX + bodyLength, diskId, sequence, timestamp, seg));
                }
                off += PREFIX + bodyLength;
            }
            long bad = firstBad >= 0 ? firstBad : (off < fileSize ? off : -1);
            if (bad < 0) {
                return;
            }
            if (firstBad < 0) {
                badReason = stopReason;
            }
            String where = "spool segment " + seg.file + " has " + badReason + " at offset " + bad + " (position "
                    + (seg.base + bad) + ")";
            if (!last) {
                throw new SpoolCorruptedException(where + ", but it is a sealed segment that was made durable whole:"
                        + " the spool is corrupted. Move the directory aside to inspect it.");
            }
            if (seg.base + bad < mark) {
                throw new SpoolCorruptedException(where + ", but a later entry shows everything below position " + mark
                        + " had been made durable: the spool is corrupted, not torn. Move the directory aside to"
                        + " inspect it.");
            }
            LOG.log(Level.WARNING, where + ": dropping " + (fileSize - bad)
                    + " bytes of a torn write (never acknowledged)");
            ch.truncate(bad);
            ch.force(true);
        }
    }

    private void index(Segment seg, Entry e) throws SpoolCorruptedException {
        Long last = lastSequence.get(e.diskId);
        if (last != null && e.sequence <= last) {
            throw new SpoolCorruptedException("spool segment " + seg.file + " holds sequence " + e.sequence
                    + " of disk '" + e.diskId + "' after sequence " + last + "; sequences must increase");
        }
        seg.entries.add(e);
        seg.size = e.position + e.frameSize - seg.base;
        seg.unreleasedCount++;
        diskBytes += e.frameSize;
        backlogBytes += e.frameSize;
        entryCount++;
        unreleased.computeIfAbsent(e.diskId, k -> new ArrayDeque<>()).addLast(e);
        lastSequence.put(e.diskId, e.sequence);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long at) throws IOException {
        long pos = at;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("unexpected end of spool file at " + pos);
            }
            pos += n;
        }
    }

    static String fileName(long base) {
        return String.format("%020d", base) + SUFFIX;
    }

    // ------------------------------------------------------------------ internals

    private static final class Segment {
        final long base;
        final Path file;
        final ArrayList<Entry> entries = new ArrayList<>();
        long size;
        int unreleasedCount;
        boolean fileExists;
        boolean deleted;
        FileChannel writer;

        Segment(long base, Path file, boolean fileExists) {
            this.base = base;
            this.file = file;
            this.fileExists = fileExists;
        }
    }

    private static final class Entry {
        final long position;
        final int frameSize;
        final String diskId;
        final long sequence;
        final long timestamp;
        final Segment segment;
        boolean released;

        Entry(long position, int frameSize, String diskId, long sequence, long timestamp, Segment segment) {
            this.position = position;
            this.frameSize = frameSize;
            this.diskId = diskId;
            this.sequence = sequence;
            this.timestamp = timestamp;
            this.segment = segment;
        }
    }

    /** Entries encoded since the last flush, with the segment each byte range goes to. */
    private static final class Group {
        ByteBuffer buf;
        final List<Part> parts = new ArrayList<>(4);
        long end;

        Group(ByteBuffer buf) {
            this.buf = buf;
        }

        void add(Segment segment, int from, int to) {
            Part last = parts.isEmpty() ? null : parts.get(parts.size() - 1);
            if (last != null && last.segment == segment && last.to == from) {
                last.to = to;
            } else {
                parts.add(new Part(segment, from, to));
            }
        }
    }

    private static final class Part {
        final Segment segment;
        final int from;
        int to;

        Part(Segment segment, int from, int to) {
            this.segment = segment;
            this.from = from;
            this.to = to;
        }
    }
}
