package org.secondsite.capture.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;

import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.model.DiskId;

/** A source disk file served by the nbd driver with a {@link ReplayingSink}, for tests. */
final class TestDisk implements AutoCloseable {
    final Path file;
    final ReplayingSink sink;
    final CaptureSession session;
    final String export;

    private TestDisk(Path file, ReplayingSink sink, CaptureSession session, String export) {
        this.file = file;
        this.sink = sink;
        this.session = session;
        this.export = export;
    }

    /** A zero-filled disk of {@code size} bytes in {@code dir}. */
    static TestDisk zeros(Path dir, String export, int size, Map<String, String> options) throws IOException {
        Path file = dir.resolve(export + ".img");
        Files.write(file, new byte[size]);
        ReplayingSink sink = new ReplayingSink(size, true);
        return new TestDisk(file, sink, new NbdCaptureDriver().start(new CaptureSpec(DiskId.of(export), file, options), sink), export);
    }

    static TestDisk zeros(Path dir, int size) throws IOException {
        return zeros(dir, "disk0", size, Map.of());
    }

    InetSocketAddress address() {
        URI uri = URI.create(session.endpoint());
        return new InetSocketAddress(uri.getHost(), uri.getPort());
    }

    String uri() {
        return session.endpoint();
    }

    byte[] content() throws IOException {
        return Files.readAllBytes(file);
    }

    /**
     * The closing check of every data test: the source file equals {@code expected}, and so does the
     * sink's replay of the change stream onto a zero image.
     */
    void assertContent(byte[] expected) throws IOException {
        byte[] actual = content();
        assertEquals(sha256(expected), sha256(actual), "source file content (SHA-256)");
        assertArrayEquals(expected, actual, "source file content");
        assertSinkMatchesSource();
    }

    /** The sink's replay of the change stream equals the source file. */
    void assertSinkMatchesSource() throws IOException {
        byte[] actual = content();
        assertEquals(sha256(actual), sha256(sink.image()), "change stream replayed onto a zero image vs source (SHA-256)");
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Override
    public void close() throws IOException {
        session.close();
    }
}
