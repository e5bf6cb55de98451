package org.secondsite.capture.scan.internal;

import org.secondsite.api.storage.DiskFiles;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.secondsite.api.storage.BlockDevice;

/**
 * The scanned disk as {@link org.secondsite.api.capture.CaptureSession#source()} shows it: read-only
 * (the driver only observes the disk; the workload writes it directly), with its own channel so that
 * an interrupted resync thread, which closes the channel it reads from, cannot disturb the scans. A
 * channel closed that way is reopened by the next read. {@link #size()} is the current size.
 */
final class ScanSource implements BlockDevice {
    private final Path path;
    private FileChannel channel;
    private boolean closed;

    ScanSource(Path path) throws IOException {
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
    }

    private synchronized FileChannel channel() throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        if (!channel.isOpen()) {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        }
        return channel;
    }

    @Override
    public long size() throws IOException {
        return DiskFiles.size(path, channel());
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        FileChannel ch = channel();
        long size = DiskFiles.size(path, ch);
        int length = dst.remaining();
        if (offset < 0 || offset > size || length > size - offset) {
            throw new EOFException("range " + offset + "+" + length + " is outside the disk (" + size + " bytes)");
        }
        DiskFiles.readFully(ch, offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        throw readOnly();
    }

    @Override
    public void zero(long offset, long length) throws IOException {
        throw readOnly();
    }

    private IOException readOnly() {
        return new IOException("the source of a scan capture (" + path + ") is read-only here: the scan driver only "
                + "observes the disk");
    }

    /** Nothing to make durable through a read-only view. */
    @Override
    public void flush() {
        // read-only
    }

    @Override
    public boolean isReadOnly() {
        return true;
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        channel.close();
    }
}
