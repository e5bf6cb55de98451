package org.secondsite.storage.file.internal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

import org.secondsite.api.storage.ObjectStore;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.api.storage.Volume;

/**
 * The {@code file} storage backend as plain Java. Layout under the root directory:
 * <pre>
 *   volumes/&lt;name&gt;.img        sparse raw image per replica volume
 *   objects/&lt;namespace&gt;/&lt;name&gt; one file per object
 * </pre>
 */
public final class FileStorageBackend implements StorageBackend {

    /** The value of {@link StorageBackend#PROPERTY} for this backend. */
    public static final String NAME = "file";
    /** Default root: resolved against the {@code karaf.data} system property. */
    public static final String DEFAULT_ROOT = "${karaf.data}/secondsite/storage";

    static final String VOLUME_SUFFIX = ".img";

    private final Path root;
    private final Path volumes;
    private final Path objects;
    private final ConcurrentHashMap<String, FileObjectStore> namespaces = new ConcurrentHashMap<>();

    public FileStorageBackend(Path root) throws IOException {
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
        this.volumes = this.root.resolve("volumes");
        this.objects = this.root.resolve("objects");
        Files.createDirectories(volumes);
        Files.createDirectories(objects);
    }

    /**
     * Resolves a configured root: {@code ${karaf.data}} is replaced by that system property.
     *
     * @param properties looks up system properties (e.g. {@code System::getProperty})
     * @throws IllegalArgumentException if the root is blank or {@code karaf.data} is needed but unset
     */
    public static Path resolveRoot(String configured, UnaryOperator<String> properties) {
        String value = configured == null || configured.isBlank() ? DEFAULT_ROOT : configured.trim();
        if (value.contains("${karaf.data}")) {
            String data = properties.apply("karaf.data");
            if (data == null || data.isBlank()) {
                throw new IllegalArgumentException("storage root '" + value + "' refers to ${karaf.data}, but the system"
                        + " property karaf.data is not set; configure 'root' (PID org.secondsite.storage.file) with an"
                        + " absolute directory");
            }
            value = value.replace("${karaf.data}", data);
        }
        if (value.contains("${")) {
            throw new IllegalArgumentException("storage root '" + value + "' contains an unknown ${...} placeholder;"
                    + " only ${karaf.data} is understood");
        }
        Path p = Path.of(value);
        if (!p.isAbsolute()) {
            throw new IllegalArgumentException("storage root '" + value + "' is relative; expected an absolute directory");
        }
        return p;
    }

    public Path root() {
        return root;
    }

    @Override
    public String name() {
        return NAME;
    }

    private Path volumeFile(String name) {
        return volumes.resolve(Names.check("volume name", name) + VOLUME_SUFFIX);
    }

    @Override
    public Volume openVolume(String name, long size) throws IOException {
        Path file = volumeFile(name);
        if (size <= 0) {
            throw new IllegalArgumentException("volume '" + name + "' size must be positive, was " + size);
        }
        boolean created = !Files.exists(file);
        RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw");
        try {
            long length = raf.length();
            if (!created && length > size) {
                throw new IOException("volume '" + name + "' is " + length + " bytes; it cannot shrink to " + size
                        + " bytes (delete it first to start over)");
            }
            if (length < size) {
                raf.setLength(size); // sparse extension: new bytes read as zeros and take no space
                raf.getChannel().force(true);
            }
            if (created) {
                Fsync.directory(volumes);
            }
            return new FileVolume(name, file, raf, size);
        } catch (IOException | RuntimeException e) {
            raf.close();
            throw e;
        }
    }

    @Override
    public boolean volumeExists(String name) {
        return Files.isRegularFile(volumeFile(name));
    }

    @Override
    public List<String> volumes() throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(volumes, "*" + VOLUME_SUFFIX)) {
            for (Path p : entries) {
                String file = p.getFileName().toString();
                String n = file.substring(0, file.length() - VOLUME_SUFFIX.length());
                if (Names.isValid(n)) {
                    names.add(n);
                }
            }
        }
        names.sort(null);
        return names;
    }

    @Override
    public void deleteVolume(String name) throws IOException {
        if (Files.deleteIfExists(volumeFile(name))) {
            Fsync.directory(volumes);
        }
    }

    @Override
    public ObjectStore objects(String namespace) throws IOException {
        Names.check("namespace", namespace);
        FileObjectStore store = namespaces.get(namespace);
        if (store != null && Files.isDirectory(store.directory())) {
            return store;
        }
        synchronized (namespaces) {
            store = namespaces.get(namespace);
            if (store == null || !Files.isDirectory(store.directory())) {
                store = FileObjectStore.open(namespace, objects.resolve(namespace));
                namespaces.put(namespace, store);
            }
            return store;
        }
    }

    @Override
    public long freeBytes() throws IOException {
        try {
            return Files.getFileStore(root).getUsableSpace();
        } catch (NoSuchFileException e) {
            return -1;
        }
    }

    @Override
    public String toString() {
        return "FileStorageBackend[" + root + "]";
    }
}
