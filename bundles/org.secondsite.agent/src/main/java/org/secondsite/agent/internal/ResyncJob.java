package org.secondsite.agent.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.TagKind;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.replication.ResyncProgress.Phase;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.wire.BlockHashes;
import org.secondsite.wire.HashStatus;
import org.secondsite.wire.Message;
import org.secondsite.wire.WireProtocol;

/**
 * One disk's resync: compares the whole source with the replica in two levels and puts the
 * differing blocks into the disk's stream (docs/PROTOCOL.md §5 gives the correctness argument).
 *
 * <p>The disk is taken in segments of {@code segmentBytes}, several in flight. For a segment the
 * job names the sequence that holds every workload write accepted so far (sealing the open batch
 * if a workload write came since the last query), opens a {@link Agent.SourceRead} guard, sends a
 * first-level HASH_QUERY (one hash per {@code chunkBytes} chunk) and meanwhile reads and hashes
 * the segment of the source on the engine's threads, as the master target does with the replica.
 * For chunks whose hashes differ it asks second-level hashes (one per {@code blockBytes} block)
 * of exactly those chunks, reads them from the source again, and appends the blocks whose hashes
 * differ through the guard, in runs of adjacent blocks. A run the guard refuses (a workload write
 * to the same range was accepted since the guard opened) is compared again later, as a segment of
 * its own, after a back-off: not read again at once, since the write that refused it may still be
 * on its way to the source. When every segment is compared, the open batch is sealed with the bookmark
 * {@code resync complete}; once the process server holds that batch durably the resync is DONE
 * and the replica is consistent from that batch on.
 *
 * <p>A RETRY answer, a query unanswered for {@code queryTimeout} or a lost connection starts the
 * segment over (after a back-off for RETRY); a FAILED answer or a source read error ends the
 * resync FAILED (it is still owed: it runs again at the next start or request). One coordinator
 * thread per job owns the segments' state; reads, hashing and appends run on the engine's pool
 * and report back as events.
 *
 * <p><b>Compare-only mode</b> ({@link ResyncOptions#compareOnly}, the online verification,
 * docs/PROTOCOL.md §5.4): the same two levels, but nothing enters the stream. For each segment the
 * guard opens <i>before</i> the sequence is named, and that sequence holds every change accepted so
 * far ({@link Agent.DiskStream#sealAll}; while changes wait in the change cache or as dirty regions
 * the segment waits). A run of differing blocks that no workload write touched since the guard
 * opened is a mismatch; one that was written is compared again later, like a refused append, at
 * most {@link #VERIFY_RECHECKS} times, then reported as skipped. A job may cover only some ranges of
 * the disk (the repair of the mismatched regions a verification found) and may run a compare-only
 * pass followed by a sending pass over the mismatches ({@link VerifyReport.Mode#VERIFY_AND_REPAIR}).
 */
final class ResyncJob {
    private static final System.Logger LOG = System.getLogger(ResyncJob.class.getName());
    static final int L1 = 1;
    static final int L2 = 2;
    static final String TAG_NAME = "resync complete";
    /** The bookmark that ends the repair of mismatched regions. */
    static final String REPAIR_TAG_NAME = "verify repair complete";
    /** Times a verification compares a range again after workload writes touched it, before it skips it. */
    static final int VERIFY_RECHECKS = 8;

    private enum State { QUEUED, L1, L2, WORKING, DONE }

    /** A range of the disk being compared. Fields are the coordinator's, but for the guard used by pool tasks. */
    static final class Segment {
        final long offset;
        final int length;
        /**
         * 0 for a segment of the pass; n for a range compared again the n-th time after a workload
         * write refused its append (not counted in the progress twice).
         */
        final int redo;
        State state = State.QUEUED;
        int generation;
        long requestId;
        long sentAt;
        long notBefore;
        long sequence;
        volatile Agent.SourceRead guard;
        byte[] local;
        Message.Hashes remote;
        List<Message.HashQuery.Range> diff;
        /** Ranges whose appends were refused (filled by a pool task, read after it reported). */
        final List<long[]> again = new ArrayList<>();

        Segment(long offset, int length, int redo) {
            this.offset = offset;
            this.length = length;
            this.redo = redo;
        }
    }

    /** Per pool thread: read buffer and hashes. */
    private static final class Worker {
        final ByteBuffer buffer;
        final byte[] hashes;
        final BlockHashes hasher = new BlockHashes();

        Worker(ResyncOptions o) {
            buffer = ByteBuffer.allocateDirect(o.segmentBytes());
            hashes = new byte[o.segmentBytes() / o.blockBytes() * WireProtocol.HASH_BYTES];
        }
    }

    private final ResyncEngine engine;
    private final ResyncEngine.Host host;
    private final ResyncOptions options;
    /** Null for a resync; else what this verification does. */
    private final VerifyReport.Mode verifyMode;
    private final Agent.DiskStream stream;
    private final DiskId disk;
    private final long size;
    private final int maxAppend;
    private final ThreadLocal<Worker> workers;
    private final LinkedBlockingQueue<Runnable> events = new LinkedBlockingQueue<>();
    private final Thread thread;

    // ---- the coordinator thread's ----
    /** Chunk-aligned, ascending, disjoint {from, to} ranges the current pass covers. */
    private List<long[]> ranges;
    private int rangeIndex;
    private long cursor;
    private final ArrayDeque<Segment> again = new ArrayDeque<>();
    private final List<Segment> active = new ArrayList<>();
    private final long[] mark = {0, -1};
    private long retryNanos;
    private long tagSequence = -1;
    private String failure;

    // ---- shared ----
    private volatile BlockDevice source;
    private volatile boolean cancelled;
    private volatile String cancelReason = "";
    /** Whether the current pass only compares (verification) or sends differing blocks. */
    private volatile boolean compareOnly;
    private volatile long total;
    private final Instant jobStarted;
    // ---- a verification's findings, guarded by themselves ----
    private final VerifyReport.Regions mismatched = new VerifyReport.Regions();
    private final VerifyReport.Regions skipped = new VerifyReport.Regions();
    private final List<VerifyReport.Region> toRepair;
    private long verifiedBytes = -1;
    private volatile Phase phase = Phase.COMPARING;
    private volatile String reason;
    private volatile String message = "";
    private volatile Instant started;
    private final AtomicLong doneBytes = new AtomicLong();
    private final AtomicLong sentBytes = new AtomicLong();
    // ---- guarded by this ----
    private String rerun;
    private boolean ended;

    /** A resync of the whole disk, sending the differing blocks. */
    ResyncJob(ResyncEngine engine, Agent.DiskStream stream, String reason, BlockDevice source) {
        this(engine, stream, reason, source, null, List.of());
    }

    /**
     * A verification ({@code mode} {@link VerifyReport.Mode#VERIFY} or
     * {@link VerifyReport.Mode#VERIFY_AND_REPAIR}: the whole disk, compare only first) or the repair
     * of {@code regions} ({@link VerifyReport.Mode#REPAIR}: those regions, compared again, the
     * differing blocks sent); {@code mode} null: a resync of the whole disk.
     */
    ResyncJob(ResyncEngine engine, Agent.DiskStream stream, String reason, BlockDevice source, VerifyReport.Mode mode,
              List<VerifyReport.Region> regions) {
        this.engine = engine;
        this.host = engine.host();
        boolean verifying = mode == VerifyReport.Mode.VERIFY || mode == VerifyReport.Mode.VERIFY_AND_REPAIR;
        this.options = verifying ? engine.options().verification() : engine.options().sending();
        this.verifyMode = mode;
        this.toRepair = List.copyOf(regions);
        this.compareOnly = options.compareOnly(); // a VERIFY_AND_REPAIR job turns it off for its repair pass
        this.stream = stream;
        this.disk = stream.disk;
        this.size = stream.size;
        this.reason = reason;
        this.source = source;
        this.started = engine.clock().instant();
        this.jobStarted = started;
        this.ranges = mode == VerifyReport.Mode.REPAIR ? aligned(toRepair) : List.of(new long[] {0, size});
        this.total = covered(ranges);
        int max = Math.min(1 << 20, host.maxAppendBytes());
        this.maxAppend = Math.max(options.blockBytes(), max - max % options.blockBytes());
        this.workers = ThreadLocal.withInitial(() -> new Worker(options));
        this.thread = new Thread(this::run, "secondsite-agent-resync " + disk);
        thread.setDaemon(true);
    }

    DiskId disk() {
        return disk;
    }

    void start() {
        LOG.log(Level.INFO, "disk " + disk + ": " + (verifyMode == null ? "resync" : compareOnly ? "verification"
                : "repair") + " starts (" + reason + ")");
        thread.start();
    }

    /** Asks for another pass after this one; false if this job has ended or is a verification (start a new one). */
    synchronized boolean rerun(String why) {
        if (ended || verifyMode != null) {
            return false;
        }
        rerun = why;
        wake();
        return true;
    }

    void source(BlockDevice device) {
        source = device;
        wake();
    }

    /** Null for a resync; else what this verification does. */
    VerifyReport.Mode verifyMode() {
        return verifyMode;
    }

    void cancel() {
        cancel("the disk is no longer protected or the agent stops");
    }

    void cancel(String why) {
        cancelReason = why;
        cancelled = true;
        wake();
    }

    void wake() {
        events.add(() -> { });
    }

    /** An answer from the engine (reader thread). */
    void answer(ResyncEngine.Pending p, Message.Hashes h) {
        events.add(() -> onAnswer(p, h));
    }

    /** The query's connection was lost (sender thread). */
    void lost(ResyncEngine.Pending p) {
        events.add(() -> {
            Segment s = p.segment();
            if (s.requestId == p.id() && (s.state == State.L1 || s.state == State.L2)) {
                restart(s, 0, null);
            }
        });
    }

    ResyncProgress progress() {
        long t = total;
        String m = message;
        if (compareOnly && phase == Phase.COMPARING && m.isEmpty()) {
            List<VerifyReport.Region> found = mismatchedList();
            m = "compare only (" + reason + "): " + found.size() + " mismatched region(s), "
                    + VerifyReport.Regions.bytes(found) + " bytes, so far";
        }
        return new ResyncProgress(phase, reason, t, Math.min(t, doneBytes.get()), sentBytes.get(), started,
                engine.clock().instant(), m);
    }

    private List<VerifyReport.Region> mismatchedList() {
        synchronized (mismatched) {
            return mismatched.list();
        }
    }

    private List<VerifyReport.Region> skippedList() {
        synchronized (skipped) {
            return skipped.list();
        }
    }

    /** A verification's report once it ended; null for a resync. Coordinator thread. */
    private VerifyReport report(boolean done) {
        if (verifyMode == null) {
            return null;
        }
        VerifyReport.Outcome outcome = done && phase == Phase.DONE ? VerifyReport.Outcome.COMPLETED
                : cancelled ? VerifyReport.Outcome.CANCELLED : VerifyReport.Outcome.FAILED;
        String why = switch (outcome) {
            case COMPLETED -> "";
            case CANCELLED -> cancelReason;
            case FAILED -> message.isEmpty() ? "stopped" : message;
        };
        List<VerifyReport.Region> found = verifyMode == VerifyReport.Mode.REPAIR ? toRepair : mismatchedList();
        long compared = verifiedBytes >= 0 ? verifiedBytes : doneBytes.get();
        long repaired = verifyMode == VerifyReport.Mode.VERIFY ? 0 : sentBytes.get();
        Instant now = engine.clock().instant();
        return new VerifyReport(disk, verifyMode, outcome, why, compared, found, skippedList(), repaired, jobStarted,
                Duration.between(jobStarted, now));
    }

    /** {@code regions} widened to whole chunks (the first level compares chunks) and merged. */
    private List<long[]> aligned(List<VerifyReport.Region> regions) {
        long c = options.chunkBytes();
        VerifyReport.Regions merged = new VerifyReport.Regions();
        for (VerifyReport.Region r : regions) {
            long from = Math.min(size, r.offset() - r.offset() % c);
            long to = Math.min(size, (r.end() + c - 1) / c * c);
            merged.add(from, to - from);
        }
        List<long[]> out = new ArrayList<>();
        for (VerifyReport.Region r : merged.list()) {
            out.add(new long[] {r.offset(), r.end()});
        }
        return out;
    }

    private static long covered(List<long[]> ranges) {
        long n = 0;
        for (long[] r : ranges) {
            n += r[1] - r[0];
        }
        return n;
    }

    // ------------------------------------------------------------------ coordinator

    private void run() {
        boolean done = false;
        try {
            while (true) {
                done = pass();
                if (!done) {
                    break;
                }
                if (verifyMode == VerifyReport.Mode.VERIFY_AND_REPAIR && compareOnly) {
                    verifiedBytes = doneBytes.get();
                    List<VerifyReport.Region> found = mismatchedList();
                    if (found.isEmpty()) {
                        break;
                    }
                    LOG.log(Level.INFO, "disk " + disk + ": verification found " + found.size()
                            + " mismatched region(s); repairing them");
                    compareOnly = false;
                    ranges = aligned(found);
                    total = covered(ranges);
                    reason = "repair of the mismatched regions (" + reason + ")";
                    continue;
                }
                if (verifyMode != null) {
                    break;
                }
                synchronized (this) {
                    if (rerun == null) {
                        ended = true;
                        break;
                    }
                    reason = rerun;
                    rerun = null;
                }
                LOG.log(Level.INFO, "disk " + disk + ": resync done; another pass was requested (" + reason + ")");
            }
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "disk " + disk + ": resync stopped by an unexpected error", e);
            phase = Phase.FAILED;
            message = "unexpected error: " + e;
        } finally {
            synchronized (this) {
                ended = true;
            }
            quiesce();
            if (cancelled && verifyMode != null && phase == Phase.COMPARING) {
                phase = Phase.FAILED;
                message = "cancelled: " + cancelReason;
            }
            if (verifyMode != null) {
                LOG.log(Level.DEBUG, "disk " + disk + ": " + reason + " ended: " + phase + " " + message); // the engine logs the report
            } else if (phase == Phase.FAILED) {
                LOG.log(Level.WARNING, "disk " + disk + ": resync failed: " + message);
            } else if (phase == Phase.DONE) {
                LOG.log(Level.INFO, "disk " + disk + ": resync done (" + reason + "), " + sentBytes.get()
                        + " bytes sent; " + message);
            }
            engine.ended(this, progress(), done && phase == Phase.DONE, report(done));
        }
    }

    /** One comparison of the whole disk; true when it completed (DONE), false when cancelled or failed. */
    private boolean pass() {
        started = engine.clock().instant();
        doneBytes.set(0);
        sentBytes.set(0);
        phase = Phase.COMPARING;
        message = "";
        rangeIndex = 0;
        cursor = 0;
        again.clear();
        active.clear();
        mark[1] = -1;
        tagSequence = -1;
        failure = null;
        try {
            while (true) {
                if (cancelled) {
                    return false;
                }
                if (failure != null) {
                    phase = Phase.FAILED;
                    message = failure;
                    return false;
                }
                long now = System.nanoTime();
                BlockDevice src = source;
                boolean link = engine.linkUp();
                if (src == null) {
                    message = "waiting for the disk's source (its capture session is not running)";
                } else if (!link) {
                    message = "waiting for the connection to the process server";
                } else if (message.startsWith("waiting for")) {
                    message = "";
                }
                while (src != null && link && active.size() < options.segmentsInFlight()) {
                    Segment next = nextSegment(now);
                    if (next == null || !begin(next, src)) {
                        break;
                    }
                }
                if (rangeIndex >= ranges.size() && again.isEmpty() && active.isEmpty()) {
                    if (compareOnly) {
                        List<VerifyReport.Region> found = mismatchedList();
                        List<VerifyReport.Region> skip = skippedList();
                        phase = Phase.DONE;
                        message = "verified: " + found.size() + " mismatched region(s), "
                                + VerifyReport.Regions.bytes(found) + " bytes" + (skip.isEmpty() ? ""
                                : "; " + skip.size() + " region(s) skipped, written during the whole pass");
                        return true;
                    }
                    String tagName = verifyMode == null ? TAG_NAME : REPAIR_TAG_NAME;
                    if (tagSequence < 0) {
                        tagSequence = host.sealWithTag(stream, new ConsistencyTag(UUID.randomUUID(), tagName,
                                TagKind.BOOKMARK, engine.clock().instant()));
                    }
                    if (host.acknowledged(stream) >= tagSequence) {
                        phase = Phase.DONE;
                        message = "consistent from sequence " + tagSequence + " (bookmark '" + tagName + "')";
                        return true;
                    }
                    message = "compared; waiting until the process server holds sequence " + tagSequence;
                }
                long timeout = options.queryTimeout().toNanos();
                for (Segment s : new ArrayList<>(active)) {
                    if ((s.state == State.L1 || s.state == State.L2) && now - s.sentAt > timeout) {
                        engine.count(disk, 4, 1);
                        restart(s, 0, "no answer to a hash query within " + options.queryTimeout().toSeconds()
                                + " s; asking again");
                    }
                }
                long wait = TimeUnit.MILLISECONDS.toNanos(100);
                for (Segment s : again) {
                    wait = Math.max(TimeUnit.MILLISECONDS.toNanos(1), Math.min(wait, s.notBefore - now));
                }
                Runnable ev = events.poll(wait, TimeUnit.NANOSECONDS);
                for (; ev != null; ev = events.poll()) {
                    ev.run();
                }
            }
        } catch (IOException e) {
            phase = Phase.FAILED;
            message = "the agent cannot seal the disk's batches: " + e.getMessage();
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private Segment nextSegment(long now) {
        for (java.util.Iterator<Segment> it = again.iterator(); it.hasNext(); ) {
            Segment s = it.next();
            if (now - s.notBefore >= 0) {
                it.remove();
                return s;
            }
        }
        while (rangeIndex < ranges.size()) {
            long[] r = ranges.get(rangeIndex);
            cursor = Math.max(cursor, r[0]);
            if (cursor >= r[1]) {
                rangeIndex++;
                continue;
            }
            Segment s = new Segment(cursor, (int) Math.min(options.segmentBytes(), r[1] - cursor), 0);
            cursor += s.length;
            return s;
        }
        return null;
    }

    /**
     * Step 1: name the sequence, open the guard, ask the first level, hash the source meanwhile.
     * Returns false when no segment can begin now (compare-only: the disk's changes are not all
     * numbered yet; {@code s} waits).
     */
    private boolean begin(Segment s, BlockDevice src) throws IOException {
        s.generation++;
        if (compareOnly) {
            // the guard first: every write accepted before it is then in a batch up to the sequence named
            s.guard = stream.openSourceRead();
            s.sequence = stream.sealAll();
            if (s.sequence < 0) {
                String why = s.sequence == -1 ? "changes wait in the disk's change cache"
                        : "dirty regions of the disk wait to be replayed";
                restart(s, options.retryMin().toNanos(), "waiting: " + why + " (a verification compares only a "
                        + "replica that holds every accepted change)");
                return false;
            }
            if (message.startsWith("waiting: ")) {
                message = "";
            }
        } else {
            s.sequence = host.sequenceForQuery(stream, mark);
            s.guard = stream.openSourceRead();
        }
        s.local = null;
        s.remote = null;
        s.diff = null;
        s.state = State.L1;
        active.add(s);
        int generation = s.generation;
        engine.pool.execute(() -> hashLocal(s, generation, src));
        Message.HashQuery q = new Message.HashQuery(0, disk, options.chunkBytes(), s.sequence,
                List.of(new Message.HashQuery.Range(s.offset, s.length)));
        s.sentAt = System.nanoTime();
        if (!engine.send(this, s, L1, q)) {
            restart(s, options.retryMin().toNanos(), null);
        }
        return true;
    }

    private void hashLocal(Segment s, int generation, BlockDevice src) {
        if (cancelled) {
            return;
        }
        try {
            Worker w = workers.get();
            byte[] out = new byte[BlockHashes.blocks(s.length, options.chunkBytes()) * WireProtocol.HASH_BYTES];
            w.hasher.hash(src, s.offset, s.length, options.chunkBytes(), w.buffer, out, 0);
            events.add(() -> localReady(s, generation, out));
        } catch (IOException | RuntimeException e) {
            events.add(() -> sourceFailed(s, generation, src, e));
        }
    }

    private void localReady(Segment s, int generation, byte[] hashes) {
        if (s.generation != generation || s.state != State.L1) {
            return;
        }
        s.local = hashes;
        if (s.remote != null) {
            compareChunks(s);
        }
    }

    private void onAnswer(ResyncEngine.Pending p, Message.Hashes h) {
        Segment s = p.segment();
        if (s.requestId != p.id() || (s.state != State.L1 && s.state != State.L2)) {
            return; // the segment started over since
        }
        int blockSize = p.level() == L1 ? options.chunkBytes() : options.blockBytes();
        if (!h.disk().equals(disk) || h.blockSize() != blockSize) {
            failure = "the answer to hash query " + p.id() + " is for disk " + h.disk() + " in blocks of "
                    + h.blockSize() + ", the query asked disk " + disk + " in blocks of " + blockSize;
            return;
        }
        if (h.status() == HashStatus.RETRY) {
            engine.count(disk, 4, 1);
            retryNanos = Math.min(options.retryMax().toNanos(),
                    Math.max(options.retryMin().toNanos(), retryNanos * 2));
            mark[1] = -1; // name a fresh sequence next time
            restart(s, retryNanos, "retrying in " + Duration.ofNanos(retryNanos).toMillis() + " ms: " + h.text());
            return;
        }
        if (h.status() == HashStatus.FAILED) {
            failure = "the master target cannot answer: " + h.text();
            return;
        }
        retryNanos = 0;
        if (message.startsWith("retrying") || message.startsWith("no answer")) {
            message = "";
        }
        int expected = 0;
        if (p.level() == L1) {
            expected = BlockHashes.blocks(s.length, blockSize);
        } else {
            for (Message.HashQuery.Range r : s.diff) {
                expected += BlockHashes.blocks(r.length(), blockSize);
            }
        }
        if (h.count() != expected) {
            failure = "the answer to hash query " + p.id() + " carries " + h.count() + " hashes, the query asked "
                    + expected;
            return;
        }
        if (p.level() == L1) {
            s.remote = h;
            if (s.local != null) {
                compareChunks(s);
            }
            return;
        }
        BlockDevice src = source;
        if (src == null) {
            restart(s, 0, null);
            return;
        }
        s.state = State.WORKING;
        int generation = s.generation;
        // a differing run is judged (verification) or appended to the stream (resync)
        BlockRun onRun = compareOnly ? (offset, buf, from, len) -> judge(s, offset, offset + len)
                : (offset, buf, from, len) -> append(s, src, offset, buf, from, len);
        engine.pool.execute(() -> scanBlocks(s, generation, h, src, onRun));
    }

    /** Step 2: chunks whose hashes differ are asked again, block by block. */
    private void compareChunks(Segment s) {
        ByteBuffer local = ByteBuffer.wrap(s.local);
        ByteBuffer remote = s.remote.hashes();
        int n = s.remote.count();
        List<Message.HashQuery.Range> diff = new ArrayList<>();
        long runStart = -1;
        long runEnd = -1;
        for (int i = 0; i < n; i++) {
            if (BlockHashes.same(local, i, remote, i)) {
                continue;
            }
            long from = s.offset + (long) i * options.chunkBytes();
            long to = Math.min(s.offset + s.length, from + options.chunkBytes());
            if (runStart >= 0 && runEnd == from) {
                runEnd = to;
            } else {
                if (runStart >= 0) {
                    diff.add(new Message.HashQuery.Range(runStart, (int) (runEnd - runStart)));
                }
                runStart = from;
                runEnd = to;
            }
        }
        if (runStart >= 0) {
            diff.add(new Message.HashQuery.Range(runStart, (int) (runEnd - runStart)));
        }
        s.local = null;
        s.remote = null;
        if (diff.isEmpty()) {
            finish(s);
            return;
        }
        s.diff = diff;
        s.state = State.L2;
        s.sentAt = System.nanoTime();
        if (!engine.send(this, s, L2, new Message.HashQuery(0, disk, options.blockBytes(), s.sequence, diff))) {
            restart(s, options.retryMin().toNanos(), null);
        }
    }

    /** What step 3 does with a run of differing blocks. */
    @FunctionalInterface
    private interface BlockRun {
        /**
         * @param offset where the run starts on the disk
         * @param buf the source data read for the chunk range holding the run
         * @param from index of the run's first byte in {@code buf}
         * @param len the run's length in bytes
         */
        void run(long offset, ByteBuffer buf, int from, int len) throws IOException;
    }

    /**
     * Step 3 (pool): read the differing chunks again, hash their blocks, and hand each run of
     * adjacent differing blocks to {@code onRun}: appended to the stream (resync), or judged a
     * mismatch unless a workload write touched it since the guard opened (compare-only mode).
     */
    private void scanBlocks(Segment s, int generation, Message.Hashes h, BlockDevice src, BlockRun onRun) {
        Throwable error = null;
        try {
            if (!cancelled) {
                Worker w = workers.get();
                ByteBuffer remote = h.hashes();
                ByteBuffer local = ByteBuffer.wrap(w.hashes);
                int bs = options.blockBytes();
                int index = 0;
                for (Message.HashQuery.Range r : s.diff) {
                    w.buffer.clear().limit(r.length());
                    src.read(r.offset(), w.buffer);
                    w.buffer.flip();
                    int n = w.hasher.hash(w.buffer, bs, w.hashes, 0);
                    int run = -1;
                    for (int b = 0; b <= n; b++) {
                        boolean differs = b < n && !BlockHashes.same(local, b, remote, index + b);
                        if (differs && run < 0) {
                            run = b;
                        } else if (!differs && run >= 0) {
                            int from = run * bs;
                            int to = Math.min(b * bs, r.length());
                            onRun.run(r.offset() + from, w.buffer, from, to - from);
                            run = -1;
                        }
                    }
                    index += n;
                }
            }
        } catch (IOException | RuntimeException e) {
            error = e;
        }
        Throwable failed = error;
        events.add(() -> blocksSent(s, generation, src, failed));
    }

    /** A run of blocks differs: a mismatch, unless a workload write touched it since the guard opened. */
    private void judge(Segment s, long from, long to) {
        if (stream.writtenSince(s.guard, from, to)) {
            engine.count(disk, 3, 1);
            synchronized (s.again) {
                s.again.add(new long[] {from, to - from});
            }
        } else {
            synchronized (mismatched) {
                mismatched.add(from, to - from);
            }
        }
    }

    /** Appends {@code len} bytes of {@code buf} from index {@code from}, read at {@code offset}, in pieces the stream takes. */
    private void append(Segment s, BlockDevice src, long offset, ByteBuffer buf, int from, int len) throws IOException {
        for (int done = 0; done < len; ) {
            int n = Math.min(maxAppend, len - done);
            byte[] copy = new byte[n]; // the stream keeps the data until the process server acknowledges it
            buf.get(from + done, copy);
            if (stream.appendSourceRead(s.guard, offset + done, ByteBuffer.wrap(copy))) {
                sent(n);
            } else {
                // a workload write to the range was accepted since the guard opened: compare it again later
                engine.count(disk, 3, 1);
                synchronized (s.again) {
                    s.again.add(new long[] {offset + done, n});
                }
            }
            done += n;
        }
    }

    private void sent(int n) {
        sentBytes.addAndGet(n);
        engine.count(disk, 2, n);
    }

    private void blocksSent(Segment s, int generation, BlockDevice src, Throwable error) {
        if (s.generation != generation || s.state != State.WORKING) {
            return;
        }
        if (error == null) {
            finish(s);
            return;
        }
        closeGuard(s);
        active.remove(s);
        s.state = State.QUEUED;
        if (cancelled) {
            return;
        }
        if (source != src) {
            again.addFirst(s); // the source went away meanwhile: compare again once it is back
            return;
        }
        failure = "reading the source of disk " + disk + " or appending to its stream failed: " + error;
    }

    private void sourceFailed(Segment s, int generation, BlockDevice src, Throwable e) {
        if (s.generation != generation || s.state != State.L1) {
            return;
        }
        if (source != src || cancelled) {
            restart(s, 0, null);
            return;
        }
        failure = "reading the source of disk " + disk + " at " + s.offset + "+" + s.length + " failed: " + e;
    }

    /** The segment is compared and its differing blocks appended. */
    private void finish(Segment s) {
        closeGuard(s);
        active.remove(s);
        s.state = State.DONE;
        if (s.redo == 0) {
            doneBytes.addAndGet(s.length);
        }
        List<long[]> redo;
        synchronized (s.again) {
            redo = new ArrayList<>(s.again);
        }
        if (compareOnly && s.redo >= VERIFY_RECHECKS) {
            synchronized (skipped) { // written at every comparison: not judged
                for (long[] r : redo) {
                    skipped.add(r[0], r[1]);
                }
            }
            return;
        }
        // chunk-aligned, merged: the ranges lie in this segment, so a merged one fits a segment's buffer
        redo.sort((a, b) -> Long.compare(a[0], b[0]));
        long delay = Math.min(options.retryMax().toNanos(), options.retryMin().toNanos() << Math.min(20, s.redo));
        long from = -1;
        long to = -1;
        for (long[] r : redo) {
            long f = r[0] - r[0] % options.chunkBytes();
            long t = Math.min(size, ((r[0] + r[1] + options.chunkBytes() - 1) / options.chunkBytes()) * options.chunkBytes());
            if (from >= 0 && f <= to) {
                to = Math.max(to, t);
                continue;
            }
            if (from >= 0) {
                compareLater(from, to, s.redo + 1, delay);
            }
            from = f;
            to = t;
        }
        if (from >= 0) {
            compareLater(from, to, s.redo + 1, delay);
        }
    }

    private void compareLater(long from, long to, int round, long delayNanos) {
        Segment later = new Segment(from, (int) (to - from), round);
        later.notBefore = System.nanoTime() + delayNanos;
        again.addLast(later);
    }

    /** Starts a segment over after {@code delayNanos}. */
    private void restart(Segment s, long delayNanos, String why) {
        engine.abandon(s.requestId);
        closeGuard(s);
        active.remove(s);
        s.state = State.QUEUED;
        s.generation++;
        s.notBefore = System.nanoTime() + delayNanos;
        again.addFirst(s);
        if (why != null) {
            message = why;
        }
    }

    private static void closeGuard(Segment s) {
        Agent.SourceRead g = s.guard;
        if (g != null) {
            s.guard = null;
            g.close();
        }
    }

    /**
     * After the last pass: waits for the pool tasks still appending through guards (they end soon
     * when the job was cancelled: the stream refuses appends of a disk no longer protected), then
     * closes every guard, so that no source read stays open.
     */
    private void quiesce() {
        while (active.stream().anyMatch(s -> s.state == State.WORKING)) {
            try {
                Runnable ev = events.poll(100, TimeUnit.MILLISECONDS);
                if (ev != null) {
                    ev.run();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Segment s : active) {
            engine.abandon(s.requestId);
            closeGuard(s);
        }
        active.clear();
    }
}
