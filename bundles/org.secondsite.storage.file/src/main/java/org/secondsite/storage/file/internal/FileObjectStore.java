package org.secondsite.storage.file.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import org.secondsite.api.storage.ObjectStore;

/**
 * One object namespace: a directory of plain files named like the objects.
 *
 * <p>{@link #put} writes {@code <name>~<n>} (a name no object can have, since {@code ~} is
 * not allowed), forces it, renames it over {@code <name>} with {@code ATOMIC_MOVE} and forces
 * the directory, so after a crash the object holds either the old or the new content.
 * Temporary files left by a crash are never listed or read, and are deleted when the
 * namespace is opened. One process owns a storage root at a time.
 */
final class FileObjectStore implements ObjectStore {

    private static final System.Logger LOG = System.getLogger(FileObjectStore.class.getName());
    static final char TEMP_MARK = '~';

    private final String namespace;
    private final Path dir;
    private final AtomicLong tempCounter = new AtomicLong();

    private FileObjectStore(String namespace, Path dir) {
        this.namespace = namespace;
        this.dir = dir;
    }

    /** Opens (creating if needed) the namespace directory and removes temporary files left by a crash. */
    static FileObjectStore open(String namespace, Path dir) throws IOException {
        boolean created = !Files.isDirectory(dir);
        Files.createDirectories(dir);
        if (created) {
            Fsync.directory(dir.getParent());
        }
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                if (p.getFileName().toString().indexOf(TEMP_MARK) >= 0) {
                    Files.deleteIfExists(p);
                    removed++;
                }
            }
        }
        if (removed > 0) {
            Fsync.directory(dir);
            LOG.log(Level.INFO, "object namespace '" + namespace + "': removed " + removed
                    + " temporary file(s) left by an interrupted put");
        }
        return new FileObjectStore(namespace, dir);
    }

    Path directory() {
        return dir;
    }

    private Path path(String name) {
        return dir.resolve(Names.check("object name", name));
    }

    @Override
    public Appender create(String name) throws IOException {
        Path p = path(name);
        FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            Fsync.directory(dir); // the new name itself must survive a crash once data is synced
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return new FileAppender(ch);
    }

    @Override
    public SeekableByteChannel open(String name) throws IOException {
        return FileChannel.open(path(name), StandardOpenOption.READ);
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        Names.checkPrefix("object name", prefix);
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String n = p.getFileName().toString();
                if (n.startsWith(prefix) && Names.isValid(n)) {
                    names.add(n);
                }
            }
        }
        names.sort(null);
        return names;
    }

    @Override
    public void delete(String name) throws IOException {
        if (Files.deleteIfExists(path(name))) {
            Fsync.directory(dir);
        }
    }

    @Override
    public void put(String name, ByteBuffer content) throws IOException {
        Path target = path(name);
        Path temp = dir.resolve(name + TEMP_MARK + tempCounter.incrementAndGet());
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer src = content.duplicate();
                while (src.hasRemaining()) {
                    ch.write(src);
                }
                ch.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        Fsync.directory(dir);
    }

    @Override
    public Optional<ByteBuffer> get(String name) throws IOException {
        Path p = path(name);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE - 8) {
                throw new IOException("object '" + name + "' in namespace '" + namespace + "' is " + size
                        + " bytes, too large for get(); read it with open()");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) size);
            while (buf.hasRemaining() && ch.read(buf) >= 0) {
                // read until full or end of file
            }
            return Optional.of(buf.flip());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public long usedBytes() throws IOException {
        long total = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                    if (a.isRegularFile()) {
                        total += a.size();
                    }
                } catch (NoSuchFileException deletedMeanwhile) {
                    // concurrently deleted: no longer uses space
                }
            }
        }
        return total;
    }

    @Override
    public String toString() {
        return "FileObjectStore[" + namespace + ", " + dir + "]";
    }

    private static final class FileAppender implements Appender {
        private final FileChannel channel;

        FileAppender(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int total = 0;
            while (src.hasRemaining()) {
                total += channel.write(src);
            }
            return total;
        }

        @Override
        public long size() throws IOException {
            return channel.position();
        }

        @Override
        public void sync() throws IOException {
            channel.force(false);
        }

        @Override
        public boolean isOpen() {
            return channel.isOpen();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
