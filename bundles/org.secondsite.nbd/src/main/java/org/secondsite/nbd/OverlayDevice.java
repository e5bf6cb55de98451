package org.secondsite.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.DiskFiles;

/**
 * A writable device over a read-only base (a recovery point view, for a test failover): writes go to a
 * sparse scratch file, reads come from the scratch where a block was written and from the base elsewhere.
 * The base is never written. The scratch is discarded: {@link #close()} deletes it.
 *
 * <p>Granularity is {@value #BLOCK} bytes. A write that covers part of a block first copies the block
 * from where it currently lives (base, scratch or zeros) into the scratch (read-modify-write). The scratch
 * holds each block at its own offset, so a run of written blocks is read or written with one call. Which
 * blocks are in the scratch (and which read as zeros after WRITE_ZEROES, without taking scratch space) is
 * kept in memory only: 2 bits per block in pages allocated on first use (256 KiB per TiB written).
 *
 * <p>Thread-safe: operations on overlapping blocks are serialised by striped read-write locks (64 stripes
 * of 64 KiB granules, taken in stripe order), so a read never sees half of a read-modify-write and two
 * partial writes into one block never lose each other's bytes; operations on different granules run in
 * parallel.
 */
public final class OverlayDevice implements BlockDevice {
    /** Overlay granularity in bytes. */
    public static final int BLOCK = 4096;
    private static final int BLOCK_SHIFT = 12;
    /** Blocks per lock granule: 16 (64 KiB). */
    private static final int GRANULE_SHIFT = 4;
    private static final int STRIPES = 64;
    private static final int ZERO_BYTES = 64 << 10;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ZERO_BYTES).asReadOnlyBuffer();

    private final BlockDevice base;
    private final Path scratchFile;
    private final FileChannel scratch;
    private final long size;
    private final ReentrantReadWriteLock[] locks = new ReentrantReadWriteLock[STRIPES];
    /** Blocks whose content is in the scratch. */
    private final Bitmap overlaid;
    /** Blocks that read as zeros (WRITE_ZEROES of whole blocks), not in the scratch. */
    private final Bitmap zeroed;
    private final AtomicLong scratchBlocks = new AtomicLong();
    private final ThreadLocal<ByteBuffer> blockBuffer = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(BLOCK));
    private volatile boolean closed;

    private OverlayDevice(BlockDevice base, Path scratchFile, FileChannel scratch, long size) {
        this.base = base;
        this.scratchFile = scratchFile;
        this.scratch = scratch;
        this.size = size;
        long blocks = (size + BLOCK - 1) >>> BLOCK_SHIFT;
        this.overlaid = new Bitmap(blocks);
        this.zeroed = new Bitmap(blocks);
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantReadWriteLock();
        }
    }

    /**
     * A writable overlay over {@code base}, with a new scratch file {@code scratchFile} (which must not
     * exist; its directory needs room for the blocks written, at most the base's size).
     *
     * @throws java.nio.file.FileAlreadyExistsException if {@code scratchFile} exists
     * @throws IOException if the base's size cannot be read or the scratch cannot be created
     */
    public static OverlayDevice create(BlockDevice base, Path scratchFile) throws IOException {
        long size = base.size();
        if (size <= 0) {
            throw new IOException("cannot overlay an empty device (size " + size + ")");
        }
        FileChannel channel = FileChannel.open(scratchFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.SPARSE);
        return new OverlayDevice(base, scratchFile, channel, size);
    }

    /** The read-only device under the overlay (not closed by {@link #close()}). */
    public BlockDevice base() {
        return base;
    }

    /** The scratch file (deleted by {@link #close()}). */
    public Path scratchFile() {
        return scratchFile;
    }

    /** Bytes of written blocks held in the scratch (a block rewritten counts once). */
    public long scratchBytes() {
        return scratchBlocks.get() << BLOCK_SHIFT;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        check(offset, length);
        if (length == 0) {
            return;
        }
        long end = offset + length;
        long mask = lock(offset, end, false);
        int limit = dst.limit();
        try {
            long pos = offset;
            while (pos < end) {
                long b = pos >>> BLOCK_SHIFT;
                int state = state(b);
                long next = b + 1;
                while ((next << BLOCK_SHIFT) < end && state(next) == state) {
                    next++;
                }
                long runEnd = Math.min(end, next << BLOCK_SHIFT);
                dst.limit(dst.position() + (int) (runEnd - pos));
                switch (state) {
                    case SCRATCH -> DiskFiles.readFully(scratch, pos, dst);
                    case ZERO -> putZeros(dst);
                    default -> base.read(pos, dst);
                }
                dst.limit(limit);
                pos = runEnd;
            }
        } finally {
            dst.limit(limit);
            unlock(mask, false);
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        int length = src.remaining();
        check(offset, length);
        if (length == 0) {
            return;
        }
        long end = offset + length;
        long mask = lock(offset, end, true);
        int limit = src.limit();
        try {
            long pos = offset;
            while (pos < end) {
                long b = pos >>> BLOCK_SHIFT;
                long blockStart = b << BLOCK_SHIFT;
                long blockEnd = Math.min(blockStart + BLOCK, size);
                if (pos != blockStart || end < blockEnd) {
                    // partial block: read-modify-write
                    int n = (int) (Math.min(end, blockEnd) - pos);
                    ByteBuffer block = currentBlock(b);
                    src.limit(src.position() + n);
                    block.position((int) (pos - blockStart)).put(src);
                    src.limit(limit);
                    block.clear().limit((int) (blockEnd - blockStart));
                    DiskFiles.writeFully(scratch, blockStart, block);
                    markScratch(b, b + 1);
                    pos += n;
                } else {
                    // whole blocks up to the last one the write covers entirely: one call
                    long fullEnd = end == size ? end : end & ~(long) (BLOCK - 1);
                    src.limit(src.position() + (int) (fullEnd - pos));
                    DiskFiles.writeFully(scratch, pos, src);
                    src.limit(limit);
                    markScratch(b, (fullEnd + BLOCK - 1) >>> BLOCK_SHIFT);
                    pos = fullEnd;
                }
            }
        } finally {
            src.limit(limit);
            unlock(mask, true);
        }
    }

    /** Whole blocks become zero blocks (no scratch space); partial blocks are written with zeros. */
    @Override
    public void zero(long offset, long length) throws IOException {
        check(offset, length);
        if (length == 0) {
            return;
        }
        long end = offset + length;
        long mask = lock(offset, end, true);
        try {
            long pos = offset;
            while (pos < end) {
                long b = pos >>> BLOCK_SHIFT;
                long blockStart = b << BLOCK_SHIFT;
                long blockEnd = Math.min(blockStart + BLOCK, size);
                if (pos != blockStart || end < blockEnd) {
                    int n = (int) (Math.min(end, blockEnd) - pos);
                    ByteBuffer block = currentBlock(b);
                    int from = (int) (pos - blockStart);
                    for (int i = from; i < from + n; i++) {
                        block.put(i, (byte) 0);
                    }
                    block.clear().limit((int) (blockEnd - blockStart));
                    DiskFiles.writeFully(scratch, blockStart, block);
                    markScratch(b, b + 1);
                    pos += n;
                } else {
                    long fullEnd = end == size ? end : end & ~(long) (BLOCK - 1);
                    long last = (fullEnd + BLOCK - 1) >>> BLOCK_SHIFT;
                    for (long x = b; x < last; x++) {
                        zeroed.set(x);
                        if (overlaid.clear(x)) {
                            scratchBlocks.decrementAndGet();
                        }
                    }
                    pos = fullEnd;
                }
            }
        } finally {
            unlock(mask, true);
        }
    }

    /** Forces the scratch (the base is never written, so it has nothing to flush). */
    @Override
    public void flush() throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        scratch.force(false);
    }

    /**
     * Discards the overlay: closes and deletes the scratch file. Waits for operations in progress. The base
     * is not closed. Idempotent.
     */
    @Override
    public void close() throws IOException {
        long all = -1L;
        lockMask(all, true);
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                scratch.close();
            } finally {
                Files.deleteIfExists(scratchFile);
            }
        } finally {
            unlock(all, true);
        }
    }

    @Override
    public String toString() {
        return "overlay over " + base + " (scratch " + scratchFile + ", " + scratchBytes() + " bytes written)";
    }

    // ------------------------------------------------------------------ internals

    private static final int BASE = 0;
    private static final int SCRATCH = 1;
    private static final int ZERO = 2;

    private int state(long block) {
        return overlaid.get(block) ? SCRATCH : zeroed.get(block) ? ZERO : BASE;
    }

    private void markScratch(long from, long to) {
        for (long b = from; b < to; b++) {
            if (overlaid.set(b)) {
                scratchBlocks.incrementAndGet();
            }
            zeroed.clear(b);
        }
    }

    /** The current content of {@code block}, in this thread's block buffer (position 0, limit = block length). */
    private ByteBuffer currentBlock(long block) throws IOException {
        ByteBuffer buf = blockBuffer.get();
        long start = block << BLOCK_SHIFT;
        buf.clear().limit((int) (Math.min(start + BLOCK, size) - start));
        switch (state(block)) {
            case SCRATCH -> DiskFiles.readFully(scratch, start, buf);
            case ZERO -> putZeros(buf);
            default -> base.read(start, buf);
        }
        return buf.flip();
    }

    private static void putZeros(ByteBuffer dst) {
        while (dst.hasRemaining()) {
            dst.put(ZEROS.duplicate().limit(Math.min(ZERO_BYTES, dst.remaining())));
        }
    }

    private void check(long offset, long length) throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        DiskFiles.checkRange(offset, length, size);
    }

    /** Locks the stripes of the granules {@code [offset, end)} touches; returns the stripe mask to unlock. */
    private long lock(long offset, long end, boolean write) {
        long g0 = offset >>> (BLOCK_SHIFT + GRANULE_SHIFT);
        long g1 = (end - 1) >>> (BLOCK_SHIFT + GRANULE_SHIFT);
        long mask;
        if (g1 - g0 + 1 >= STRIPES) {
            mask = -1L;
        } else {
            mask = 0;
            for (long g = g0; g <= g1; g++) {
                mask |= 1L << (g & (STRIPES - 1));
            }
        }
        lockMask(mask, write);
        return mask;
    }

    /** Takes the locks of {@code mask} in ascending stripe order (so two callers never deadlock). */
    private void lockMask(long mask, boolean write) {
        for (int i = 0; i < STRIPES; i++) {
            if ((mask & (1L << i)) != 0) {
                if (write) {
                    locks[i].writeLock().lock();
                } else {
                    locks[i].readLock().lock();
                }
            }
        }
    }

    private void unlock(long mask, boolean write) {
        for (int i = STRIPES - 1; i >= 0; i--) {
            if ((mask & (1L << i)) != 0) {
                if (write) {
                    locks[i].writeLock().unlock();
                } else {
                    locks[i].readLock().unlock();
                }
            }
        }
    }

    /** One bit per block, in pages of 2^16 bits allocated on first set; atomic per bit. */
    private static final class Bitmap {
        private static final int PAGE_SHIFT = 16;
        private static final int WORDS_PER_PAGE = (1 << PAGE_SHIFT) / 64;
        private final AtomicReferenceArray<AtomicLongArray> pages;

        Bitmap(long bits) {
            this.pages = new AtomicReferenceArray<>(Math.toIntExact(((bits - 1) >>> PAGE_SHIFT) + 1));
        }

        boolean get(long bit) {
            AtomicLongArray page = pages.get((int) (bit >>> PAGE_SHIFT));
            return page != null && (page.get(word(bit)) & mask(bit)) != 0;
        }

        /** Sets the bit; returns whether it was clear. */
        boolean set(long bit) {
            int p = (int) (bit >>> PAGE_SHIFT);
            AtomicLongArray page = pages.get(p);
            if (page == null) {
                pages.compareAndSet(p, null, new AtomicLongArray(WORDS_PER_PAGE));
                page = pages.get(p);
            }
            long m = mask(bit);
            return (page.getAndUpdate(word(bit), w -> w | m) & m) == 0;
        }

        /** Clears the bit; returns whether it was set. */
        boolean clear(long bit) {
            AtomicLongArray page = pages.get((int) (bit >>> PAGE_SHIFT));
            if (page == null) {
                return false;
            }
            long m = mask(bit);
            return (page.getAndUpdate(word(bit), w -> w & ~m) & m) != 0;
        }

        private static int word(long bit) {
            return (int) ((bit & ((1 << PAGE_SHIFT) - 1)) >>> 6);
        }

        private static long mask(long bit) {
            return 1L << (bit & 63);
        }
    }
}
