package org.secondsite.capture.scan.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeKind;
import org.secondsite.api.model.ChangeRecord;

/** A test sink that keeps every record in order, counts flushes, and can be told to fail. */
final class CollectingSink implements ChangeSink {
    private final List<ChangeRecord> records = new ArrayList<>();
    private int flushes;
    private IOException failNext;

    @Override
    public synchronized void accept(ChangeRecord change) throws IOException {
        IOException f = failNext;
        if (f != null) {
            failNext = null;
            throw f;
        }
        records.add(change);
    }

    @Override
    public synchronized void flush() {
        flushes++;
    }

    synchronized void failNextAccept(IOException e) {
        failNext = e;
    }

    synchronized List<ChangeRecord> records() {
        return List.copyOf(records);
    }

    /** The records so far, and forgets them. */
    synchronized List<ChangeRecord> drain() {
        List<ChangeRecord> r = List.copyOf(records);
        records.clear();
        return r;
    }

    synchronized int flushes() {
        return flushes;
    }

    /** Applies WRITE records, in order, onto {@code image} (which grows when a record ends past it). */
    static void replay(List<ChangeRecord> records, Path image) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
            for (ChangeRecord r : records) {
                if (r.kind() != ChangeKind.WRITE) {
                    throw new AssertionError("unexpected " + r);
                }
                ByteBuffer d = r.data();
                long pos = r.offset();
                while (d.hasRemaining()) {
                    pos += ch.write(d, pos);
                }
            }
        }
    }

    static String sha256(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            while (ch.read(buf) > 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
