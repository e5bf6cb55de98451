package org.secondsite.api.storage;

import java.io.IOException;
import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Where a master target keeps replica volumes and its retention journal. Register an
 * implementation as an OSGi service with the property {@value #PROPERTY} set to its
 * {@link #name()}; the core picks one by that name (from configuration, with a target
 * filter) and collects backends dynamically, so a backend may come and go at run time.
 *
 * <p>A backend must survive a crash of the process at any instant: volume writes are
 * durable after {@link BlockDevice#flush()}, objects after {@code sync()}/{@code put()}.
 */
@ConsumerType
public interface StorageBackend {
    /** Service property naming the backend, e.g. {@code secondsite.storage=file}. */
    String PROPERTY = "secondsite.storage";

    /** The backend's name, equal to its {@value #PROPERTY} service property. */
    String name();

    /**
     * Opens a replica volume, creating it (sparse, reading as zeros) with the given size if
     * it does not exist. An existing volume keeps its content; if its size differs it is
     * grown or an {@link IOException} explains why it cannot be.
     */
    Volume openVolume(String name, long size) throws IOException;

    /** Whether a volume of that name exists. */
    boolean volumeExists(String name) throws IOException;

    /** Names of all volumes, sorted. */
    List<String> volumes() throws IOException;

    /** Deletes a volume and its data; no error if it does not exist. */
    void deleteVolume(String name) throws IOException;

    /** The object namespace {@code namespace} (created on first use). */
    ObjectStore objects(String namespace) throws IOException;

    /** Free bytes left where this backend stores data, or -1 if unknown. */
    long freeBytes() throws IOException;
}
