package org.secondsite.capture.nbd.internal;

import org.secondsite.nbd.internal.NbdTestClient;

import org.secondsite.nbd.NbdProtocol;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.secondsite.nbd.NbdProtocol.*;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.model.ChangeKind;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DiskId;

/**
 * A source disk that fails underneath the export (without root: the export's channel is wrapped in a
 * {@link FaultyChannel} that throws what the JDK throws for EROFS, ENXIO, EIO; and a real file is
 * deleted). Each test checks the client's error, {@code problem()}, that the export stays up, that
 * nothing tracked before is dropped, and that the sink's stream replayed equals the source file.
 */
class FailingSourceTest {
    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;
    Path file;
    byte[] initial;
    ReplayingSink sink;
    FaultyChannel faulty;
    CaptureSession session;

    @BeforeEach
    void start() throws IOException {
        file = dir.resolve("disk0.img");
        initial = TestDisk.random(7, SIZE);
        Files.write(file, initial);
        sink = new ReplayingSink(initial, true);
        session = NbdCaptureSession.start(new CaptureSpec(DiskId.of("disk0"), file, Map.of()), sink,
                NbdSettings.parse(Map.of()), () -> { }, ch -> faulty = new FaultyChannel(ch));
    }

    @AfterEach
    void stop() throws IOException {
        session.close();
    }

    private NbdTestClient client() throws IOException {
        URI uri = URI.create(session.endpoint());
        return NbdTestClient.open(new InetSocketAddress(uri.getHost(), uri.getPort()), "disk0");
    }

    /** The stream replayed onto the initial content equals the source file. */
    private void assertReplayEqualsSource() throws IOException {
        assertEquals(TestDisk.sha256(Files.readAllBytes(file)), TestDisk.sha256(sink.image()),
                "change stream replayed vs source file (SHA-256)");
    }

    private static int command(NbdTestClient c, int type, int flags, long offset, long length) throws IOException {
        c.request(flags, type, 5, offset, length);
        NbdTestClient.Reply r = c.readReply();
        assertEquals(5, r.handle());
        return r.error();
    }

    /** A READ whose reply is an error (no payload follows). */
    private static int failedRead(NbdTestClient c, long offset, int length) throws IOException {
        int error = command(c, CMD_READ, 0, offset, length);
        assertTrue(error != 0, "READ was expected to fail");
        return error;
    }

    @Test
    void writesToAReadOnlySourceGetEpermReadsGoOnAndTheProblemClearsWhenWritesWorkAgain() throws IOException {
        byte[] a = TestDisk.random(1, 4096);
        byte[] b = TestDisk.random(2, 8192);
        try (NbdTestClient c = client()) {
            assertEquals(0, c.writeSync(0, a));
            assertEquals("", session.problem());

            faulty.writeError = new IOException("Read-only file system");
            assertEquals(EPERM, c.writeSync(65536, b));
            assertEquals(EPERM, c.writeSync(65536 + 100, a));
            assertArrayEquals(a, c.readSync(0, 4096), "reads still served");
            String problem = session.problem();
            assertTrue(problem.contains("source " + file + " turned read-only (Read-only file system): writes are refused"),
                    problem);
            assertEquals(2L, session.statistics().get("ioErrors"));
            // Tracking kept: the accepted write is the first record, untouched; each refused write was
            // followed by the source's content of its range, so the stream still ends at the source.
            List<ChangeRecord> records = sink.records();
            assertEquals(ChangeRecord.write(0, ByteBuffer.wrap(a)), records.get(0));
            assertEquals(5, records.size(), records.toString());
            assertReplayEqualsSource();
            byte[] expected = initial.clone();
            System.arraycopy(a, 0, expected, 0, a.length);
            assertArrayEquals(expected, Files.readAllBytes(file), "only the accepted write reached the source");
        }
    }

    @Test
    void aReadOnlySourceRecoversWithoutLosingTheStream() throws IOException {
        byte[] b = TestDisk.random(3, 10000);
        try (NbdTestClient c = client()) {
            faulty.writeError = new IOException("Operation not permitted");
            assertEquals(EPERM, c.writeSync(12345, b));
            assertEquals(EPERM, command(c, CMD_WRITE_ZEROES, 0, 1 << 20, 3 << 20));
            assertEquals(0, command(c, CMD_TRIM, 0, 2 << 20, 4096), "a trim does not touch the file");
            assertTrue(session.problem().contains("turned read-only (Operation not permitted)"), session.problem());
            assertReplayEqualsSource();

            faulty.heal();
            assertEquals(0, c.writeSync(12345, b));
            assertEquals("", session.problem());
            assertEquals(0, command(c, CMD_WRITE_ZEROES, 0, 1 << 20, 3 << 20));
            assertEquals(0, command(c, CMD_FLUSH, 0, 0, 0));
        }
        byte[] expected = initial.clone();
        System.arraycopy(b, 0, expected, 12345, b.length);
        java.util.Arrays.fill(expected, 1 << 20, 4 << 20, (byte) 0);
        assertArrayEquals(expected, Files.readAllBytes(file));
        assertReplayEqualsSource();
    }

    @Test
    void aWriteCutShortByAnIoErrorLeavesTheStreamEqualToTheSource() throws IOException {
        byte[] b = TestDisk.random(4, 8192);
        try (NbdTestClient c = client()) {
            faulty.failWritesAfter = 1000;
            faulty.writeError = new IOException("Input/output error");
            assertEquals(EIO, c.writeSync(3 * 4096, b));
            assertTrue(session.problem().contains("is failing (Input/output error): writes fail"), session.problem());
            byte[] content = Files.readAllBytes(file);
            assertArrayEquals(java.util.Arrays.copyOf(b, 1000), java.util.Arrays.copyOfRange(content, 3 * 4096,
                    3 * 4096 + 1000), "the part written before the error");
            assertReplayEqualsSource();
            faulty.heal();
            assertEquals(0, c.writeSync(3 * 4096, b));
            assertEquals("", session.problem());
        }
        assertReplayEqualsSource();
    }

    @Test
    void aVanishedSourceFailsRequestsKeepsTheExportAndTrackingAndSettlesWhenItReturns() throws IOException {
        byte[] a = TestDisk.random(5, 4096);
        byte[] b = TestDisk.random(6, 3 << 20); // a large write: it is settled in pieces later
        byte[] c2 = TestDisk.random(8, 512);
        try (NbdTestClient c = client()) {
            assertEquals(0, c.writeSync(0, a));
            faulty.vanish(new IOException("No such device or address"));
            assertEquals(EIO, c.writeSync(65536, b));
            assertEquals(EIO, failedRead(c, 0, 4096));
            assertEquals(EIO, command(c, CMD_FLUSH, 0, 0, 0));
            String problem = session.problem();
            assertEquals("source " + file + " vanished (No such device or address): reads, writes and flushes fail; "
                    + b.length + " bytes of refused writes are in the change stream but could not be read back from the "
                    + "source yet; the replica may differ there until they are", problem);
            // The export stays up: a new client connects and gets errors, not a closed socket.
            try (NbdTestClient other = client()) {
                assertEquals(EIO, other.writeSync(4096, c2));
            }
            List<ChangeRecord> records = sink.records();
            assertEquals(ChangeRecord.write(0, ByteBuffer.wrap(a)), records.get(0), "tracked before: kept");
            assertEquals(ChangeRecord.write(65536, ByteBuffer.wrap(b)), records.get(1), "refused write: tracked");

            faulty.heal();
            // The next change settles the refused ranges first: the source's content goes to the sink.
            assertEquals(0, c.writeSync(1 << 20, c2));
            assertArrayEquals(a, c.readSync(0, 4096));
            assertEquals(0, command(c, CMD_FLUSH, 0, 0, 0));
            assertEquals("", session.problem());
            assertTrue(sink.records().stream().skip(2).anyMatch(r -> r.kind() == ChangeKind.WRITE
                    && r.offset() == 65536), "settled content of the refused range");
        }
        assertReplayEqualsSource();
    }

    @Test
    void aShortenedSourceIsReported() throws IOException {
        try (NbdTestClient c = client()) {
            faulty.readError = new java.io.EOFException("end of file at offset 4096 while 4096 more bytes were to be read");
            assertEquals(EIO, failedRead(c, 4096, 4096));
            assertTrue(session.problem().contains("is shorter than the exported size"), session.problem());
        }
    }

    @Test
    void aFailedFlushIsEioAndClearsWithTheNextGoodFlush() throws IOException {
        byte[] a = TestDisk.random(9, 4096);
        try (NbdTestClient c = client()) {
            faulty.forceError = new IOException("Input/output error");
            assertEquals(EIO, command(c, CMD_FLUSH, 0, 0, 0));
            c.write(5, 0, a, CMD_FLAG_FUA);
            assertEquals(EIO, c.readReply().error(), "FUA write whose flush failed");
            assertTrue(session.problem().contains("is failing (Input/output error): flushes fail"), session.problem());
            faulty.heal();
            assertEquals(0, command(c, CMD_FLUSH, 0, 0, 0));
            assertEquals("", session.problem());
        }
        assertReplayEqualsSource();
    }

    @Test
    void theSinkRefusingAChangeIsNotASourceProblem() throws IOException {
        try (NbdTestClient c = client()) {
            sink.failNextAccept(new IOException("agent is stopping"));
            assertEquals(EIO, c.writeSync(0, TestDisk.random(10, 4096)));
            assertEquals("", session.problem());
        }
        assertArrayEquals(initial, Files.readAllBytes(file), "a refused change never reaches the file");
        assertReplayEqualsSource();
    }

    @Test
    void aDeletedOrReplacedSourceFileIsReportedWhileTheExportServesTheOpenFile() throws Exception {
        byte[] a = TestDisk.random(11, 4096);
        byte[] b = TestDisk.random(12, 4096);
        try (NbdTestClient c = client()) {
            assertEquals(0, c.writeSync(0, a));
            Files.delete(file);
            assertTrue(session.problem().contains("source file " + file + " was deleted; the export still serves the "
                    + "open file"), session.problem());
            assertEquals(0, c.writeSync(8192, b), "the workload's disk still works");
            assertArrayEquals(b, c.readSync(8192, 4096));

            // The read view keeps the open file too; it only refuses to reopen a path that names another file.
            ByteBuffer viaSource = ByteBuffer.allocate(SIZE);
            session.source().read(0, viaSource);
            assertEquals(TestDisk.sha256(viaSource.array()), TestDisk.sha256(sink.image()),
                    "stream replayed vs the deleted file still served");
            Thread.currentThread().interrupt();
            assertThrows(ClosedByInterruptException.class, () -> session.source().read(0, ByteBuffer.allocate(1)));
            Thread.interrupted();
            IOException e = assertThrows(IOException.class, () -> session.source().read(0, ByteBuffer.allocate(1)));
            assertTrue(e.getMessage().contains("cannot reopen the source for reading: source file " + file
                    + " was deleted"), e.getMessage());

            Files.write(file, new byte[SIZE]);
            assertTrue(session.problem().contains("source file " + file + " was replaced by another file"),
                    session.problem());
        }
    }
}
