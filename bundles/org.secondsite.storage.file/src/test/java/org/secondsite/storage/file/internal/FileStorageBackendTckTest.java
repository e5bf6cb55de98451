package org.secondsite.storage.file.internal;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.testkit.tck.StorageBackendTck;

/** The file storage plugin against the storage-backend TCK, rooted in a fresh temporary directory. */
class FileStorageBackendTckTest extends StorageBackendTck {

    @TempDir
    Path root;

    @Override
    protected StorageBackend createBackend() throws IOException {
        return new FileStorageBackend(root);
    }

    @Override
    protected StorageBackend reopenBackend(StorageBackend previous) throws IOException {
        return new FileStorageBackend(((FileStorageBackend) previous).root());
    }
}
