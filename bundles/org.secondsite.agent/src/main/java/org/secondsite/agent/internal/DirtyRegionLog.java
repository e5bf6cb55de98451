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
 * The persisted dirty-region bitmap of one disk ("dirty-region log", DRL): a region is marked
 * on disk before the write touching it is acknowledged, and cleared lazily once everything
 * covering it is acknowledged downstream. After a crash every marked region is read from the
 * source and sent again; nothing else needs to be.
 *
 * <h2>File format</h2>
 * Little-endian, in {@value #PAGE}-byte pages. Page 0 is the header: magic
 * {@code "SSDRLOG!"}, version (int, 1), region size (int), disk size (long), page size (int),
 * disk id (int length, at most {@value #MAX_ID_BYTES} ASCII bytes), zero padding, and at
 * offset {@code PAGE - 4} the CRC32C of the bytes before it. Page {@code p + 1} holds bitmap
 * page {@code p}: CRC32C (int) of the page number (int) followed by the page's bytes 8..PAGE,
 * then an int 0, then {@value #WORDS_PER_PAGE} words of 64 regions each (region {@code i} is
 * bit {@code i % 64} of word {@code i / 64}).
 *
 * <p>A bitmap page is rewritten whole when one of its bits changes. Decoding never loses a
 * dirty region: a page that fails its CRC (a torn or corrupt write) or is missing counts as
 * all dirty; a header that fails its checks, or names another disk, makes the whole disk
 * dirty; a header of another region or disk size (the configuration changed) is converted
 * region by region, covering at least every byte the old log covered.
 *
 * <h2>Durability and cost</h2>
 * {@link #mark} sets bits in memory and, only if a bit was not set yet, writes the pages
 * holding them (positional write, no force). {@link #awaitForced()} returns once every mark
 * written so far is forced to the medium; concurrent callers share one force (group commit),
 * and a caller whose regions were all marked and forced before costs no I/O at all.
 * Clearing writes pages but never forces: a clear that is lost only costs a replay.
 */
final class DirtyRegionLog implements Closeable {
    static final int PAGE = 4096;
    static final int WORDS_PER_PAGE = (PAGE - 8) / 8;
    static final int REGIONS_PER_PAGE = WORDS_PER_PAGE * 64;
    static final long MAGIC = 0x2147_4F4C_5244_5353L; // "SSDRLOG!" little-endian
    static final int VERSION = 1;
    static final int MAX_ID_BYTES = 128;
    static final int MIN_REGION = 4096;
    static final int MAX_REGION = 64 << 20;
    static final String SUFFIX = ".drl";
    /** Most bytes read of a log written with another geometry. */
    static final long MAX_READ = 256L << 20;

    private final Path file;
    private final FileChannel channel;
    private final String diskId;
    private final long diskBytes;
    private final int regionBytes;
    private final int shift;
    private final RegionSet dirty;
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

    private DirtyRegionLog(Path file, FileChannel channel, String diskId, long diskBytes, int regionBytes,
                           RegionSet dirty, List<String> notes) {
        this.file = file;
        this.channel = channel;
        this.diskId = diskId;
        this.diskBytes = diskBytes;
        this.regionBytes = regionBytes;
        this.shift = Integer.numberOfTrailingZeros(regionBytes);
        this.dirty = dirty;
        this.notes = List.copyOf(notes);
    }

    /** Number of regions of a disk of {@code diskBytes} with regions of {@code regionBytes}. */
    static long regions(long diskBytes, int regionBytes) {
        return (diskBytes + regionBytes - 1) / regionBytes;
    }

    static void checkGeometry(long diskBytes, int regionBytes) {
        if (Integer.bitCount(regionBytes) != 1 || regionBytes < MIN_REGION || regionBytes > MAX_REGION) {
            throw new IllegalArgumentException("region size must be a power of two from " + MIN_REGION + " to "
                    + MAX_REGION + " bytes, was " + regionBytes);
        }
        if (diskBytes < 1) {
            throw new IllegalArgumentException("disk size must be >= 1 byte, was " + diskBytes);
        }
        if (regions(diskBytes, regionBytes) > (long) Integer.MAX_VALUE * 64) {
            throw new IllegalArgumentException("disk of " + diskBytes + " bytes has too many regions of "
                    + regionBytes + " bytes; choose larger regions");
        }
    }

    /**
     * Opens (or creates) the log of {@code diskId} in {@code file}. A log that had to be repaired
     * or converted is rewritten and forced before this returns; {@link #notes()} says why.
     */
    static DirtyRegionLog open(Path file, String diskId, long diskBytes, int regionBytes) throws IOException {
        checkGeometry(diskBytes, regionBytes);
        checkId(diskId);
        Files.createDirectories(file.getParent());
        boolean existed = Files.exists(file);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            RegionSet dirty = new RegionSet(regions(diskBytes, regionBytes));
            List<String> notes = new ArrayList<>();
            boolean rewrite = true;
            if (existed) {
                long len = ch.size();
                long expected = fileLength(diskBytes, regionBytes);
                // read at most what this geometry needs plus a header: a longer file is not read whole
                // a log of another geometry may be longer; past MAX_READ its pages count as dirty
                ByteBuffer content = ByteBuffer.allocate((int) Math.min(len, Math.max(expected, MAX_READ)));
                DiskFiles.readFully(ch, 0, content);
                content.flip();
                rewrite = decode(content, diskId, diskBytes, regionBytes, dirty, notes) || len != expected;
            }
            DirtyRegionLog log = new DirtyRegionLog(file, ch, diskId, diskBytes, regionBytes, dirty, notes);
            if (rewrite) {
                log.lock.lock();
                try {
                    log.rewriteAll();
                    ch.truncate(fileLength(diskBytes, regionBytes));
                    ch.force(true);
                } finally {
                    log.lock.unlock();
                }
                if (!existed) {
                    forceDirectory(file.getParent());
                }
            }
            return log;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    static long fileLength(long diskBytes, int regionBytes) {
        return (long) PAGE * (1 + pages(regions(diskBytes, regionBytes)));
    }

    static long pages(long regions) {
        return (regions + REGIONS_PER_PAGE - 1) / REGIONS_PER_PAGE;
    }

    Path file() {
        return file;
    }

    int regionBytes() {
        return regionBytes;
    }

    long diskBytes() {
        return diskBytes;
    }

    /** Why the log was repaired or converted when opened; empty when it was read as it was. */
    List<String> notes() {
        return notes;
    }

    /** First region of byte {@code offset}. */
    long regionOf(long offset) {
        return offset >>> shift;
    }

    /** The first region after the bytes up to {@code end} (exclusive). */
    long regionEnd(long end) {
        return (end + regionBytes - 1) >>> shift;
    }

    /** Bytes of the disk covered by {@code count} regions, the last one possibly cut by the disk's end. */
    long bytes(RegionSet set) {
        long n = set.count() << shift;
        long lastRegion = set.size() - 1;
        if (set.size() > 0 && set.contains(lastRegion)) {
            n -= ((lastRegion + 1) << shift) - diskBytes;
        }
        return n;
    }

    /**
     * Marks regions {@code [from, to)} dirty. If any was clean, writes the pages holding them
     * (not forced: call {@link #awaitForced()}) and returns {@code true}; otherwise does no I/O.
     * If the write fails the regions are left as they were.
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
            long[] before = Arrays.copyOfRange(dirty.words, firstWord, lastWord + 1);
            dirty.add(from, to);
            try {
                writePages(firstWord / WORDS_PER_PAGE, lastWord / WORDS_PER_PAGE);
            } catch (IOException e) {
                for (int w = firstWord; w <= lastWord; w++) {
                    dirty.setWord(w, before[w - firstWord]);
                }
                throw new IOException("dirty-region log " + file + ": cannot record dirty regions: " + e.getMessage(), e);
            }
            markGen++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Returns once every region marked so far is forced to the medium. Cheap when nothing was
     * marked since the last force; concurrent callers share one force.
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
                        rewriteAll();
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

    /** Whether regions {@code [from, to)} are all marked. */
    boolean isMarked(long from, long to) {
        lock.lock();
        try {
            return dirty.containsAll(from, to);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Clears every region of {@code candidates} (same geometry) and writes the pages that
     * changed, without forcing. Returns the number of regions cleared.
     */
    long clear(RegionSet candidates) throws IOException {
        lock.lock();
        try {
            ensureOpen();
            long cleared = 0;
            long[] w = dirty.words;
            for (int p = 0; p * WORDS_PER_PAGE < w.length; p++) {
                long inPage = 0;
                int end = Math.min(w.length, (p + 1) * WORDS_PER_PAGE);
                for (int i = p * WORDS_PER_PAGE; i < end; i++) {
                    long drop = w[i] & candidates.words[i];
                    if (drop != 0) {
                        dirty.setWord(i, w[i] & ~drop);
                        inPage += Long.bitCount(drop);
                    }
                }
                if (inPage > 0) {
                    cleared += inPage;
                    try {
                        writePages(p, p);
                    } catch (IOException e) {
                        rewriteNeeded = true; // memory and file differ: safe (the file has more), fixed on the next force
                        throw new IOException("dirty-region log " + file + ": cannot write cleared regions: "
                                + e.getMessage(), e);
                    }
                }
            }
            return cleared;
        } finally {
            lock.unlock();
        }
    }

    /** A copy of the marked regions. */
    RegionSet snapshot() {
        lock.lock();
        try {
            return dirty.copy();
        } finally {
            lock.unlock();
        }
    }

    /** Counters for measurements and tests: {pageWrites, forces}. */
    long[] counters() {
        lock.lock();
        try {
            return new long[] {pageWrites, forces};
        } finally {
            lock.unlock();
        }
    }

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

    /** Writes header and every page. Lock held. */
    private void rewriteAll() throws IOException {
        ByteBuffer h = ByteBuffer.allocate(PAGE).order(ByteOrder.LITTLE_ENDIAN);
        encodeHeader(h, diskId, diskBytes, regionBytes);
        h.flip();
        DiskFiles.writeFully(channel, 0, h);
        long pages = pages(dirty.size());
        if (pages > 0) {
            writePages(0, (int) pages - 1);
        }
    }

    /** Writes bitmap pages {@code first..last} from memory. Lock held. */
    private void writePages(int first, int last) throws IOException {
        for (int p = first; p <= last; p++) {
            page.clear();
            encodePage(dirty, p, page, crc);
            page.flip();
            DiskFiles.writeFully(channel, (long) PAGE * (p + 1), page);
            pageWrites++;
        }
    }

    // ------------------------------------------------------------------ format

    static void checkId(String diskId) {
        byte[] id = diskId.getBytes(StandardCharsets.US_ASCII);
        if (id.length == 0 || id.length > MAX_ID_BYTES) {
            throw new IllegalArgumentException("disk id must be 1.." + MAX_ID_BYTES + " ASCII bytes: '" + diskId + "'");
        }
    }

    /** Writes the {@value #PAGE}-byte header at {@code out}'s position (little-endian buffer). */
    static void encodeHeader(ByteBuffer out, String diskId, long diskBytes, int regionBytes) {
        byte[] id = diskId.getBytes(StandardCharsets.US_ASCII);
        int start = out.position();
        ByteBuffer h = out.slice(start, PAGE).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(MAGIC).putInt(VERSION).putInt(regionBytes).putLong(diskBytes).putInt(PAGE).putInt(id.length).put(id);
        while (h.position() < PAGE - 4) {
            h.put((byte) 0);
        }
        CRC32C c = new CRC32C();
        c.update(h.duplicate().position(0).limit(PAGE - 4));
        h.putInt((int) c.getValue());
        out.position(start + PAGE);
    }

    /** Writes bitmap page {@code p} of {@code set} at {@code out}'s position (little-endian buffer). */
    static void encodePage(RegionSet set, int p, ByteBuffer out, CRC32C crc) {
        int start = out.position();
        ByteBuffer b = out.slice(start, PAGE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0).putInt(0);
        int from = p * WORDS_PER_PAGE;
        for (int i = 0; i < WORDS_PER_PAGE; i++) {
            int w = from + i;
            b.putLong(w < set.words.length ? set.words[w] : 0L);
        }
        crc.reset();
        crc.update(new byte[] {(byte) p, (byte) (p >>> 8), (byte) (p >>> 16), (byte) (p >>> 24)});
        crc.update(b.duplicate().position(8).limit(PAGE));
        b.putInt(0, (int) crc.getValue());
        out.position(start + PAGE);
    }

    /** The whole file for {@code set}: header and pages. */
    static ByteBuffer encode(RegionSet set, String diskId, long diskBytes, int regionBytes) {
        checkGeometry(diskBytes, regionBytes);
        if (set.size() != regions(diskBytes, regionBytes)) {
            throw new IllegalArgumentException("set of " + set.size() + " regions for a disk of "
                    + regions(diskBytes, regionBytes) + " regions");
        }
        ByteBuffer out = ByteBuffer.allocate((int) fileLength(diskBytes, regionBytes)).order(ByteOrder.LITTLE_ENDIAN);
        encodeHeader(out, diskId, diskBytes, regionBytes);
        CRC32C crc = new CRC32C();
        for (int p = 0; p < pages(set.size()); p++) {
            encodePage(set, p, out, crc);
        }
        return out.flip();
    }

    /**
     * Reads a log file's content into {@code into} (empty, of the geometry {@code diskBytes} /
     * {@code regionBytes}), never losing a dirty region: what cannot be trusted counts as dirty.
     * Lengths in the file are checked before they are used; nothing is allocated from them.
     *
     * @param notes receives why the content was not taken as it was
     * @return whether the file must be rewritten (repaired or converted)
     */
    static boolean decode(ByteBuffer content, String diskId, long diskBytes, int regionBytes, RegionSet into,
                          List<String> notes) {
        ByteBuffer c = content.slice().order(ByteOrder.LITTLE_ENDIAN);
        String bad = headerProblem(c, diskId);
        if (bad != null) {
            notes.add(bad + ": every region counts as dirty");
            into.add(0, into.size());
            return true;
        }
        int oldRegion = c.getInt(12);
        long oldDisk = c.getLong(16);
        boolean same = oldRegion == regionBytes && oldDisk == diskBytes;
        if (!same) {
            notes.add("converted from regions of " + oldRegion + " bytes on a disk of " + oldDisk
                    + " bytes to regions of " + regionBytes + " bytes on a disk of " + diskBytes + " bytes");
        }
        long oldRegions = regions(oldDisk, oldRegion);
        long oldPages = pages(oldRegions);
        boolean repaired = false;
        CRC32C crc = new CRC32C();
        for (long p = 0; p < oldPages; p++) {
            long at = PAGE * (p + 1);
            long firstRegion = p * REGIONS_PER_PAGE;
            long endRegion = Math.min(oldRegions, firstRegion + REGIONS_PER_PAGE);
            if (at + PAGE > c.limit()) {
                if (!repaired) {
                    notes.add("the file ends at byte " + c.limit() + ", before bitmap page " + p
                            + ": the missing pages count as dirty");
                }
                repaired = true;
                markOld(into, firstRegion, endRegion, oldRegion, oldDisk, diskBytes, regionBytes);
                continue;
            }
            ByteBuffer pg = c.slice((int) at, PAGE).order(ByteOrder.LITTLE_ENDIAN);
            crc.reset();
            crc.update(new byte[] {(byte) p, (byte) (p >>> 8), (byte) (p >>> 16), (byte) (p >>> 24)});
            crc.update(pg.duplicate().position(8).limit(PAGE));
            if (pg.getInt(0) != (int) crc.getValue() || pg.getInt(4) != 0) {
                notes.add("bitmap page " + p + " fails its CRC32C (torn or corrupt write): its "
                        + (endRegion - firstRegion) + " regions count as dirty");
                repaired = true;
                markOld(into, firstRegion, endRegion, oldRegion, oldDisk, diskBytes, regionBytes);
                continue;
            }
            for (int i = 0; i < WORDS_PER_PAGE; i++) {
                long word = pg.getLong(8 + 8 * i);
                long base = firstRegion + 64L * i;
                if (base >= endRegion) {
                    break;
                }
                if (same) {
                    into.setWord((int) (base >>> 6), word | into.words[(int) (base >>> 6)]);
                    continue;
                }
                while (word != 0) {
                    long r = base + Long.numberOfTrailingZeros(word);
                    word &= word - 1;
                    if (r < endRegion) {
                        long run = r + 1;
                        while (word != 0 && base + Long.numberOfTrailingZeros(word) == run) {
                            word &= word - 1;
                            run++;
                        }
                        markOld(into, r, Math.min(run, endRegion), oldRegion, oldDisk, diskBytes, regionBytes);
                    }
                }
            }
        }
        return repaired || !same;
    }

    /** Marks in {@code into} the bytes of old regions {@code [from, to)}, clamped to the new disk. */
    private static void markOld(RegionSet into, long from, long to, int oldRegion, long oldDisk, long diskBytes,
                                int regionBytes) {
        long start = from * oldRegion;
        long end = Math.min(to * oldRegion, oldDisk);
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
        CRC32C crc = new CRC32C();
        crc.update(c.duplicate().position(0).limit(PAGE - 4));
        if (c.getLong(0) != MAGIC) {
            return "the file does not start with the dirty-region log magic";
        }
        if (c.getInt(PAGE - 4) != (int) crc.getValue()) {
            return "the header fails its CRC32C";
        }
        if (c.getInt(8) != VERSION) {
            return "the header has format version " + c.getInt(8) + ", this agent reads version " + VERSION;
        }
        int region = c.getInt(12);
        long disk = c.getLong(16);
        if (Integer.bitCount(region) != 1 || region < MIN_REGION || region > MAX_REGION || disk < 1
                || regions(disk, region) > (long) Integer.MAX_VALUE * 64) {
            return "the header has an impossible geometry (regions of " + region + " bytes, disk of " + disk + " bytes)";
        }
        if (c.getInt(24) != PAGE) {
            return "the header has page size " + c.getInt(24) + ", expected " + PAGE;
        }
        int idLength = c.getInt(28);
        if (idLength < 1 || idLength > MAX_ID_BYTES) {
            return "the header has a disk id of " + idLength + " bytes (1.." + MAX_ID_BYTES + " expected)";
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
