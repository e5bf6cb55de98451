package org.secondsite.agent.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.secondsite.api.model.ChangeKind;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.replication.Tracking;
import org.secondsite.api.storage.BlockDevice;

/**
 * The tiered change tracking of one disk (see {@link Tracker} for the design). Every method
 * that says "lock held" runs under the agent's lock; the others take it themselves.
 *
 * <p>State: the persisted dirty-region log ({@link #log}, P), the change cache (tier 2), the
 * regions to replay from the source ({@link #replay}, R) and those being replayed now
 * ({@link #replaying}), the regions written in the current and previous clear epochs, and
 * stamps: every accepted change gets the next stamp; {@link #ackedStamp} is a stamp such that
 * every change up to it is acknowledged by the process server or is in R.
 */
final class DiskTracking {
    private static final System.Logger LOG = System.getLogger(DiskTracking.class.getName());

    static final String REASON_RESTART = "dirty regions after restart";
    static final String REASON_BITMAP = "dirty regions after bitmap mode";
    static final String REASON_DRIVER = "dirty regions reported by the capture driver";
    static final String REASON_REQUESTED = "regions requested for replay";
    static final String REASON_CACHE = "dirty regions after a change-cache read error";
    /** Reads of a piece refused because the workload kept writing it, before it is put back for later. */
    static final int MAX_ATTEMPTS = 16;
    static final Duration RETRY = Duration.ofSeconds(5);

    private final Tracker tracker;
    private final AgentOptions options;
    private final Clock clock;
    final Agent.DiskStream stream;
    final DirtyRegionLog log;
    final ChangeCache cache;
    final RegionSet replay;
    final RegionSet replaying;
    private RegionSet touchedPrev;
    private RegionSet touchedCur;
    private RegionSet scratch;
    private long boundaryPrev;
    private long boundaryCur;
    private long epochStart;
    private boolean clearPending;
    private long stamp;
    private long ackedStamp;
    private long openMaxStamp;
    private boolean bitmap;
    private String bitmapReason = "";
    private Instant dirtySince;
    private String nextReason;
    private volatile BlockDevice source;
    private boolean closed;
    // the replay episode shown in the status
    private String reason;
    private ResyncProgress.Phase phase;
    private Instant started;
    private long done;
    private long lastReplayStamp;
    private String message = "";
    private long retryAt;
    private long cursor;
    private long replayedBytes;
    private long clearedRegions;

    DiskTracking(Tracker tracker, AgentOptions options, Clock clock, Agent.DiskStream stream, DirtyRegionLog log,
                 ChangeCache cache) {
        this.tracker = tracker;
        this.options = options;
        this.clock = clock;
        this.stream = stream;
        this.log = log;
        this.cache = cache;
        this.replay = log.snapshot();
        this.replaying = new RegionSet(replay.size());
        this.touchedPrev = new RegionSet(replay.size());
        this.touchedCur = new RegionSet(replay.size());
        this.epochStart = System.nanoTime();
        this.retryAt = epochStart;
        for (String note : log.notes()) {
            LOG.log(Level.WARNING, "disk " + stream.disk + ": dirty-region log " + log.file() + ": " + note);
        }
        if (!replay.isEmpty()) {
            dirtySince = clock.instant();
            LOG.log(Level.INFO, "disk " + stream.disk + ": " + log.bytes(replay) + " bytes in "
                    + replay.count() + " dirty regions persisted before this start will be read from the source and sent");
            startEpisode(REASON_RESTART);
        }
    }

    // ------------------------------------------------------------------ the write path (lock held)

    /**
     * Called for every change before it enters the stream: records its regions in the
     * dirty-region log (a write only if one was clean) and decides where it goes.
     *
     * @param guard the source read appending {@code r}, {@code null} for a workload change
     * @return {@code true} to append {@code r} to the open batch (then call {@link #appended()});
     *         {@code false} when only its regions are remembered (bitmap mode, or a DIRTY record)
     */
    boolean admit(ChangeRecord r, long cost, Agent.SourceRead guard) throws IOException {
        if (r.end() > stream.size) {
            throw new IllegalArgumentException("disk " + stream.disk + ": change " + r + " ends at byte " + r.end()
                    + ", beyond the disk's " + stream.size + " bytes");
        }
        long from = log.regionOf(r.offset());
        long to = log.regionEnd(r.end());
        log.mark(from, to);
        if (r.kind() == ChangeKind.DIRTY) {
            toReplay(from, to, REASON_DRIVER);
            stamp++;
            return false;
        }
        if (!bitmap) {
            touchedCur.add(from, to);
            if (stream.bufferedBytes + cost > options.bufferBytes() && !stream.openRecords.isEmpty()) {
                stream.seal(); // memory is full: the open batch goes to the change cache, or becomes dirty regions
            }
        }
        if (bitmap) {
            toReplay(from, to, REASON_BITMAP);
            stamp++;
            if (guard != null) {
                guard.dirtyOnly = true;
            }
            return false;
        }
        return true;
    }

    /** The change admitted last was appended to the open batch. Lock held. */
    void appended() {
        openMaxStamp = ++stamp;
    }

    /** The highest stamp in the open batch (for its {@code Sealed}). Lock held. */
    long openMaxStamp() {
        return openMaxStamp;
    }

    /**
     * Returns once the regions of every change accepted so far are forced to disk; no I/O when
     * they were already. Called without the lock, before {@code accept} returns.
     */
    void awaitDurable() throws IOException {
        log.awaitForced();
    }

    /**
     * The tags of a batch being sealed, or none if the replica cannot be consistent at this
     * point (dirty regions not yet replayed). Lock held.
     */
    List<ConsistencyTag> consistentTags(List<ConsistencyTag> tags) {
        if (tags.isEmpty() || consistent()) {
            return List.copyOf(tags);
        }
        LOG.log(level(tags), "disk " + stream.disk + ": consistency tag(s) " + tags + " dropped: the disk has "
                + "dirty regions not yet replayed, so the replica cannot be consistent at this point");
        return List.of();
    }

    /**
     * Whether a tag sealed now would be kept: no bitmap mode and no dirty region waiting or being
     * replayed. Lock held.
     */
    boolean consistent() {
        return !bitmap && replay.isEmpty() && replaying.isEmpty();
    }

    /** DEBUG when only checkpoints are dropped (they recur every interval), WARNING otherwise. */
    static Level level(List<ConsistencyTag> tags) {
        for (ConsistencyTag t : tags) {
            if (t.kind() != org.secondsite.api.model.TagKind.CHECKPOINT) {
                return Level.WARNING;
            }
        }
        return Level.DEBUG;
    }

    /**
     * Places a batch being sealed: returns {@code false} when it stays in memory (the caller
     * numbers it), {@code true} when it went to the change cache or, when neither memory nor the
     * cache has room, was turned into dirty regions (bitmap mode starts). Lock held.
     */
    boolean place(List<ChangeRecord> records, List<ConsistencyTag> tags, Instant first, Instant last, long cost)
            throws IOException {
        long reserve = (long) options.batchBytes() + Agent.RECORD_OVERHEAD;
        long inMemory = stream.bufferedBytes - cost; // sealed batches held in memory, without this one
        if (cache.isEmpty() && (inMemory <= 0 || inMemory + cost <= options.bufferBytes() - reserve)) {
            return false;
        }
        if (cache.capacity() > 0) {
            boolean wasEmpty = cache.isEmpty();
            ChangeCache.Entry e = null;
            try {
                e = cache.append(new DeltaBatch(stream.disk, stream.group, 1, first, last, records, tags), cost,
                        openMaxStamp);
            } catch (IOException | RuntimeException ex) {
                LOG.log(Level.WARNING, "disk " + stream.disk + ": cannot write to the change cache (" + ex
                        + "); remembering dirty regions instead");
            }
            if (e != null) {
                stream.bufferedBytes -= cost;
                if (wasEmpty) {
                    LOG.log(Level.INFO, "disk " + stream.disk + ": memory full (" + stream.bufferedBytes + " of "
                            + options.bufferBytes() + " bytes held), spilling batches to the change cache");
                }
                tracker.wake();
                return true;
            }
        }
        for (ChangeRecord r : records) {
            toReplay(log.regionOf(r.offset()), log.regionEnd(r.end()), REASON_BITMAP);
        }
        stream.bufferedBytes -= cost;
        if (!tags.isEmpty()) {
            LOG.log(level(tags), "disk " + stream.disk + ": consistency tag(s) " + tags
                    + " dropped with their batch, which is now remembered as dirty regions");
        }
        enterBitmap(cache.capacity() == 0 ? "memory is full and the change cache is disabled"
                : "memory and the change cache (" + cache.bytes() + " of " + cache.capacity() + " bytes) are full");
        return true;
    }

    /** A batch whose highest stamp is {@code maxStamp} is acknowledged durable. Lock held. */
    void acked(long maxStamp) {
        ackedStamp = Math.max(ackedStamp, maxStamp);
        if (!cache.isEmpty() || bitmap || !replay.isEmpty() || phase == ResyncProgress.Phase.REPLAYING) {
            tracker.wake();
        }
    }

    /** Marks {@code [offset, offset+length)} dirty (persisted) and schedules its replay. Lock held. */
    void markForReplay(long offset, long length) throws IOException {
        if (offset < 0 || length < 1 || offset + length > stream.size || offset + length < 0) {
            throw new IllegalArgumentException("disk " + stream.disk + ": range " + offset + "+" + length
                    + " is not within the disk's " + stream.size + " bytes");
        }
        long from = log.regionOf(offset);
        long to = log.regionEnd(offset + length);
        log.mark(from, to);
        stamp++;
        toReplay(from, to, REASON_REQUESTED);
    }

    private void toReplay(long from, long to, String why) {
        if (replay.isEmpty() && replaying.isEmpty() && dirtySince == null) {
            dirtySince = clock.instant();
        }
        replay.add(from, to);
        if (nextReason == null) {
            nextReason = bitmap ? REASON_BITMAP : why;
        }
        tracker.wake();
    }

    private void enterBitmap(String why) {
        if (bitmap) {
            return;
        }
        bitmap = true;
        bitmapReason = why;
        nextReason = REASON_BITMAP;
        LOG.log(Level.WARNING, "disk " + stream.disk + ": bitmap mode: " + why + "; only dirty regions of "
                + log.regionBytes() + " bytes are remembered until the process server takes data again");
        tracker.wake();
    }

    // ------------------------------------------------------------------ the tracker thread

    /** Mode changes, the end of a replay, and clearing the log. Lock held. */
    void tick(long now, boolean linkUp, long downNanos) {
        if (closed) {
            return;
        }
        if (!bitmap && !linkUp && downNanos >= options.tracking().bitmapAfter().toNanos()) {
            enterBitmap(String.format("the process server has been unreachable (or refusing data) for %.1f s",
                    downNanos / 1e9));
        }
        if (bitmap && linkUp && cache.isEmpty() && stream.bufferedBytes <= options.bufferBytes() / 2) {
            bitmap = false;
            bitmapReason = "";
            LOG.log(Level.INFO, "disk " + stream.disk + ": leaving bitmap mode; " + log.bytes(replay)
                    + " bytes of dirty regions will be read from the source and sent");
        }
        if (!bitmap && !replay.isEmpty() && phase != ResyncProgress.Phase.REPLAYING) {
            startEpisode(nextReason == null ? REASON_BITMAP : nextReason);
        }
        if (phase == ResyncProgress.Phase.REPLAYING && replay.isEmpty() && replaying.isEmpty()
                && effectiveAcked() >= lastReplayStamp) {
            phase = ResyncProgress.Phase.DONE;
            message = "";
            dirtySince = null;
            nextReason = null;
            LOG.log(Level.INFO, "disk " + stream.disk + ": replay of " + reason + " done, " + done
                    + " bytes read from the source and acknowledged");
        }
        if (now - epochStart >= options.tracking().clearDelay().toNanos()) {
            RegionSet t = touchedPrev;
            touchedPrev = touchedCur;
            touchedCur = t;
            touchedCur.clear();
            boundaryPrev = boundaryCur;
            boundaryCur = stamp;
            epochStart = now;
            clearPending = true;
        }
        if (clearPending && effectiveAcked() >= boundaryPrev) {
            clearPending = false;
            clearClean();
        }
    }

    /**
     * Clears from the log every region that was not written in the current or previous epoch and
     * is not waiting for a replay: everything that touched it has a stamp up to the previous
     * boundary, which is acknowledged. Lock held.
     */
    private void clearClean() {
        if (scratch == null) {
            scratch = new RegionSet(replay.size());
        }
        long[] c = scratch.words;
        boolean any = false;
        for (int i = 0; i < c.length; i++) {
            c[i] = ~(touchedPrev.words[i] | touchedCur.words[i] | replay.words[i] | replaying.words[i]);
            any |= c[i] != 0;
        }
        if (!any) {
            return;
        }
        try {
            clearedRegions += log.clear(scratch);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "disk " + stream.disk + ": " + e.getMessage() + " (the regions stay dirty)");
        }
    }

    /**
     * Every change up to the returned stamp is acknowledged or remembered in {@link #replay}.
     * Lock held.
     */
    long effectiveAcked() {
        if (stream.pending.isEmpty() && stream.openRecords.isEmpty() && cache.isEmpty()) {
            return stamp;
        }
        return ackedStamp;
    }

    private void startEpisode(String why) {
        reason = why;
        phase = ResyncProgress.Phase.REPLAYING;
        started = clock.instant();
        done = 0;
        message = source == null ? "waiting for the source disk (capture session)" : "";
        nextReason = null;
        LOG.log(Level.INFO, "disk " + stream.disk + ": replaying " + why + ": " + log.bytes(replay) + " bytes");
    }

    /** Whether the head of the change cache can move to memory now. Lock held. */
    ChangeCache.Entry reloadable() {
        ChangeCache.Entry head = cache.head();
        if (head == null || closed) {
            return null;
        }
        long reserve = (long) options.batchBytes() + Agent.RECORD_OVERHEAD;
        return stream.pending.isEmpty() || stream.bufferedBytes + head.cost() <= options.bufferBytes() - reserve
                ? head : null;
    }

    /** Reads the cache's head back into memory as the next numbered batch. Called without the lock. */
    void reload(ChangeCache.Entry head) {
        DeltaBatch b = null;
        IOException failure = null;
        try {
            b = cache.read(head);
        } catch (IOException e) {
            failure = e;
        }
        tracker.lock().lock();
        try {
            if (closed || cache.head() != head) {
                return;
            }
            if (failure != null) {
                LOG.log(Level.ERROR, "disk " + stream.disk + ": change cache unreadable (" + failure.getMessage()
                        + "); dropping it and replaying every region of the dirty-region log from the source");
                cache.clear();
                replay.addAll(log.snapshot());
                nextReason = REASON_CACHE;
                tracker.wake();
                return;
            }
            stream.enqueue(b.records(), b.tags(), b.firstWrite(), b.lastWrite(), head.cost(), head.maxStamp());
            stream.bufferedBytes += head.cost();
            cache.removeHead(head);
            if (cache.isEmpty()) {
                LOG.log(Level.INFO, "disk " + stream.disk + ": change cache drained, batches are held in memory again");
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "disk " + stream.disk + ": change cache: " + e);
        } finally {
            tracker.lock().unlock();
        }
    }

    /**
     * Takes the next run of regions to replay (moved from {@link #replay} to {@link #replaying})
     * when a replay may run now: the episode is on, the source is known, not in bitmap mode, the
     * cache is empty and memory has room. Returns {@code {from, to}} or {@code null}. Lock held.
     */
    long[] replayable(long now) {
        if (closed || phase != ResyncProgress.Phase.REPLAYING && phase != ResyncProgress.Phase.FAILED
                || replay.isEmpty() || bitmap || !cache.isEmpty() || source == null || now - retryAt < 0) {
            return null;
        }
        long unit = unitBytes();
        if (!stream.pending.isEmpty() && stream.bufferedBytes + unit > options.bufferBytes() / 2) {
            return null;
        }
        long from = replay.nextSet(cursor);
        if (from < 0) {
            from = replay.nextSet(0);
        }
        long maxRegions = Math.max(1, unit / log.regionBytes());
        long to = Math.min(replay.nextClear(from), from + maxRegions);
        replay.remove(from, to);
        replaying.add(from, to);
        cursor = to;
        if (phase == ResyncProgress.Phase.FAILED) {
            phase = ResyncProgress.Phase.REPLAYING;
        }
        message = "";
        return new long[] {from, to};
    }

    private long unitBytes() {
        return Math.max(log.regionBytes(), Math.min(options.batchBytes(), 1 << 20));
    }

    /**
     * Reads regions {@code [from, to)} from the source and appends them to the stream, piece by
     * piece; a piece whose read raced a workload write is read again. Called without the lock.
     */
    void replayRegions(long from, long to) {
        long start = from * log.regionBytes();
        long end = Math.min(to * (long) log.regionBytes(), stream.size);
        int piece = Math.min(options.batchBytes(), 1 << 20);
        long pos = start;
        try {
            while (pos < end) {
                int n = (int) Math.min(piece, end - pos);
                boolean appended = false;
                for (int attempt = 0; attempt < MAX_ATTEMPTS && !appended; attempt++) {
                    BlockDevice src = source;
                    if (src == null || !replayAllowed()) {
                        putBack(log.regionOf(pos), to);
                        return;
                    }
                    try (Agent.SourceRead read = stream.openSourceRead()) {
                        ByteBuffer data = ByteBuffer.allocate(n); // held by the batch until acknowledged
                        src.read(pos, data);
                        data.flip();
                        if (stream.appendSourceRead(read, pos, data)) {
                            appended = true;
                            if (!read.dirtyOnly) {
                                replayed(n);
                            }
                        }
                    }
                }
                if (!appended) {
                    putBack(log.regionOf(pos), log.regionEnd(pos + n)); // the workload keeps writing it: later
                }
                pos += n;
            }
        } catch (IOException | RuntimeException e) {
            tracker.lock().lock();
            try {
                if (!closed && !stream.removed) {
                    replay.add(log.regionOf(pos), to);
                    phase = ResyncProgress.Phase.FAILED;
                    message = "reading the source at byte " + pos + " failed (" + e.getMessage() + "); retrying in "
                            + RETRY.toSeconds() + " s";
                    retryAt = System.nanoTime() + RETRY.toNanos();
                    LOG.log(Level.WARNING, "disk " + stream.disk + ": replay: " + message);
                }
            } finally {
                tracker.lock().unlock();
            }
        } finally {
            tracker.lock().lock();
            try {
                replaying.remove(from, to);
                lastReplayStamp = stamp;
                tracker.wake();
            } finally {
                tracker.lock().unlock();
            }
        }
    }

    private boolean replayAllowed() {
        tracker.lock().lock();
        try {
            return !closed && !stream.removed && !bitmap;
        } finally {
            tracker.lock().unlock();
        }
    }

    private void putBack(long from, long to) {
        tracker.lock().lock();
        try {
            replay.add(from, to);
        } finally {
            tracker.lock().unlock();
        }
    }

    private void replayed(int n) {
        tracker.lock().lock();
        try {
            done += n;
            replayedBytes += n;
        } finally {
            tracker.lock().unlock();
        }
    }

    // ------------------------------------------------------------------ source, status, close

    /** The source disk replays read from; {@code null} while there is no capture session. Lock held. */
    void source(BlockDevice device) {
        this.source = device;
        if (device != null && phase == ResyncProgress.Phase.REPLAYING && message.startsWith("waiting")) {
            message = "";
        }
        tracker.wake();
    }

    BlockDevice source() {
        return source;
    }

    /** Nothing held in the cache and nothing to replay. Lock held. */
    boolean idle() {
        return cache.isEmpty() && replay.isEmpty() && replaying.isEmpty();
    }

    /** Lock held. */
    Tracking tracking() {
        Tracking.Mode mode = bitmap ? Tracking.Mode.BITMAP : cache.isEmpty() ? Tracking.Mode.MEMORY : Tracking.Mode.SPILL;
        return new Tracking(mode, stream.bufferedBytes, cache.bytes(), dirtyBytes());
    }

    /** Bytes of the regions to replay (waiting or in progress). Lock held. */
    long dirtyBytes() {
        return replaying.isEmpty() ? log.bytes(replay) : log.bytes(replay, replaying);
    }

    /** The current or last replay, {@code null} if none ran. Lock held. */
    ResyncProgress progress() {
        if (phase == null) {
            return null;
        }
        long remaining = phase == ResyncProgress.Phase.DONE ? 0 : dirtyBytes();
        String m = phase == ResyncProgress.Phase.REPLAYING && remaining == 0 && message.isEmpty()
                ? "waiting for the process server to acknowledge the replayed regions" : message;
        return new ResyncProgress(phase, reason, done + remaining, done, done, started, clock.instant(), m);
    }

    /** The oldest change not yet acknowledged that only the cache or the bitmap holds, or {@code null}. Lock held. */
    Instant oldestOutsideMemory() {
        ChangeCache.Entry head = cache.head();
        Instant c = head == null ? null : head.firstWrite();
        Instant d = replay.isEmpty() && replaying.isEmpty() ? null : dirtySince;
        return c == null ? d : d == null || c.isBefore(d) ? c : d;
    }

    /** Why bitmap mode is on, empty when it is not. Lock held. */
    String bitmapReason() {
        return bitmapReason;
    }

    /** For tests and measurements: bytes replayed since start, regions cleared, log page writes, log forces. */
    long[] counters() {
        tracker.lock().lock();
        try {
            long[] io = log.counters();
            return new long[] {replayedBytes, clearedRegions, io[0], io[1]};
        } finally {
            tracker.lock().unlock();
        }
    }

    /**
     * Stops tracking: deletes the cache; clears the log first if nothing at all is outstanding
     * (clean stop of a drained disk), else leaves it for the next start to replay. Lock held.
     */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        boolean drained = stream.pending.isEmpty() && stream.openRecords.isEmpty() && idle();
        try {
            if (drained && !bitmap) {
                RegionSet all = new RegionSet(replay.size());
                all.add(0, all.size());
                log.clear(all);
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "disk " + stream.disk + ": " + e.getMessage());
        }
        try {
            log.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "disk " + stream.disk + ": closing the dirty-region log: " + e);
        }
        try {
            cache.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "disk " + stream.disk + ": deleting the change cache: " + e);
        }
    }
}
