package org.secondsite.nbd;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CancellationException;

import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.DiskFiles;

/**
 * Copies a {@link BlockDevice} (e.g. a recovery point view) to a raw image file.
 *
 * <p>The image is written as {@code <target>.partial} and renamed to {@code target} once complete and
 * forced to disk (file, then its directory); on failure or cancellation the partial file is deleted, so
 * {@code target} either does not exist or is a complete copy. The image is sparse: the file is sized
 * first and all-zero pieces of {@value #PIECE} bytes are left as holes.
 *
 * <p>Usage: {@code new ImageCopy(device, target, (done, total) -> ...).run()}; {@link #cancel()} from another
 * thread stops it. One run per instance.
 */
public final class ImageCopy {
    /** Copy piece size; all-zero pieces are not written. */
    public static final int PIECE = 1 << 20;

    /** Receives progress; called from the copying thread after each piece. */
    @FunctionalInterface
    public interface Progress {
        /**
         * @param done bytes of the device handled so far (copied or skipped as zeros)
         * @param total the device's size
         */
        void update(long done, long total);
    }

    private final BlockDevice source;
    private final Path target;
    private final Progress progress;
    private volatile boolean cancelled;
    private volatile long bytesWritten;

    /**
     * @param progress called after each piece (cheap calls; throttle in the callback), or null
     */
    public ImageCopy(BlockDevice source, Path target, Progress progress) {
        this.source = source;
        this.target = target;
        this.progress = progress == null ? (done, total) -> { } : progress;
    }

    /** The temporary file the image is written to before the rename: {@code <target>.partial}. */
    public Path partialFile() {
        return target.resolveSibling(target.getFileName() + ".partial");
    }

    /** Asks a running (or future) {@link #run()} to stop and delete the partial file. */
    public void cancel() {
        cancelled = true;
    }

    /** Bytes actually written to the image (non-zero pieces) so far. */
    public long bytesWritten() {
        return bytesWritten;
    }

    /**
     * Copies the whole device; returns the image size (the device's size).
     *
     * @throws FileAlreadyExistsException if {@code target} exists (it is never overwritten)
     * @throws CancellationException if {@link #cancel()} was called; the partial file is deleted
     * @throws IOException if reading the device or writing the image fails; the partial file is deleted
     */
    public long run() throws IOException {
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString(), null,
                    "the image file exists already; choose another name or remove it");
        }
        long size = source.size();
        Path partial = partialFile();
        boolean done = false;
        try {
            // A partial file left by a crashed copy is ours to overwrite.
            try (RandomAccessFile f = new RandomAccessFile(partial.toFile(), "rw")) {
                f.setLength(0);
                f.setLength(size); // sparse: every skipped piece stays a hole
            }
            try (FileChannel out = FileChannel.open(partial, StandardOpenOption.WRITE)) {
                copy(out, size);
                out.force(true);
            }
            if (cancelled) {
                throw cancelledException();
            }
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            done = true;
            forceDirectory(target.toAbsolutePath().getParent());
            return size;
        } finally {
            if (!done) {
                Files.deleteIfExists(partial);
            }
        }
    }

    private void copy(FileChannel out, long size) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(PIECE);
        long written = 0;
        for (long pos = 0; pos < size; ) {
            if (cancelled) {
                throw cancelledException();
            }
            int n = (int) Math.min(PIECE, size - pos);
            buf.clear().limit(n);
            source.read(pos, buf);
            buf.flip();
            if (!isZero(buf)) {
                DiskFiles.writeFully(out, pos, buf);
                written += n;
                bytesWritten = written;
            }
            pos += n;
            progress.update(pos, size);
        }
    }

    private CancellationException cancelledException() {
        return new CancellationException("copy to " + target + " cancelled; " + partialFile() + " deleted");
    }

    private static boolean isZero(ByteBuffer b) {
        int i = b.position();
        int limit = b.limit();
        for (; i + 8 <= limit; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < limit; i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Makes the rename durable; file systems that cannot open a directory for fsync are skipped. */
    private static void forceDirectory(Path dir) {
        if (dir == null) {
            return;
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // not supported here (e.g. some network file systems): the file itself is forced
        }
    }
}
