package org.secondsite.agent.internal;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;

import org.secondsite.api.appliance.Role;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.ChangeKind;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.transport.FrameConnection;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.wire.BatchEncoder;
import org.secondsite.wire.Compressors;
import org.secondsite.wire.ErrorCode;
import org.secondsite.wire.Message;
import org.secondsite.wire.MessageCodec;
import org.secondsite.wire.MessageType;
import org.secondsite.wire.WireProtocol;

/**
 * The agent's data path, plain Java: one {@link ChangeSink} per protected disk, which
 * batches changes in write order, and one sender that ships the batches to the process
 * server over a {@link Transport} and keeps every batch until the process server
 * acknowledges it as durable.
 *
 * <h2>Batches and sequences</h2>
 * A disk's open batch is cut (sealed) when it holds {@code batchBytes} of data, when its
 * first change is {@code batchAge} old, at a consistency tag, or on {@link ChangeSink#flush}.
 * Sealing assigns the next sequence of the disk ({@link SequenceStore}, persisted).
 * On every (re)connection the process server's RESUME_POINT is authoritative: batches up to
 * its durable sequence D are dropped, and the remaining ones are sent from D+1. If the agent
 * holds no batch D+1 (it restarted and lost batches that were only in memory, or its state
 * file is older than the process server's spool) its batches are renumbered from D+1, so a
 * fresh stream never collides with sequences the process server already has and never leaves
 * a gap; a warning names the sequences lost with the agent's memory.
 *
 * <h2>Flow control and failures</h2>
 * At most {@code windowBytes} of frames are sent and not yet acknowledged. ACKs (cumulative)
 * free batches and buffer space. Any I/O error, ERROR or RESEND ends the connection; the
 * sender reconnects with capped exponential back-off, asks RESUME_QUERY and resends
 * everything above the process server's durable point. ERROR {@code RECEIVER_FULL} (spool
 * full) is the same: the agent keeps its data and retries after the back-off.
 *
 * <h2>Change tracking</h2>
 * Memory, the on-disk change cache, bitmap mode and the dirty-region log that makes
 * {@code accept} safe against a crash: see {@link Tracker}.
 * <h2>Resync</h2>
 * A {@link ResyncEngine} compares a disk's source with its replica by hashes and puts the
 * differing blocks into the disk's stream through {@link DiskStream#appendSourceRead}: the
 * initial replication of a disk this agent never protected, an operator's
 * {@link #requestResync}, and the way out of bitmap mode. Its hash queries travel on the
 * sender's connection (the HELLO lists capability {@code resync.hash}).
 */
public final class Agent implements Closeable, ReplicationMonitor {
    private static final System.Logger LOG = System.getLogger(Agent.class.getName());
    /** Memory accounted per record besides its data. */
    static final int RECORD_OVERHEAD = 64;

    private final AgentOptions options;
    private final Supplier<String> componentId;
    private final Function<String, Transport> transports;
    private final Supplier<TransportSecurity> security;
    private final Function<String, Compressor> compressors;
    private final Clock clock;
    private final SequenceStore sequences;
    private final Tracker tracker;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // ---- guarded by lock ----
    private final TreeMap<DiskId, DiskStream> disks = new TreeMap<>();
    private long inflightBytes;
    private boolean closed;
    private boolean topologyChanged;
    private String linkState = "disconnected";
    private String linkMessage = "not connected yet";
    private FrameConnection connection;
    private long connections;
    private DiskId lastServed;

    /** Groups whose writes are held for a coordinated tag. Guarded by lock. */
    private final Map<GroupId, Hold> holds = new java.util.HashMap<>();

    /** A hold of a group's writes for the coordinated tag {@code tagId}, at most until {@code untilNanos}. */
    private record Hold(java.util.UUID tagId, long untilNanos) {
    }
    /** Groups checkpointed by the process server's coordinator: group -> until (nanoTime). Guarded by lock. */
    private final Map<GroupId, Long> coordinatedUntil = new java.util.HashMap<>();
    /** Signalled when a hold ends. */
    private final Condition released = lock.newCondition();
    /** Control frames for the sender to send on the current connection (TAG_HELD, TAG_REFUSED, TAG_DONE). */
    private final java.util.concurrent.ConcurrentLinkedQueue<ByteBuffer> control =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Takes TAG_PREPARE and TAG_RELEASE of the process server; set once by {@link #coordination}. */
    private volatile java.util.function.Consumer<Message> coordination;

    private final Thread sender;
    private final Thread cutter;
    private final ResyncEngine resync;
    /** Takes the checkpoints, at the interval in force (see {@link #checkpointInterval(Duration)}). */
    private final java.util.concurrent.ScheduledExecutorService checkpoints;
    /** The scheduled checkpoints; null while the interval is zero. Guarded by {@code checkpoints}. */
    private java.util.concurrent.ScheduledFuture<?> checkpointTask;
    private Duration checkpointEvery = Duration.ZERO;

    public Agent(AgentOptions options, Supplier<String> componentId, Function<String, Transport> transports,
                 Supplier<TransportSecurity> security, Function<String, Compressor> compressors, Clock clock)
            throws IOException {
        this(options, ResyncOptions.defaults(), componentId, transports, security, compressors, clock);
    }

    public Agent(AgentOptions options, ResyncOptions resyncOptions, Supplier<String> componentId,
                 Function<String, Transport> transports, Supplier<TransportSecurity> security,
                 Function<String, Compressor> compressors, Clock clock) throws IOException {
        this.options = Objects.requireNonNull(options, "options");
        this.componentId = componentId;
        this.transports = transports;
        this.security = security;
        this.compressors = Compressors.withNone(compressors);
        this.clock = clock;
        this.sequences = new SequenceStore(options.dataDir());
        this.tracker = new Tracker(options, clock, lock, disks,
                () -> connection != null && "replicating".equals(linkState));
        this.resync = new ResyncEngine(new ResyncHost(), resyncOptions, new ResyncState(options.dataDir()), clock);
        this.sender = new Thread(this::sendLoop, "secondsite-agent-sender");
        this.cutter = new Thread(this::cutLoop, "secondsite-agent-batch-cutter");
        sender.setDaemon(true);
        cutter.setDaemon(true);
        sender.start();
        cutter.start();
        tracker.start();
        checkpoints = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "secondsite-agent-checkpoints");
            t.setDaemon(true);
            return t;
        });
        checkpointInterval(options.checkpointInterval());
    }

    /**
     * Changes how often checkpoints are taken, at once and without stopping anything else (a policy
     * change of the configuration server): 100 ms .. 1 h, or zero for none.
     */
    public void checkpointInterval(Duration every) {
        if (!every.isZero() && (every.compareTo(AgentOptions.MIN_CHECKPOINT_INTERVAL) < 0
                || every.compareTo(AgentOptions.MAX_CHECKPOINT_INTERVAL) > 0)) {
            throw new IllegalArgumentException("the checkpoint interval must be 0 (none) or "
                    + AgentOptions.MIN_CHECKPOINT_INTERVAL.toMillis() + ".." + AgentOptions.MAX_CHECKPOINT_INTERVAL.toMillis()
                    + " ms, was " + every.toMillis() + " ms");
        }
        synchronized (checkpoints) {
            if (every.equals(checkpointEvery) && (checkpointTask != null || every.isZero())) {
                return;
            }
            if (checkpointTask != null) {
                checkpointTask.cancel(false);
                checkpointTask = null;
                drainCheckpoints(); // a checkpoint running now ends before the new interval is in force
            }
            checkpointEvery = every;
            if (!every.isZero() && !checkpoints.isShutdown()) {
                long nanos = every.toNanos();
                checkpointTask = checkpoints.scheduleAtFixedRate(() -> {
                    try {
                        checkpoint();
                    } catch (RuntimeException e) {
                        LOG.log(Level.ERROR, "checkpoint failed: " + e, e);
                    }
                }, nanos, nanos, TimeUnit.NANOSECONDS);
            }
        }
    }

    private void drainCheckpoints() {
        if (Thread.currentThread().getName().equals("secondsite-agent-checkpoints") || checkpoints.isShutdown()) {
            return;
        }
        try {
            checkpoints.submit(() -> { }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.RejectedExecutionException e) {
            LOG.log(Level.DEBUG, "waiting for a running checkpoint: " + e);
        }
    }

    /** The checkpoint interval in force (zero: none). */
    public Duration checkpointInterval() {
        synchronized (checkpoints) {
            return checkpointEvery;
        }
    }

    public AgentOptions options() {
        return options;
    }

    // ------------------------------------------------------------------ disks

    /**
     * Starts tracking a disk and returns its change sink. The sender announces the disk
     * (DISK_INFO) on its next connection.
     *
     * @param size the disk's size in bytes
     * @throws IllegalStateException if the disk is already protected
     */
    public ChangeSink protect(DiskId disk, GroupId group, long size) {
        DiskStream s;
        lock.lock();
        try {
            ensureOpen();
            if (disks.containsKey(disk)) {
                throw new IllegalStateException("disk " + disk + " is already protected by this agent");
            }
            if (size < 1) {
                throw new IllegalArgumentException("disk " + disk + " size must be >= 1 byte, was " + size);
            }
            s = new DiskStream(disk, group == null ? GroupId.of(disk.value()) : group, size);
            disks.put(disk, s);
            topologyChanged = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            resync.protect(disk); // the initial replication of a new disk, or a resync owed before a restart
        } catch (IOException e) {
            LOG.log(Level.ERROR, "disk " + disk + ": cannot read or record its resync state in "
                    + ResyncState.FILE + ": " + e);
        }
        return s;
    }

    /**
     * Stops tracking a disk; batches not yet acknowledged are dropped, a running resync stops (an
     * owed one is still recorded and continues when the disk is protected again).
     */
    public void unprotect(DiskId disk) throws IOException {
        resync.forget(disk);
        lock.lock();
        try {
            DiskStream s = disks.remove(disk);
            if (s != null) {
                s.removed = true;
                for (Sealed b : s.pending) {
                    if (b.sentBytes > 0) {
                        inflightBytes -= b.sentBytes;
                    }
                }
                sequences.forget(disk);
                s.tracking.close(); // its dirty-region log stays: protecting the disk again replays it
                topologyChanged = true;
                changed.signalAll();
                released.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ resync

    /**
     * Requests a resync of a protected disk: its source is compared with the replica and the
     * differing blocks are sent (an operator's {@code dr:resync}, or the change tracking when it
     * leaves bitmap mode). Recorded before it returns, so it runs even after a restart; if one
     * runs, another full pass follows it.
     *
     * @throws IllegalArgumentException if the disk is not protected
     */
    public void requestResync(DiskId disk, String reason) throws IOException {
        resync.request(disk, reason);
    }

    /** The disk's running or last resync since the agent started. */
    public Optional<ResyncProgress> resyncProgress(DiskId disk) {
        return Optional.ofNullable(resync.progress(disk));
    }

    /** Counters of the disk's resyncs since the agent started (queries, hash and data bytes). */
    public ResyncFigures resyncFigures(DiskId disk) {
        return resync.figures(disk);
    }

    /**
     * Starts an online verification of a protected disk's replica, or the repair of the regions the
     * last one found; see {@link ResyncEngine#verify}. Follow it with {@link #resyncProgress}; the
     * result is {@link #verifyReport}.
     *
     * @throws IllegalArgumentException if the disk is not protected
     * @throws IllegalStateException if a resync or verification of the disk runs, or its replica is not consistent
     */
    public void verify(DiskId disk, VerifyReport.Mode mode) throws IOException {
        resync.verify(disk, mode);
    }

    /** The disk's last verification or repair that ended since the agent started. */
    public Optional<VerifyReport> verifyReport(DiskId disk) {
        return Optional.ofNullable(resync.verifyReport(disk));
    }

    /** What the resync engine uses of the agent; see {@link ResyncEngine.Host}. */
    private final class ResyncHost implements ResyncEngine.Host {
        @Override
        public DiskStream stream(DiskId disk) {
            lock.lock();
            try {
                return disks.get(disk);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public long sequenceForQuery(DiskStream s, long[] mark) throws IOException {
            lock.lock();
            try {
                if (mark[1] < 0 || s.writeCounter != mark[0]) {
                    s.seal();
                    mark[0] = s.writeCounter;
                    mark[1] = s.lastSealed;
                }
                mark[1] = Math.min(mark[1], s.lastSealed);
                return mark[1];
            } finally {
                lock.unlock();
            }
        }

        @Override
        public long sealWithTag(DiskStream s, ConsistencyTag tag) throws IOException {
            lock.lock();
            try {
                // A tag makes a point only once every disk of the group carries it: the bookmark of one
                // disk's resync would stay pending at the master target (and keep the group's writes
                // journaled) until the retention window ends. In a group of several disks the next
                // checkpoint, cut into all of them at once, marks the consistent state instead.
                if (disksOf(s.group).size() == 1) {
                    s.openTags.add(tag);
                }
                s.seal();
                return s.lastSealed;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public long acknowledged(DiskStream s) {
            lock.lock();
            try {
                return s.acked;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public int maxAppendBytes() {
            return options.batchBytes();
        }

        @Override
        public void wakeSender() {
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** The sink of a protected disk. */
    public ChangeSink sink(DiskId disk) {
        lock.lock();
        try {
            DiskStream s = disks.get(disk);
            if (s == null) {
                throw new IllegalArgumentException("disk " + disk + " is not protected by this agent");
            }
            return s;
        } finally {
            lock.unlock();
        }
    }

    /** Closes the disk's open batch with {@code tag} (the tagged state is the state after it). */
    public void tag(DiskId disk, ConsistencyTag tag) throws IOException {
        lock.lock();
        try {
            DiskStream s = disks.get(disk);
            if (s == null) {
                throw new IllegalArgumentException("disk " + disk + " is not protected by this agent");
            }
            s.openTags.add(tag);
            s.seal();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ consistency groups

    /** The name every CHECKPOINT tag carries (a checkpoint's point has no tag name). */
    public static final String CHECKPOINT_NAME = "checkpoint";

    /** The consistency groups of the protected disks, ascending. */
    public List<GroupId> groups() {
        lock.lock();
        try {
            java.util.TreeSet<GroupId> out = new java.util.TreeSet<>();
            for (DiskStream s : disks.values()) {
                out.add(s.group);
            }
            return List.copyOf(out);
        } finally {
            lock.unlock();
        }
    }

    /** The protected disks of {@code group}, ascending (empty if none). */
    public List<DiskId> disksOf(GroupId group) {
        lock.lock();
        try {
            List<DiskId> out = new ArrayList<>();
            for (DiskStream s : disks.values()) {
                if (s.group.equals(group)) {
                    out.add(s.disk);
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** The group of a protected disk, or empty. */
    public Optional<GroupId> groupOf(DiskId disk) {
        lock.lock();
        try {
            DiskStream s = disks.get(disk);
            return s == null ? Optional.empty() : Optional.of(s.group);
        } finally {
            lock.unlock();
        }
    }

    /**
     * What happened to a tag put into a group's streams.
     *
     * @param disks the disks of the group that got it (or are held), ascending
     * @param holdNanos how long writes of the group were excluded, in nanoseconds
     * @param refusal empty when done; otherwise why nothing was inserted (or held)
     * @param written whether a change entered those disks since the group's last checkpoint (before this)
     */
    public record Insertion(List<DiskId> disks, long holdNanos, String refusal, boolean written) {
        public boolean ok() {
            return refusal.isEmpty();
        }
    }

    /**
     * Seals the open batch of every disk of {@code group} with {@code tag}, under the agent's lock:
     * no change of any disk of the group is accepted between the first seal and the last, so the
     * tagged states of all disks belong to one moment. Refused, with nothing inserted, when the
     * group has no disk here, when a disk of it cannot be consistent now (bitmap mode, dirty regions
     * waiting, a resync comparing: the tag would be dropped), or when a coordinated tag holds it.
     */
    public Insertion insertTag(GroupId group, ConsistencyTag tag) throws IOException {
        Objects.requireNonNull(tag, "tag");
        java.util.Set<DiskId> resyncing = resyncing();
        lock.lock();
        try {
            ensureOpen();
            List<DiskStream> members = members(group);
            String why = refusal(group, members, resyncing, true);
            if (!why.isEmpty()) {
                return new Insertion(ids(members), 0, why, false);
            }
            long t0 = System.nanoTime();
            boolean written = false;
            for (DiskStream s : members) {
                written |= s.writesSinceCheckpoint;
                s.openTags.add(tag);
                s.seal();
                s.writesSinceCheckpoint = false;
            }
            return new Insertion(ids(members), System.nanoTime() - t0, "", written);
        } finally {
            lock.unlock();
        }
    }

    /** Why a tag of {@code group} would be refused now (see {@link #insertTag}), or empty. */
    public String tagRefusal(GroupId group) {
        java.util.Set<DiskId> resyncing = resyncing();
        lock.lock();
        try {
            return closed ? "the agent is closed" : refusal(group, members(group), resyncing, true);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Holds every write of {@code group}'s disks (their {@code accept} waits) for the coordinated tag
     * {@code tagId}, until {@link #release}, and never longer than {@code bound}: a write waiting
     * when it passes ends the hold itself (a later {@link #release} then inserts nothing). A group
     * with no disk here is "held" with no disk.
     * Refused when a disk of the group cannot be consistent now or another tag holds the group.
     */
    public Insertion hold(GroupId group, java.util.UUID tagId, Duration bound) {
        java.util.Set<DiskId> resyncing = resyncing();
        lock.lock();
        try {
            ensureOpen();
            List<DiskStream> members = members(group);
            String why = refusal(group, members, resyncing, false);
            if (!why.isEmpty()) {
                return new Insertion(ids(members), 0, why, false);
            }
            holds.put(group, new Hold(tagId, System.nanoTime() + bound.toNanos()));
            boolean written = members.stream().anyMatch(s -> s.writesSinceCheckpoint);
            return new Insertion(ids(members), 0, "", written);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Ends the hold of {@code group} by {@code tagId}; with a {@code tag}, first seals every disk of
     * the group with it (still no write in between). Returns whether the hold was still in place
     * (false: released before, or never held: nothing is inserted).
     */
    public boolean release(GroupId group, java.util.UUID tagId, ConsistencyTag tag) throws IOException {
        lock.lock();
        try {
            Hold h = holds.get(group);
            if (h == null || !h.tagId().equals(tagId)) {
                return false;
            }
            if (h.untilNanos() - System.nanoTime() <= 0) {
                holds.remove(group); // its bound passed: too late to insert the tag
                released.signalAll();
                return false;
            }
            try {
                if (tag != null && !closed) {
                    for (DiskStream s : members(group)) {
                        s.openTags.add(tag);
                        s.seal();
                        s.writesSinceCheckpoint = false;
                    }
                }
            } finally {
                holds.remove(group);
                released.signalAll();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The process server takes the checkpoints of {@code group} (it spans several agents): this agent
     * takes none of its own for it during the next {@link #COORDINATED_CHECKPOINT_LEASE} (renewed by
     * every coordinated checkpoint), as they would cover only this agent's disks of the group.
     */
    public void coordinatedCheckpoint(GroupId group) {
        lock.lock();
        try {
            coordinatedUntil.put(group, System.nanoTime() + COORDINATED_CHECKPOINT_LEASE.toNanos());
        } finally {
            lock.unlock();
        }
    }

    /** How long a coordinated checkpoint suppresses this agent's own checkpoints of the group. */
    public static final Duration COORDINATED_CHECKPOINT_LEASE = Duration.ofSeconds(10);

    /** Waits while a coordinated tag holds {@code group}, ending the hold at its bound. Lock held. */
    private void awaitNotHeld(GroupId group) {
        boolean interrupted = false;
        Hold h;
        while ((h = holds.get(group)) != null && !closed) {
            long left = h.untilNanos() - System.nanoTime();
            if (left <= 0) {
                holds.remove(group);
                released.signalAll();
                LOG.log(Level.WARNING, "group " + group + ": hold for coordinated tag " + h.tagId()
                        + " reached its bound; writes go on, the tag will not be inserted");
                break;
            }
            try {
                released.awaitNanos(left);
            } catch (InterruptedException e) {
                interrupted = true; // keep waiting (the hold is bounded), restore the flag afterwards
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether a coordinated tag holds the writes of {@code group} now. */
    public boolean isHeld(GroupId group) {
        lock.lock();
        try {
            return holds.containsKey(group);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes one checkpoint: every group with a change since its last checkpoint, all of whose disks
     * can be consistent now, gets one CHECKPOINT tag (one id, time = now) on every disk, sealed under
     * the agent's lock. A group that cannot be consistent keeps its changes for the next try (DEBUG
     * log); an idle group gets none.
     *
     * @return the number of groups that got a checkpoint
     */
    public int checkpoint() {
        java.util.Set<DiskId> resyncing = resyncing();
        int n = 0;
        lock.lock();
        try {
            if (closed) {
                return 0;
            }
            Map<GroupId, List<DiskStream>> groups = new TreeMap<>();
            for (DiskStream s : disks.values()) {
                groups.computeIfAbsent(s.group, g -> new ArrayList<>()).add(s);
            }
            for (Map.Entry<GroupId, List<DiskStream>> e : groups.entrySet()) {
                List<DiskStream> members = e.getValue();
                if (members.stream().noneMatch(s -> s.writesSinceCheckpoint)) {
                    continue;
                }
                Long until = coordinatedUntil.get(e.getKey());
                if (until != null) {
                    if (until - System.nanoTime() > 0) {
                        continue; // the process server checkpoints this group across its agents
                    }
                    coordinatedUntil.remove(e.getKey());
                }
                String why = refusal(e.getKey(), members, resyncing, true);
                if (!why.isEmpty()) {
                    LOG.log(Level.DEBUG, "checkpoint of group " + e.getKey() + " skipped: " + why);
                    continue;
                }
                ConsistencyTag tag = new ConsistencyTag(java.util.UUID.randomUUID(), CHECKPOINT_NAME,
                        org.secondsite.api.model.TagKind.CHECKPOINT, clock.instant());
                try {
                    for (DiskStream s : members) {
                        s.openTags.add(tag);
                        s.seal();
                        s.writesSinceCheckpoint = false;
                    }
                    n++;
                } catch (IOException ex) {
                    LOG.log(Level.ERROR, "checkpoint of group " + e.getKey() + ": cannot persist sequence numbers: " + ex);
                }
            }
        } finally {
            lock.unlock();
        }
        return n;
    }

    /** The disks whose resync is comparing now (their replica is not consistent). Without the lock. */
    private java.util.Set<DiskId> resyncing() {
        List<DiskId> all;
        lock.lock();
        try {
            all = new ArrayList<>(disks.keySet());
        } finally {
            lock.unlock();
        }
        java.util.Set<DiskId> out = new java.util.HashSet<>();
        for (DiskId d : all) {
            ResyncProgress p = resync.progress(d);
            if (p != null && p.phase() == ResyncProgress.Phase.COMPARING) {
                out.add(d);
            }
        }
        return out;
    }

    /** The streams of {@code group}. Lock held. */
    private List<DiskStream> members(GroupId group) {
        List<DiskStream> out = new ArrayList<>();
        for (DiskStream s : disks.values()) {
            if (s.group.equals(group)) {
                out.add(s);
            }
        }
        return out;
    }

    private static List<DiskId> ids(List<DiskStream> streams) {
        List<DiskId> out = new ArrayList<>(streams.size());
        for (DiskStream s : streams) {
            out.add(s.disk);
        }
        return out;
    }

    /** Why a tag of {@code group} cannot be taken now, or empty. Lock held. */
    private String refusal(GroupId group, List<DiskStream> members, java.util.Set<DiskId> resyncing,
                           boolean needDisks) {
        if (members.isEmpty() && needDisks) {
            return "group " + group + " has no disk protected by this agent (groups here: " + groupsLocked() + ")";
        }
        if (holds.containsKey(group)) {
            return "group " + group + " is held for coordinated tag " + holds.get(group).tagId();
        }
        for (DiskStream s : members) {
            if (!s.tracking.consistent()) {
                return "disk " + s.disk + " of group " + group + " is not consistent now (" + (s.tracking.bitmapReason()
                        .isEmpty() ? "dirty regions wait to be replayed" : "bitmap mode: " + s.tracking.bitmapReason())
                        + "): a tag would be dropped";
            }
            if (resyncing.contains(s.disk)) {
                return "disk " + s.disk + " of group " + group + " is being resynchronized: its replica is not "
                        + "consistent before the resync completes";
            }
        }
        return "";
    }

    private String groupsLocked() {
        java.util.TreeSet<GroupId> out = new java.util.TreeSet<>();
        for (DiskStream s : disks.values()) {
            out.add(s.group);
        }
        return out.isEmpty() ? "none" : out.toString();
    }

    /**
     * Sets who takes the process server's TAG_PREPARE and TAG_RELEASE (see {@link Tagger}); until
     * then the agent answers TAG_PREPARE with TAG_REFUSED.
     */
    public void coordination(java.util.function.Consumer<Message> handler) {
        this.coordination = handler;
    }

    /** Queues a control message for the process server on the current connection (dropped if there is none). */
    public void sendControl(Message m) {
        ByteBuffer f = MessageCodec.encode(m);
        lock.lock();
        try {
            if (connection == null) {
                LOG.log(Level.INFO, "agent: no connection to the process server, " + m.type() + " dropped: " + m);
                return;
            }
            control.add(f);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Whether every batch of {@code disk} sealed so far is acknowledged and nothing is open. */
    public boolean isDrained(DiskId disk) {
        lock.lock();
        try {
            DiskStream s = disks.get(disk);
            return s != null && s.pending.isEmpty() && s.openRecords.isEmpty() && s.tracking.idle();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sets the source disk of {@code disk} (its capture session's), which replays of dirty regions
     * and resyncs read; until there is one, they wait. Attaching the first source of a disk this
     * agent never replicated starts its initial replication.
     */
    public void attachSource(DiskId disk, BlockDevice source) {
        lock.lock();
        try {
            DiskStream s = disks.get(disk);
            if (s != null) {
                s.tracking.source(source);
            }
        } finally {
            lock.unlock();
        }
        resync.attachSource(disk, source);
    }

    /** Forgets the source of {@code disk} if it is still {@code source} (its capture session ended). */
    public void detachSource(DiskId disk, BlockDevice source) {
        lock.lock();
        try {
            DiskStream s = disks.get(disk);
            if (s != null && s.tracking.source() == source) {
                s.tracking.source(null);
            }
        } finally {
            lock.unlock();
        }
        resync.detachSource(disk, source);
    }

    /** Number of connections established to the process server since start. */
    public long connectionCount() {
        lock.lock();
        try {
            return connections;
        } finally {
            lock.unlock();
        }
    }

    /** Closes the current connection (as a link failure would); the sender reconnects. */
    public void dropConnection() {
        FrameConnection c;
        lock.lock();
        try {
            c = connection;
        } finally {
            lock.unlock();
        }
        closeQuietly(c);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the agent is closed");
        }
    }

    /** One protected disk: its sink, open batch and sealed batches not yet acknowledged. */
    final class DiskStream implements ChangeSink {
        final DiskId disk;
        final GroupId group;
        final long size;
        List<ChangeRecord> openRecords = new ArrayList<>();
        final List<ConsistencyTag> openTags = new ArrayList<>();
        long openDataBytes;
        Instant openFirst;
        Instant openLast;
        long openSinceNanos;
        final ArrayDeque<Sealed> pending = new ArrayDeque<>();
        long bufferedBytes;
        long lastSealed;
        long acked;
        long sentUpTo;
        /**
         * Data bytes of the batches this disk numbered since the agent started (workload writes, and
         * source reads of resyncs and replays): what the master target applies, each sequence once.
         */
        long bytesIn;
        /** Frame bytes of the batches the process server acknowledged as durable (each batch once). */
        long bytesOut;
        boolean removed;
        /** A change entered since the group's last checkpoint. Guarded by lock. */
        boolean writesSinceCheckpoint;
        final DiskTracking tracking;

        DiskStream(DiskId disk, GroupId group, long size) {
            this.disk = disk;
            this.group = group;
            this.size = size;
            this.tracking = tracker.open(this);
        }

        @Override
        public void accept(ChangeRecord change) throws IOException {
            Objects.requireNonNull(change, "change");
            if (change.kind() == ChangeKind.WRITE && change.length() > options.batchBytes()) {
                ByteBuffer data = change.data();
                for (int off = 0; off < change.length(); off += options.batchBytes()) {
                    int n = Math.min(options.batchBytes(), change.length() - off);
                    add(ChangeRecord.write(change.offset() + off, data.slice(off, n)));
                }
            } else {
                add(change);
            }
            tracking.awaitDurable(); // the change's regions are in the dirty-region log on disk
        }

        /**
         * Marks {@code [offset, offset+length)} dirty in the persisted log and schedules it to be
         * read from the source and sent (without comparison); returns once the mark is durable.
         * For the resync engine and operators; also what a DIRTY change record does.
         */
        void markForReplay(long offset, long length) throws IOException {
            lock.lock();
            try {
                if (closed || removed) {
                    throw new IOException("disk " + disk + " is no longer protected by this agent");
                }
                tracking.markForReplay(offset, length);
            } finally {
                lock.unlock();
            }
            tracking.awaitDurable();
        }

        private void add(ChangeRecord r) throws IOException {
            add(r, null);
        }

        /**
         * Appends {@code r} to the open batch, or, in bitmap mode, only marks its regions dirty (see
         * {@link Tracker}); never waits for memory. With a {@code guard}, appends only if no write
         * overlapping {@code r} was accepted since the guard was opened, and returns whether it did.
         */
        private boolean add(ChangeRecord r, SourceRead guard) throws IOException {
            long cost = (r.hasData() ? r.length() : 0) + RECORD_OVERHEAD;
            lock.lock();
            try {
                awaitNotHeld(group); // a coordinated tag holds the group: at most its bound
                if (closed || removed) {
                    throw new IOException("disk " + disk + " is no longer protected by this agent");
                }
                if (guard != null && writtenSince(guard.token, r.offset(), r.offset() + r.length())) {
                    return false;
                }
                writesSinceCheckpoint = true;
                if (!readers.isEmpty() && guard == null) {
                    recentWrites.addLast(new long[] {++writeCounter, r.offset(), r.offset() + r.length()});
                }
                if (!tracking.admit(r, cost, guard)) {
                    return true; // tracked as dirty regions only
                }
                int data = r.hasData() ? r.length() : 0;
                if (!openRecords.isEmpty() && (openDataBytes + data > options.batchBytes()
                        || openRecords.size() >= WireProtocol.MAX_RECORDS)) {
                    seal();
                }
                Instant now = clock.instant();
                if (openRecords.isEmpty()) {
                    openFirst = now;
                    openSinceNanos = System.nanoTime();
                    changed.signalAll(); // the cutter watches the new batch's age
                }
                openLast = now;
                openRecords.add(r);
                openDataBytes += data;
                bufferedBytes += cost;
                tracking.appended();
                if (openDataBytes >= options.batchBytes()) {
                    seal();
                }
                return true;
            } finally {
                lock.unlock();
            }
        }

        // ---- reads of the source that enter the stream (resync, dirty-region replay)

        /** Open optimistic source reads: token -> number of readers holding it. */
        private final TreeMap<Long, Integer> readers = new TreeMap<>();
        /** Writes accepted while a source read was open: {counter, from, to}, oldest first. */
        private final ArrayDeque<long[]> recentWrites = new ArrayDeque<>();
        private long writeCounter;

        /**
         * Starts an optimistic read of the source: read the range after this, then
         * {@link #appendSourceRead} it. Between the two a workload write to the same range may be
         * applied to the disk and accepted here; the append then refuses the (possibly stale) data
         * and the caller reads again. This needs the source to never lag the stream: a driver that
         * accepts a change before writing it to the disk (as {@code nbd} does, so nothing reaches the
         * disk untracked) makes its source's reads wait for accepted changes to reach the disk.
         */
        SourceRead openSourceRead() {
            lock.lock();
            try {
                long token = writeCounter;
                readers.merge(token, 1, Integer::sum);
                return new SourceRead(this, token);
            } finally {
                lock.unlock();
            }
        }

        /**
         * Appends data read from the source at {@code offset} as a WRITE record, unless a write
         * overlapping it was accepted since {@code read} was opened.
         *
         * @return {@code false} when the data may be stale: read the range again with a new
         *         {@link SourceRead}
         */
        boolean appendSourceRead(SourceRead read, long offset, ByteBuffer data) throws IOException {
            if (read.stream != this || read.closed) {
                throw new IllegalArgumentException("source read of another disk or already closed");
            }
            ChangeRecord r = ChangeRecord.write(offset, data);
            if (r.length() > options.batchBytes()) {
                throw new IllegalArgumentException("a source read appends at most batchBytes (" + options.batchBytes()
                        + ") at once, not " + r.length());
            }
            return add(r, read);
        }

        /** Whether a write overlapping [from, to) was accepted after {@code token}. Lock held. */
        private boolean writtenSince(long token, long from, long to) {
            for (Iterator<long[]> it = recentWrites.descendingIterator(); it.hasNext(); ) {
                long[] w = it.next();
                if (w[0] <= token) {
                    break;
                }
                if (w[1] < to && from < w[2]) {
                    return true;
                }
            }
            return false;
        }

        void closeSourceRead(SourceRead read) {
            lock.lock();
            try {
                if (read.closed) {
                    return;
                }
                read.closed = true;
                readers.computeIfPresent(read.token, (k, n) -> n == 1 ? null : n - 1);
                long oldest = readers.isEmpty() ? Long.MAX_VALUE : readers.firstKey();
                while (!recentWrites.isEmpty() && recentWrites.peekFirst()[0] <= oldest) {
                    recentWrites.pollFirst();
                }
            } finally {
                lock.unlock();
            }
        }

        // ---- online verification (ResyncJob in compare-only mode, docs/PROTOCOL.md §5.4)

        /** Whether a workload write overlapping [from, to) was accepted since {@code read} opened (still open). */
        boolean writtenSince(SourceRead read, long from, long to) {
            lock.lock();
            try {
                if (read.stream != this || read.closed) {
                    throw new IllegalArgumentException("source read of another disk or already closed");
                }
                return writtenSince(read.token, from, to);
            } finally {
                lock.unlock();
            }
        }

        /**
         * Seals the open batch and returns the newest sequence, which then holds every change accepted
         * so far; -1 if some are in the change cache (numbered when reloaded), -2 if some regions are
         * only marked dirty (bitmap mode, replay) and not yet in the stream.
         */
        long sealAll() throws IOException {
            lock.lock();
            try {
                seal();
                return !tracking.replay.isEmpty() || !tracking.replaying.isEmpty() ? -2
                        : !tracking.cache.isEmpty() ? -1 : lastSealed;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void flush() throws IOException {
            lock.lock();
            try {
                seal();
            } finally {
                lock.unlock();
            }
        }

        /** Cuts the open batch. Called with the lock held. */
        void seal() throws IOException {
            if (openRecords.isEmpty() && openTags.isEmpty()) {
                return;
            }
            Instant first = openFirst != null ? openFirst : clock.instant();
            Instant last = openLast != null ? openLast : first;
            long cost = openDataBytes + (long) openRecords.size() * RECORD_OVERHEAD;
            List<ConsistencyTag> tags = tracking.consistentTags(openTags);
            if (!openRecords.isEmpty() || !tags.isEmpty()) {
                if (!tracking.place(openRecords, tags, first, last, cost)) { // else: to the change cache or dirty
                    enqueue(openRecords, tags, first, last, cost, tracking.openMaxStamp());
                }
            }
            openRecords = new ArrayList<>();
            openTags.clear();
            openDataBytes = 0;
            openFirst = null;
            openLast = null;
            changed.signalAll();
        }

        /**
         * Numbers a sealed batch and queues it in memory for the sender; its data bytes count in
         * {@link #bytesIn} now, once: a batch given up as dirty regions before it got a sequence never
         * counts (its regions count when they are replayed). Lock held.
         */
        void enqueue(List<ChangeRecord> records, List<ConsistencyTag> tags, Instant first, Instant last, long cost,
                     long maxStamp) throws IOException {
            long seq = sequences.next(disk);
            DeltaBatch batch = new DeltaBatch(disk, group, seq, first, last, records, tags);
            pending.addLast(new Sealed(batch, cost, maxStamp));
            lastSealed = seq;
            bytesIn += batch.dataBytes();
        }

        /** Frees batches up to {@code seq}. Called with the lock held. */
        void acknowledged(long seq) {
            while (!pending.isEmpty() && pending.peekFirst().batch.sequence() <= seq) {
                Sealed b = pending.pollFirst();
                bufferedBytes -= b.cost;
                tracking.acked(b.maxStamp);
                if (b.sentBytes > 0) {
                    inflightBytes -= b.sentBytes;
                    bytesOut += b.sentBytes;
                }
            }
            acked = Math.max(acked, seq);
            changed.signalAll();
        }

        /** Aligns the stream with the process server's durable point {@code durable}. Lock held. */
        void resume(long durable) throws IOException {
            acknowledged(durable);
            for (Sealed b : pending) {
                b.sentBytes = 0;
            }
            acked = durable;
            if (!pending.isEmpty() && pending.peekFirst().batch.sequence() != durable + 1) {
                LOG.log(Level.INFO, "disk " + disk + ": renumbering " + pending.size() + " batch(es) from "
                        + pending.peekFirst().batch.sequence() + " to " + (durable + 1)
                        + ", directly above the process server's durable sequence");
                long next = durable + 1;
                ArrayDeque<Sealed> renumbered = new ArrayDeque<>();
                for (Sealed b : pending) {
                    DeltaBatch o = b.batch;
                    renumbered.addLast(new Sealed(new DeltaBatch(o.disk(), o.group(), next++, o.firstWrite(),
                            o.lastWrite(), o.records(), o.tags()), b.cost, b.maxStamp));
                }
                pending.clear();
                pending.addAll(renumbered);
            }
            long next = durable + 1 + pending.size();
            lastSealed = next - 1;
            sentUpTo = durable;
            sequences.set(disk, next);
        }

        DiskReplicationStatus status() {
            Instant oldest = !pending.isEmpty() ? pending.peekFirst().batch.firstWrite() : openFirst;
            Instant outside = tracking.oldestOutsideMemory();
            oldest = oldest == null || outside != null && outside.isBefore(oldest) ? outside : oldest;
            String message = tracking.bitmapReason().isEmpty() ? linkMessage
                    : (linkMessage.isEmpty() ? "" : linkMessage + "; ") + "bitmap mode: " + tracking.bitmapReason();
            return new DiskReplicationStatus(disk, Stage.AGENT, linkState, message, lastSealed, acked,
                    bufferedBytes + tracking.cache.bytes(), oldest, null, bytesIn, bytesOut, tracking.tracking(),
                    latest(tracking.progress(), resync.progress(disk)));
        }
    }

    /** An open optimistic read of a disk's source; see {@link DiskStream#openSourceRead()}. Close it when done. */
    static final class SourceRead implements AutoCloseable {
        final DiskStream stream;
        final long token;
        boolean closed;
        /** Set when the append only marked the range dirty (bitmap mode): it will be replayed later. */
        boolean dirtyOnly;

        SourceRead(DiskStream stream, long token) {
            this.stream = stream;
            this.token = token;
        }

        @Override
        public void close() {
            stream.closeSourceRead(this);
        }
    }

    /** Of a dirty-region replay and a hash-comparing resync, the one that started last (either may be null). */
    static ResyncProgress latest(ResyncProgress replay, ResyncProgress compare) {
        if (replay == null || compare == null) {
            return replay == null ? compare : replay;
        }
        return compare.started().isAfter(replay.started()) ? compare : replay;
    }

    /** A sealed batch waiting for the process server's acknowledgement. */
    static final class Sealed {
        final DeltaBatch batch;
        final long cost;
        /** The highest change-tracking stamp in it (see {@link DiskTracking}). */
        final long maxStamp;
        /** Bytes of its frame on the current connection; 0 while not sent on it. */
        long sentBytes;

        Sealed(DeltaBatch batch, long cost, long maxStamp) {
            this.batch = batch;
            this.cost = cost;
            this.maxStamp = maxStamp;
        }
    }

    // ------------------------------------------------------------------ batch age

    private void cutLoop() {
        lock.lock();
        try {
            while (!closed) {
                long now = System.nanoTime();
                long age = options.batchAge().toNanos();
                long wait = age;
                for (DiskStream s : disks.values()) {
                    if (!s.openRecords.isEmpty()) {
                        long due = s.openSinceNanos + age - now;
                        if (due <= 0) {
                            try {
                                s.seal();
                            } catch (IOException e) {
                                LOG.log(Level.ERROR, "disk " + s.disk + ": cannot persist its sequence numbers", e);
                            }
                        } else {
                            wait = Math.min(wait, due);
                        }
                    }
                }
                changed.awaitNanos(Math.max(wait, TimeUnit.MILLISECONDS.toNanos(1)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ sender

    private void sendLoop() {
        long backoff = options.backoffMin().toNanos();
        String lastFailure = null; // logged at WARNING once, then at DEBUG until it changes or the link works
        while (true) {
            lock.lock();
            try {
                if (closed) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            boolean progressed = false;
            try {
                Transport transport = transports.apply(options.transport());
                TransportSecurity sec = security.get();
                if (transport == null || sec == null) {
                    setLink("waiting", transport == null ? "transport '" + options.transport() + "' is not available"
                            : "the component identity (TLS material) is not available");
                } else {
                    progressed = session(transport, sec);
                }
            } catch (IOException | RuntimeException e) {
                lock.lock();
                try {
                    if (closed) {
                        return;
                    }
                } finally {
                    lock.unlock();
                }
                String failure = "link to process server " + options.processServer() + " failed: " + e;
                setLinkIfNotFull("disconnected", failure);
                LOG.log(failure.equals(lastFailure) ? Level.DEBUG : Level.WARNING, "agent: " + failure
                        + (failure.equals(lastFailure) ? "" : " (retrying; the same failure again is logged at DEBUG)"));
                lastFailure = failure;
            }
            if (progressed) {
                backoff = options.backoffMin().toNanos();
                lastFailure = null;
            }
            lock.lock();
            try {
                long deadline = System.nanoTime() + backoff;
                while (!closed) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    changed.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                lock.unlock();
            }
            backoff = Math.min(options.backoffMax().toNanos(), backoff * 2);
        }
    }

    private void setLink(String state, String message) {
        lock.lock();
        try {
            linkState = state;
            linkMessage = message;
        } finally {
            lock.unlock();
        }
    }

    private void setLinkIfNotFull(String state, String message) {
        lock.lock();
        try {
            if (!"receiver-full".equals(linkState)) {
                linkState = state;
                linkMessage = message;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * One connection: handshake, resume, then send until the connection fails.
     *
     * @return whether at least one acknowledgement arrived (resets the back-off)
     */
    private boolean session(Transport transport, TransportSecurity sec) throws IOException {
        InetSocketAddress target = options.processServer().isUnresolved()
                ? new InetSocketAddress(options.processServer().getHostString(), options.processServer().getPort())
                : options.processServer();
        if (target.isUnresolved()) {
            throw new IOException("cannot resolve process server host '" + target.getHostString() + "'");
        }
        FrameConnection c = transport.connect(target, sec, options.connectTimeout());
        Reader reader = null;
        try {
            lock.lock();
            try {
                if (closed) {
                    return false;
                }
                connection = c;
                topologyChanged = false;
                control.clear(); // answers for an earlier connection's coordinator are void there
            } finally {
                lock.unlock();
            }
            List<String> local = new ArrayList<>();
            Compressor preferred = compressors.apply(options.compressor());
            if (preferred != null) {
                local.add(preferred.name());
            }
            if (!local.contains(Compressors.NONE_NAME)) {
                local.add(Compressors.NONE_NAME);
            }
            c.send(MessageCodec.encode(new Message.Hello(componentId.get(), Role.AGENT, local,
                    List.of(WireProtocol.CAPABILITY_RESYNC_HASH, WireProtocol.CAPABILITY_TAG_COORDINATION))));
            Message first = receiveControl(c);
            if (!(first instanceof Message.HelloAck ack)) {
                throw new IOException("process server answered HELLO with " + first.type() + " instead of HELLO_ACK");
            }
            if (!ack.accepted()) {
                setLink("refused", "process server " + ack.componentId() + " refused this agent: " + ack.reason());
                throw new IOException("process server " + ack.componentId() + " refused this agent: " + ack.reason());
            }
            Compressor compressor = preferred != null && ack.compressors().contains(preferred.name())
                    ? preferred : Compressors.NONE;

            List<DiskId> asked;
            lock.lock();
            try {
                asked = new ArrayList<>(disks.keySet());
            } finally {
                lock.unlock();
            }
            c.send(MessageCodec.encode(new Message.ResumeQuery(asked)));
            Message m = receiveControl(c);
            if (!(m instanceof Message.ResumePoint point)) {
                throw new IOException("process server answered RESUME_QUERY with " + m.type());
            }
            List<Message.DiskInfo> infos = new ArrayList<>();
            lock.lock();
            try {
                inflightBytes = 0;
                for (DiskStream s : disks.values()) {
                    s.resume(point.durable().getOrDefault(s.disk, 0L));
                    infos.add(new Message.DiskInfo(s.disk, s.group, s.size));
                }
                connections++;
                if (!"receiver-full".equals(linkState)) { // an ACK ends that state
                    linkState = "replicating";
                    linkMessage = "";
                }
            } finally {
                lock.unlock();
            }
            for (Message.DiskInfo info : infos) {
                c.send(MessageCodec.encode(info));
            }
            reader = new Reader(c);
            reader.start();
            resync.connected(); // every disk is announced: hash queries may go
            pump(c, compressor, reader);
            return reader.acks > 0;
        } finally {
            resync.disconnected();
            closeQuietly(c);
            lock.lock();
            try {
                if (connection == c) {
                    connection = null;
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            if (reader != null) {
                try {
                    reader.join(TimeUnit.SECONDS.toMillis(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** Sends batches within the window and heartbeats when idle, until the connection ends. */
    private void pump(FrameConnection c, Compressor compressor, Reader reader) throws IOException {
        BatchEncoder encoder = new BatchEncoder();
        ByteBuffer frame = ByteBuffer.allocateDirect(WireProtocol.MAX_FRAME_SIZE);
        long heartbeatNanos = options.heartbeat().toNanos();
        long lastSend = System.nanoTime();
        while (true) {
            if (resync.sendQueued(c)) {
                lastSend = System.nanoTime();
            }
            for (ByteBuffer f; (f = control.poll()) != null;) {
                c.send(f);
                lastSend = System.nanoTime();
            }
            DeltaBatch next = null;
            Sealed chosen = null;
            boolean queries = false;
            lock.lock();
            try {
                while (true) {
                    if (closed || reader.ended != null || topologyChanged) {
                        if (reader.ended != null && !(reader.ended instanceof java.io.EOFException)) {
                            throw reader.ended;
                        }
                        return;
                    }
                    if (System.nanoTime() - reader.lastReceived > 3 * heartbeatNanos) {
                        throw new IOException("no frame from the process server for three heartbeat intervals ("
                                + options.heartbeat().multipliedBy(3) + "): link lost");
                    }
                    if (resync.hasOutgoing() || !control.isEmpty()) {
                        queries = true; // hash queries and tag answers go first, never behind a full window
                        break;
                    }
                    for (DiskStream s : roundRobin()) {
                        for (Sealed b : s.pending) {
                            if (b.batch.sequence() > s.sentUpTo) {
                                if (b.batch.sequence() == s.sentUpTo + 1) {
                                    chosen = b;
                                }
                                break;
                            }
                        }
                        if (chosen != null) {
                            break;
                        }
                    }
                    if (chosen != null && (inflightBytes == 0
                            || inflightBytes + BatchEncoder.maxFrameLength(chosen.batch, compressor)
                            <= options.windowBytes())) {
                        next = chosen.batch;
                        break;
                    }
                    chosen = null;
                    long idle = heartbeatNanos - (System.nanoTime() - lastSend);
                    if (idle <= 0) {
                        break;
                    }
                    changed.awaitNanos(Math.min(idle, TimeUnit.MILLISECONDS.toNanos(250)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("agent sender interrupted");
            } finally {
                lock.unlock();
            }
            if (queries) {
                continue;
            }
            if (next == null) {
                c.send(MessageCodec.encode(new Message.Heartbeat(clock.instant(), figures())));
                lastSend = System.nanoTime();
                continue;
            }
            frame.clear();
            int len = encoder.encode(next, compressor, frame);
            frame.flip();
            lock.lock();
            try {
                DiskStream s = disks.get(next.disk());
                if (s == null || s.pending.isEmpty() || !s.pending.contains(chosen)) {
                    continue; // acknowledged or unprotected meanwhile
                }
                chosen.sentBytes = len;
                lastServed = s.disk;
                inflightBytes += len;
                s.sentUpTo = next.sequence();
            } finally {
                lock.unlock();
            }
            c.send(frame);
            lastSend = System.nanoTime();
        }
    }

    /** The disks, starting after the one served last, so that a busy disk does not starve the others. */
    private List<DiskStream> roundRobin() {
        if (lastServed == null) {
            return new ArrayList<>(disks.values());
        }
        List<DiskStream> out = new ArrayList<>(disks.tailMap(lastServed, false).values());
        out.addAll(disks.headMap(lastServed, true).values());
        return out;
    }

    private Map<String, Long> figures() {
        lock.lock();
        try {
            long backlog = 0;
            long batches = 0;
            Instant oldest = null;
            for (DiskStream s : disks.values()) {
                backlog += s.bufferedBytes;
                batches += s.pending.size();
                if (!s.pending.isEmpty()) {
                    Instant f = s.pending.peekFirst().batch.firstWrite();
                    oldest = oldest == null || f.isBefore(oldest) ? f : oldest;
                }
            }
            SortedMap<String, Long> f = new TreeMap<>();
            f.put("backlog.bytes", backlog);
            f.put("backlog.batches", batches);
            f.put("rpo.micros", oldest == null ? 0 : Math.max(0, Duration.between(oldest, clock.instant()).toNanos() / 1000));
            return f;
        } finally {
            lock.unlock();
        }
    }

    private static Message receiveControl(FrameConnection c) throws IOException {
        while (true) {
            ByteBuffer f = c.receive();
            if (f == null) {
                throw new java.io.EOFException("process server closed the connection");
            }
            Message m = MessageCodec.decode(f);
            if (m instanceof Message.ErrorMessage e) {
                throw new IOException("process server sent ERROR " + e.code() + ": " + e.text());
            }
            if (!(m instanceof Message.Heartbeat)) {
                return m;
            }
        }
    }

    /** Reads ACK, RESEND, ERROR and HEARTBEAT frames of one connection. */
    private final class Reader extends Thread {
        private final FrameConnection c;
        volatile IOException ended;
        volatile long lastReceived = System.nanoTime();
        volatile long acks;

        Reader(FrameConnection c) {
            super("secondsite-agent-receiver");
            setDaemon(true);
            this.c = c;
        }

        @Override
        public void run() {
            IOException end;
            try {
                while (true) {
                    ByteBuffer f = c.receive();
                    if (f == null) {
                        end = new java.io.EOFException("process server closed the connection");
                        break;
                    }
                    lastReceived = System.nanoTime();
                    if (MessageCodec.type(f) == MessageType.BATCH) {
                        end = new IOException("process server sent a BATCH frame to the agent: protocol violation");
                        break;
                    }
                    Message m = MessageCodec.decode(f);
                    if (m instanceof Message.Ack a) {
                        lock.lock();
                        try {
                            DiskStream s = disks.get(a.disk());
                            if (s != null) {
                                s.acknowledged(a.durableSequence());
                            }
                            acks++;
                            if ("receiver-full".equals(linkState)) {
                                linkState = "replicating";
                                linkMessage = "";
                            }
                        } finally {
                            lock.unlock();
                        }
                    } else if (m instanceof Message.Hashes h) {
                        resync.answer(h);
                    } else if (m instanceof Message.TagPrepare || m instanceof Message.TagRelease) {
                        java.util.function.Consumer<Message> handler = coordination;
                        if (handler != null) {
                            handler.accept(m);
                        } else if (m instanceof Message.TagPrepare p) {
                            sendControl(new Message.TagRefused(p.tag().id(), "this agent takes no coordinated tags "
                                    + "(no tagger is set up)"));
                        } else {
                            Message.TagRelease r = (Message.TagRelease) m;
                            sendControl(new Message.TagDone(r.tagId(), false, "no tagger is set up"));
                        }
                    } else if (m instanceof Message.Resend r) {
                        LOG.log(Level.INFO, "agent: process server asks disk " + r.disk() + " again from sequence "
                                + r.fromSequence() + " (" + r.reason() + ": " + r.text() + "); resuming on a new connection");
                        end = new IOException("RESEND " + r.disk() + " from " + r.fromSequence() + " (" + r.reason()
                                + ": " + r.text() + ")");
                        break;
                    } else if (m instanceof Message.ErrorMessage e) {
                        if (e.code() == ErrorCode.RECEIVER_FULL) {
                            setLink("receiver-full", "process server cannot take more data now (" + e.text()
                                    + "); holding every batch and retrying");
                            LOG.log(Level.WARNING, "agent: process server is full, holding data and retrying: " + e.text());
                        }
                        end = new IOException("process server sent ERROR " + e.code() + ": " + e.text());
                        break;
                    }
                }
            } catch (IOException e) {
                end = e;
            }
            ended = end;
            closeQuietly(c);
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    // ------------------------------------------------------------------ status, close

    @Override
    public Stage stage() {
        return Stage.AGENT;
    }

    @Override
    public List<DiskReplicationStatus> disks() {
        lock.lock();
        try {
            List<DiskReplicationStatus> out = new ArrayList<>(disks.size());
            for (DiskStream s : disks.values()) {
                out.add(s.status());
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Stops sending and wakes blocked writers (their accept() then fails). */
    @Override
    public void close() {
        FrameConnection c;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            c = connection;
            changed.signalAll();
            released.signalAll();
        } finally {
            lock.unlock();
        }
        synchronized (checkpoints) {
            checkpoints.shutdownNow();
        }
        closeQuietly(c);
        tracker.stop();
        resync.close();
        try {
            sender.join(TimeUnit.SECONDS.toMillis(10));
            cutter.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lock.lock();
        try {
            for (DiskStream s : disks.values()) {
                s.tracking.close();
            }
        } finally {
            lock.unlock();
        }
    }

    static void closeQuietly(Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "closing " + c + ": " + e);
            }
        }
    }

    /** For tests: the change tracking. */
    Tracker tracker() {
        return tracker;
    }

    /** For tests: the disk's batches held in memory (sealed, not acknowledged), in order. */
    List<DeltaBatch> pendingBatches(DiskId disk) {
        lock.lock();
        try {
            List<DeltaBatch> out = new ArrayList<>();
            DiskStream s = disks.get(disk);
            if (s != null) {
                for (Sealed b : s.pending) {
                    out.add(b.batch);
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** For tests: the disk streams' pending batch sequences. */
    List<Long> pendingSequences(DiskId disk) {
        lock.lock();
        try {
            List<Long> out = new ArrayList<>();
            DiskStream s = disks.get(disk);
            if (s != null) {
                for (Iterator<Sealed> it = s.pending.iterator(); it.hasNext();) {
                    out.add(it.next().batch.sequence());
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }
}
