package org.secondsite.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.secondsite.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.awaitility.Awaitility;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzing the running server over real sockets: random bytes and mutated valid messages in the
 * handshake and in transmission never crash it (only protocol errors or a clean close), rejected
 * requests leave the export file unchanged, and after each property the device still equals the
 * change stream its write observer saw, replayed onto a zero image.
 */
class NbdFuzzTest {
    private static final int SIZE = 1 << 20;
    private static Path dir;
    private static ServedDisk disk;
    /** A read-only export of random bytes on the same server: nothing a client sends may change it. */
    private static FileDevice readOnly;
    private static byte[] readOnlyContent;

    @BeforeContainer
    static void start() throws IOException {
        dir = Files.createTempDirectory("nbd-fuzz");
        disk = ServedDisk.zeros(dir, "fuzz", SIZE, 64);
        readOnlyContent = new byte[SIZE];
        new java.util.Random(5).nextBytes(readOnlyContent);
        Files.write(dir.resolve("ro.img"), readOnlyContent);
        readOnly = new FileDevice(dir.resolve("ro.img"), true);
        disk.server.export("fuzz-ro", readOnly, org.secondsite.nbd.ExportOptions.READ_ONLY);
    }

    @AfterContainer
    static void stop() throws IOException {
        disk.close();
        readOnly.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** After each property: no internal error, the export still serves, and source == replayed stream. */
    @AfterProperty
    void exportIsHealthy() throws IOException {
        Awaitility.await("fuzz connections to end").atMost(Duration.ofSeconds(20))
                .until(() -> disk.statistics().get("connections") == 0L);
        assertEquals(0L, disk.statistics().get("internalErrors"), "connections ended by a server bug");
        byte[] content = disk.content();
        try (NbdTestClient c = NbdTestClient.open(disk.address(), "fuzz")) {
            assertArrayEquals(java.util.Arrays.copyOf(content, 65536), c.readSync(0, 65536));
            c.disconnect();
        }
        disk.assertSinkMatchesSource();
    }

    @Property(tries = 150)
    void randomBytesDuringTheHandshake(@ForAll @Size(max = 400) byte[] junk, @ForAll boolean validFlags) throws IOException {
        try (NbdTestClient c = new NbdTestClient(disk.address())) {
            c.socket.setSoTimeout(5000);
            if (validFlags) {
                c.greet(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
            }
            c.out.write(junk);
            c.out.flush();
            c.socket.shutdownOutput();
            drainUntilClosed(c);
        }
    }

    @Property(tries = 150)
    void mutatedOptionsDuringTheHandshake(@ForAll("infoOptions") byte[] option, @ForAll("mutations") int[] mutation)
            throws IOException {
        byte[] bytes = mutate(option, mutation);
        try (NbdTestClient c = new NbdTestClient(disk.address())) {
            c.socket.setSoTimeout(5000);
            c.greet(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
            c.out.write(bytes);
            c.out.flush();
            c.socket.shutdownOutput();
            drainUntilClosed(c);
        }
    }

    @Property(tries = 150)
    void randomBytesDuringTransmission(@ForAll @Size(min = 1, max = 2000) byte[] junk) throws IOException {
        long accepted = disk.sink.accepted();
        byte[] before = disk.content();
        try (NbdTestClient c = NbdTestClient.open(disk.address(), "fuzz")) {
            c.socket.setSoTimeout(5000);
            c.out.write(junk);
            c.out.flush();
            c.socket.shutdownOutput();
            drainUntilClosed(c);
        }
        if (ByteBuffer.wrap(java.util.Arrays.copyOf(junk, 4)).getInt() != REQUEST_MAGIC) {
            assertEquals(accepted, disk.sink.accepted(), "bad magic: nothing may be applied");
            assertArrayEquals(before, disk.content());
        }
    }

    /** Mutated WRITE/TRIM/WRITE_ZEROES/READ/FLUSH streams: whatever is applied is in the sink (checked after the property). */
    @Property(tries = 150)
    void mutatedRequestStreams(@ForAll @Size(min = 1, max = 6) List<@net.jqwik.api.From("requests") byte[]> requests,
            @ForAll("mutations") int[] mutation) throws IOException {
        ByteBuffer stream = ByteBuffer.allocate(requests.stream().mapToInt(r -> r.length).sum());
        requests.forEach(stream::put);
        byte[] bytes = mutate(stream.array(), mutation);
        try (NbdTestClient c = NbdTestClient.open(disk.address(), "fuzz")) {
            c.socket.setSoTimeout(5000);
            c.out.write(bytes);
            c.request(0, CMD_DISC, 0, 0, 0);
            c.out.flush();
            c.socket.shutdownOutput();
            drainUntilClosed(c);
        }
    }

    /** Mutated request streams against the read-only export: the device never sees a change. */
    @Property(tries = 100)
    void aReadOnlyExportNeverChanges(@ForAll @Size(min = 1, max = 6) List<@net.jqwik.api.From("requests") byte[]> requests,
            @ForAll("mutations") int[] mutation) throws IOException {
        ByteBuffer stream = ByteBuffer.allocate(requests.stream().mapToInt(r -> r.length).sum());
        requests.forEach(stream::put);
        byte[] bytes = mutate(stream.array(), mutation);
        try (NbdTestClient c = NbdTestClient.open(disk.address(), "fuzz-ro")) {
            c.socket.setSoTimeout(5000);
            c.out.write(bytes);
            c.request(0, CMD_DISC, 0, 0, 0);
            c.out.flush();
            c.socket.shutdownOutput();
            drainUntilClosed(c);
        }
        assertEquals(0, readOnly.changes.sum(), "a change reached the read-only device");
        assertEquals(ServedDisk.sha256(readOnlyContent), ServedDisk.sha256(Files.readAllBytes(dir.resolve("ro.img"))));
    }

    /** Requests that must be rejected, pipelined: each gets its error, and the file does not change. */
    @Property(tries = 150)
    void rejectedRequestsChangeNothing(@ForAll @Size(min = 1, max = 8) List<@net.jqwik.api.From("invalidRequests") byte[]> requests)
            throws IOException {
        long accepted = disk.sink.accepted();
        byte[] before = disk.content();
        try (NbdTestClient c = NbdTestClient.open(disk.address(), "fuzz")) {
            for (byte[] r : requests) {
                c.out.write(r);
            }
            for (int i = 0; i < requests.size(); i++) {
                NbdTestClient.Reply reply = c.readReply();
                assertEquals(0, reply.handle());
                assertTrue(reply.error() == EINVAL || reply.error() == ENOSPC, "error " + reply.error());
            }
            c.disconnect();
        }
        assertEquals(accepted, disk.sink.accepted());
        assertArrayEquals(before, disk.content());
    }

    private static void drainUntilClosed(NbdTestClient c) throws IOException {
        assertTrue(c.closedByServer(), "the server must answer and close, not hang");
    }

    private static byte[] mutate(byte[] valid, int[] mutation) {
        byte[] bytes = valid.clone();
        for (int i = 0; i + 1 < mutation.length && bytes.length > 0; i += 2) {
            bytes[mutation[i] % bytes.length] ^= (byte) mutation[i + 1];
        }
        return bytes;
    }

    @Provide
    Arbitrary<int[]> mutations() {
        return Arbitraries.integers().between(0, 1 << 16).array(int[].class).ofMinSize(0).ofMaxSize(8);
    }

    @Provide
    Arbitrary<byte[]> infoOptions() {
        return Combinators.combine(Arbitraries.of(OPT_INFO, OPT_GO, OPT_LIST, OPT_EXPORT_NAME, OPT_STARTTLS, 9),
                Arbitraries.of("fuzz", "", "other"), Arbitraries.integers().between(0, 5)).as((opt, name, infos) -> {
                    byte[] data = opt == OPT_EXPORT_NAME ? name.getBytes() : NbdTestClient.infoData(name, new int[infos]);
                    return ByteBuffer.allocate(16 + data.length).putLong(IHAVEOPT).putInt(opt).putInt(data.length)
                            .put(data).array();
                });
    }

    @Provide
    Arbitrary<byte[]> requests() {
        Arbitrary<Integer> type = Arbitraries.of(CMD_READ, CMD_WRITE, CMD_WRITE, CMD_FLUSH, CMD_TRIM, CMD_WRITE_ZEROES);
        Arbitrary<Integer> offset = Arbitraries.integers().between(0, SIZE - 1);
        Arbitrary<Integer> length = Arbitraries.integers().between(1, 8192);
        Arbitrary<Integer> flags = Arbitraries.of(0, CMD_FLAG_FUA, CMD_FLAG_NO_HOLE);
        return Combinators.combine(type, offset, length, flags).as((t, o, l, f) -> {
            int len = Math.min(l, SIZE - o);
            int flag = t == CMD_WRITE_ZEROES ? f : f & CMD_FLAG_FUA;
            if (t == CMD_FLUSH) {
                return RequestDecoderTest.header(REQUEST_MAGIC, flag, t, 1, 0, 0).array();
            }
            ByteBuffer b = ByteBuffer.allocate(REQUEST_HEADER_SIZE + (t == CMD_WRITE ? len : 0));
            b.put(RequestDecoderTest.header(REQUEST_MAGIC, flag, t, o, o, len));
            while (b.hasRemaining()) {
                b.put((byte) (o + b.position()));
            }
            return b.array();
        });
    }

    @Provide
    Arbitrary<byte[]> invalidRequests() {
        Arbitrary<Integer> offset = Arbitraries.integers().between(0, SIZE - 1);
        Arbitrary<Integer> length = Arbitraries.integers().between(1, 4096);
        Arbitrary<Integer> kind = Arbitraries.integers().between(0, 5);
        Arbitrary<Integer> type = Arbitraries.of(CMD_READ, CMD_WRITE, CMD_TRIM, CMD_WRITE_ZEROES);
        return Combinators.combine(kind, type, offset, length).as((k, t, o, l) -> {
            int flags = 0;
            long off = o;
            long len = l;
            int cmd = t;
            switch (k) {
                case 0 -> off = SIZE - l / 2 - 1 + 1; // crosses the end
                case 1 -> off = Long.MIN_VALUE + o; // offset >= 2^63
                case 2 -> flags = 1 << (2 + l % 14); // a flag not valid here
                case 3 -> cmd = 5 + 2 * (l % 2) + (l % 3 == 0 ? 100 : 0); // CACHE, BLOCK_STATUS, unknown
                case 4 -> len = t == CMD_READ ? MAX_PAYLOAD + 1L : 0; // oversized read or empty request
                default -> off = SIZE + (long) o; // entirely past the end
            }
            if (cmd == CMD_WRITE && len > MAX_PAYLOAD) {
                len = 0;
            }
            int payload = cmd == CMD_WRITE ? (int) len : 0;
            ByteBuffer b = ByteBuffer.allocate(REQUEST_HEADER_SIZE + payload);
            b.put(RequestDecoderTest.header(REQUEST_MAGIC, flags, cmd, 0, off, len));
            return b.array();
        });
    }
}
