package org.secondsite.agent.internal;

import java.io.EOFException;
import java.nio.ByteBuffer;

import org.secondsite.api.storage.BlockDevice;

/** A source disk in memory: reads of the array a test writes (under the array's monitor). */
final class ArrayDevice implements BlockDevice {
    final byte[] bytes;
    volatile long reads;

    ArrayDevice(byte[] bytes) {
        this.bytes = bytes;
    }

    @Override
    public long size() {
        return bytes.length;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws EOFException {
        if (offset < 0 || offset + dst.remaining() > bytes.length) {
            throw new EOFException("read of " + dst.remaining() + " bytes at " + offset + " beyond " + bytes.length);
        }
        synchronized (bytes) {
            dst.put(bytes, (int) offset, dst.remaining());
        }
        reads++;
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        synchronized (bytes) {
            src.get(bytes, (int) offset, src.remaining());
        }
    }

    @Override
    public void zero(long offset, long length) {
        synchronized (bytes) {
            java.util.Arrays.fill(bytes, (int) offset, (int) (offset + length), (byte) 0);
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    @Override
    public void close() {
    }
}
