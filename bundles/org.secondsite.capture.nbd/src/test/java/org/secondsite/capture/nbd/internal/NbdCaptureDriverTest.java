package org.secondsite.capture.nbd.internal;

import org.secondsite.nbd.internal.NbdTestClient;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.CaptureDriver;
import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.storage.BlockDevice;

/** The driver as the agent sees it: options, endpoint, source view, statistics, release on close. */
class NbdCaptureDriverTest {
    @TempDir
    Path dir;

    private Path file(int size) throws IOException {
        Path f = dir.resolve("d.img");
        Files.write(f, new byte[size]);
        return f;
    }

    @Test
    void nameAndServiceProperty() {
        assertEquals("nbd", new NbdCaptureDriver().name());
        assertEquals("secondsite.capture", CaptureDriver.PROPERTY);
    }

    @Test
    void unknownOrBadOptionsAreRejectedByName() throws IOException {
        Path f = file(4096);
        NbdCaptureDriver driver = new NbdCaptureDriver();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> driver.start(
                new CaptureSpec(DiskId.of("d"), f, Map.of("listne", "127.0.0.1:0")), new ReplayingSink(4096, false)));
        assertTrue(e.getMessage().contains("'listne'"), e.getMessage());
        for (String bad : new String[] {"127.0.0.1", "127.0.0.1:70000", ":10809", "host:port", "[::1]10809", "a:b:c"}) {
            e = assertThrows(IllegalArgumentException.class, () -> NbdSettings.parseListen(bad), bad);
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
        e = assertThrows(IllegalArgumentException.class, () -> NbdSettings.parse(Map.of("maxConnections", "0")));
        assertTrue(e.getMessage().contains("maxConnections"), e.getMessage());
        assertEquals(new InetSocketAddress("::1", 10809), NbdSettings.parseListen("[::1]:10809"));
        NbdSettings defaults = NbdSettings.parse(Map.of());
        assertEquals(new InetSocketAddress("127.0.0.1", 0), defaults.listen());
        assertEquals(16, defaults.maxConnections());
    }

    @Test
    void missingDiskIsAnIOException() {
        assertThrows(NoSuchFileException.class, () -> new NbdCaptureDriver().start(
                new CaptureSpec(DiskId.of("d"), dir.resolve("absent.img"), Map.of()), new ReplayingSink(1, false)));
    }

    @Test
    void sessionExposesEndpointReadOnlySourceAndStatistics() throws IOException {
        Path f = file(1 << 20);
        ReplayingSink sink = new ReplayingSink(1 << 20, true);
        try (CaptureSession s = new NbdCaptureDriver().start(
                new CaptureSpec(DiskId.of("web01:disk0"), f, Map.of("listen", "127.0.0.1:0")), sink)) {
            assertEquals(DiskId.of("web01:disk0"), s.disk());
            assertTrue(s.endpoint().matches("nbd://127\\.0\\.0\\.1:[1-9][0-9]*/web01:disk0"), s.endpoint());
            BlockDevice source = s.source();
            assertEquals(1 << 20, source.size());
            assertTrue(source.isReadOnly());
            assertThrows(IOException.class, () -> source.write(0, ByteBuffer.allocate(1)));
            assertThrows(EOFException.class, () -> source.read((1 << 20) - 10, ByteBuffer.allocate(11)));

            byte[] data = TestDisk.random(1, 10_000);
            java.net.URI uri = java.net.URI.create(s.endpoint());
            try (NbdTestClient c = NbdTestClient.open(new InetSocketAddress(uri.getHost(), uri.getPort()), "web01:disk0")) {
                assertEquals(0, c.writeSync(5000, data));
                ByteBuffer read = ByteBuffer.allocate(10_000);
                source.read(5000, read); // reads see every acknowledged write
                assertArrayEquals(data, read.array());

                // A reader being interrupted (a cancelled resync) must not break the export or the source view.
                Thread.currentThread().interrupt();
                assertThrows(ClosedByInterruptException.class, () -> source.read(0, ByteBuffer.allocate(10)));
                assertTrue(Thread.interrupted());
                ByteBuffer again = ByteBuffer.allocate(10_000);
                source.read(5000, again);
                assertArrayEquals(data, again.array());
                assertEquals(0, c.writeSync(0, data));
            }
            Map<String, Long> stats = s.statistics();
            assertTrue(stats.keySet().containsAll(Set.of("writes", "bytesWritten", "reads", "flushes", "connections")), stats.toString());
            assertEquals(2, stats.get("writes"));
            assertEquals(20_000, stats.get("bytesWritten"));
            byte[] expected = new byte[1 << 20];
            System.arraycopy(data, 0, expected, 5000, data.length);
            System.arraycopy(data, 0, expected, 0, data.length);
            assertArrayEquals(expected, Files.readAllBytes(f));
            assertEquals(TestDisk.sha256(expected), TestDisk.sha256(sink.image()), "replayed change stream");
        }
        assertEquals(java.util.List.of(), NbdProtocolTest.openFileDescriptorsOf(f), "file released on close");
    }

    @Test
    void deactivateClosesOpenSessions() throws IOException {
        Path f = file(65536);
        NbdCaptureDriver driver = new NbdCaptureDriver();
        CaptureSession s = driver.start(new CaptureSpec(DiskId.of("d"), f, Map.of()), new ReplayingSink(65536, false));
        java.net.URI uri = java.net.URI.create(s.endpoint());
        driver.deactivate();
        assertThrows(IOException.class, () -> new java.net.Socket(uri.getHost(), uri.getPort()).close());
        assertEquals(java.util.List.of(), NbdProtocolTest.openFileDescriptorsOf(f));
    }
}
