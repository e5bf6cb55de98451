package org.secondsite.mastertarget.internal.retention;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

import org.secondsite.api.storage.BlockDevice;

/** A replica in memory, for unit tests. */
final class MemoryDisk implements BlockDevice {
    final byte[] bytes;

    MemoryDisk(int size) {
        this.bytes = new byte[size];
    }

    private void check(long offset, long length) throws EOFException {
        if (offset < 0 || offset + length > bytes.length) {
            throw new EOFException(length + " bytes at " + offset + " beyond " + bytes.length);
        }
    }

    @Override
    public long size() {
        return bytes.length;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        check(offset, dst.remaining());
        dst.put(bytes, (int) offset, dst.remaining());
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        check(offset, src.remaining());
        src.get(bytes, (int) offset, src.remaining());
    }

    @Override
    public void zero(long offset, long length) throws IOException {
        check(offset, length);
        Arrays.fill(bytes, (int) offset, (int) (offset + length), (byte) 0);
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

    /** The whole content of a device. */
    static byte[] readAll(BlockDevice d) throws IOException {
        byte[] out = new byte[(int) d.size()];
        ByteBuffer b = ByteBuffer.wrap(out);
        // in uneven pieces, to cross piece borders of a view's range map
        int piece = 1;
        while (b.hasRemaining()) {
            int n = Math.min(b.remaining(), piece);
            d.read(b.position(), b.slice().limit(n));
            b.position(b.position() + n);
            piece = piece * 7 % 65521 + 1;
        }
        return out;
    }
}
