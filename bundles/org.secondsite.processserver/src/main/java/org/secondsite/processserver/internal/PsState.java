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
 * server still knows the durable point of a disk whose entries are all gone. Rewritten
 * atomically (temporary file, fsync, rename, fsync of the directory). Acknowledged sequences
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

    PsState(Path dir) throws IOException {
        Files.createDirectories(dir);
        this.file = dir.resolve(FILE);
        if (Files.exists(file)) {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
            for (String key : p.stringPropertyNames()) {
                String[] v = p.getProperty(key).split(",", 4);
                try {
                    DiskId d = DiskId.of(key);
                    disks.put(d, new Disk(d, GroupId.of(v[0]), Long.parseLong(v[1]), v[3], Long.parseLong(v[2])));
                } catch (RuntimeException e) {
                    throw new IOException(file + ": entry '" + key + "=" + p.getProperty(key)
                            + "' is not 'group,size,forwardedSequence,agent': " + e.getMessage(), e);
                }
            }
        }
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
        Path tmp = file.resolveSibling(FILE + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(w.toString().getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
