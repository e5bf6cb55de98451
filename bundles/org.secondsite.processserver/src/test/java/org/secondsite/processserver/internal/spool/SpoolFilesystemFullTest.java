package org.secondsite.processserver.internal.spool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.testkit.SmallFilesystem;

/** A spool on a really full filesystem (ENOSPC): stalls without losing or reordering anything, resumes by itself. */
class SpoolFilesystemFullTest {
    private static final long FS_BYTES = 4L << 20;
    private static final int ENTRY = 200_000;

    @TempDir
    Path dir;

    @Test
    void fullFilesystemRefusesAppendsKeepsOrderAndResumesWhenSpaceReturns() throws Exception {
        String why = SmallFilesystem.unavailableReason();
        Assumptions.assumeTrue(why.isEmpty(), why);
        try (SmallFilesystem fs = SmallFilesystem.mount(dir.resolve("spool"), FS_BYTES)) {
            // the size bound is far above the filesystem: only ENOSPC can stop appends
            SpoolOptions o = new SpoolOptions(fs.dir(), 1L << 20, 1L << 30, 1 << 20);
            List<Long> durable = new ArrayList<>();
            long refusedAt;
            try (Spool spool = Spool.open(o)) {
                long seq = 1;
                SpoolFullException full = null;
                while (full == null && seq < 1000) {
                    try {
                        spool.append("d0", seq, seq, ByteBuffer.wrap(SpoolTest.payload("d0", seq, ENTRY)));
                        durable.add(seq++);
                    } catch (SpoolFullException e) {
                        full = e;
                    }
                }
                assertTrue(full != null, "4 MiB of tmpfs never filled");
                assertTrue(full.getMessage().contains("filesystem is full"), full.getMessage());
                refusedAt = seq; // its entry stays queued (stalled), durable once space returns
                long next = refusedAt + 1;
                SpoolFullException again = assertThrows(SpoolFullException.class, () ->
                        spool.append("d0", next, next, ByteBuffer.wrap(SpoolTest.payload("d0", next, ENTRY))));
                assertTrue(again.getMessage().contains("filesystem is full"), again.getMessage());
                // every entry acknowledged as durable is there, in order, and only those
                assertEquals(durable, sequences(spool));

                // downstream acknowledges the first half: whole segments are deleted, space returns
                long released = durable.get(durable.size() / 2);
                spool.release("d0", released);
                for (long s = refusedAt + 1; s <= refusedAt + 3; s++) {
                    spool.append("d0", s, s, ByteBuffer.wrap(SpoolTest.payload("d0", s, ENTRY)));
                }
                List<Long> expected = new ArrayList<>();
                for (long s = released + 1; s <= refusedAt + 3; s++) {
                    expected.add(s); // the stalled entry first, then the new ones: nothing lost, nothing reordered
                }
                assertEquals(expected, sequences(spool));
            }
            // nothing torn or damaged on disk: a reopened spool recovers every entry with its content
            try (Spool reopened = Spool.open(o); Spool.Reader r = reopened.reader(0)) {
                int n = 0;
                for (SpoolEntry e; (e = r.next()) != null; n++) {
                    byte[] got = new byte[e.payload().remaining()];
                    e.payload().duplicate().get(got);
                    assertArrayEquals(SpoolTest.payload(e.diskId(), e.sequence(), ENTRY), got, "entry " + e.sequence());
                }
                assertTrue(n > 0);
            }
        }
    }

    private static List<Long> sequences(Spool spool) throws Exception {
        List<Long> out = new ArrayList<>();
        try (Spool.Reader r = spool.readerFromOldestUnreleased()) {
            for (SpoolEntry e; (e = r.next()) != null;) {
                out.add(e.sequence());
            }
        }
        return out;
    }
}
