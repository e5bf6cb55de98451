package org.secondsite.capture.nbd.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;

/**
 * A test sink that replays every record, in the order accepted, onto an image that starts as zeros
 * (WRITE copies the data, ZERO zeros the range, TRIM keeps the bytes as the source does). At the
 * end of a test the image must equal the source file: that proves the stream complete and in order.
 */
final class ReplayingSink implements ChangeSink {
    private final byte[] image;
    private final boolean keepRecords;
    private final List<ChangeRecord> records = new ArrayList<>();
    private final AtomicInteger flushes = new AtomicInteger();
    private long accepted;
    private volatile IOException failNext;
    private java.nio.channels.FileChannel source;
    private ChangeRecord previous;
    private long sourceMismatches;

    ReplayingSink(long size, boolean keepRecords) {
        this.image = new byte[Math.toIntExact(size)];
        this.keepRecords = keepRecords;
    }

    /** A sink whose replay starts from {@code initial} instead of zeros (for disks that start non-empty). */
    ReplayingSink(byte[] initial, boolean keepRecords) {
        this.image = initial.clone();
        this.keepRecords = keepRecords;
    }

    /**
     * Checks, at each accept, that the previous record is already applied to {@code file}: the driver
     * applies a change before it lets the next one reach the sink, so the file and the stream move
     * together. Mismatches are counted ({@link #sourceMismatches()}).
     */
    synchronized void checkSourceAtEachAccept(java.nio.file.Path file) throws IOException {
        source = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ);
    }

    synchronized long sourceMismatches() {
        return sourceMismatches;
    }

    private void checkPreviousApplied() throws IOException {
        ChangeRecord p = previous;
        if (source == null || p == null || p.kind() == org.secondsite.api.model.ChangeKind.TRIM) {
            return;
        }
        ByteBuffer actual = ByteBuffer.allocate(p.length());
        source.read(actual, p.offset());
        actual.flip();
        ByteBuffer wanted = p.hasData() ? p.data() : ByteBuffer.allocate(p.length());
        if (!actual.equals(wanted)) {
            sourceMismatches++;
        }
    }

    /** Makes the next {@link #accept} throw {@code e} instead of taking the record. */
    void failNextAccept(IOException e) {
        failNext = e;
    }

    @Override
    public synchronized void accept(ChangeRecord change) throws IOException {
        IOException f = failNext;
        if (f != null) {
            failNext = null;
            throw f;
        }
        checkPreviousApplied();
        previous = change;
        accepted++;
        if (keepRecords) {
            records.add(change);
        }
        int off = Math.toIntExact(change.offset());
        switch (change.kind()) {
            case WRITE -> {
                ByteBuffer d = change.data();
                if (d.remaining() != change.length()) {
                    throw new AssertionError("record data holds " + d.remaining() + " bytes, length says " + change.length());
                }
                d.get(image, off, change.length());
            }
            case ZERO -> Arrays.fill(image, off, off + change.length(), (byte) 0);
            case TRIM -> {
                // the source keeps its bytes on TRIM
            }
            default -> throw new AssertionError("unexpected record " + change);
        }
    }

    @Override
    public void flush() {
        flushes.incrementAndGet();
    }

    synchronized byte[] image() {
        return image.clone();
    }

    synchronized List<ChangeRecord> records() {
        return List.copyOf(records);
    }

    synchronized long accepted() {
        return accepted;
    }

    int flushes() {
        return flushes.get();
    }
}
