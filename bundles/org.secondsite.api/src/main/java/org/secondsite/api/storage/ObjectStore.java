package org.secondsite.api.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.util.List;
import java.util.Optional;

/**
 * Named byte objects in one namespace of a {@link StorageBackend}: retention-journal
 * segments (appended, then read back and deleted whole) and small metadata records
 * (replaced atomically). Names use letters, digits and {@code . _ -}, at most 200 characters.
 */
public interface ObjectStore {

    /**
     * Creates a new object for appending and returns a channel positioned at 0.
     * Data written through it is durable once {@link Appender#sync()} returns.
     *
     * @throws java.nio.file.FileAlreadyExistsException if the name exists
     */
    Appender create(String name) throws IOException;

    /** Opens an existing object for reading at random positions. */
    SeekableByteChannel open(String name) throws IOException;

    /** Names of the objects whose name starts with {@code prefix}, sorted. */
    List<String> list(String prefix) throws IOException;

    /** Deletes an object; no error if it does not exist. */
    void delete(String name) throws IOException;

    /**
     * Replaces the whole content of a small object atomically and durably: after a crash
     * readers see either the old or the new content, never a mix.
     */
    void put(String name, ByteBuffer content) throws IOException;

    /** The whole content of an object written by {@link #put}, if it exists. */
    Optional<ByteBuffer> get(String name) throws IOException;

    /** Bytes used by all objects of this namespace. */
    long usedBytes() throws IOException;

    /** An object being appended to. */
    interface Appender extends java.nio.channels.WritableByteChannel {
        /** Bytes appended so far. */
        long size() throws IOException;

        /** Makes everything appended so far durable. */
        void sync() throws IOException;
    }
}
