package org.secondsite.processserver.internal;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;

/**
 * What the process server must remember beyond its spool, in {@code processserver.state}
 * next to the spool segments: per disk its group, size, the agent that sends it, and the
 * highest sequence the master target acknowledged as durable. The latter is written before
 * the spool releases (and may delete) the entries it covers, so after a restart the process
 * server still knows the durable point of a disk whose entries are all gone. Written to two
 * preallocated files in turn ({@code processserver.state.a} and {@code .b}, see {@link Slot}),
 * so a torn write loses nothing and a full filesystem does not stop it. Acknowledged sequences
 * are recorded in memory ({@link #update}) and written in coalesced snapshots outside the
 * caller's lock ({@link #takeSnapshot}, {@link #write}); the spool may release only what a
 * written snapshot covers. Not thread-safe except {@link #write}: the caller guards the rest.
 */
final class PsState {
    static final String FILE = "processserver.state";

    record Disk(DiskId disk, GroupId group, long size, String agent, long forwarded) {
    }

    private final Path file;
    private final TreeMap<DiskId, Disk> disks = new TreeMap<>();
    private boolean dirty;
    private long version;
    private final Object fileLock = new Object();
    /** Version of the snapshot in the file; guarded by fileLock. */
    private long written;
    /** The slot the next write overwrites; guarded by fileLock. */
    private int nextSlot;
    private long persistVersion;
    /** Bytes each state file is preallocated to, so rewrites need no free space. */
    static final int SLOT_BYTES = 64 * 1024;

    PsState(Path dir) throws IOException {
        Files.createDirectories(dir);
        this.file = dir.resolve(FILE);
        Slot newest = null;
        for (int i = 0; i < 2; i++) {
            Slot s = Slot.read(slot(i));
            if (s != null && (newest == null || s.version > newest.version)) {
                newest = s;
            }
        }
        if (newest != null) {
            written = newest.version;
            version = newest.version;
            nextSlot = newest.index ^ 1;
            Properties p = new Properties();
            p.load(new StringReader(newest.text));
            for (String key : p.stringPropertyNames()) {
                String[] v = p.getProperty(key).split(",", 4);
                try {
                    DiskId d = DiskId.of(key);
                    disks.put(d, new Disk(d, GroupId.of(v[0]), Long.parseLong(v[1]), v[3], Long.parseLong(v[2])));
                } catch (RuntimeException e) {
                    throw new IOException(slot(newest.index) + ": entry '" + key + "=" + p.getProperty(key)
                            + "' is not 'group,size,forwardedSequence,agent': " + e.getMessage(), e);
                }
            }
        }
    }

    private Path slot(int i) {
        return file.resolveSibling(FILE + (i == 0 ? ".a" : ".b"));
    }

    Map<DiskId, Disk> disks() {
        return disks;
    }

    /** Records {@code d} and writes the file at once (if anything changed). */
    void put(Disk d) throws IOException {
        if (!d.equals(disks.put(d.disk(), d))) {
            dirty = true; // written here; left dirty so that the coalesced writer also releases what it covers
            write(snapshot());
        }
    }

    /** Records {@code d} in memory only; {@link #takeSnapshot} and {@link #write} persist it later. */
    void update(Disk d) {
        if (!d.equals(disks.put(d.disk(), d))) {
            dirty = true;
        }
    }

    /** Whether something recorded with {@link #update} has not been taken by {@link #takeSnapshot} yet. */
    boolean dirty() {
        return dirty;
    }

    /** Marks the content as to be written again (after a failed write). */
    void markDirty() {
        dirty = true;
    }

    /** A copy of the current content to {@link #write} (outside the caller's lock), clearing the dirty mark. */
    Snapshot takeSnapshot() {
        dirty = false;
        return snapshot();
    }

    private Snapshot snapshot() {
        return new Snapshot(++version, new TreeMap<>(disks));
    }

    /** A versioned copy of the state; a write never replaces a newer one. */
    record Snapshot(long version, Map<DiskId, Disk> disks) {
    }

    /**
     * Writes {@code s} atomically unless a newer snapshot was written already. Thread-safe; may run
     * outside the lock that guards the rest of this object. On return the file holds {@code s}
     * or a newer snapshot.
     */
    void write(Snapshot s) throws IOException {
        synchronized (fileLock) {
            if (s.version() > written) {
                persistVersion = s.version();
                persist(s.disks());
                written = s.version();
            }
        }
    }

    private void persist(Map<DiskId, Disk> content) throws IOException {
        Properties p = new Properties();
        for (Disk d : content.values()) {
            p.setProperty(d.disk().value(), d.group().value() + "," + d.size() + "," + d.forwarded() + "," + d.agent());
        }
        StringWriter w = new StringWriter();
        p.store(w, "process server: group,size,sequence durable at the master target,agent per disk");
        Slot.write(slot(nextSlot), persistVersion, w.toString());
        nextSlot ^= 1;
    }

    /**
     * One of the two state files, overwritten in place in turn: a header (magic, version, length,
     * CRC32C of the text) and the text, in a file preallocated to {@value #SLOT_BYTES} bytes while
     * there is space. Overwriting blocks a file already has needs no free space, so the state is
     * still written (and the spool can still release and delete segments) when the filesystem is
     * full; a torn write damages only the slot being written, and the other one holds the previous
     * state. The newest valid slot wins on load.
     */
    private record Slot(int index, long version, String text) {
        private static final int MAGIC = 0x53535053; // "SSPS"
        private static final int HEADER = 4 + 8 + 4 + 4;

        static Slot read(Path path) throws IOException {
            if (!Files.exists(path)) {
                return null;
            }
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(path));
            if (b.remaining() < HEADER || b.getInt() != MAGIC) {
                return null; // never completely written
            }
            long version = b.getLong();
            int length = b.getInt();
            int crc = b.getInt();
            if (length < 0 || length > b.remaining()) {
                return null;
            }
            java.util.zip.CRC32C c = new java.util.zip.CRC32C();
            c.update(b.array(), HEADER, length);
            if ((int) c.getValue() != crc) {
                return null; // torn: the other slot holds the state before this write
            }
            int index = path.getFileName().toString().endsWith(".a") ? 0 : 1;
            return new Slot(index, version, new String(b.array(), HEADER, length, StandardCharsets.UTF_8));
        }

        static void write(Path path, long version, String text) throws IOException {
            byte[] t = text.getBytes(StandardCharsets.UTF_8);
            java.util.zip.CRC32C c = new java.util.zip.CRC32C();
            c.update(t);
            ByteBuffer b = ByteBuffer.allocate(HEADER + t.length);
            b.putInt(MAGIC).putLong(version).putInt(t.length).putInt((int) c.getValue()).put(t).flip();
            boolean created = !Files.exists(path);
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                if (created || ch.size() < SLOT_BYTES) {
                    ByteBuffer zeros = ByteBuffer.allocate(SLOT_BYTES);
                    while (zeros.hasRemaining()) {
                        ch.write(zeros, zeros.position());
                    }
                }
                long pos = 0;
                while (b.hasRemaining()) {
                    pos += ch.write(b, pos);
                }
                ch.force(true);
            }
            if (created) {
                try (FileChannel d = FileChannel.open(path.getParent(), StandardOpenOption.READ)) {
                    d.force(true);
                }
            }
        }
    }
}
