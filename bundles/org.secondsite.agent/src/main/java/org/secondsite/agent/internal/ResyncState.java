package org.secondsite.agent.internal;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

import org.secondsite.api.model.DiskId;

/**
 * Which disks owe a resync, persisted in {@code resync.properties} under the agent's data
 * directory so that a resync requested (the initial replication of a new disk, an operator's
 * {@code dr:resync}, the way out of bitmap mode) and not finished when the agent stops runs again
 * when it starts. One line per disk the agent protects: {@code pending:<reason>} until a resync
 * completes, then {@code done:<reason>}. A disk without a line was never protected by this agent:
 * it gets its initial replication. Rewritten atomically (temporary file, fsync, rename, fsync of
 * the directory). Thread-safe.
 */
final class ResyncState {
    static final String FILE = "resync.properties";
    private static final String PENDING = "pending:";
    private static final String DONE = "done:";

    private final Path file;
    private final Map<DiskId, String> lines = new TreeMap<>();

    ResyncState(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        this.file = dataDir.resolve(FILE);
        if (Files.exists(file)) {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
            for (String key : p.stringPropertyNames()) {
                String v = p.getProperty(key);
                if (!v.startsWith(PENDING) && !v.startsWith(DONE)) {
                    throw new IOException(file + ": resync state of disk '" + key + "' is '" + v
                            + "', expected 'pending:<reason>' or 'done:<reason>'");
                }
                DiskId disk;
                try {
                    disk = DiskId.of(key);
                } catch (IllegalArgumentException e) {
                    throw new IOException(file + ": '" + key + "' is not a disk id: " + e.getMessage(), e);
                }
                lines.put(disk, v);
            }
        }
    }

    /** Whether this agent protected the disk before. */
    synchronized boolean known(DiskId disk) {
        return lines.containsKey(disk);
    }

    /** The reason of the resync the disk owes, if it owes one. */
    synchronized Optional<String> pending(DiskId disk) {
        String v = lines.get(disk);
        return v != null && v.startsWith(PENDING) ? Optional.of(v.substring(PENDING.length())) : Optional.empty();
    }

    synchronized void pending(DiskId disk, String reason) throws IOException {
        put(disk, PENDING + reason);
    }

    synchronized void done(DiskId disk, String reason) throws IOException {
        put(disk, DONE + reason);
    }

    synchronized void forget(DiskId disk) throws IOException {
        if (lines.remove(disk) != null) {
            persist();
        }
    }

    private void put(DiskId disk, String value) throws IOException {
        String v = value.replace('\n', ' ').replace('\r', ' ');
        if (!v.equals(lines.put(disk, v))) {
            persist();
        }
    }

    private void persist() throws IOException {
        Properties p = new Properties();
        for (Map.Entry<DiskId, String> e : lines.entrySet()) {
            p.setProperty(e.getKey().value(), e.getValue());
        }
        StringWriter w = new StringWriter();
        p.store(w, "resync owed per disk (pending:<reason>) or last completed (done:<reason>); written by the agent");
        org.secondsite.api.storage.DiskFiles.replaceAtomically(file, w.toString().getBytes(StandardCharsets.UTF_8));
    }
}
