package org.secondsite.pki.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalAuthorityTest {

    @TempDir
    Path dir;

    @Test
    void createdOnceThenLoadedUnchanged() throws Exception {
        LocalAuthority first = LocalAuthority.loadOrCreate(dir, "aio-01");
        assertTrue(first.created());
        assertEquals("aio-01", first.component().commonName());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("password"))));

        LocalAuthority again = LocalAuthority.loadOrCreate(dir, "ignored-now");
        assertFalse(again.created());
        assertEquals("aio-01", again.component().commonName());
        assertArrayEquals(first.component().certificate().getEncoded(), again.component().certificate().getEncoded());
        assertArrayEquals(first.authority().certificate().getEncoded(), again.authority().certificate().getEncoded());
    }

    @Test
    void defaultComponentIdIsAValidId() {
        String id = LocalAuthority.defaultComponentId();
        assertTrue(id.matches("[a-z0-9][a-z0-9._:-]{0,63}"), id);
    }
}
