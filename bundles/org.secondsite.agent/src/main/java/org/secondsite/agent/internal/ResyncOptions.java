package org.secondsite.agent.internal;

import java.time.Duration;
import java.util.Objects;

import org.secondsite.wire.WireProtocol;

/**
 * Settings of the agent's resync ({@link ResyncEngine}).
 *
 * @param chunkBytes first comparison level: one hash per chunk of this many bytes (a power of two)
 * @param blockBytes second level, inside differing chunks: one hash per block; the unit of data sent
 * @param segmentBytes bytes of the disk read from the source at once and covered by one first-level
 *        query (a multiple of {@code chunkBytes})
 * @param segmentsInFlight segments being compared at the same time (queries pipelined)
 * @param threads threads that read and hash the source
 * @param queryTimeout a query unanswered this long is asked again
 * @param retryMin first delay before asking again after a RETRY answer
 * @param retryMax cap of that delay (doubled at each RETRY in a row)
 * @param initialReplication whether a disk this agent never protected is compared in full when
 *        first protected (default); off only where the replica is known to equal the source
 *        already (tests that start from two empty disks)
 * @param compareOnly compare and report, never send: the online verification ({@code dr:verify}). A
 *        job in this mode appends nothing to the stream and tags nothing; a range that differs is
 *        reported as mismatched only if no workload write touched it since the comparison began,
 *        and is otherwise compared again later (docs/PROTOCOL.md §5.4). The engine starts a
 *        verification's job with {@link #verification()} of its options and a resync's or a
 *        repair's with {@link #sending()}, whatever this flag says in the options it was given.
 */
public record ResyncOptions(int chunkBytes, int blockBytes, int segmentBytes, int segmentsInFlight, int threads,
                            Duration queryTimeout, Duration retryMin, Duration retryMax, boolean initialReplication,
                            boolean compareOnly) {

    public ResyncOptions {
        checkPowerOfTwo("chunkBytes", chunkBytes);
        checkPowerOfTwo("blockBytes", blockBytes);
        if (blockBytes > chunkBytes) {
            throw new IllegalArgumentException("blockBytes (" + blockBytes + ") must not exceed chunkBytes ("
                    + chunkBytes + ")");
        }
        if (segmentBytes < chunkBytes || segmentBytes % chunkBytes != 0 || segmentBytes > 256 << 20) {
            throw new IllegalArgumentException("segmentBytes (" + segmentBytes + ") must be a multiple of chunkBytes ("
                    + chunkBytes + "), at most 256 MiB");
        }
        if (segmentBytes / blockBytes > WireProtocol.MAX_HASH_BLOCKS) {
            throw new IllegalArgumentException("a segment of " + segmentBytes + " bytes holds more than "
                    + WireProtocol.MAX_HASH_BLOCKS + " blocks of " + blockBytes + " bytes (the most one query may ask)");
        }
        if (segmentsInFlight < 1 || segmentsInFlight > 64) {
            throw new IllegalArgumentException("segmentsInFlight must be 1..64: " + segmentsInFlight);
        }
        if (threads < 1 || threads > 64) {
            throw new IllegalArgumentException("threads must be 1..64: " + threads);
        }
        for (Duration d : new Duration[] {queryTimeout, retryMin, retryMax}) {
            Objects.requireNonNull(d, "duration");
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("durations must be positive: " + d);
            }
        }
        if (retryMax.compareTo(retryMin) < 0) {
            throw new IllegalArgumentException("retryMax " + retryMax + " is below retryMin " + retryMin);
        }
    }

    private static void checkPowerOfTwo(String name, int v) {
        if (v < WireProtocol.MIN_HASH_BLOCK || v > WireProtocol.MAX_HASH_BLOCK || Integer.bitCount(v) != 1) {
            throw new IllegalArgumentException(name + " must be a power of two " + WireProtocol.MIN_HASH_BLOCK + ".."
                    + WireProtocol.MAX_HASH_BLOCK + ": " + v);
        }
    }

    /**
     * 32 KiB chunks, 4 KiB blocks, 8 MiB segments, 4 in flight, 2 threads. With 1 % of the blocks
     * changed at random, 8 % of the 32 KiB chunks differ and are hashed a second time block by
     * block (15 % with 64 KiB chunks), for 1 MiB of first-level hashes per 2 GiB.
     */
    public static ResyncOptions defaults() {
        return new ResyncOptions(32 << 10, 4 << 10, 8 << 20, 4, 2, Duration.ofMinutes(3), Duration.ofMillis(200),
                Duration.ofSeconds(5), true, false);
    }

    public ResyncOptions withLevels(int chunk, int block, int segment) {
        return new ResyncOptions(chunk, block, segment, segmentsInFlight, threads, queryTimeout, retryMin, retryMax,
                initialReplication, compareOnly);
    }

    public ResyncOptions withPipeline(int inFlight, int threadCount) {
        return new ResyncOptions(chunkBytes, blockBytes, segmentBytes, inFlight, threadCount, queryTimeout, retryMin,
                retryMax, initialReplication, compareOnly);
    }

    public ResyncOptions withRetry(Duration timeout, Duration min, Duration max) {
        return new ResyncOptions(chunkBytes, blockBytes, segmentBytes, segmentsInFlight, threads, timeout, min, max,
                initialReplication, compareOnly);
    }

    /** Options under which a newly protected disk owes no initial replication (see {@link #initialReplication}). */
    public ResyncOptions withoutInitialReplication() {
        return new ResyncOptions(chunkBytes, blockBytes, segmentBytes, segmentsInFlight, threads, queryTimeout, retryMin,
                retryMax, false, compareOnly);
    }

    /** These options in compare-only mode (see {@link #compareOnly}): what a verification runs with. */
    public ResyncOptions verification() {
        return new ResyncOptions(chunkBytes, blockBytes, segmentBytes, segmentsInFlight, threads, queryTimeout, retryMin,
                retryMax, initialReplication, true);
    }

    /** These options sending differing blocks (see {@link #compareOnly}): what a resync or a repair runs with. */
    public ResyncOptions sending() {
        return new ResyncOptions(chunkBytes, blockBytes, segmentBytes, segmentsInFlight, threads, queryTimeout, retryMin,
                retryMax, initialReplication, false);
    }
}
