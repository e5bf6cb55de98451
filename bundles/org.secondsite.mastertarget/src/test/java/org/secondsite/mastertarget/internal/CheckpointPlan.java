package org.secondsite.mastertarget.internal;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.UUID;

import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;

/**
 * A deterministic stream of batches for the two disks of one consistency group: batch k of a
 * disk depends only on (seed, disk, k). Batch 1 carries only a tag; every third batch carries a
 * bookmark tag with the same id on both disks. WRITE, ZERO and TRIM records overlap at random.
 */
final class CheckpointPlan {
    static final GroupId GROUP = GroupId.of("app");
    static final List<DiskId> DISKS = List.of(DiskId.of("app:disk0"), DiskId.of("app:disk1"));
    static final int DISK_BYTES = 4 << 20;
    static final int TAG_EVERY = 3;
    static final Instant BASE = Instant.parse("2026-01-01T00:00:00Z");

    final long seed;
    private final byte[] pool;

    CheckpointPlan(long seed) {
        this.seed = seed;
        this.pool = new byte[1 << 20];
        new Random(seed).nextBytes(pool);
    }

    static boolean tagged(long seq) {
        return seq == 1 || seq % TAG_EVERY == 0;
    }

    DeltaBatch batch(int disk, long seq) {
        Random r = new Random(seed ^ (disk * 0x9E3779B97F4A7C15L) ^ (seq * 0xC2B2AE3D27D4EB4FL));
        List<ChangeRecord> records = new ArrayList<>();
        if (seq > 1) {
            int n = 1 + r.nextInt(6);
            for (int i = 0; i < n; i++) {
                int len = 1 + r.nextInt(128 << 10);
                int off = r.nextInt(DISK_BYTES - len);
                int kind = r.nextInt(10);
                if (kind < 8) {
                    records.add(ChangeRecord.write(off, ByteBuffer.wrap(pool, r.nextInt(pool.length - len), len)));
                } else if (kind < 9) {
                    records.add(ChangeRecord.zero(off, len));
                } else {
                    records.add(ChangeRecord.trim(off, len));
                }
            }
        }
        Instant t = BASE.plusMillis(seq);
        List<ConsistencyTag> tags = tagged(seq)
                ? List.of(new ConsistencyTag(new UUID(seed, seq), "cp-" + seq, TagKind.BOOKMARK, t))
                : List.of();
        return new DeltaBatch(DISKS.get(disk), GROUP, seq, t, t, records, tags);
    }

    static void apply(byte[] model, DeltaBatch b) {
        for (ChangeRecord r : b.records()) {
            switch (r.kind()) {
                case WRITE -> r.data().get(model, (int) r.offset(), r.length());
                case ZERO, TRIM -> Arrays.fill(model, (int) r.offset(), (int) r.end(), (byte) 0);
                default -> throw new IllegalStateException(r.toString());
            }
        }
    }

    /** The disk's content after each of the given sequences (0 = empty), as SHA-256 hex. */
    Map<Long, String> hashesAfter(int disk, SortedSet<Long> seqs) throws Exception {
        Map<Long, String> out = new TreeMap<>();
        byte[] model = new byte[DISK_BYTES];
        long s = 0;
        for (long want : seqs) {
            while (s < want) {
                apply(model, batch(disk, ++s));
            }
            out.put(want, sha256(model));
        }
        return out;
    }

    /** The disk's content after a sequence. */
    byte[] contentAfter(int disk, long seq) {
        byte[] model = new byte[DISK_BYTES];
        for (long s = 1; s <= seq; s++) {
            apply(model, batch(disk, s));
        }
        return model;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
