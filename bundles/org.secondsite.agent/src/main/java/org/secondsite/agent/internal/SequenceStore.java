package org.secondsite.agent.internal;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.secondsite.api.model.DiskId;

/**
 * The next batch sequence of each disk, persisted in {@code sequences.properties} under the
 * agent's data directory so that numbering continues across restarts.
 *
 * <p>Numbers are reserved in blocks of {@link #BLOCK}: the file holds, per disk, a number
 * above every sequence handed out, and is rewritten (atomically: temporary file, fsync,
 * rename, fsync of the directory) only when a block is used up or the process server sets
 * the numbering ({@link #set}). After a crash numbering continues above the reservation; the
 * process server's RESUME_POINT then decides the sequence actually sent next (see
 * {@link Agent}). Not thread-safe: the agent calls it under its lock.
 */
final class SequenceStore {
    static final long BLOCK = 4096;
    static final String FILE = "sequences.properties";

    private final Path file;
    private final Map<DiskId, long[]> disks = new HashMap<>(); // {next, reservedUpTo}

    SequenceStore(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        this.file = dataDir.resolve(FILE);
        if (Files.exists(file)) {
            Properties p = new Properties();
            try (Reader r = new StringReader(Files.readString(file, StandardCharsets.UTF_8))) {
                p.load(r);
            }
            for (String key : p.stringPropertyNames()) {
                long reserved;
                try {
                    reserved = Long.parseLong(p.getProperty(key).trim());
                } catch (NumberFormatException e) {
                    throw new IOException(file + ": sequence of disk '" + key + "' is '" + p.getProperty(key)
                            + "', expected a positive number");
                }
                if (reserved < 1) {
                    throw new IOException(file + ": sequence of disk '" + key + "' is " + reserved + ", expected >= 1");
                }
                disks.put(DiskId.of(key), new long[] {reserved, reserved});
            }
        }
    }

    /** The sequence the next sealed batch of {@code disk} gets, without taking it. */
    long peek(DiskId disk) {
        long[] s = disks.get(disk);
        return s == null ? 1 : s[0];
    }

    /** Takes the next sequence of {@code disk}, persisting a new reservation when needed. */
    long next(DiskId disk) throws IOException {
        long[] s = disks.computeIfAbsent(disk, d -> new long[] {1, 1});
        if (s[0] >= s[1]) {
            s[1] = s[0] + BLOCK;
            persist();
        }
        return s[0]++;
    }

    /** Sets the next sequence of {@code disk} (the process server's durable point + 1 + batches held). */
    void set(DiskId disk, long next) throws IOException {
        long[] s = disks.computeIfAbsent(disk, d -> new long[] {1, 1});
        s[0] = next;
        s[1] = next + BLOCK;
        persist();
    }

    void forget(DiskId disk) throws IOException {
        if (disks.remove(disk) != null) {
            persist();
        }
    }

    private void persist() throws IOException {
        StringWriter w = new StringWriter();
        w.write("# next batch sequence per disk (reserved in blocks of " + BLOCK + "); written by the agent\n");
        for (Map.Entry<DiskId, long[]> e : new TreeMap<>(disks).entrySet()) {
            w.write(e.getKey().value().replace(":", "\\:") + "=" + e.getValue()[1] + "\n");
        }
        org.secondsite.api.storage.DiskFiles.replaceAtomically(file, w.toString().getBytes(StandardCharsets.UTF_8));
    }
}
