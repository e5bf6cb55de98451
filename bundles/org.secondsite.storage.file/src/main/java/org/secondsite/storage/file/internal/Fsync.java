package org.secondsite.storage.file.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Durability helpers. */
final class Fsync {

    private Fsync() {
    }

    /**
     * Makes a directory's entries (created, renamed, deleted files) durable. On Linux a
     * directory can be opened for reading and forced; elsewhere this may be refused, which is
     * reported rather than ignored.
     */
    static void directory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
