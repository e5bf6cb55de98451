package org.secondsite.mastertarget.internal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.DiskFiles;

/** Source disks for the agent's replays in tests: a byte array (a workload's model) or a file. */
final class Sources {
    private Sources() {
    }

    /** Reads {@code model}, which the test's workload writes before it hands each change to the sink. */
    static BlockDevice of(byte[] model) {
        return new ReadOnly(model.length) {
            @Override
            public void read(long offset, ByteBuffer dst) throws IOException {
                if (offset < 0 || offset + dst.remaining() > model.length) {
                    throw new EOFException("read of " + dst.remaining() + " bytes at " + offset + " beyond " + model.length);
                }
                dst.put(model, (int) offset, dst.remaining());
            }
        };
    }

    /** Reads a file. */
    static BlockDevice of(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        return new ReadOnly(ch.size()) {
            @Override
            public void read(long offset, ByteBuffer dst) throws IOException {
                DiskFiles.checkRange(offset, dst.remaining(), size());
                DiskFiles.readFully(ch, offset, dst);
            }

            @Override
            public void close() throws IOException {
                ch.close();
            }
        };
    }

    private abstract static class ReadOnly implements BlockDevice {
        private final long size;

        ReadOnly(long size) {
            this.size = size;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void write(long offset, ByteBuffer src) throws IOException {
            throw new IOException("test source is read-only");
        }

        @Override
        public void zero(long offset, long length) throws IOException {
            throw new IOException("test source is read-only");
        }

        @Override
        public void flush() {
        }

        @Override
        public boolean isReadOnly() {
            return true;
        }

        @Override
        public void close() throws IOException {
        }
    }
}
