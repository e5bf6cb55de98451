package org.secondsite.capture.nbd.internal;

import org.secondsite.nbd.NbdProtocol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.capture.nbd.internal.SourceHealth.Kind;
import org.secondsite.capture.nbd.internal.SourceHealth.Op;

/** Classification of source failures, the problem report, and the identity check of the source file. */
class SourceHealthTest {
    @TempDir
    Path dir;

    @Test
    void failuresAreClassifiedFromTheJdkMessages() {
        // The messages are the strerror texts the JDK puts in the IOException of a failed pread/pwrite/fsync.
        assertEquals(Kind.READ_ONLY, SourceHealth.classify(new IOException("Read-only file system")));
        assertEquals(Kind.READ_ONLY, SourceHealth.classify(new IOException("Operation not permitted")));
        assertEquals(Kind.READ_ONLY, SourceHealth.classify(new IOException("Permission denied")));
        assertEquals(Kind.READ_ONLY, SourceHealth.classify(new AccessDeniedException("/x")));
        assertEquals(Kind.FULL, SourceHealth.classify(new IOException("No space left on device")));
        assertEquals(Kind.FULL, SourceHealth.classify(new IOException("Disk quota exceeded")));
        assertEquals(Kind.VANISHED, SourceHealth.classify(new IOException("No such device or address")));
        assertEquals(Kind.VANISHED, SourceHealth.classify(new IOException("No such device")));
        assertEquals(Kind.VANISHED, SourceHealth.classify(new IOException("Transport endpoint is not connected")));
        assertEquals(Kind.VANISHED, SourceHealth.classify(new IOException("Stale file handle")));
        assertEquals(Kind.SHRUNK, SourceHealth.classify(new EOFException("end of file at offset 0")));
        assertEquals(Kind.FAILING, SourceHealth.classify(new IOException("Input/output error")));
        assertEquals(Kind.FAILING, SourceHealth.classify(new IOException()));
    }

    @Test
    void theClientGetsEpermForReadOnlyEnospcForFullAndEioOtherwise() {
        assertEquals(NbdProtocol.EPERM, SourceHealth.nbdError(Op.WRITE, Kind.READ_ONLY));
        assertEquals(NbdProtocol.ENOSPC, SourceHealth.nbdError(Op.WRITE, Kind.FULL));
        assertEquals(NbdProtocol.EIO, SourceHealth.nbdError(Op.WRITE, Kind.VANISHED));
        assertEquals(NbdProtocol.EIO, SourceHealth.nbdError(Op.READ, Kind.READ_ONLY));
        assertEquals(NbdProtocol.EIO, SourceHealth.nbdError(Op.FLUSH, Kind.READ_ONLY), "a failed flush may have lost data");
        assertEquals(NbdProtocol.EIO, SourceHealth.nbdError(Op.READ, Kind.FAILING));
    }

    @Test
    void eachKindOfOperationReportsUntilItSucceedsAgain() {
        Path p = Path.of("/dev/sdz");
        SourceHealth h = new SourceHealth("d", p, true, null);
        assertEquals("", h.problem());
        SourceFailure f = h.failed(Op.WRITE, new IOException("Read-only file system"));
        assertEquals(NbdProtocol.EPERM, f.nbdError());
        assertEquals("source /dev/sdz turned read-only (Read-only file system): writes are refused", f.getMessage());
        h.ok(Op.READ);
        assertEquals(f.getMessage(), h.problem(), "a good read does not clear a write problem");
        h.failed(Op.FLUSH, new IOException("Read-only file system"));
        assertEquals("source /dev/sdz turned read-only (Read-only file system): writes are refused; "
                + "source /dev/sdz refuses access (Read-only file system): flushes fail", h.problem());
        h.ok(Op.WRITE);
        h.ok(Op.FLUSH);
        assertEquals("", h.problem());

        h.failed(Op.READ, new IOException("No such device or address"));
        h.failed(Op.WRITE, new IOException("No such device or address"));
        assertEquals("source /dev/sdz vanished (No such device or address): reads and writes fail", h.problem());
        h.failed(Op.FLUSH, new IOException("No such device or address"));
        assertEquals("source /dev/sdz vanished (No such device or address): reads, writes and flushes fail", h.problem());
        h.failed(Op.WRITE, new IOException("No space left on device"));
        assertEquals("source /dev/sdz vanished (No such device or address): reads and flushes fail; "
                + "source /dev/sdz is out of space (No space left on device): writes fail", h.problem());
        h.ok(Op.READ);
        h.ok(Op.WRITE);
        h.ok(Op.FLUSH);
        assertEquals("", h.problem());
    }

    @Test
    void aDeletedFileIsReportedUntilThePathNamesItAgain() throws IOException {
        Path file = Files.write(dir.resolve("d.img"), new byte[4096]);
        Path keep = dir.resolve("keep.img");
        Files.createLink(keep, file);
        SourceHealth h = SourceHealth.of("d", file);
        h.checkIdentity();
        assertEquals("", h.problem());

        Files.delete(file);
        h.checkIdentity();
        assertEquals("source file " + file + " was deleted; the export still serves the open file, whose data is freed "
                + "when capture stops", h.problem());

        Files.write(file, new byte[4096]);
        h.checkIdentity();
        assertEquals("source file " + file + " was replaced by another file; the export still serves the file it opened",
                h.problem());

        Files.delete(file);
        Files.createLink(file, keep); // the same inode under the path again
        h.checkIdentity();
        assertEquals("", h.problem());
        assertTrue(h.identityProblem() == null);
    }
}
