package org.secondsite.capture.nbd.internal;

import org.secondsite.nbd.internal.NbdTestClient;

import org.secondsite.nbd.NbdProtocol;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.secondsite.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.ChangeKind;
import org.secondsite.api.model.ChangeRecord;

/** Protocol behaviour, driven by a hand-written client: handshake, commands, and every error case. */
class NbdProtocolTest {
    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;
    TestDisk disk;
    byte[] expected;

    @BeforeEach
    void start() throws IOException {
        disk = TestDisk.zeros(dir, SIZE);
        expected = new byte[SIZE];
    }

    @AfterEach
    void stop() throws IOException {
        disk.close();
    }

    private NbdTestClient client() throws IOException {
        return NbdTestClient.open(disk.address(), "disk0");
    }

    private void put(long offset, byte[] data) {
        System.arraycopy(data, 0, expected, (int) offset, data.length);
    }

    // ------------------------------------------------------------------ handshake

    @Test
    void goReportsExportAndRequestedInfoOnly() throws IOException {
        try (NbdTestClient c = new NbdTestClient(disk.address())) {
            c.greet(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
            c.option(OPT_INFO, NbdTestClient.infoData("disk0", INFO_NAME, INFO_BLOCK_SIZE, INFO_DESCRIPTION, 999, INFO_NAME));
            List<Integer> infos = new ArrayList<>();
            NbdTestClient.OptionReply r;
            while ((r = c.readOptionReply()).type() == REP_INFO) {
                ByteBuffer d = ByteBuffer.wrap(r.data());
                int type = d.getShort();
                infos.add(type);
                switch (type) {
                    case INFO_EXPORT -> {
                        assertEquals(SIZE, d.getLong());
                        assertEquals(TRANSMISSION_FLAGS, d.getShort() & 0xffff);
                        assertEquals(TRANSMISSION_FLAGS, FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA
                                | FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES | FLAG_CAN_MULTI_CONN);
                    }
                    case INFO_NAME -> assertEquals("disk0", StandardCharsets.UTF_8.decode(d).toString());
                    case INFO_BLOCK_SIZE -> {
                        assertEquals(1, d.getInt());
                        assertEquals(4096, d.getInt());
                        assertEquals(32 << 20, d.getInt());
                    }
                    case INFO_DESCRIPTION -> assertTrue(StandardCharsets.UTF_8.decode(d).toString().contains("disk0"));
                    default -> throw new AssertionError("unexpected info type " + type);
                }
            }
            assertEquals(REP_ACK, r.type());
            assertEquals(OPT_INFO, r.option());
            assertEquals(List.of(INFO_EXPORT, INFO_NAME, INFO_BLOCK_SIZE, INFO_DESCRIPTION), infos);

            // Without requests only NBD_INFO_EXPORT comes, then GO with the default ("") export works.
            c.option(OPT_GO, NbdTestClient.infoData(""));
            r = c.readOptionReply();
            assertEquals(REP_INFO, r.type());
            assertEquals(INFO_EXPORT, ByteBuffer.wrap(r.data()).getShort());
            assertEquals(REP_ACK, c.readOptionReply().type());
            byte[] data = TestDisk.random(1, 4096);
            assertEquals(0, c.writeSync(8192, data));
            put(8192, data);
            assertArrayEquals(data, c.readSync(8192, 4096));
        }
        disk.assertContent(expected);
    }

    @Test
    void listUnknownOptionsTlsAndStructuredRepliesAreAnsweredThenExportNameEntersTransmission() throws IOException {
        try (NbdTestClient c = new NbdTestClient(disk.address())) {
            c.greet(CLIENT_FLAG_FIXED_NEWSTYLE); // no NO_ZEROES: EXPORT_NAME reply carries 124 zeros
            c.option(OPT_LIST, new byte[0]);
            NbdTestClient.OptionReply r = c.readOptionReply();
            assertEquals(REP_SERVER, r.type());
            ByteBuffer d = ByteBuffer.wrap(r.data());
            assertEquals(5, d.getInt());
            assertEquals("disk0", StandardCharsets.UTF_8.decode(d).toString());
            assertEquals(REP_ACK, c.readOptionReply().type());

            c.option(OPT_LIST, new byte[3]);
            assertEquals(REP_ERR_INVALID, c.readOptionReply().type());
            c.option(OPT_STARTTLS, new byte[0]);
            assertEquals(REP_ERR_POLICY, c.readOptionReply().type());
            c.option(OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(REP_ERR_UNSUP, c.readOptionReply().type());
            c.option(10, new byte[12]); // NBD_OPT_SET_META_CONTEXT
            assertEquals(REP_ERR_UNSUP, c.readOptionReply().type());
            c.option(0x7777, new byte[100]);
            r = c.readOptionReply();
            assertEquals(REP_ERR_UNSUP, r.type());
            assertEquals(0x7777, r.option());
            c.option(OPT_GO, NbdTestClient.infoData("nope"));
            r = c.readOptionReply();
            assertEquals(REP_ERR_UNKNOWN, r.type());
            assertTrue(r.text().contains("nope"), r.text());
            c.option(OPT_GO, new byte[] {0, 0, 0, 9, 1}); // name length beyond the data
            assertEquals(REP_ERR_INVALID, c.readOptionReply().type());

            c.option(OPT_EXPORT_NAME, "disk0".getBytes(StandardCharsets.UTF_8));
            assertEquals(SIZE, c.in.readLong());
            assertEquals(TRANSMISSION_FLAGS, c.in.readUnsignedShort());
            byte[] zeros = new byte[124];
            c.in.readFully(zeros);
            assertArrayEquals(new byte[124], zeros);
            byte[] data = TestDisk.random(2, 1000);
            assertEquals(0, c.writeSync(SIZE - 1000, data));
            put(SIZE - 1000, data);
            c.disconnect();
            assertTrue(c.closedByServer());
        }
        disk.assertContent(expected);
    }

    @Test
    void abortIsAcknowledgedAndClosed() throws IOException {
        try (NbdTestClient c = new NbdTestClient(disk.address())) {
            c.greet(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
            c.option(OPT_ABORT, new byte[0]);
            assertEquals(REP_ACK, c.readOptionReply().type());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void malformedHandshakesCloseTheConnection() throws IOException {
        try (NbdTestClient c = new NbdTestClient(disk.address())) {
            c.greet(1 << 5); // unknown client flag
            assertTrue(c.closedByServer(), "unknown client flags");
        }
        try (NbdTestClient c = new NbdTestClient(disk.address())) {
            c.greet(CLIENT_FLAG_FIXED_NEWSTYLE);
            c.out.writeLong(0x1122334455667788L); // not IHAVEOPT
            c.out.writeInt(OPT_LIST);
            c.out.writeInt(0);
            assertTrue(c.closedByServer(), "bad option magic");
        }
        try (NbdTestClient c = new NbdTestClient(disk.address())) {
            c.greet(CLIENT_FLAG_FIXED_NEWSTYLE);
            c.out.writeLong(IHAVEOPT);
            c.out.writeInt(OPT_GO);
            c.out.writeInt(Integer.MAX_VALUE); // option far too long
            assertTrue(c.closedByServer(), "oversized option");
        }
        try (NbdTestClient c = new NbdTestClient(disk.address())) {
            c.greet(CLIENT_FLAG_FIXED_NEWSTYLE);
            c.option(OPT_EXPORT_NAME, "other".getBytes(StandardCharsets.UTF_8));
            assertTrue(c.closedByServer(), "EXPORT_NAME of an unknown export");
        }
        try (NbdTestClient c = new NbdTestClient(disk.address())) {
            c.greet(CLIENT_FLAG_FIXED_NEWSTYLE);
            c.out.writeLong(IHAVEOPT);
            c.out.writeInt(OPT_GO);
            c.out.flush(); // and then the client goes away mid-option
        }
        awaitNoConnections();
        try (NbdTestClient c = client()) { // the server still works
            assertArrayEquals(new byte[512], c.readSync(0, 512));
        }
        disk.assertContent(expected);
    }

    @Test
    void clientThatNeverFinishesTheHandshakeIsDisconnected() throws IOException {
        try (TestDisk slow = TestDisk.zeros(dir, "slow", 65536, Map.of("handshakeTimeout", "1"))) {
            try (NbdTestClient c = new NbdTestClient(slow.address())) {
                c.socket.setSoTimeout(20_000);
                c.greet(CLIENT_FLAG_FIXED_NEWSTYLE); // then silence
                assertTrue(c.closedByServer());
            }
            Awaitility.await("connection to end").atMost(Duration.ofSeconds(10))
                    .until(() -> slow.session.statistics().get("connections") == 0L);
        }
    }

    // ------------------------------------------------------------------ transmission

    @Test
    void writeTrimZeroFlushAndFuaReachSourceAndSinkInOrder() throws IOException {
        try (NbdTestClient c = client()) {
            byte[] a = TestDisk.random(3, 65536);
            byte[] b = TestDisk.random(4, 300_000); // beyond the inline payload size
            c.write(1, 0, a, 0);
            c.write(2, 100_000, b, CMD_FLAG_FUA);
            c.request(CMD_FLAG_NO_HOLE, CMD_WRITE_ZEROES, 3, 4096, 8192);
            c.request(0, CMD_TRIM, 4, 200_000, 50_000);
            c.request(0, CMD_FLUSH, 5, 0, 0);
            c.request(CMD_FLAG_FUA, CMD_WRITE_ZEROES, 6, 1 << 20, 3 << 20); // large zero range, split in records
            for (int h = 1; h <= 6; h++) {
                NbdTestClient.Reply r = c.readReply();
                assertEquals(h, r.handle(), "replies in order on one connection");
                assertEquals(0, r.error(), "request " + h);
            }
            put(0, a);
            put(100_000, b);
            Arrays.fill(expected, 4096, 4096 + 8192, (byte) 0);
            Arrays.fill(expected, 1 << 20, 4 << 20, (byte) 0);
            assertArrayEquals(Arrays.copyOfRange(expected, 0, 400_000), c.readSync(0, 400_000), "large READ");

            List<ChangeRecord> records = disk.sink.records();
            assertEquals(List.of(ChangeKind.WRITE, ChangeKind.WRITE, ChangeKind.ZERO, ChangeKind.TRIM, ChangeKind.ZERO),
                    records.stream().map(ChangeRecord::kind).toList());
            assertEquals(100_000, records.get(1).offset());
            assertEquals(ByteBuffer.wrap(b), records.get(1).data());
            assertEquals(3 << 20, records.get(4).length());
            assertEquals(3, disk.sink.flushes(), "FUA write, FLUSH, FUA write-zeroes");
            Map<String, Long> stats = disk.session.statistics();
            assertEquals(2, stats.get("writes"));
            assertEquals(a.length + b.length, stats.get("bytesWritten"));
            assertEquals(3, stats.get("flushes"));
            assertEquals(1, stats.get("reads"));
            assertEquals(1, stats.get("connections"));
            c.disconnect();
        }
        disk.assertContent(expected);
    }

    @Test
    void outOfRangeUnknownAndBadFlagRequestsGetErrorsAndChangeNothing() throws IOException {
        try (NbdTestClient c = client()) {
            byte[] junk = TestDisk.random(5, 8192);
            c.write(1, SIZE - 4096, junk, 0); // crosses the end: ENOSPC, payload skipped
            c.request(0, CMD_READ, 2, SIZE, 1); // read past the end: EINVAL
            c.request(0, CMD_TRIM, 3, SIZE - 1, 2);
            c.request(0, CMD_WRITE_ZEROES, 4, Long.MIN_VALUE, 4096); // offset >= 2^63
            c.request(0, CMD_WRITE_ZEROES, 5, -4096L, 8192); // offset + length wraps around
            c.request(0, 5, 6, 0, 4096); // NBD_CMD_CACHE, not offered
            c.request(0, 77, 7, 0, 0); // unknown command
            c.request(CMD_FLAG_NO_HOLE, CMD_TRIM, 8, 0, 4096); // NO_HOLE is for WRITE_ZEROES only
            c.write(9, 0, junk, 1 << 7); // unknown flag on a WRITE: EINVAL, payload skipped
            c.request(0, CMD_FLUSH, 10, 1, 0); // FLUSH with an offset
            c.request(0, CMD_READ, 11, 0, (32 << 20) + 1); // oversized read
            c.request(0, CMD_READ, 12, 0, 0); // empty read
            int[] errors = {ENOSPC, EINVAL, ENOSPC, ENOSPC, ENOSPC, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL};
            for (int h = 1; h <= errors.length; h++) {
                NbdTestClient.Reply r = c.readReply();
                assertEquals(h, r.handle());
                assertEquals(errors[h - 1], r.error(), "request " + h);
            }
            // The stream is still in sync.
            byte[] ok = TestDisk.random(6, 4096);
            assertEquals(0, c.writeSync(SIZE - 4096, ok));
            put(SIZE - 4096, ok);
            assertArrayEquals(ok, c.readSync(SIZE - 4096, 4096));
            assertEquals(12, disk.session.statistics().get("rejectedRequests"));
        }
        assertEquals(1, disk.sink.accepted(), "only the valid write reached the sink");
        disk.assertContent(expected);
    }

    @Test
    void oversizedWriteClosesTheConnectionAndTheExportStaysUsable() throws IOException {
        try (NbdTestClient c = client()) {
            c.request(0, CMD_WRITE, 1, 0, (32L << 20) + 1);
            c.out.write(new byte[4096]);
            assertTrue(c.closedByServer());
        }
        try (NbdTestClient c = client()) {
            c.request(0, CMD_READ, 1, 0, 4096);
            c.out.writeInt(0xdeadbeef); // bad request magic
            c.out.write(new byte[24]);
            NbdTestClient.Reply r = c.readReply();
            assertEquals(0, r.error());
            c.in.readFully(new byte[4096]);
            assertTrue(c.closedByServer(), "bad request magic");
        }
        assertEquals(0, disk.sink.accepted());
        disk.assertContent(expected);
    }

    @Test
    void clientDroppingMidRequestLeavesTheExportUnharmed() throws IOException {
        byte[] before = TestDisk.random(7, 4096);
        try (NbdTestClient c = client()) {
            assertEquals(0, c.writeSync(0, before));
            put(0, before);
            c.write(2, 0, new byte[0], 0); // header announcing 0 bytes is EINVAL, so announce a real write:
            c.readReply();
            c.request(0, CMD_WRITE, 3, 0, 4096);
            c.out.write(new byte[1000]); // 1000 of 4096 payload bytes, then the client goes away
            c.out.flush();
        }
        try (NbdTestClient c = client()) {
            c.out.write(new byte[] {0x25, 0x60, (byte) 0x95, 0x13, 0, 0, 0, 1}); // half a header
            c.out.flush();
        }
        awaitNoConnections();
        try (NbdTestClient c = client()) {
            assertArrayEquals(before, c.readSync(0, 4096));
        }
        assertEquals(1, disk.sink.accepted());
        disk.assertContent(expected);
    }

    @Test
    void sinkFailureIsReportedAsEioAndTheFileIsNotChanged() throws IOException {
        try (NbdTestClient c = client()) {
            disk.sink.failNextAccept(new IOException("tracker full"));
            assertEquals(EIO, c.writeSync(0, TestDisk.random(8, 4096)));
            byte[] ok = TestDisk.random(9, 4096);
            assertEquals(0, c.writeSync(4096, ok));
            put(4096, ok);
            assertEquals(1, disk.session.statistics().get("ioErrors"));
        }
        disk.assertContent(expected);
    }

    private void awaitNoConnections() {
        Awaitility.await("connections to end").atMost(Duration.ofSeconds(10))
                .until(() -> disk.session.statistics().get("connections") == 0L);
    }

    @Test
    void closingTheSessionDisconnectsClientsAndStopsListening() throws IOException {
        NbdTestClient c = client();
        assertEquals(0, c.writeSync(0, new byte[] {1, 2, 3}));
        put(0, new byte[] {1, 2, 3});
        disk.close();
        assertTrue(c.closedByServer());
        c.close();
        assertFalse(canConnect(), "still listening after close");
        assertEquals(List.of(), openFileDescriptorsOf(disk.file), "file descriptors still open on the source");
        disk.assertContent(expected);
    }

    private boolean canConnect() {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(disk.address(), 2000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static List<Path> openFileDescriptorsOf(Path file) throws IOException {
        Path fds = Path.of("/proc/self/fd");
        List<Path> open = new ArrayList<>();
        if (!java.nio.file.Files.isDirectory(fds)) {
            return open;
        }
        Path real = file.toRealPath();
        try (var list = java.nio.file.Files.list(fds)) {
            for (Path fd : (Iterable<Path>) list::iterator) {
                try {
                    if (java.nio.file.Files.readSymbolicLink(fd).equals(real)) {
                        open.add(fd);
                    }
                } catch (IOException e) {
                    // fd closed meanwhile
                }
            }
        }
        return open;
    }
}
