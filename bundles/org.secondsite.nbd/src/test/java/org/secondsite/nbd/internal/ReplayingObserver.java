package org.secondsite.nbd.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.secondsite.nbd.WriteObserver;

/**
 * A test observer that replays every change, in the order observed, onto an image that starts as zeros
 * (WRITE copies the data, ZERO zeros the range, TRIM keeps the bytes as the device does). At the end of
 * a test the image must equal the device: that proves the observed stream complete and in order.
 */
final class ReplayingObserver implements WriteObserver {
    /** One observed change: kind ("WRITE", "ZERO", "TRIM"), offset, length. */
    record Change(String kind, long offset, long length) {
    }

    private final byte[] image;
    private final List<Change> changes = new ArrayList<>();
    private final AtomicInteger flushes = new AtomicInteger();
    private long accepted;
    private long refused;

    ReplayingObserver(long size) {
        this.image = new byte[Math.toIntExact(size)];
    }

    @Override
    public synchronized void write(long offset, ByteBuffer data) {
        accepted++;
        changes.add(new Change("WRITE", offset, data.remaining()));
        data.get(image, Math.toIntExact(offset), data.remaining());
    }

    @Override
    public synchronized void zero(long offset, long length) {
        accepted++;
        changes.add(new Change("ZERO", offset, length));
        Arrays.fill(image, Math.toIntExact(offset), Math.toIntExact(offset + length), (byte) 0);
    }

    @Override
    public synchronized void trim(long offset, long length) {
        accepted++;
        changes.add(new Change("TRIM", offset, length));
    }

    @Override
    public synchronized void refused(long offset, long length, IOException failure) {
        refused++;
    }

    @Override
    public void flushed() {
        flushes.incrementAndGet();
    }

    synchronized byte[] image() {
        return image.clone();
    }

    synchronized long accepted() {
        return accepted;
    }

    synchronized long refusedCount() {
        return refused;
    }

    synchronized List<Change> changes() {
        return List.copyOf(changes);
    }

    int flushes() {
        return flushes.get();
    }
}
