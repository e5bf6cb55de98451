package org.secondsite.mastertarget.internal.retention;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.zip.CRC32C;

import org.secondsite.api.model.DiskId;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.ObjectStore;

/**
 * The undo journal: segments {@code seg-<n>} in an {@link ObjectStore} (namespace
 * {@value #NAMESPACE}), appended to, read at random positions and deleted whole. Each entry is
 * a 30-byte header (magic, kind, disk-id length, data length, sequence, offset, CRC32C over
 * header, disk id and data), the disk id, then the data: the old content of a replica range
 * ({@link #KIND_DATA}), nothing for a range that read as zeros ({@link #KIND_ZERO}), or a
 * recovery point's description ({@link #KIND_POINT}). docs/JOURNAL.md describes the format,
 * the ordering against replica writes and the recovery.
 *
 * <p>An in-memory index (per disk, entries in journal order, so in sequence order) is rebuilt
 * on {@link #open} from the entry headers. Entries past the committed end (persisted with the
 * replication state) are rolled back onto the replicas in reverse order and discarded.
 *
 * <p>Appending is done by one thread (the applier, under the master target's apply lock);
 * index reads and view registration are synchronized on the journal.
 */
public final class RetentionJournal implements Closeable {
    private static final System.Logger LOG = System.getLogger(RetentionJournal.class.getName());
    public static final String NAMESPACE = "journal";
    static final String PREFIX = "seg-";
    static final int MAGIC = 0x53534A45; // "SSJE"
    static final int FIXED = 30;
    static final int CRC_AT = 26;
    static final byte KIND_DATA = 0;
    static final byte KIND_ZERO = 1;
    static final byte KIND_POINT = 2;
    /** Largest data of one entry: longer ranges are split. */
    public static final int MAX_CHUNK = 1 << 20;
    static final int MAX_POINT = 64 << 10;
    static final int MAX_DISK_ID = 128;
    private static final int STAGE = 4 << 20;

    /** One undo entry: the content of {@code [offset, offset+length)} of a disk before batch {@code sequence}. */
    public record Entry(DiskId disk, long sequence, long offset, int length, long segment, long dataPos,
                        boolean wasZero) {
        public long end() {
            return offset + length;
        }
    }

    /** A point description found in the journal. */
    public record PointRecord(long number, long segment, byte[] payload) {
    }

    /** A position in the journal: entries starting before it are committed. */
    public record Position(long segment, long offset) implements Comparable<Position> {
        public static final Position START = new Position(0, 0);

        @Override
        public int compareTo(Position o) {
            int c = Long.compare(segment, o.segment);
            return c != 0 ? c : Long.compare(offset, o.offset);
        }

        @Override
        public String toString() {
            return segment + "," + offset;
        }

        public static Position parse(String s) {
            String[] v = s.split(",");
            return new Position(Long.parseLong(v[0].trim()), Long.parseLong(v[1].trim()));
        }
    }

    private final ObjectStore store;
    private final long segmentBytes;
    /** Segment -> bytes used by its valid entries (for cut segments, the cut length). Guarded by this. */
    private final TreeMap<Long, Long> segments = new TreeMap<>();
    /** Segments whose tail past a length is garbage (left by a rollback): segment -> valid length. */
    private final TreeMap<Long, Long> cuts = new TreeMap<>();
    private final Map<DiskId, ArrayList<Entry>> index = new HashMap<>();
    private final List<PointRecord> pointRecords = new ArrayList<>();
    private final ConcurrentHashMap<Long, SeekableByteChannel> readers = new ConcurrentHashMap<>();
    private final Set<PointView> views = new LinkedHashSet<>();
    private Position committed;

    // ---- appender state, applier thread only ----
    private long current;
    private ObjectStore.Appender appender;
    private long appendPos;
    private final ByteBuffer stage = ByteBuffer.allocateDirect(STAGE);
    private final List<Entry> staged = new ArrayList<>();
    private final List<PointRecord> stagedPoints = new ArrayList<>();
    private final CRC32C crc = new CRC32C();
    private final Map<DiskId, byte[]> idBytes = new HashMap<>();
    private boolean unsynced;
    private long rolledBackEntries;
    private boolean discarded;

    private RetentionJournal(ObjectStore store, long segmentBytes) {
        this.store = store;
        this.segmentBytes = segmentBytes;
    }

    /**
     * Opens the journal: rebuilds the index from the entry headers, rolls the entries past
     * {@code committed} back onto the replicas (newest first), flushes them and discards those
     * entries (segments after the committed one are deleted, the committed one is cut). The
     * caller must then persist {@link #committed()} and {@link #cuts()} with its state.
     *
     * @param committed the committed end persisted with the replication state ({@link Position#START} if none)
     * @param cuts the cut lengths persisted with the replication state
     * @param volumes the replica of a disk, or null if the disk is unknown
     */
    public static RetentionJournal open(ObjectStore store, long segmentBytes, Position committed, Map<Long, Long> cuts,
                                        Function<DiskId, BlockDevice> volumes) throws IOException {
        if (segmentBytes < 2L * (MAX_CHUNK + FIXED + MAX_DISK_ID)) {
            throw new IllegalArgumentException("journal segments must hold at least two entries of " + MAX_CHUNK
                    + " bytes: " + segmentBytes);
        }
        RetentionJournal j = new RetentionJournal(store, segmentBytes);
        j.committed = committed;
        j.cuts.putAll(cuts);
        j.load(volumes);
        return j;
    }

    private void load(Function<DiskId, BlockDevice> volumes) throws IOException {
        List<Entry> rollback = new ArrayList<>();
        long last = committed.segment();
        ByteBuffer header = ByteBuffer.allocate(FIXED + MAX_DISK_ID);
        for (String name : store.list(PREFIX)) {
            long seg;
            try {
                seg = Long.parseLong(name.substring(PREFIX.length()));
            } catch (NumberFormatException e) {
                LOG.log(Level.WARNING, "journal: ignoring object '" + name + "' (not a segment name)");
                continue;
            }
            last = Math.max(last, seg);
            long valid = scan(seg, header, rollback);
            segments.put(seg, valid);
        }
        // Roll back, newest first: each byte ends with its oldest uncommitted entry, the committed content.
        Set<BlockDevice> touched = new LinkedHashSet<>();
        ByteBuffer buf = ByteBuffer.allocateDirect(MAX_CHUNK);
        for (int i = rollback.size() - 1; i >= 0; i--) {
            Entry e = rollback.get(i);
            BlockDevice v = volumes.apply(e.disk());
            if (v == null) {
                LOG.log(Level.WARNING, "journal: uncommitted entry of unknown disk " + e.disk() + " ignored");
                continue;
            }
            if (e.wasZero()) {
                v.zero(e.offset(), e.length());
            } else {
                buf.clear().limit(e.length());
                readData(e, 0, buf);
                buf.flip();
                v.write(e.offset(), buf);
            }
            touched.add(v);
        }
        for (BlockDevice v : touched) {
            v.flush();
        }
        rolledBackEntries = rollback.size();
        if (!rollback.isEmpty()) {
            LOG.log(Level.INFO, "journal: rolled back " + rollback.size() + " uncommitted undo entries onto the replicas");
        }
        // Discard everything past the committed end.
        boolean deletedPast = false;
        for (Long seg : new ArrayList<>(segments.tailMap(committed.segment(), false).keySet())) {
            deletedPast = true;
            closeReader(seg);
            store.delete(PREFIX + String.format("%016d", seg));
            segments.remove(seg);
            cuts.remove(seg);
        }
        Long size = segments.get(committed.segment());
        discarded = !rollback.isEmpty() || deletedPast;
        if (size != null && size > committed.offset()) {
            discarded = true;
            cuts.put(committed.segment(), committed.offset());
            segments.put(committed.segment(), committed.offset());
        }
        current = last + 1;
        appendPos = 0;
    }

    /** Scans a segment's entries; returns the length of its valid committed part. */
    private long scan(long seg, ByteBuffer header, List<Entry> rollback) throws IOException {
        SeekableByteChannel ch = reader(seg);
        long limit = Math.min(ch.size(), cuts.getOrDefault(seg, Long.MAX_VALUE));
        long pos = 0;
        ByteBuffer data = null;
        while (pos + FIXED <= limit) {
            header.clear().limit(FIXED);
            readFully(ch, pos, header);
            header.flip();
            int magic = header.getInt(0);
            byte kind = header.get(4);
            int diskLen = header.get(5) & 0xff;
            int length = header.getInt(6);
            long sequence = header.getLong(10);
            long offset = header.getLong(18);
            int stored = header.getInt(CRC_AT);
            boolean uncommitted = new Position(seg, pos).compareTo(committed) >= 0;
            String bad = null;
            if (magic != MAGIC) {
                bad = "bad magic";
            } else if (kind < KIND_DATA || kind > KIND_POINT) {
                bad = "unknown kind " + kind;
            } else if (diskLen > MAX_DISK_ID || (kind == KIND_POINT) != (diskLen == 0)) {
                bad = "disk id length " + diskLen;
            } else if (length < 0 || length > (kind == KIND_POINT ? MAX_POINT : MAX_CHUNK)
                    || (kind == KIND_ZERO && length == 0)) {
                bad = "length " + length;
            }
            long dataLen = kind == KIND_ZERO ? 0 : length;
            long total = FIXED + diskLen + dataLen;
            if (bad == null && pos + total > limit) {
                bad = "truncated";
            }
            if (bad != null) {
                if (uncommitted) {
                    LOG.log(Level.INFO, "journal: segment " + seg + " ends at " + pos + " (" + bad
                            + " uncommitted tail ignored)");
                } else {
                    LOG.log(Level.WARNING, "journal: segment " + seg + " at " + pos + ": " + bad
                            + " in committed entries; the rest of the segment is ignored");
                }
                break;
            }
            header.limit(FIXED + diskLen).position(FIXED);
            readFully(ch, pos + FIXED, header);
            String diskName = new String(header.array(), FIXED, diskLen, StandardCharsets.US_ASCII);
            boolean check = uncommitted || kind == KIND_POINT;
            byte[] payload = null;
            if (check) {
                crc.reset();
                header.clear().limit(FIXED + diskLen);
                header.putInt(CRC_AT, 0);
                crc.update(header.array(), 0, FIXED + diskLen);
                if (dataLen > 0) {
                    if (data == null) {
                        data = ByteBuffer.allocateDirect(MAX_CHUNK);
                    }
                    data.clear().limit((int) dataLen);
                    readFully(ch, pos + FIXED + diskLen, data);
                    data.flip();
                    if (kind == KIND_POINT) {
                        payload = new byte[(int) dataLen];
                        data.duplicate().get(payload);
                    }
                    crc.update(data);
                }
                if ((int) crc.getValue() != stored) {
                    LOG.log(uncommitted ? Level.INFO : Level.WARNING, "journal: segment " + seg + " at " + pos
                            + ": checksum mismatch (" + (uncommitted ? "uncommitted tail" : "committed entry")
                            + "); the rest of the segment is ignored");
                    break;
                }
            }
            if (kind == KIND_POINT) {
                if (!uncommitted) {
                    pointRecords.add(new PointRecord(sequence, seg, payload));
                }
            } else {
                DiskId disk;
                try {
                    disk = DiskId.of(diskName);
                } catch (IllegalArgumentException e) {
                    LOG.log(Level.WARNING, "journal: segment " + seg + " at " + pos + ": " + e.getMessage());
                    break;
                }
                Entry e = new Entry(disk, sequence, offset, length, seg, pos + FIXED + diskLen, kind == KIND_ZERO);
                if (uncommitted) {
                    rollback.add(e);
                } else {
                    index.computeIfAbsent(disk, d -> new ArrayList<>()).add(e);
                }
            }
            pos += total;
        }
        return pos;
    }

    // ------------------------------------------------------------------ appending

    /**
     * Appends the current content of {@code [offset, offset+length)} of {@code replica} as undo
     * entries of {@code disk} before batch {@code sequence} (split into pieces of at most
     * {@link #MAX_CHUNK}). Ranges reading as zeros are stored without data.
     */
    public void journal(DiskId disk, long sequence, long offset, long length, BlockDevice replica) throws IOException {
        byte[] id = idBytes.computeIfAbsent(disk, d -> d.value().getBytes(StandardCharsets.US_ASCII));
        long end = offset + length;
        for (long at = offset; at < end;) {
            int n = (int) Math.min(MAX_CHUNK, end - at);
            int room = FIXED + id.length + n;
            if (stage.remaining() < room) {
                flushStage();
            }
            if (appendPos + stage.position() + room > segmentBytes && appendPos + stage.position() > 0) {
                roll();
            }
            int start = stage.position();
            stage.position(start + FIXED + id.length);
            ByteBuffer dst = stage.slice().limit(n);
            try {
                replica.read(at, dst);
            } catch (IOException | RuntimeException e) {
                stage.position(start); // nothing half-staged
                throw e;
            }
            boolean zero = isZero(stage, start + FIXED + id.length, n);
            header(start, zero ? KIND_ZERO : KIND_DATA, id, n, sequence, at);
            int dataLen = zero ? 0 : n;
            int entryStart = start;
            stage.position(start + FIXED + id.length + dataLen);
            crc(entryStart, FIXED + id.length + dataLen);
            staged.add(new Entry(disk, sequence, at, n, current, appendPos + start + FIXED + id.length, zero));
            at += n;
        }
    }

    /** Appends a recovery point's description (part of the next sync). */
    public void appendPoint(long number, byte[] payload) throws IOException {
        if (payload.length > MAX_POINT) {
            throw new IllegalArgumentException("point description of " + payload.length + " bytes exceeds " + MAX_POINT);
        }
        int room = FIXED + payload.length;
        if (stage.remaining() < room) {
            flushStage();
        }
        if (appendPos + stage.position() + room > segmentBytes && appendPos + stage.position() > 0) {
            roll();
        }
        int start = stage.position();
        header(start, KIND_POINT, new byte[0], payload.length, number, 0);
        stage.position(start + FIXED);
        stage.put(payload);
        crc(start, FIXED + payload.length);
        stagedPoints.add(new PointRecord(number, current, payload));
    }

    private void header(int at, byte kind, byte[] disk, int length, long sequence, long offset) {
        stage.putInt(at, MAGIC);
        stage.put(at + 4, kind);
        stage.put(at + 5, (byte) disk.length);
        stage.putInt(at + 6, length);
        stage.putLong(at + 10, sequence);
        stage.putLong(at + 18, offset);
        stage.putInt(at + CRC_AT, 0);
        stage.put(at + FIXED, disk);
    }

    private void crc(int at, int len) {
        crc.reset();
        crc.update(stage.duplicate().position(at).limit(at + len));
        stage.putInt(at + CRC_AT, (int) crc.getValue());
    }

    private static boolean isZero(ByteBuffer b, int from, int n) {
        int i = from;
        int end = from + n;
        for (; i + 8 <= end; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < end; i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    private void roll() throws IOException {
        flushStage();
        if (appender != null) {
            appender.sync();
            appender.close();
            appender = null;
        }
        current++;
        appendPos = 0;
    }

    /** Writes staged entries to the segment and makes them part of the index and of the open views. */
    private void flushStage() throws IOException {
        if (stage.position() == 0) {
            return;
        }
        if (appender == null) {
            appender = store.create(PREFIX + String.format("%016d", current));
            synchronized (this) {
                segments.put(current, 0L);
            }
        }
        stage.flip();
        while (stage.hasRemaining()) {
            appender.write(stage);
        }
        appendPos += stage.limit();
        stage.clear();
        unsynced = true;
        synchronized (this) {
            segments.put(current, appendPos);
            for (Entry e : staged) {
                index.computeIfAbsent(e.disk(), d -> new ArrayList<>()).add(e);
                for (PointView v : views) {
                    v.cover(e);
                }
            }
            pointRecords.addAll(stagedPoints);
        }
        staged.clear();
        stagedPoints.clear();
    }

    /** Writes and syncs everything appended: call before any replica write the entries protect. */
    public void sync() throws IOException {
        flushStage();
        if (unsynced && appender != null) {
            appender.sync();
        }
        unsynced = false;
    }

    /** The end of everything appended so far (after {@link #sync()}). */
    public Position end() {
        return new Position(current, appendPos);
    }

    /** Records that everything before {@code p} is committed (persisted with the replication state). */
    public synchronized void committed(Position p) {
        committed = p;
    }

    public synchronized Position committed() {
        return committed;
    }

    /** Segment -> valid length for segments cut by a rollback (persist with the state). */
    public synchronized Map<Long, Long> cuts() {
        return new TreeMap<>(cuts);
    }

    /** Whether {@link #open} discarded anything past the committed end: the caller must persist its state. */
    public boolean discardedOnOpen() {
        return discarded;
    }

    /** Entries rolled back by {@link #open}. */
    public long rolledBackEntries() {
        return rolledBackEntries;
    }

    // ------------------------------------------------------------------ reading, index

    /** Point descriptions in the journal, in journal order. */
    public synchronized List<PointRecord> pointRecords() {
        return new ArrayList<>(pointRecords);
    }

    /** Index of the first entry of {@code disk} with a sequence above {@code sequence}. */
    private static int firstAfter(List<Entry> list, long sequence) {
        int lo = 0;
        int hi = list.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (list.get(mid).sequence() <= sequence) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The segment of the first entry of {@code disk} above {@code sequence}, or Long.MAX_VALUE if none. */
    public synchronized long firstSegmentAfter(DiskId disk, long sequence) {
        List<Entry> list = index.getOrDefault(disk, new ArrayList<>());
        int i = firstAfter(list, sequence);
        return i < list.size() ? list.get(i).segment() : Long.MAX_VALUE;
    }

    /** The entries of a disk above a sequence, in journal order (a copy). */
    public synchronized List<Entry> entriesAfter(DiskId disk, long sequence) {
        List<Entry> list = index.getOrDefault(disk, new ArrayList<>());
        return new ArrayList<>(list.subList(firstAfter(list, sequence), list.size()));
    }

    /**
     * Opens a view of {@code disk} at {@code sequence}: its range map gets every entry above the
     * sequence now and every entry appended later, atomically with the append.
     */
    public synchronized PointView openView(DiskId disk, long sequence, BlockDevice replica, long size, Runnable onClose) {
        PointView v = new PointView(this, disk, replica, size, onClose);
        List<Entry> list = index.getOrDefault(disk, new ArrayList<>());
        for (int i = firstAfter(list, sequence); i < list.size(); i++) {
            v.cover(list.get(i));
        }
        views.add(v);
        return v;
    }

    synchronized void closed(PointView v) {
        views.remove(v);
    }

    /** Reads the data of an entry from {@code within} into {@code dst} (zeros for a was-zero entry). */
    public void readData(Entry e, long within, ByteBuffer dst) throws IOException {
        if (within < 0 || within + dst.remaining() > e.length()) {
            throw new IllegalArgumentException("read of " + dst.remaining() + " bytes at " + within
                    + " outside the entry's " + e.length() + " bytes");
        }
        if (e.wasZero()) {
            while (dst.hasRemaining()) {
                dst.put((byte) 0);
            }
            return;
        }
        readFully(reader(e.segment()), e.dataPos() + within, dst);
    }

    private SeekableByteChannel reader(long seg) throws IOException {
        SeekableByteChannel ch = readers.get(seg);
        if (ch == null) {
            SeekableByteChannel opened = store.open(PREFIX + String.format("%016d", seg));
            ch = readers.putIfAbsent(seg, opened);
            if (ch == null) {
                ch = opened;
            } else {
                opened.close();
            }
        }
        return ch;
    }

    private void closeReader(long seg) {
        SeekableByteChannel ch = readers.remove(seg);
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "closing segment " + seg + ": " + e);
            }
        }
    }

    private static void readFully(SeekableByteChannel ch, long pos, ByteBuffer dst) throws IOException {
        if (ch instanceof FileChannel fc) {
            long p = pos;
            while (dst.hasRemaining()) {
                int n = fc.read(dst, p);
                if (n < 0) {
                    throw new EOFException("journal segment ends at " + p);
                }
                p += n;
            }
            return;
        }
        synchronized (ch) {
            ch.position(pos);
            while (dst.hasRemaining()) {
                if (ch.read(dst) < 0) {
                    throw new EOFException("journal segment ends at " + ch.position());
                }
            }
        }
    }

    // ------------------------------------------------------------------ space

    /** Bytes held by the journal's segments. */
    public synchronized long usedBytes() {
        long n = 0;
        for (long v : segments.values()) {
            n += v;
        }
        return n;
    }

    /** Segment numbers and their sizes, oldest first. */
    public synchronized TreeMap<Long, Long> segments() {
        return new TreeMap<>(segments);
    }

    /** The segment being appended to (never deleted by pruning). */
    public synchronized long currentSegment() {
        return current;
    }

    /**
     * Deletes every segment before {@code segment} (never the one being appended to), with
     * their entries and point records. Returns the bytes freed.
     */
    public long deleteBefore(long segment) throws IOException {
        List<Long> doomed;
        synchronized (this) {
            doomed = new ArrayList<>(segments.headMap(Math.min(segment, current), false).keySet());
            if (doomed.isEmpty()) {
                return 0;
            }
            long limit = doomed.get(doomed.size() - 1);
            for (ArrayList<Entry> list : index.values()) {
                int k = 0;
                while (k < list.size() && list.get(k).segment() <= limit) {
                    k++;
                }
                list.subList(0, k).clear();
            }
            index.values().removeIf(List::isEmpty);
            pointRecords.removeIf(r -> r.segment() <= limit);
        }
        long freed = 0;
        for (Long seg : doomed) {
            closeReader(seg);
            store.delete(PREFIX + String.format("%016d", seg));
            synchronized (this) {
                Long size = segments.remove(seg);
                freed += size == null ? 0 : size;
                cuts.remove(seg);
            }
        }
        return freed;
    }

    @Override
    public void close() throws IOException {
        try {
            if (appender != null) {
                flushStage();
                appender.close();
                appender = null;
            }
        } finally {
            for (Long seg : new ArrayList<>(readers.keySet())) {
                closeReader(seg);
            }
        }
    }
}
