package org.secondsite.capture.scan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScanSettingsTest {

    private static String error(Map<String, String> options) {
        return assertThrows(IllegalArgumentException.class, () -> ScanSettings.parse(options)).getMessage();
    }

    @Test
    void defaults() {
        ScanSettings s = ScanSettings.parse(Map.of());
        assertEquals(65536, s.blockSize());
        assertEquals(Duration.ofSeconds(60), s.interval());
        assertEquals(BlockHash.XXH64, s.hash());
        assertFalse(s.initialFull());
        assertNull(s.stateDir());
    }

    @Test
    void allOptions() {
        ScanSettings s = ScanSettings.parse(Map.of("blockSize", "4194304", "interval", "PT5M", "hash", "sha256",
                "initialFull", "true", "stateDir", "/var/lib/secondsite/scan"));
        assertEquals(4 << 20, s.blockSize());
        assertEquals(Duration.ofMinutes(5), s.interval());
        assertEquals(BlockHash.SHA256, s.hash());
        assertTrue(s.initialFull());
        assertEquals(Path.of("/var/lib/secondsite/scan"), s.stateDir());
        assertEquals(Duration.ofSeconds(1), ScanSettings.parse(Map.of("interval", "1")).interval());
        assertEquals(4096, ScanSettings.parse(Map.of("blockSize", "4096")).blockSize());
    }

    @Test
    void unknownKeyIsNamed() {
        String m = error(Map.of("blocksize", "4096"));
        assertTrue(m.contains("'blocksize'"), m);
        assertTrue(m.contains("blockSize"), "lists the known options: " + m);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "2048", "65535", "100000", "8388608", "-4096", "64k", ""})
    void badBlockSize(String v) {
        String m = error(Map.of("blockSize", v));
        assertTrue(m.contains("blockSize='" + v + "'") && m.contains("power of two from 4096 to 4194304"), m);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-5", "PT0.5S", "PT0S", "P2D", "soon", "1.5", "86401"})
    void badInterval(String v) {
        String m = error(Map.of("interval", v));
        assertTrue(m.contains("interval='" + v + "'") && m.contains("from 1 second to 1 day"), m);
    }

    @Test
    void badHashInitialFullStateDir() {
        String m = error(Map.of("hash", "md5"));
        assertTrue(m.contains("hash='md5'") && m.contains("xxh64 or sha256"), m);
        m = error(Map.of("initialFull", "yes"));
        assertTrue(m.contains("initialFull='yes'") && m.contains("true or false"), m);
        m = error(Map.of("stateDir", " "));
        assertTrue(m.contains("stateDir is empty"), m);
        m = error(Map.of("stateDir", "a\0b"));
        assertTrue(m.contains("stateDir='a\0b' is not a valid path"), m);
    }
}
