package org.secondsite.agent.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

import org.secondsite.api.storage.DiskFiles;

/**
 * The persisted dirty-region bitmap of one disk ("dirty-region log", DRL): the regions of a
 * change are marked on disk before the change is acknowledged, and cleared lazily once
 * everything covering them is acknowledged downstream. After a crash the marked regions are
 * read from the source and sent again; nothing else needs to be.
 *
 * <h2>Two levels</h2>
 * A <em>region</em> (the configured size, e.g. 64 KiB) is the unit of replay. A <em>chunk</em>
 * (at least {@value #MIN_CHUNK} bytes and at most {@value #MAX_CHUNKS} per disk, a power of
 * two) covers many regions. {@link #mark} writes the pages of newly dirty regions to the file
 * (a positional write into the page cache, which survives a crash of the agent process) and,
 * when a chunk becomes dirty, the chunk bitmap too; only chunk marks are forced to the medium
 * ({@link #awaitForced()}) before the change is acknowledged. So:
 * <ul>
 * <li>after the agent process dies ({@code kill -9}), or after a clean stop, the region bitmap
 * in the file is exact: exactly the dirty regions are replayed;</li>
 * <li>after the machine itself crashed (the boot id recorded in the header differs from the
 * current one, and the log was not closed cleanly) region marks written since the last force
 * may be lost, so every region of every marked chunk counts as dirty — more than needed, never
 * less;</li>
 * <li>a random-write workload pays one forced write per chunk that becomes dirty (a handful
 * per disk), not one per region; a write whose regions are all dirty costs no I/O at all.</li>
 * </ul>
 * Concurrent callers of {@link #awaitForced()} share one force (group commit).
 *
 * <h2>File format</h2>
 * Little-endian, in {@value #PAGE}-byte pages. Page 0, the header: magic {@code "SSDRLOG!"},
 * version (int, 1), region size (int), disk size (long), page size (int), disk id (int length
 * 1..{@value #MAX_ID_BYTES}, ASCII), chunk size (long), state (int: 1 running, 2 closed
 * cleanly), boot id (int length 0..{@value #MAX_BOOT_ID_BYTES}, ASCII), zero padding, and at
 * {@code PAGE - 4} the CRC32C of the bytes before it. Then the chunk bitmap pages, then the
 * region bitmap pages. A bitmap page: CRC32C (int) of its page number in the file (int) and its
 * bytes 8..PAGE, an int 0, and {@value #WORDS_PER_PAGE} words of 64 bits (bit {@code i % 64}
 * of word {@code i / 64} is region or chunk {@code i}). A page is rewritten whole when a bit
 * changes.
 *
 * <p>Decoding never loses a dirty region: a bitmap page that fails its CRC (torn or corrupt) or
 * is missing counts as all dirty; a header that fails its checks or names another disk makes
 * the whole disk dirty; a log of another region or disk size (the configuration changed) is
 * converted, covering at least every byte the old log covered.
 */
final class DirtyRegionLog implements Closeable {
    static final int PAGE = 4096;
    static final int WORDS_PER_PAGE = (PAGE - 8) / 8;
    static final int BITS_PER_PAGE = WORDS_PER_PAGE * 64;
    static final long MAGIC = 0x2147_4F4C_5244_5353L; // "SSDRLOG!" little-endian
    static final int VERSION = 1;
    static final int MAX_ID_BYTES = 128;
    static final int MAX_BOOT_ID_BYTES = 64;
    static final int MIN_REGION = 4096;
    static final int MAX_REGION = 64 << 20;
    static final long MIN_CHUNK = 64L << 20;
    static final long MAX_CHUNKS = 4096;
    static final int RUNNING = 1;
    static final int CLEAN = 2;
    static final String SUFFIX = ".drl";
    /** Most bytes read of a log written with another geometry; past it its pages count as dirty. */
    static final long MAX_READ = 256L << 20;
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

    /** Sizes and page positions of a log. */
    record Geometry(long diskBytes, int regionBytes, long chunkBytes) {
        static Geometry of(long diskBytes, int regionBytes) {
            checkGeometry(diskBytes, regionBytes);
            long perChunk = (diskBytes + MAX_CHUNKS - 1) / MAX_CHUNKS;
            long chunk = Math.max(Math.max(MIN_CHUNK, regionBytes), Long.highestOneBit(Math.max(1, perChunk - 1)) << 1);
            return new Geometry(diskBytes, regionBytes, chunk);
        }

        long regions() {
            return DirtyRegionLog.regions(diskBytes, regionBytes);
        }

        long chunks() {
            return (diskBytes + chunkBytes - 1) / chunkBytes;
        }

        long chunkPages() {
            return pages(chunks());
        }

        long regionPages() {
            return pages(regions());
        }

        /** Regions per chunk, a power of two. */
        long regionsPerChunk() {
            return chunkBytes / regionBytes;
        }

        long fileLength() {
            return (long) PAGE * (1 + chunkPages() + regionPages());
        }

        /** File page number of chunk bitmap page {@code p}. */
        long chunkPage(long p) {
            return 1 + p;
        }

        /** File page number of region bitmap page {@code p}. */
        long regionPage(long p) {
            return 1 + chunkPages() + p;
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final String diskId;
    private final String bootId;
    private final Geometry geometry;
    private final int shift;
    private final int chunkShift;
    private final RegionSet dirty;
    private final RegionSet chunks;
    private final List<String> notes;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition forcedChanged = lock.newCondition();
    private final ByteBuffer page = ByteBuffer.allocateDirect(PAGE).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();
    // guarded by lock
    private boolean forcing;
    private volatile boolean rewriteNeeded;
    private boolean closed;
    private volatile long markGen;
    private volatile long forcedGen;
    private long pageWrites;
    private long forces;

    private DirtyRegionLog(Path file, FileChannel channel, String diskId, String bootId, Geometry geometry,
                           RegionSet dirty, List<String> notes) {
        this.file = file;
        this.channel = channel;
        this.diskId = diskId;
        this.bootId = bootId;
        this.geometry = geometry;
        this.shift = Integer.numberOfTrailingZeros(geometry.regionBytes());
        this.chunkShift = Long.numberOfTrailingZeros(geometry.regionsPerChunk());
        this.dirty = dirty;
        this.chunks = new RegionSet(geometry.chunks());
        for (long r = dirty.nextSet(0); r >= 0; r = dirty.nextSet(((r >>> chunkShift) + 1) << chunkShift)) {
            chunks.add(r >>> chunkShift, (r >>> chunkShift) + 1);
        }
        this.notes = List.copyOf(notes);
    }

    /** Number of regions of a disk of {@code diskBytes} with regions of {@code regionBytes}. */
    static long regions(long diskBytes, int regionBytes) {
        return (diskBytes + regionBytes - 1) / regionBytes;
    }

    static long pages(long bits) {
        return (bits + BITS_PER_PAGE - 1) / BITS_PER_PAGE;
    }

    static void checkGeometry(long diskBytes, int regionBytes) {
        if (Integer.bitCount(regionBytes) != 1 || regionBytes < MIN_REGION || regionBytes > MAX_REGION) {
            throw new IllegalArgumentException("region size must be a power of two from " + MIN_REGION + " to "
                    + MAX_REGION + " bytes, was " + regionBytes);
        }
        if (diskBytes < 1 || diskBytes > Long.MAX_VALUE / 4) {
            throw new IllegalArgumentException("disk size must be 1.." + Long.MAX_VALUE / 4 + " bytes, was " + diskBytes);
        }
        if (regions(diskBytes, regionBytes) > (long) Integer.MAX_VALUE * 32) {
            throw new IllegalArgumentException("disk of " + diskBytes + " bytes has too many regions of "
                    + regionBytes + " bytes; choose larger regions");
        }
    }

    /** This machine's boot id (changes at every boot), empty where the system does not tell. */
    static String currentBootId() {
        try {
            String id = Files.readString(BOOT_ID, StandardCharsets.US_ASCII).trim();
            return id.length() <= MAX_BOOT_ID_BYTES ? id : "";
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /**
     * Opens (or creates) the log of {@code diskId} in {@code file}, marks it running (with
     * {@code bootId}) and forces it. A log that had to be repaired or converted, or that a crash
     * of the machine may have left incomplete, is read conservatively; {@link #notes()} says why.
     */
    static DirtyRegionLog open(Path file, String diskId, long diskBytes, int regionBytes, String bootId)
            throws IOException {
        Geometry g = Geometry.of(diskBytes, regionBytes);
        checkId(diskId);
        if (bootId.length() > MAX_BOOT_ID_BYTES) {
            throw new IllegalArgumentException("boot id longer than " + MAX_BOOT_ID_BYTES + " bytes: " + bootId);
        }
        Files.createDirectories(file.getParent());
        boolean existed = Files.exists(file);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            RegionSet dirty = new RegionSet(g.regions());
            List<String> notes = new ArrayList<>();
            boolean rewrite = true;
            if (existed) {
                long len = ch.size();
                ByteBuffer content = ByteBuffer.allocate((int) Math.min(len, Math.max(g.fileLength(), MAX_READ)));
                DiskFiles.readFully(ch, 0, content);
                content.flip();
                rewrite = decode(content, diskId, diskBytes, regionBytes, bootId, dirty, notes)
                        || len != g.fileLength();
            }
            DirtyRegionLog log = new DirtyRegionLog(file, ch, diskId, bootId, g, dirty, notes);
            log.lock.lock();
            try {
                if (rewrite) {
                    log.writeRegionPages(0, g.regionPages() - 1);
                    ch.truncate(g.fileLength());
                }
                log.writeChunkPages(0, g.chunkPages() - 1); // derived from the regions read
                log.writeHeader(RUNNING);
                ch.force(true);
            } finally {
                log.lock.unlock();
            }
            if (!existed) {
                forceDirectory(file.getParent());
            }
            return log;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    Path file() {
        return file;
    }

    int regionBytes() {
        return geometry.regionBytes();
    }

    long chunkBytes() {
        return geometry.chunkBytes();
    }

    long diskBytes() {
        return geometry.diskBytes();
    }

    /** Why the log was repaired, converted or widened when opened; empty when it was read as it was. */
    List<String> notes() {
        return notes;
    }

    /** The region of byte {@code offset}. */
    long regionOf(long offset) {
        return offset >>> shift;
    }

    /** The first region after the bytes before {@code end}. */
    long regionEnd(long end) {
        return (end + geometry.regionBytes() - 1) >>> shift;
    }

    /** Bytes of the disk covered by the regions of {@code set}, the last one possibly cut by the disk's end. */
    long bytes(RegionSet set) {
        long n = set.count() << shift;
        long last = set.size() - 1;
        if (set.size() > 0 && set.contains(last)) {
            n -= ((last + 1) << shift) - geometry.diskBytes();
        }
        return n;
    }

    /** Bytes of the disk covered by the regions in {@code a} or {@code b} (same size), without a copy. */
    long bytes(RegionSet a, RegionSet b) {
        long n = 0;
        for (int i = 0; i < a.words.length; i++) {
            n += Long.bitCount(a.words[i] | b.words[i]);
        }
        n <<= shift;
        long last = a.size() - 1;
        if (a.size() > 0 && (a.contains(last) || b.contains(last))) {
            n -= ((last + 1) << shift) - geometry.diskBytes();
        }
        return n;
    }

    /**
     * Marks regions {@code [from, to)} dirty. Writes the pages of regions that were clean (into the
     * page cache), and of their chunks if a chunk was clean; returns {@code true} if so — then
     * {@link #awaitForced()} forces them. Does no I/O when every region was dirty already. If a
     * write fails, the bitmaps are left as they were.
     */
    boolean mark(long from, long to) throws IOException {
        lock.lock();
        try {
            if (dirty.containsAll(from, to)) {
                return false;
            }
            ensureOpen();
            int firstWord = (int) (from >>> 6);
            int lastWord = (int) ((to - 1) >>> 6);
            long chunkFrom = from >>> chunkShift;
            long chunkTo = ((to - 1) >>> chunkShift) + 1;
            boolean newChunk = !chunks.containsAll(chunkFrom, chunkTo);
            long[] before = Arrays.copyOfRange(dirty.words, firstWord, lastWord + 1);
            long[] chunksBefore = newChunk ? chunks.words.clone() : null;
            dirty.add(from, to);
            if (newChunk) {
                chunks.add(chunkFrom, chunkTo);
            }
            try {
                writeRegionPages(firstWord / WORDS_PER_PAGE, lastWord / WORDS_PER_PAGE);
                if (newChunk) {
                    writeChunkPages((chunkFrom >>> 6) / WORDS_PER_PAGE, ((chunkTo - 1) >>> 6) / WORDS_PER_PAGE);
                }
            } catch (IOException e) {
                for (int w = firstWord; w <= lastWord; w++) {
                    dirty.setWord(w, before[w - firstWord]);
                }
                if (newChunk) {
                    for (int w = 0; w < chunksBefore.length; w++) {
                        chunks.setWord(w, chunksBefore[w]);
                    }
                }
                rewriteNeeded = true; // a page may be half written: rewrite all before the next force
                throw new IOException("dirty-region log " + file + ": cannot record dirty regions: " + e.getMessage(), e);
            }
            if (newChunk) {
                markGen++;
            }
            return newChunk;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Returns once every chunk marked so far is forced to the medium (with every page written
     * before). No I/O when no chunk was marked since the last force; concurrent callers share one
     * force.
     */
    void awaitForced() throws IOException {
        long target = markGen;
        if (forcedGen >= target && !rewriteNeeded) {
            return;
        }
        lock.lock();
        try {
            while (forcedGen < target || rewriteNeeded) {
                if (forcing) {
                    forcedChanged.awaitUninterruptibly();
                    continue;
                }
                ensureOpen();
                forcing = true;
                long upTo = markGen;
                IOException failure = null;
                try {
                    if (rewriteNeeded) {
                        writeChunkPages(0, geometry.chunkPages() - 1);
                        writeRegionPages(0, geometry.regionPages() - 1);
                    }
                    lock.unlock();
                    try {
                        channel.force(false);
                    } finally {
                        lock.lock();
                    }
                } catch (IOException e) {
                    failure = e;
                }
                forcing = false;
                forcedChanged.signalAll();
                if (failure != null) {
                    rewriteNeeded = true; // the kernel may have dropped the dirty pages: write all again
                    throw new IOException("dirty-region log " + file + " cannot be forced to disk: "
                            + failure.getMessage(), failure);
                }
                rewriteNeeded = false;
                forces++;
                forcedGen = Math.max(forcedGen, upTo);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Clears the regions of {@code candidates} (same geometry), and the chunks left without a
     * dirty region; writes the pages that changed, without forcing (a lost clear only costs a
     * replay). Returns the number of regions cleared.
     */
    long clear(RegionSet candidates) throws IOException {
        lock.lock();
        try {
            ensureOpen();
            long cleared = 0;
            long[] w = dirty.words;
            for (long p = 0; p < geometry.regionPages(); p++) {
                long inPage = 0;
                int start = (int) (p * WORDS_PER_PAGE);
                int end = (int) Math.min(w.length, start + (long) WORDS_PER_PAGE);
                for (int i = start; i < end; i++) {
                    long drop = w[i] & candidates.words[i];
                    if (drop != 0) {
                        dirty.setWord(i, w[i] & ~drop);
                        inPage += Long.bitCount(drop);
                    }
                }
                if (inPage > 0) {
                    cleared += inPage;
                    write(p, p, true);
                }
            }
            if (cleared > 0) {
                long firstChanged = -1;
                long lastChanged = -1;
                for (long c = chunks.nextSet(0); c >= 0; c = chunks.nextSet(c + 1)) {
                    long r = dirty.nextSet(c << chunkShift);
                    if (r < 0 || r >>> chunkShift != c) {
                        chunks.remove(c, c + 1);
                        long p = (c >>> 6) / WORDS_PER_PAGE;
                        firstChanged = firstChanged < 0 ? p : firstChanged;
                        lastChanged = p;
                    }
                }
                if (firstChanged >= 0) {
                    write(firstChanged, lastChanged, false);
                }
            }
            return cleared;
        } finally {
            lock.unlock();
        }
    }

    private void write(long first, long last, boolean regions) throws IOException {
        try {
            if (regions) {
                writeRegionPages(first, last);
            } else {
                writeChunkPages(first, last);
            }
        } catch (IOException e) {
            rewriteNeeded = true; // memory and file differ: safe (the file has more), rewritten at the next force
            throw new IOException("dirty-region log " + file + ": cannot write cleared regions: " + e.getMessage(), e);
        }
    }

    /** A copy of the dirty regions. */
    RegionSet snapshot() {
        lock.lock();
        try {
            return dirty.copy();
        } finally {
            lock.unlock();
        }
    }

    /** Counters for measurements and tests: {page writes, forces}. */
    long[] counters() {
        lock.lock();
        try {
            return new long[] {pageWrites, forces};
        } finally {
            lock.unlock();
        }
    }

    /** Forces everything, marks the log closed cleanly (its regions are then exact after any crash) and closes it. */
    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            while (forcing) {
                forcedChanged.awaitUninterruptibly();
            }
            closed = true;
            try {
                if (rewriteNeeded) {
                    writeChunkPages(0, geometry.chunkPages() - 1);
                    writeRegionPages(0, geometry.regionPages() - 1);
                }
                channel.force(false);
                writeHeader(CLEAN);
                channel.force(false);
            } finally {
                channel.close();
            }
        } finally {
            lock.unlock();
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("dirty-region log " + file + " is closed");
        }
    }

    private void writeHeader(int state) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(PAGE).order(ByteOrder.LITTLE_ENDIAN);
        encodeHeader(h, diskId, geometry, state, bootId);
        h.flip();
        DiskFiles.writeFully(channel, 0, h);
    }

    private void writeRegionPages(long first, long last) throws IOException {
        for (long p = first; p <= last; p++) {
            writePage(dirty, p, geometry.regionPage(p));
        }
    }

    private void writeChunkPages(long first, long last) throws IOException {
        for (long p = first; p <= last; p++) {
            writePage(chunks, p, geometry.chunkPage(p));
        }
    }

    private void writePage(RegionSet set, long p, long filePage) throws IOException {
        page.clear();
        encodePage(set, p, filePage, page, crc);
        page.flip();
        DiskFiles.writeFully(channel, PAGE * filePage, page);
        pageWrites++;
    }

    // ------------------------------------------------------------------ format

    static void checkId(String diskId) {
        byte[] id = diskId.getBytes(StandardCharsets.US_ASCII);
        if (id.length == 0 || id.length > MAX_ID_BYTES) {
            throw new IllegalArgumentException("disk id must be 1.." + MAX_ID_BYTES + " ASCII bytes: '" + diskId + "'");
        }
    }

    /** Writes the {@value #PAGE}-byte header at {@code out}'s position. */
    static void encodeHeader(ByteBuffer out, String diskId, Geometry g, int state, String bootId) {
        byte[] id = diskId.getBytes(StandardCharsets.US_ASCII);
        byte[] boot = bootId.getBytes(StandardCharsets.US_ASCII);
        int start = out.position();
        ByteBuffer h = out.slice(start, PAGE).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(MAGIC).putInt(VERSION).putInt(g.regionBytes()).putLong(g.diskBytes()).putInt(PAGE);
        h.putInt(id.length).put(id).putLong(g.chunkBytes()).putInt(state).putInt(boot.length).put(boot);
        while (h.position() < PAGE - 4) {
            h.put((byte) 0);
        }
        CRC32C c = new CRC32C();
        c.update(h.duplicate().position(0).limit(PAGE - 4));
        h.putInt((int) c.getValue());
        out.position(start + PAGE);
    }

    /** Writes page {@code p} of {@code set} (page number {@code filePage} in the file) at {@code out}'s position. */
    static void encodePage(RegionSet set, long p, long filePage, ByteBuffer out, CRC32C crc) {
        int start = out.position();
        ByteBuffer b = out.slice(start, PAGE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0).putInt(0);
        long from = p * WORDS_PER_PAGE;
        for (int i = 0; i < WORDS_PER_PAGE; i++) {
            long w = from + i;
            b.putLong(w < set.words.length ? set.words[(int) w] : 0L);
        }
        b.putInt(0, pageCrc(crc, filePage, b));
        out.position(start + PAGE);
    }

    private static int pageCrc(CRC32C crc, long filePage, ByteBuffer page) {
        crc.reset();
        int n = (int) filePage;
        crc.update(new byte[] {(byte) n, (byte) (n >>> 8), (byte) (n >>> 16), (byte) (n >>> 24)});
        crc.update(page.duplicate().position(8).limit(PAGE));
        return (int) crc.getValue();
    }

    /** The whole file for the dirty regions {@code set}: header, chunk pages (derived), region pages. */
    static ByteBuffer encode(RegionSet set, String diskId, long diskBytes, int regionBytes, int state, String bootId) {
        Geometry g = Geometry.of(diskBytes, regionBytes);
        if (set.size() != g.regions()) {
            throw new IllegalArgumentException("set of " + set.size() + " regions for a disk of " + g.regions() + " regions");
        }
        RegionSet chunks = new RegionSet(g.chunks());
        long perChunk = g.regionsPerChunk();
        for (long r = set.nextSet(0); r >= 0; r = set.nextSet((r / perChunk + 1) * perChunk)) {
            chunks.add(r / perChunk, r / perChunk + 1);
        }
        ByteBuffer out = ByteBuffer.allocate((int) g.fileLength()).order(ByteOrder.LITTLE_ENDIAN);
        encodeHeader(out, diskId, g, state, bootId);
        CRC32C crc = new CRC32C();
        for (long p = 0; p < g.chunkPages(); p++) {
            encodePage(chunks, p, g.chunkPage(p), out, crc);
        }
        for (long p = 0; p < g.regionPages(); p++) {
            encodePage(set, p, g.regionPage(p), out, crc);
        }
        return out.flip();
    }

    /**
     * Reads a log file's content into {@code into} (empty, of the geometry {@code diskBytes} /
     * {@code regionBytes}), never losing a dirty region: what cannot be trusted counts as dirty.
     * The region bitmap is taken as it is if the log was closed cleanly, or was written during
     * this boot ({@code bootId}, non-empty, equal to the header's); otherwise every region of
     * every marked chunk counts as dirty too. Lengths in the file are checked before they are
     * used; nothing is allocated from them.
     *
     * @param notes receives why the content was not taken as it was
     * @return whether the file must be rewritten (repaired, converted or widened)
     */
    static boolean decode(ByteBuffer content, String diskId, long diskBytes, int regionBytes, String bootId,
                          RegionSet into, List<String> notes) {
        ByteBuffer c = content.slice().order(ByteOrder.LITTLE_ENDIAN);
        String bad = headerProblem(c, diskId);
        if (bad != null) {
            notes.add(bad + ": every region counts as dirty");
            into.add(0, into.size());
            return true;
        }
        int idLength = c.getInt(28);
        int at = 32 + idLength;
        Geometry old = new Geometry(c.getLong(16), c.getInt(12), c.getLong(at));
        int state = c.getInt(at + 8);
        byte[] boot = new byte[c.getInt(at + 12)];
        c.get(at + 16, boot);
        String stored = new String(boot, StandardCharsets.US_ASCII);
        boolean same = old.regionBytes() == regionBytes && old.diskBytes() == diskBytes;
        if (!same) {
            notes.add("converted from regions of " + old.regionBytes() + " bytes on a disk of " + old.diskBytes()
                    + " bytes to regions of " + regionBytes + " bytes on a disk of " + diskBytes + " bytes");
        }
        boolean repaired = readBitmap(c, old, old.regions(), old.regionBytes(), false, diskBytes, regionBytes, into, notes);
        boolean trusted = state == CLEAN || !bootId.isEmpty() && bootId.equals(stored);
        if (!trusted) {
            notes.add("the log was not closed cleanly and the machine restarted since it was written (boot id "
                    + (stored.isEmpty() ? "unknown" : stored) + ", now " + (bootId.isEmpty() ? "unknown" : bootId)
                    + "): region marks not yet forced may be lost, so every region of the " + old.chunkBytes()
                    + "-byte chunks marked counts as dirty");
            readBitmap(c, old, old.chunks(), old.chunkBytes(), true, diskBytes, regionBytes, into, notes);
        }
        return repaired || !same || !trusted;
    }

    /**
     * Reads one bitmap (regions or chunks, of {@code unit} bytes, in the file's geometry {@code old})
     * and marks the bytes it covers in {@code into}. Returns whether a page was missing or corrupt.
     */
    private static boolean readBitmap(ByteBuffer c, Geometry old, long bits, long unit, boolean chunkLevel,
                                      long diskBytes, int regionBytes, RegionSet into, List<String> notes) {
        boolean repaired = false;
        CRC32C crc = new CRC32C();
        String what = chunkLevel ? "chunk" : "region";
        for (long p = 0; p < pages(bits); p++) {
            long filePage = chunkLevel ? old.chunkPage(p) : old.regionPage(p);
            long first = p * BITS_PER_PAGE;
            long end = Math.min(bits, first + BITS_PER_PAGE);
            long offset = PAGE * filePage;
            if (offset + PAGE > c.limit()) {
                if (!repaired) {
                    notes.add("the file ends at byte " + c.limit() + ", before " + what
                            + " bitmap page " + p + ": the missing pages count as dirty");
                }
                repaired = true;
                markBytes(into, first * unit, Math.min(end * unit, old.diskBytes()), diskBytes, regionBytes);
                continue;
            }
            ByteBuffer pg = c.slice((int) offset, PAGE).order(ByteOrder.LITTLE_ENDIAN);
            if (pg.getInt(0) != pageCrc(crc, filePage, pg) || pg.getInt(4) != 0) {
                notes.add(what + " bitmap page " + p + " fails its CRC32C (torn or corrupt write): its "
                        + (end - first) + " " + what + "s count as dirty");
                repaired = true;
                markBytes(into, first * unit, Math.min(end * unit, old.diskBytes()), diskBytes, regionBytes);
                continue;
            }
            boolean identity = !chunkLevel && old.diskBytes() == diskBytes && old.regionBytes() == regionBytes;
            for (int i = 0; i < WORDS_PER_PAGE; i++) {
                long base = first + 64L * i;
                if (base >= end) {
                    break;
                }
                long word = pg.getLong(8 + 8 * i);
                if (end - base < 64) {
                    word &= -1L >>> (64 - (end - base));
                }
                if (identity) {
                    int w = (int) (base >>> 6);
                    into.setWord(w, into.words[w] | word);
                    continue;
                }
                while (word != 0) {
                    long b = base + Long.numberOfTrailingZeros(word);
                    word &= word - 1;
                    long run = b + 1;
                    while (word != 0 && base + Long.numberOfTrailingZeros(word) == run) {
                        word &= word - 1;
                        run++;
                    }
                    markBytes(into, b * unit, Math.min(run * unit, old.diskBytes()), diskBytes, regionBytes);
                }
            }
        }
        return repaired;
    }

    /** Marks in {@code into} the regions holding bytes {@code [start, end)}, clamped to the disk. */
    private static void markBytes(RegionSet into, long start, long end, long diskBytes, int regionBytes) {
        end = Math.min(end, diskBytes);
        if (start >= end) {
            return;
        }
        into.add(start / regionBytes, (end + regionBytes - 1) / regionBytes);
    }

    /** Why the header cannot be used, or {@code null}. */
    private static String headerProblem(ByteBuffer c, String diskId) {
        if (c.limit() < PAGE) {
            return "the file is " + c.limit() + " bytes long, shorter than its " + PAGE + "-byte header";
        }
        if (c.getLong(0) != MAGIC) {
            return "the file does not start with the dirty-region log magic";
        }
        CRC32C crc = new CRC32C();
        crc.update(c.duplicate().position(0).limit(PAGE - 4));
        if (c.getInt(PAGE - 4) != (int) crc.getValue()) {
            return "the header fails its CRC32C";
        }
        if (c.getInt(8) != VERSION) {
            return "the header has format version " + c.getInt(8) + ", this agent reads version " + VERSION;
        }
        if (c.getInt(24) != PAGE) {
            return "the header has page size " + c.getInt(24) + ", expected " + PAGE;
        }
        int idLength = c.getInt(28);
        if (idLength < 1 || idLength > MAX_ID_BYTES) {
            return "the header has a disk id of " + idLength + " bytes (1.." + MAX_ID_BYTES + " expected)";
        }
        int at = 32 + idLength;
        int region = c.getInt(12);
        long disk = c.getLong(16);
        long chunk = c.getLong(at);
        try {
            checkGeometry(disk, region);
        } catch (IllegalArgumentException e) {
            return "the header has an impossible geometry (" + e.getMessage() + ")";
        }
        if (Long.bitCount(chunk) != 1 || chunk < region || chunk > 1L << 56 || (disk + chunk - 1) / chunk > MAX_CHUNKS * 64) {
            return "the header has an impossible chunk size " + chunk;
        }
        int state = c.getInt(at + 8);
        int bootLength = c.getInt(at + 12);
        if (state != RUNNING && state != CLEAN) {
            return "the header has an unknown state " + state;
        }
        if (bootLength < 0 || bootLength > MAX_BOOT_ID_BYTES) {
            return "the header has a boot id of " + bootLength + " bytes (0.." + MAX_BOOT_ID_BYTES + " expected)";
        }
        byte[] id = new byte[idLength];
        c.get(32, id);
        String stored = new String(id, StandardCharsets.US_ASCII);
        if (!stored.equals(diskId)) {
            return "the file belongs to disk '" + stored + "', not '" + diskId + "'";
        }
        return null;
    }

    private static void forceDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // not every platform can open a directory; the file itself is forced
        }
    }

    /** A file name for {@code diskId}: letters, digits, '.', '_' and '-' kept, anything else as %XX. */
    static String fileName(String diskId) {
        StringBuilder b = new StringBuilder();
        for (char ch : diskId.toCharArray()) {
            if (ch < 128 && (Character.isLetterOrDigit(ch) || ch == '.' || ch == '_' || ch == '-')) {
                b.append(ch);
            } else {
                b.append('%').append(String.format("%02X", (int) ch));
            }
        }
        return b.toString();
    }
}
