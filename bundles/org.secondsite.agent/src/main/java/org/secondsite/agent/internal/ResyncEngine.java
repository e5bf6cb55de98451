package org.secondsite.agent.internal;

import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.transport.FrameConnection;
import org.secondsite.wire.HashStatus;
import org.secondsite.wire.Message;
import org.secondsite.wire.MessageCodec;
import org.secondsite.wire.WireProtocol;

/**
 * The agent's resync: for each disk that owes one (initial replication, an operator's request,
 * the way out of bitmap mode), a {@link ResyncJob} compares the source with the replica by hashes
 * and puts only differing blocks into the disk's stream (docs/PROTOCOL.md §5). This class routes
 * the jobs' HASH_QUERY frames to the agent's sender and the HASHES answers back, keeps the
 * persisted list of owed resyncs ({@link ResyncState}) and the sources of the disks, and runs the
 * threads that read and hash the sources. The same jobs, in compare-only mode, verify a replica
 * online ({@link #verify}, docs/PROTOCOL.md §5.4): one job per disk at a time, resync or verification.
 *
 * <p>Lock order: the agent's lock may be held when this engine is called; this engine never calls
 * the agent while holding its own lock.
 */
final class ResyncEngine implements Closeable {
    private static final System.Logger LOG = System.getLogger(ResyncEngine.class.getName());
    static final String INITIAL = "initial replication";
    /** Queries in flight at most, all disks together: half of what a process server accepts on a connection. */
    static final int MAX_IN_FLIGHT = WireProtocol.MAX_HASH_QUERIES_IN_FLIGHT / 2;

    /** What the engine needs of the agent. */
    interface Host {
        /** The disk's stream, or null if the disk is not protected. */
        Agent.DiskStream stream(DiskId disk);

        /**
         * The sequence a hash query names: the newest sealed batch holding every workload write
         * accepted before now. Seals the open batch when a workload write was accepted since the
         * previous call with the same {@code mark} ({@code mark[0]}: write counter seen,
         * {@code mark[1]}: sequence named, -1 at first).
         */
        long sequenceForQuery(Agent.DiskStream stream, long[] mark) throws IOException;

        /** Seals the open batch with {@code tag}; returns that batch's sequence. */
        long sealWithTag(Agent.DiskStream stream, ConsistencyTag tag) throws IOException;

        /** The process server's durable sequence of the disk. */
        long acknowledged(Agent.DiskStream stream);

        /** Largest data the stream takes in one source read append. */
        int maxAppendBytes();

        /** Wakes the sender: frames are queued. */
        void wakeSender();
    }

    private final Host host;
    private final ResyncOptions options;
    private final ResyncState state;
    private final Clock clock;
    final ExecutorService pool;
    private final ConcurrentLinkedQueue<ByteBuffer> outgoing = new ConcurrentLinkedQueue<>();

    // ---- guarded by this ----
    private final Map<DiskId, ResyncJob> jobs = new HashMap<>();
    private final Map<DiskId, ResyncProgress> last = new HashMap<>();
    private final Map<DiskId, BlockDevice> sources = new HashMap<>();
    private final Map<DiskId, long[]> figures = new HashMap<>();
    private final Map<DiskId, VerifyReport> reports = new HashMap<>();
    private final Map<Long, Pending> pending = new HashMap<>();
    /** Jobs of disks no longer protected, until they end. Guarded by this. */
    private final java.util.Set<ResyncJob> forgotten =
            java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private long nextRequest = 1;
    /** The connection queries go on; 0 while there is none. */
    private long link;
    private long links;
    private boolean closed;

    /** A query in flight. */
    record Pending(long id, ResyncJob job, ResyncJob.Segment segment, int level, long link) {
    }

    ResyncEngine(Host host, ResyncOptions options, ResyncState state, Clock clock) {
        this.host = host;
        this.options = options;
        this.state = state;
        this.clock = clock;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(options.threads(), options.threads(), 0, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "secondsite-agent-resync-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    ResyncOptions options() {
        return options;
    }

    Host host() {
        return host;
    }

    Clock clock() {
        return clock;
    }

    // ------------------------------------------------------------------ disks

    /**
     * A disk is protected: a disk this agent never protected owes its initial replication; a
     * resync owed before a restart runs again.
     */
    void protect(DiskId disk) throws IOException {
        String reason;
        if (!state.known(disk)) {
            if (!options.initialReplication()) {
                state.done(disk, "initial replication not required by the options");
                return;
            }
            reason = INITIAL;
            state.pending(disk, reason);
        } else {
            Optional<String> owed = state.pending(disk);
            if (owed.isEmpty()) {
                return;
            }
            reason = owed.get() + " (continued)";
        }
        start(disk, reason);
    }

    /**
     * The disk is no longer protected (also when its configuration is deactivated, e.g. at an
     * agent stop): a running resync stops. Its recorded state stays, so that protecting the disk
     * again continues an owed resync and does not start a needless initial replication.
     */
    void forget(DiskId disk) {
        ResyncJob job;
        synchronized (this) {
            job = jobs.remove(disk);
            last.remove(disk);
            sources.remove(disk);
            figures.remove(disk);
            reports.remove(disk);
            if (job != null) {
                forgotten.add(job); // its report, when it ends, goes with the disk
            }
        }
        if (job != null) {
            job.cancel("the disk is no longer protected");
        }
    }

    /**
     * Requests a full comparison of the disk with its replica. If one runs, another pass follows it
     * (writes lost while the first ran, e.g. in bitmap mode, may lie behind its position). A
     * verification of the disk that runs is cancelled: the resync takes its place.
     *
     * @throws IllegalArgumentException if the disk is not protected
     */
    void request(DiskId disk, String reason) throws IOException {
        if (host.stream(disk) == null) {
            throw new IllegalArgumentException("disk " + disk + " is not protected by this agent");
        }
        state.pending(disk, reason);
        ResyncJob running;
        synchronized (this) {
            running = jobs.get(disk);
        }
        if (running != null && running.verifyMode() == null && running.rerun(reason)) {
            return;
        }
        start(disk, reason);
    }

    private void start(DiskId disk, String reason) {
        Agent.DiskStream stream = host.stream(disk);
        if (stream == null) {
            return;
        }
        ResyncJob job;
        synchronized (this) {
            if (closed) {
                return;
            }
            ResyncJob old = jobs.get(disk);
            if (old != null && old.verifyMode() == null && old.rerun(reason)) {
                return;
            }
            if (old != null && old.verifyMode() != null) {
                old.cancel("a resync was requested (" + reason + ")");
            }
            job = new ResyncJob(this, stream, reason, sources.get(disk));
            jobs.put(disk, job);
            last.remove(disk);
        }
        job.start();
    }

    /**
     * Starts an online verification of the disk's replica ({@link VerifyReport.Mode#VERIFY}: compare
     * only; {@link VerifyReport.Mode#VERIFY_AND_REPAIR}: then resync the mismatched regions), or the
     * repair of the mismatched regions of its last completed verification
     * ({@link VerifyReport.Mode#REPAIR}). Returns at once: the progress is {@link #progress}, the
     * result {@link #verifyReport} once it ended. Replication goes on meanwhile. A resync requested
     * while it runs cancels it.
     *
     * @throws IllegalArgumentException if the disk is not protected
     * @throws IllegalStateException if a resync or verification of the disk runs, a resync is owed
     *         (the replica is not consistent), regions of the disk wait to be replayed, or (REPAIR)
     *         there is no completed verification with mismatched regions
     */
    void verify(DiskId disk, VerifyReport.Mode mode) throws IOException {
        java.util.Objects.requireNonNull(mode, "mode");
        Agent.DiskStream stream = host.stream(disk);
        if (stream == null) {
            throw new IllegalArgumentException("disk " + disk + " is not protected by this agent");
        }
        synchronized (this) {
            refuseIfRunning(disk);
        }
        Optional<String> owed = state.pending(disk);
        if (owed.isPresent()) {
            throw new IllegalStateException("the replica of disk " + disk + " is not consistent: a resync is owed ("
                    + owed.get() + "); verify it once the resync is done (dr:resync " + disk + " runs it again)");
        }
        if (stream.sealAll() == -2) {
            throw new IllegalStateException("the replica of disk " + disk + " is not consistent: dirty regions wait "
                    + "to be read from the source and sent (bitmap mode or a replay); verify it once they are sent");
        }
        ResyncJob job;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the agent is closed");
            }
            refuseIfRunning(disk);
            List<VerifyReport.Region> regions = List.of();
            String reason = switch (mode) {
                case VERIFY -> "verification";
                case VERIFY_AND_REPAIR -> "verification and repair";
                case REPAIR -> "repair of mismatched regions";
            };
            if (mode == VerifyReport.Mode.REPAIR) {
                VerifyReport r = reports.get(disk);
                if (r == null || r.outcome() != VerifyReport.Outcome.COMPLETED || r.mode() == VerifyReport.Mode.REPAIR
                        || r.mismatched().isEmpty()) {
                    throw new IllegalStateException("disk " + disk + " has no completed verification with mismatched "
                            + "regions to repair" + (r == null ? "" : "; the last one: " + r.mode() + " " + r.outcome()
                            + ", " + r.mismatchCount() + " mismatched region(s)"));
                }
                regions = r.mismatched();
                reason = reason + " (" + r.mismatchCount() + " regions, " + r.mismatchBytes() + " bytes)";
            }
            job = new ResyncJob(this, stream, reason, sources.get(disk), mode, regions);
            jobs.put(disk, job);
            last.remove(disk);
        }
        job.start();
    }

    /** Lock held. */
    private void refuseIfRunning(DiskId disk) {
        ResyncJob running = jobs.get(disk);
        if (running != null) {
            ResyncProgress p = running.progress();
            throw new IllegalStateException(running.verifyMode() == null
                    ? "a resync of disk " + disk + " is running (" + p.reason() + ", "
                            + String.format(java.util.Locale.ROOT, "%.1f", p.percent()) + " %); verify once it is done"
                    : "a verification of disk " + disk + " is running already (" + p.reason() + ")");
        }
    }

    /** The disk's last verification or repair that ended since the agent started, or null. */
    synchronized VerifyReport verifyReport(DiskId disk) {
        return reports.get(disk);
    }

    /** The disk's source (its capture session's), from which the resync reads. */
    void attachSource(DiskId disk, BlockDevice source) {
        ResyncJob job;
        synchronized (this) {
            sources.put(disk, source);
            job = jobs.get(disk);
        }
        if (job != null) {
            job.source(source);
        }
    }

    /** The capture session stopped: a running resync pauses until a source is attached again. */
    void detachSource(DiskId disk, BlockDevice source) {
        ResyncJob job;
        synchronized (this) {
            if (sources.get(disk) != source) {
                return;
            }
            sources.remove(disk);
            job = jobs.get(disk);
        }
        if (job != null) {
            job.source(null);
        }
    }

    /** The disk's running or last resync since the agent started, if any. */
    synchronized ResyncProgress progress(DiskId disk) {
        ResyncJob job = jobs.get(disk);
        return job != null ? job.progress() : last.get(disk);
    }

    synchronized ResyncFigures figures(DiskId disk) {
        long[] f = figures.getOrDefault(disk, new long[5]);
        return new ResyncFigures(f[0], f[1], f[2], f[3], f[4]);
    }

    /** Adds to a disk's figures: {queries, hash bytes, data bytes, refused appends, retries}. */
    synchronized void count(DiskId disk, int index, long n) {
        figures.computeIfAbsent(disk, d -> new long[5])[index] += n;
    }

    /** A job ended (done, failed or cancelled); {@code report}: a verification's, null for a resync. */
    void ended(ResyncJob job, ResyncProgress finalProgress, boolean done, VerifyReport report) {
        boolean keep;
        boolean stillProtected = report != null && host.stream(job.disk()) != null; // not under this lock
        synchronized (this) {
            keep = jobs.get(job.disk()) == job;
            if (keep) {
                jobs.remove(job.disk());
                last.put(job.disk(), finalProgress);
            }
            boolean wasForgotten = forgotten.remove(job);
            if (report != null && !wasForgotten && (keep || stillProtected)) {
                reports.put(job.disk(), report);
            }
        }
        if (report != null) {
            LOG.log(report.outcome() == VerifyReport.Outcome.COMPLETED ? Level.INFO : Level.WARNING,
                    report.describe(20).strip());
            return;
        }
        if (keep && done) {
            try {
                state.done(job.disk(), finalProgress.reason());
            } catch (IOException e) {
                LOG.log(Level.WARNING, "disk " + job.disk() + ": cannot record the completed resync in "
                        + ResyncState.FILE + " (it runs again at the next start): " + e);
            }
        }
    }

    // ------------------------------------------------------------------ queries

    /** Whether queries can be sent now. */
    synchronized boolean linkUp() {
        return link != 0;
    }

    /**
     * Queues a query for the sender; false when there is no connection or already
     * {@link #MAX_IN_FLIGHT} queries are in flight (the caller tries again a little later).
     */
    boolean send(ResyncJob job, ResyncJob.Segment segment, int level, Message.HashQuery withoutId) {
        ByteBuffer frame;
        synchronized (this) {
            if (link == 0 || closed || pending.size() >= MAX_IN_FLIGHT) {
                return false;
            }
            long id = nextRequest++;
            pending.put(id, new Pending(id, job, segment, level, link));
            segment.requestId = id;
            frame = MessageCodec.encode(withoutId.withRequestId(id));
            outgoing.add(frame);
            figures.computeIfAbsent(job.disk(), d -> new long[5])[0]++;
        }
        host.wakeSender();
        return true;
    }

    /** Forgets a query (its segment starts over); a late answer is then ignored. */
    synchronized void abandon(long requestId) {
        pending.remove(requestId);
    }

    /** Whether frames wait for the sender; lock-free (the agent asks under its own lock). */
    boolean hasOutgoing() {
        return !outgoing.isEmpty();
    }

    /** Sends the queued queries on {@code c}; returns whether it sent any. The sender thread calls it. */
    boolean sendQueued(FrameConnection c) throws IOException {
        boolean any = false;
        for (ByteBuffer f; (f = outgoing.poll()) != null;) {
            c.send(f);
            any = true;
        }
        return any;
    }

    /** A HASHES frame from the process server. */
    void answer(Message.Hashes h) {
        Pending p;
        synchronized (this) {
            p = pending.remove(h.requestId());
            if (p != null && h.status() == HashStatus.OK) {
                figures.computeIfAbsent(h.disk(), d -> new long[5])[1] += (long) h.count() * 16;
            }
        }
        if (p == null) {
            LOG.log(Level.DEBUG, "agent: HASHES " + h.requestId() + " of disk " + h.disk()
                    + " answers no query in flight (asked again since); ignored");
            return;
        }
        p.job().answer(p, h);
    }

    /** The sender has a connection on which every disk was announced: queries may go. */
    void connected() {
        Iterable<ResyncJob> all;
        synchronized (this) {
            link = ++links;
            outgoing.clear();
            all = new java.util.ArrayList<>(jobs.values());
        }
        for (ResyncJob j : all) {
            j.wake();
        }
    }

    /** The connection ended: queries in flight on it are lost; their segments start over. */
    void disconnected() {
        java.util.List<Pending> lost = new java.util.ArrayList<>();
        synchronized (this) {
            long l = link;
            link = 0;
            outgoing.clear();
            for (Iterator<Pending> it = pending.values().iterator(); it.hasNext(); ) {
                Pending p = it.next();
                if (p.link() == l) {
                    it.remove();
                    lost.add(p);
                }
            }
        }
        for (Pending p : lost) {
            p.job().lost(p);
        }
    }

    @Override
    public void close() {
        java.util.List<ResyncJob> all;
        synchronized (this) {
            closed = true;
            all = new java.util.ArrayList<>(jobs.values());
        }
        for (ResyncJob j : all) {
            j.cancel();
        }
        pool.shutdown(); // never interrupt: an interrupted FileChannel read would close the source
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
