package org.secondsite.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.secondsite.nbd.Export;
import org.secondsite.nbd.ExportOptions;
import org.secondsite.nbd.NbdServer;

/** A zero-filled file served writable by its own {@link NbdServer}, observed by a {@link ReplayingObserver}. */
final class ServedDisk implements AutoCloseable {
    final Path file;
    final FileDevice device;
    final ReplayingObserver sink;
    final NbdServer server;
    final Export export;

    private ServedDisk(Path file, FileDevice device, ReplayingObserver sink, NbdServer server, Export export) {
        this.file = file;
        this.device = device;
        this.sink = sink;
        this.server = server;
        this.export = export;
    }

    static ServedDisk zeros(Path dir, String name, int size, int maxConnections) throws IOException {
        Path file = dir.resolve(name + ".img");
        Files.write(file, new byte[size]);
        FileDevice device = new FileDevice(file, false);
        ReplayingObserver sink = new ReplayingObserver(size);
        NbdServer server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), maxConnections, Duration.ofSeconds(30));
        Export export = server.export(name, device, ExportOptions.WRITABLE.withObserver(sink));
        return new ServedDisk(file, device, sink, server, export);
    }

    InetSocketAddress address() {
        return server.address();
    }

    /** The export's counters, with the server's connection counts (which include handshaking clients). */
    Map<String, Long> statistics() {
        Map<String, Long> m = new LinkedHashMap<>(export.statistics());
        Map<String, Long> s = server.statistics();
        m.put("internalErrors", m.get("internalErrors") + s.get("internalErrors"));
        m.put("connections", s.get("connections"));
        return m;
    }

    byte[] content() throws IOException {
        return Files.readAllBytes(file);
    }

    /** The observer's replay of the change stream equals the device's file. */
    void assertSinkMatchesSource() throws IOException {
        assertEquals(sha256(content()), sha256(sink.image()), "change stream replayed onto a zero image vs device (SHA-256)");
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        device.close();
    }
}
