package org.secondsite.pki;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Secret files: owner-only modes, missing folders created, content replaced whole. */
class OwnerOnlyFilesTest {
    @TempDir
    Path dir;

    @Test
    void aSecretIsWrittenOwnerOnlyInAnOwnerOnlyFolderAndReplacedWhole() throws Exception {
        Path file = dir.resolve("a/b/secret");
        OwnerOnlyFiles.write(file, "first, and longer".getBytes());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        OwnerOnlyFiles.write(file, "second".getBytes());
        assertArrayEquals("second".getBytes(), Files.readAllBytes(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertFalse(Files.exists(file.resolveSibling("secret.tmp")), "no temporary file left");
    }
}
