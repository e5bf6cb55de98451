package org.secondsite.capture.scan.internal;

import org.secondsite.api.storage.DiskFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scan engine of one disk, free of OSGi and threads: {@link #scan()} reads the source in large
 * sequential reads, fingerprints each fixed block, compares it with the table of the previous scan and
 * passes the changed blocks to the sink, adjacent ones coalesced into records of up to {@link #MAX_RUN}
 * bytes, then calls {@link ChangeSink#flush()} and persists the table (when a state file is set).
 *
 * <p>A block's new fingerprint enters the table only once the record carrying it was accepted, so a
 * scan cut short by an error or by {@link #stop()} loses nothing: the next scan finds those blocks
 * changed again. Not thread-safe: one thread scans ({@link #snapshot()} may be read from any thread).
 */
final class BlockScanner implements AutoCloseable {
    /** Largest record this driver emits, and the size of one sequential read. */
    static final int MAX_RUN = 4 << 20;
    /** Largest table, in longs (a Java array bound). */
    static final long MAX_TABLE_LONGS = Integer.MAX_VALUE - 8;
    private static final Logger LOG = LoggerFactory.getLogger(BlockScanner.class);
    private static final double GIB = 1L << 30;

    private final String disk;
    private final Path path;
    private final ScanSettings settings;
    private final ChangeSink sink;
    private final StateFile state;
    private final BlockHash.Hasher hasher;
    private final int words;
    private final int blockSize;

    private FileChannel channel;
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(MAX_RUN).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    private byte[] staging;
    private final long[] pendingHashes;
    private final long[] scratch = new long[2];

    /** Fingerprints of the blocks of a {@code tableSize}-byte source; null before the baseline. */
    private long[] table;
    private long tableSize;
    /** The persisted state could not be used: the first scan marks the whole disk dirty. */
    private String dirtyReason;

    private long runStart;
    private int runLength;
    private int runBlocks;
    private long runFirstBlock;

    private volatile boolean stopping;

    /** {@code fileKey()} of the source when opened; null where the file system has none. */
    private final Object identity;
    private final boolean device;
    /** Why the last scan could not read the source; null after a scan that could. */
    private volatile String readProblem;
    /** What the last identity check found: the source deleted or replaced; null while the path names it. */
    private volatile String identityProblem;

    private final AtomicLong scans = new AtomicLong();
    private final AtomicLong scannedBytes = new AtomicLong();
    private final AtomicLong changedBlocks = new AtomicLong();
    private final AtomicLong emittedBytes = new AtomicLong();
    private final AtomicLong dirtyBytes = new AtomicLong();
    private final AtomicLong lastScanMillis = new AtomicLong();
    private final AtomicLong nanosPerGiB = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong sizeBytes = new AtomicLong();

    /**
     * Opens the source for reading and loads the persisted table, if any.
     *
     * @param stateFile where the table is persisted, or null to keep it in memory only
     * @throws IOException if the source cannot be opened
     */
    BlockScanner(String disk, Path path, ScanSettings settings, ChangeSink sink, StateFile stateFile) throws IOException {
        this.disk = disk;
        this.path = path;
        this.settings = settings;
        this.sink = sink;
        this.state = stateFile;
        this.hasher = settings.hash().newHasher();
        this.words = settings.hash().words();
        this.blockSize = settings.blockSize();
        this.pendingHashes = new long[MAX_RUN / blockSize * words];
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        this.identity = attributes.fileKey();
        this.device = !attributes.isRegularFile();
        if (stateFile != null) {
            try {
                StateFile.Loaded loaded = stateFile.load(settings.hash(), blockSize, MAX_TABLE_LONGS);
                if (loaded != null) {
                    table = loaded.table();
                    tableSize = loaded.sourceSize();
                    LOG.info("scan {}: resuming from {} ({} bytes described); the first scan emits what changed since",
                            disk, stateFile.path(), tableSize);
                }
            } catch (StateFile.UnusableStateException e) {
                dirtyReason = e.getMessage();
                errors.incrementAndGet();
                LOG.warn("scan {}: {}; the first scan marks the whole disk dirty for resync and starts a new baseline",
                        disk, dirtyReason);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }
    }

    /** Makes a running or later {@link #scan()} stop at its next read, without persisting. */
    void stop() {
        stopping = true;
    }

    private FileChannel channel() throws IOException {
        if (!channel.isOpen()) {
            if (stopping) {
                throw new ClosedChannelException();
            }
            // closed by an interrupt of the scanning thread: reopen
            channel = FileChannel.open(path, StandardOpenOption.READ);
        }
        return channel;
    }

    /**
     * One scan. The first one without a persisted table is the baseline: it records every fingerprint
     * and emits nothing, or every block with {@code initialFull}.
     *
     * @return the statistics after the scan
     * @throws IOException if the source cannot be read or the sink refuses a record; the error is counted
     *         and the next scan retries everything not yet accepted
     */
    Map<String, Long> scan() throws IOException {
        boolean baseline = table == null;
        try {
            doScan();
        } catch (IOException | RuntimeException e) {
            if (baseline) {
                table = null; // an unfinished baseline is no baseline
            }
            errors.incrementAndGet();
            runLength = 0;
            runBlocks = 0;
            throw e;
        }
        return snapshot();
    }

    private void doScan() throws IOException {
        long t0 = System.nanoTime();
        checkIdentity();
        FileChannel ch;
        long size;
        try {
            ch = channel();
            size = DiskFiles.size(path, ch);
        } catch (IOException e) {
            throw sourceFailed(e);
        }
        long blocks = StateFile.ceilDiv(size, blockSize);
        if (blocks * words > MAX_TABLE_LONGS) {
            throw new IOException("source " + path + " (" + size + " bytes) has " + blocks + " blocks of " + blockSize
                    + " bytes, more than one hash table can hold; use a larger blockSize");
        }
        boolean baseline = table == null;
        boolean emitAll = baseline && settings.initialFull() && dirtyReason == null;
        long oldSize = baseline ? 0 : tableSize;
        if (!baseline && size < oldSize) {
            errors.incrementAndGet();
            LOG.error("scan {}: source {} shrank from {} to {} bytes; the replica cannot shrink with it, "
                    + "scanning the first {} bytes from now on", disk, path, oldSize, size, size);
        }
        int needed = (int) (blocks * words);
        if (baseline) {
            table = new long[needed];
        } else if (table.length != needed) {
            table = Arrays.copyOf(table, needed);
        }
        if (dirtyReason != null) {
            markAllDirty(size);
        }
        tableSize = Math.min(oldSize, size);
        long pos = 0;
        ByteBuffer buf = readBuffer;
        while (pos < size) {
            if (stopping) {
                throw new IOException("scan of " + path + " stopped at offset " + pos + ": the session is closing");
            }
            int n = (int) Math.min(MAX_RUN, size - pos);
            buf.clear().limit(n);
            try {
                DiskFiles.readFully(ch, pos, buf);
            } catch (IOException e) {
                throw sourceFailed(e);
            }
            for (int off = 0; off < n; off += blockSize) {
                int len = Math.min(blockSize, n - off);
                long offset = pos + off;
                long block = offset / blockSize;
                int ti = (int) (block * words);
                hasher.hash(buf, off, len, scratch, 0);
                boolean changed;
                if (baseline) {
                    changed = emitAll;
                } else {
                    long oldLen = Math.max(0, Math.min(blockSize, oldSize - offset));
                    changed = oldLen != len || table[ti] != scratch[0] || (words == 2 && table[ti + 1] != scratch[1]);
                }
                if (changed) {
                    if (runLength > 0 && (runStart + runLength != offset || runLength + len > MAX_RUN)) {
                        emitRun();
                    }
                    if (runLength == 0) {
                        runStart = offset;
                        runFirstBlock = block;
                        if (staging == null) {
                            staging = new byte[MAX_RUN];
                        }
                    }
                    buf.get(off, staging, runLength, len);
                    System.arraycopy(scratch, 0, pendingHashes, runBlocks * words, words);
                    runLength += len;
                    runBlocks++;
                } else {
                    if (runLength > 0) {
                        emitRun();
                    }
                    table[ti] = scratch[0];
                    if (words == 2) {
                        table[ti + 1] = scratch[1];
                    }
                }
            }
            pos += n;
        }
        if (runLength > 0) {
            emitRun();
        }
        sink.flush();
        tableSize = size;
        dirtyReason = null;
        if (readProblem != null) {
            LOG.info("scan {}: source {} can be read again (was: {})", disk, path, readProblem);
            readProblem = null;
        }
        long elapsed = System.nanoTime() - t0;
        scans.incrementAndGet();
        scannedBytes.addAndGet(size);
        sizeBytes.set(size);
        lastScanMillis.set(elapsed / 1_000_000);
        nanosPerGiB.set(size == 0 ? 0 : Math.round(elapsed * (GIB / size)));
        if (state != null) {
            try {
                state.save(settings.hash(), blockSize, tableSize, table, needed);
            } catch (IOException e) {
                errors.incrementAndGet();
                LOG.warn("scan {}: cannot persist the hash table to {}: {}; a restart now re-emits more than needed",
                        disk, state.path(), e.toString());
            }
        }
        LOG.info("scan {}{}: {} bytes in {} ms ({} ns/GiB); changedBlocks={} emittedBytes={} (totals: scans={} "
                + "scannedBytes={} errors={})", disk, baseline ? " (baseline)" : "", size, lastScanMillis.get(),
                nanosPerGiB.get(), changedBlocks.get(), emittedBytes.get(), scans.get(), scannedBytes.get(), errors.get());
    }

    /**
     * Records that reading the source failed (logged when the problem appears or changes, not at every
     * scan) and returns the exception to throw; while the session is closing it is not a source problem.
     */
    private IOException sourceFailed(IOException e) {
        if (stopping) {
            return e;
        }
        String problem = "source " + path + " cannot be read (" + (e.getMessage() != null ? e.getMessage() : e.toString())
                + "): scans fail, and find no changes until it can";
        if (!problem.equals(readProblem)) {
            readProblem = problem;
            LOG.error("scan {}: {}; everything tracked so far is kept", disk, problem);
        }
        return new SourceReadException(problem, e);
    }

    /**
     * Compares the opened source with what its path names now (one {@code stat}); logs a change. A deleted
     * or replaced source is reported: scans keep reading the file opened at start.
     */
    void checkIdentity() {
        if (identity == null) {
            return;
        }
        String problem;
        try {
            Object now = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            problem = identity.equals(now) ? null : "source " + path + " was replaced by another "
                    + (device ? "device" : "file") + "; scans still read the one opened at start and miss changes to "
                    + "the new one";
        } catch (NoSuchFileException e) {
            problem = device ? "source device " + path + " vanished (its device node is gone)"
                    : "source file " + path + " was deleted; scans still read the deleted file and miss changes to "
                    + "any new file at that path";
        } catch (IOException e) {
            return; // e.g. a dead mount: the failing reads report that
        }
        String was = identityProblem;
        identityProblem = problem;
        if (problem != null && !problem.equals(was)) {
            LOG.error("scan {}: {}", disk, problem);
        } else if (problem == null && was != null) {
            LOG.info("scan {}: source {} names the scanned file again", disk, path);
        }
    }

    /** What is wrong with the source (deleted, replaced, unreadable); empty while it is healthy. */
    String problem() {
        checkIdentity();
        List<String> all = new ArrayList<>(2);
        for (String p : new String[] {identityProblem, readProblem}) {
            if (p != null) {
                all.add(p);
            }
        }
        return String.join("; ", all);
    }

    /** A scan failed because the source could not be read (not because the sink refused a record). */
    static final class SourceReadException extends IOException {
        private static final long serialVersionUID = 1L;

        SourceReadException(String problem, IOException cause) {
            super(problem, cause);
        }
    }

    /** Passes the current run to the sink and, once accepted, commits its fingerprints. */
    private void emitRun() throws IOException {
        ByteBuffer data = ByteBuffer.wrap(Arrays.copyOf(staging, runLength));
        sink.accept(ChangeRecord.write(runStart, data));
        System.arraycopy(pendingHashes, 0, table, (int) (runFirstBlock * words), runBlocks * words);
        changedBlocks.addAndGet(runBlocks);
        emittedBytes.addAndGet(runLength);
        runLength = 0;
        runBlocks = 0;
    }

    /** The persisted table was unusable: changes made while stopped are unknown, so resync must check everything. */
    private void markAllDirty(long size) throws IOException {
        int piece = ChangeRecord.MAX_LENGTH;
        for (long off = 0; off < size; off += piece) {
            int len = (int) Math.min(piece, size - off);
            sink.accept(ChangeRecord.dirty(off, len));
            dirtyBytes.addAndGet(len);
        }
    }

    /**
     * Counters: {@code scans} (completed), {@code scannedBytes}, {@code changedBlocks}, {@code emittedBytes}
     * (totals), {@code dirtyBytes} (marked dirty because the persisted state was unusable),
     * {@code lastScanMillis} (duration of the last completed scan), {@code nanosPerGiB} (its cost per scanned
     * GiB), {@code errors} (failed scans, shrinking source, state file problems), {@code sizeBytes} (source size
     * at the last scan).
     */
    Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("scans", scans.get());
        m.put("scannedBytes", scannedBytes.get());
        m.put("changedBlocks", changedBlocks.get());
        m.put("emittedBytes", emittedBytes.get());
        m.put("dirtyBytes", dirtyBytes.get());
        m.put("lastScanMillis", lastScanMillis.get());
        m.put("nanosPerGiB", nanosPerGiB.get());
        m.put("errors", errors.get());
        m.put("sizeBytes", sizeBytes.get());
        return Collections.unmodifiableMap(m);
    }

    @Override
    public void close() throws IOException {
        stopping = true;
        channel.close();
    }
}
