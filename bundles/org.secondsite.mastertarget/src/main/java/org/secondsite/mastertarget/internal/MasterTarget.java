package org.secondsite.mastertarget.internal;

import java.io.Closeable;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;

import org.secondsite.api.appliance.Role;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.ChangeKind;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.api.storage.ObjectStore;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.api.storage.Volume;
import org.secondsite.api.transport.FrameConnection;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.api.transport.TransportServer;
import org.secondsite.mastertarget.internal.retention.PointCatalogue;
import org.secondsite.mastertarget.internal.retention.PointDetail;
import org.secondsite.mastertarget.internal.retention.Retention;
import org.secondsite.mastertarget.internal.retention.RetentionSettings;
import org.secondsite.mastertarget.internal.retention.RetentionStatus;
import org.secondsite.mastertarget.internal.retention.UnknownPointException;
import org.secondsite.wire.BatchDecoder;
import org.secondsite.wire.BatchHeader;
import org.secondsite.wire.Compressors;
import org.secondsite.wire.ErrorCode;
import org.secondsite.wire.Message;
import org.secondsite.wire.MessageCodec;
import org.secondsite.wire.MessageType;
import org.secondsite.wire.RecordChecksumException;
import org.secondsite.wire.ResendReason;
import org.secondsite.wire.UnknownCompressorException;
import org.secondsite.wire.WireFormatException;
import org.secondsite.wire.WireProtocol;

/**
 * The master target's apply path, plain Java. Each process-server connection has a
 * receiving thread (header checks, sequence continuity, queueing) and an applying thread
 * that applies queued batches in order to replica volumes of the configured
 * {@link StorageBackend} with group commit: apply every queued batch (up to
 * {@code groupBytes}), flush the touched volumes, persist the last applied sequence and
 * newest write time of every disk with one atomic {@link ObjectStore#put}, then ACK.
 *
 * <p>Sequences are checked twice: on receipt (a gap gets RESEND(expected, GAP), a sequence
 * already durable gets its ACK again) and, under the apply lock, before applying (a
 * sequence already applied is skipped), so two connections of one process server never
 * apply a batch twice. A frame failing its CRC or a field check gets ERROR MALFORMED_FRAME;
 * a record failing its CRC gets RESEND(seq, BAD_CRC); both close the connection, and the
 * process server resumes from RESUME_POINT. A batch whose compressor is missing is held,
 * with everything behind it, until a compressor of that name is registered
 * ({@link #compressorsChanged}); nothing is dropped. A DIRTY record is refused (resync is
 * the business of a later stage).
 *
 * <p>After a crash the volumes may hold writes of batches above the persisted sequence
 * (applied but not committed); the process server resends those batches and applying them
 * again in order yields the same content, so a restart resumes exactly.
 */
public final class MasterTarget implements Closeable, ReplicationMonitor {
    private static final System.Logger LOG = System.getLogger(MasterTarget.class.getName());
    static final String NAMESPACE = "mastertarget";
    static final String STATE_OBJECT = "replication.state";

    /**
     * @param listen where to listen for process servers
     * @param transport transport name
     * @param storage storage backend name
     * @param groupBytes bytes of record data applied per group commit, at most
     * @param hashThreads threads that read and hash replica ranges for HASH_QUERY (resync)
     * @param hashWait how long a HASH_QUERY may wait for its sequence to be applied before it is
     *        answered RETRY
     */
    public record Options(InetSocketAddress listen, String transport, String storage, long groupBytes,
                          int hashThreads, java.time.Duration hashWait, RetentionSettings retention,
                          long journalSegmentBytes) {
        public static final int DEFAULT_HASH_THREADS = 2;
        public static final java.time.Duration DEFAULT_HASH_WAIT = java.time.Duration.ofSeconds(60);

        public Options {
            Objects.requireNonNull(listen, "listen");
            Objects.requireNonNull(transport, "transport");
            Objects.requireNonNull(storage, "storage");
            if (groupBytes < 1) {
                throw new IllegalArgumentException("groupBytes must be positive: " + groupBytes);
            }
            if (hashThreads < 1 || hashThreads > 64) {
                throw new IllegalArgumentException("hashThreads must be 1..64: " + hashThreads);
            }
            if (hashWait.isNegative() || hashWait.isZero()) {
                throw new IllegalArgumentException("hashWait must be positive: " + hashWait);
            }
            Objects.requireNonNull(retention, "retention");
            if (journalSegmentBytes < 4L << 20 || journalSegmentBytes > 1L << 30) {
                throw new IllegalArgumentException("journalSegmentBytes must be 4 MiB..1 GiB: " + journalSegmentBytes);
            }
        }

        /** Options with the default retention settings. */
        public Options(InetSocketAddress listen, String transport, String storage, long groupBytes, int hashThreads,
                       java.time.Duration hashWait) {
            this(listen, transport, storage, groupBytes, hashThreads, hashWait, RetentionSettings.defaults(),
                    Retention.SEGMENT_BYTES);
        }

        /** Options with the default resync settings. */
        public Options(InetSocketAddress listen, String transport, String storage, long groupBytes) {
            this(listen, transport, storage, groupBytes, DEFAULT_HASH_THREADS, DEFAULT_HASH_WAIT);
        }

        public Options withHashing(int threads, java.time.Duration wait) {
            return new Options(listen, transport, storage, groupBytes, threads, wait, retention, journalSegmentBytes);
        }

        /** Retention window and space cap, and the journal's segment size. */
        public Options withRetention(RetentionSettings settings, long segmentBytes) {
            return new Options(listen, transport, storage, groupBytes, hashThreads, hashWait, settings, segmentBytes);
        }
    }

    private final Options options;
    private final Supplier<String> componentId;
    private final Function<String, Transport> transports;
    private final Supplier<TransportSecurity> security;
    private final Function<String, StorageBackend> storages;
    private final Function<String, Compressor> compressors;
    private final Clock clock;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Held while a group is applied and committed. */
    private final ReentrantLock applyLock = new ReentrantLock();
    // ---- guarded by lock ----
    private final TreeMap<DiskId, Disk> disks = new TreeMap<>();
    /**
     * Byte counters per disk since this master target started. Kept apart from {@link #disks},
     * whose entries are rebuilt from the stored state on every (re)load: a reload after a failure,
     * one that itself failed half way, or a storage backend that went away and returned must not
     * reset them. Guarded by lock.
     */
    private final Map<DiskId, Counters> counters = new HashMap<>();
    private StorageBackend loadedFrom;
    /** Journal, points and pruning of the loaded backend. */
    private Retention retention;
    private volatile RetentionSettings retentionSettings;
    private long lastPruneMillis;
    private boolean closed;
    private long compressorGeneration;
    private final Map<String, Session> sessionsByPeer = new HashMap<>();

    private TransportServer server;
    private String serverTransport;
    private final Map<FrameConnection, Session> sessions = new ConcurrentHashMap<>();
    private final ReplicaHasher hasher;

    public MasterTarget(Options options, Supplier<String> componentId, Function<String, Transport> transports,
                        Supplier<TransportSecurity> security, Function<String, StorageBackend> storages,
                        Function<String, Compressor> compressors, Clock clock) {
        this.options = Objects.requireNonNull(options, "options");
        this.componentId = componentId;
        this.transports = transports;
        this.security = security;
        this.storages = storages;
        this.compressors = Compressors.withNone(compressors);
        this.clock = clock;
        this.retentionSettings = options.retention();
        this.hasher = new ReplicaHasher(new ReplicaHasher.Replicas() {
            @Override
            public ReplicaHasher.Replica replica(DiskId disk) {
                lock.lock();
                try {
                    Disk d = disks.get(disk);
                    return d == null || d.volume == null ? null : new ReplicaHasher.Replica(d.volume, d.size, d.applied);
                } finally {
                    lock.unlock();
                }
            }

            @Override
            public long applied(DiskId disk) {
                lock.lock();
                try {
                    Disk d = disks.get(disk);
                    return d == null || d.volume == null ? -1 : d.applied;
                } finally {
                    lock.unlock();
                }
            }
        }, options.hashThreads(), options.hashWait());
        ensureListening();
    }

    public Options options() {
        return options;
    }

    /** Per-disk replica state. */
    private static final class Disk {
        final DiskId disk;
        GroupId group;
        long size;
        long durable;
        long newestWriteMicros = Long.MIN_VALUE;
        long applied;
        long appliedNewest = Long.MIN_VALUE;
        Volume volume;
        long queuedBytes;
        final ArrayDeque<Instant> queuedFirstWrites = new ArrayDeque<>();
        final Counters counters;
        String state = "idle";
        String message = "";

        Disk(DiskId disk, Counters counters) {
            this.disk = disk;
            this.counters = counters;
        }
    }

    /**
     * A disk's byte counters since this master target started (see {@link DiskReplicationStatus}).
     * {@code bytesIn}: bytes of the BATCH frames taken in (queued for applying), as received (WAN
     * compressed); a frame of a sequence already queued or applied (a resend after a reconnect) is
     * not taken in and not counted. {@code bytesOut}: data bytes of the records of the batches
     * applied, each sequence once: a batch applied but rolled back by a reload after a failure is
     * counted again when it is applied again, never twice.
     */
    private static final class Counters {
        long bytesIn;
        long bytesOut;
        /** {@link #bytesOut} as of the last commit: what a reload (which rolls back to the commit) keeps. */
        long committedBytesOut;
    }

    /** A disk entry with this master target's counters of that disk. Lock held. */
    private Disk newDisk(DiskId id) {
        return new Disk(id, counters.computeIfAbsent(id, k -> new Counters()));
    }

    // ------------------------------------------------------------------ listening

    private static final java.time.Duration LISTEN_RETRY = java.time.Duration.ofSeconds(2);
    private boolean listenRetryPending;

    public synchronized void ensureListening() {
        if (server != null || isClosed()) {
            return;
        }
        Transport t = transports.apply(options.transport());
        TransportSecurity sec = security.get();
        if (t == null || sec == null) {
            return;
        }
        try {
            server = t.listen(options.listen(), sec, this::serve);
            serverTransport = options.transport();
            LOG.log(Level.INFO, "master target: receiving process servers on " + server.address());
        } catch (IOException e) {
            // Typically the port is still held by the listener being replaced (a transport update) or by
            // another process: keep trying, the operator sees why in the log.
            LOG.log(Level.ERROR, "master target: cannot listen on " + options.listen() + ": " + e + "; retrying in "
                    + LISTEN_RETRY.toSeconds() + " s");
            scheduleListenRetry();
        }
    }

    private synchronized void scheduleListenRetry() {
        if (listenRetryPending || isClosed()) {
            return;
        }
        listenRetryPending = true;
        java.util.concurrent.CompletableFuture.delayedExecutor(LISTEN_RETRY.toMillis(),
                java.util.concurrent.TimeUnit.MILLISECONDS).execute(() -> {
                    synchronized (this) {
                        listenRetryPending = false;
                    }
                    ensureListening();
                });
    }

    public synchronized InetSocketAddress listenAddress() {
        return server == null ? null : server.address();
    }

    public void transportGone(String name) {
        synchronized (this) {
            if (server != null && name.equals(serverTransport)) {
                closeQuietly(server);
                server = null;
            }
        }
        // An update registers the new transport before the old one goes: listen on it now.
        ensureListening();
        dropConnections();
    }

    /** A storage backend went away: close its volumes and the connections using it. */
    public void storageGone(StorageBackend backend) {
        dropConnections();
        applyLock.lock();
        lock.lock();
        try {
            if (loadedFrom == backend) {
                for (Disk d : disks.values()) {
                    closeQuietly(d.volume);
                    d.volume = null;
                }
                disks.clear();
                closeRetentionLocked();
                loadedFrom = null;
            }
        } finally {
            lock.unlock();
            applyLock.unlock();
        }
    }

    private void closeRetentionLocked() {
        if (retention != null) {
            closeQuietly(retention);
            retention = null;
        }
    }

    /** A compressor was registered: held batches are tried again. */
    public void compressorsChanged() {
        lock.lock();
        try {
            compressorGeneration++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Closes every process-server connection (as a link failure would). */
    public void dropConnections() {
        for (FrameConnection c : sessions.keySet()) {
            closeQuietly(c);
        }
    }

    private boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ state

    /** Loads the durable state from the backend if not loaded yet. Lock held. */
    private StorageBackend storageLocked() throws IOException {
        StorageBackend b = storages.apply(options.storage());
        if (b == null) {
            throw new IOException("storage backend '" + options.storage() + "' is not available");
        }
        if (loadedFrom != b) {
            // Counters outlive the disk entries; applied bytes count up to the last commit only, since
            // the reload returns to the committed state and the process server resends the rest.
            for (Disk d : disks.values()) {
                closeQuietly(d.volume);
            }
            for (Counters c : counters.values()) {
                c.bytesOut = c.committedBytesOut;
            }
            disks.clear();
            closeRetentionLocked();
            loadedFrom = null;
            Optional<ByteBuffer> content = b.objects(NAMESPACE).get(STATE_OBJECT);
            Properties p = new Properties();
            if (content.isPresent()) {
                p.load(new StringReader(StandardCharsets.UTF_8.decode(content.get()).toString()));
                for (String key : p.stringPropertyNames()) {
                    if (Retention.isRetentionKey(key)) {
                        continue;
                    }
                    String[] v = p.getProperty(key).split(",");
                    try {
                        Disk d = newDisk(DiskId.of(key));
                        d.group = GroupId.of(v[0]);
                        d.size = Long.parseLong(v[1]);
                        d.durable = Long.parseLong(v[2]);
                        d.newestWriteMicros = Long.parseLong(v[3]);
                        d.applied = d.durable;
                        d.appliedNewest = d.newestWriteMicros;
                        disks.put(d.disk, d);
                    } catch (RuntimeException e) {
                        throw new IOException("master target state '" + key + "=" + p.getProperty(key)
                                + "' is not 'group,size,lastApplied,newestWriteMicros': " + e.getMessage(), e);
                    }
                }
            }
            // Roll back undo entries past the committed end: the replicas return to the committed state.
            Retention r;
            try {
                r = Retention.open(b.objects(Retention.NAMESPACE), p, disk -> {
                Disk d = disks.get(disk);
                if (d == null) {
                    return null;
                }
                try {
                    if (d.volume == null) {
                        d.volume = b.openVolume(volumeName(disk), d.size);
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return d.volume;
                }, retentionSettings, options.journalSegmentBytes());
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
            retention = r;
            loadedFrom = b;
            if (r.journal().discardedOnOpen()) {
                persistLocked();
            }
        }
        return b;
    }

    /** After a failed apply or commit: reload the state and roll the replicas back to it. Apply lock held. */
    private void reloadAfterFailure() {
        lock.lock();
        try {
            for (Disk d : disks.values()) {
                closeQuietly(d.volume);
                d.volume = null;
            }
            closeRetentionLocked();
            loadedFrom = null;
            storageLocked();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.ERROR, "master target: reloading the state after a failure failed: " + e);
        } finally {
            lock.unlock();
        }
    }

    /** Persists every disk's durable state with one atomic put. Lock held. */
    private void persistLocked() throws IOException {
        Properties p = new Properties();
        for (Disk d : disks.values()) {
            p.setProperty(d.disk.value(), d.group.value() + "," + d.size + "," + d.durable + "," + d.newestWriteMicros);
        }
        if (retention != null) {
            retention.save(p);
        }
        StringWriter w = new StringWriter();
        p.store(w, "master target: group,size,lastAppliedSequence,newestWriteMicros per disk");
        storageLocked().objects(NAMESPACE).put(STATE_OBJECT,
                ByteBuffer.wrap(w.toString().getBytes(StandardCharsets.UTF_8)));
    }

    /** The replica volume name of a disk: letters, digits, '.', '_' and '-' only. */
    static String volumeName(DiskId disk) {
        String escaped = disk.value().replace("_", "__").replace(":", "_-");
        if (escaped.length() <= 190) {
            return "disk-" + escaped;
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(disk.value().getBytes(StandardCharsets.UTF_8));
            return "disk-" + HexFormat.of().formatHex(h);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ connections

    private void serve(FrameConnection c) throws IOException {
        Session s = new Session(c);
        sessions.put(c, s);
        try {
            s.run();
        } finally {
            sessions.remove(c);
            s.stop();
        }
    }

    /** One process-server connection. */
    private final class Session {
        final FrameConnection c;
        final LinkedBlockingQueue<Queued> queue = new LinkedBlockingQueue<>();
        final Map<DiskId, Long> lastQueued = new HashMap<>();
        final ReentrantLock sendLock = new ReentrantLock();
        volatile boolean stopped;
        /** Whether the process server's HELLO listed resync.hash (it may send HASH_QUERY). */
        boolean resyncHash;
        Thread applier;

        Session(FrameConnection c) {
            this.c = c;
        }

        void send(Message m) throws IOException {
            sendLock.lock();
            try {
                c.send(MessageCodec.encode(m));
            } finally {
                sendLock.unlock();
            }
        }

        void fail(ErrorCode code, String text) {
            LOG.log(Level.WARNING, "master target: " + code + " for " + c.peerIdentity() + ": " + text);
            try {
                send(new Message.ErrorMessage(code, text));
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "sending ERROR: " + e);
            }
            closeQuietly(c);
        }

        void stop() {
            stopped = true;
            hasher.cancel(this);
            closeQuietly(c);
            lock.lock();
            try {
                changed.signalAll();
                if (sessionsByPeer.get(c.peerIdentity()) == this) {
                    sessionsByPeer.remove(c.peerIdentity());
                }
            } finally {
                lock.unlock();
            }
            if (applier != null) {
                // never interrupt it: an interrupt during a FileChannel write closes the replica volume
                try {
                    applier.join(TimeUnit.SECONDS.toMillis(10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            lock.lock();
            try {
                for (Queued q : queue) {
                    Disk d = disks.get(q.header.disk());
                    if (d != null) {
                        d.queuedBytes -= q.frame.remaining();
                        d.queuedFirstWrites.pollFirst();
                    }
                }
                queue.clear();
            } finally {
                lock.unlock();
            }
        }

        void run() throws IOException {
            ByteBuffer f = c.receive();
            if (f == null) {
                return;
            }
            Message.Hello hello;
            try {
                if (MessageCodec.type(f) != MessageType.HELLO) {
                    fail(ErrorCode.PROTOCOL_VIOLATION, "the first frame must be HELLO, got " + MessageCodec.type(f));
                    return;
                }
                hello = (Message.Hello) MessageCodec.decode(f);
            } catch (WireFormatException e) {
                fail(ErrorCode.MALFORMED_FRAME, e.getMessage());
                return;
            }
            String refusal = null;
            if (hello.role() != Role.PROCESS_SERVER) {
                refusal = "this master target accepts process servers only; the peer says it is a " + hello.role();
            } else if (!hello.componentId().equals(c.peerIdentity())) {
                refusal = "HELLO names component '" + hello.componentId() + "' but the peer's certificate is '"
                        + c.peerIdentity() + "'";
            } else if (WireProtocol.negotiate(WireProtocol.VERSION, WireProtocol.VERSION, hello.minVersion(),
                    hello.maxVersion()).isEmpty()) {
                refusal = "unsupported protocol version " + hello.minVersion() + ".." + hello.maxVersion()
                        + "; this master target speaks " + WireProtocol.VERSION;
            } else {
                lock.lock();
                try {
                    storageLocked();
                } catch (IOException e) {
                    refusal = e.getMessage();
                } finally {
                    lock.unlock();
                }
            }
            if (refusal != null) {
                LOG.log(Level.WARNING, "master target: refusing " + c.peerIdentity() + ": " + refusal);
                send(Message.HelloAck.refuse(componentId.get(), refusal));
                return;
            }
            Session previous;
            lock.lock();
            try {
                previous = sessionsByPeer.put(c.peerIdentity(), this);
            } finally {
                lock.unlock();
            }
            if (previous != null) {
                closeQuietly(previous.c); // the newer connection of a process server replaces the older one
            }
            List<String> local = new ArrayList<>();
            for (String n : List.of("lz4", "zstd")) {
                if (compressors.apply(n) != null) {
                    local.add(n);
                }
            }
            local.add(Compressors.NONE_NAME);
            resyncHash = hello.capabilities().contains(WireProtocol.CAPABILITY_RESYNC_HASH);
            send(Message.HelloAck.accept(WireProtocol.VERSION, componentId.get(), local));
            applier = new Thread(this::applyLoop, "secondsite-mt-applier");
            applier.setDaemon(true);
            applier.start();
            while (!stopped && (f = receiveFrame()) != null) {
                try {
                    MessageType type = MessageCodec.type(f);
                    if (type == MessageType.BATCH) {
                        if (!receiveBatch(f)) {
                            return;
                        }
                        continue; // the applier recycles a queued frame; receiveBatch one it did not queue
                    }
                    recycle(f);
                    Message m = MessageCodec.decode(f);
                    if (m instanceof Message.Heartbeat) {
                        send(new Message.Heartbeat(clock.instant(), Map.of()));
                    } else if (m instanceof Message.ResumeQuery q) {
                        send(resumePoint(q));
                    } else if (m instanceof Message.DiskInfo d) {
                        diskInfo(d);
                    } else if (m instanceof Message.HashQuery q) {
                        if (!resyncHash) {
                            fail(ErrorCode.PROTOCOL_VIOLATION, "HASH_QUERY from a process server whose HELLO did not list"
                                    + " capability " + WireProtocol.CAPABILITY_RESYNC_HASH);
                            return;
                        }
                        if (!hasher.submit(this, q, this::send)) {
                            fail(ErrorCode.PROTOCOL_VIOLATION, "more than " + WireProtocol.MAX_HASH_QUERIES_IN_FLIGHT
                                    + " HASH_QUERY unanswered on this connection");
                            return;
                        }
                    } else {
                        fail(ErrorCode.PROTOCOL_VIOLATION, m.type() + " is not expected from a process server");
                        return;
                    }
                } catch (WireFormatException e) {
                    fail(ErrorCode.MALFORMED_FRAME, e.getMessage());
                    return;
                }
            }
        }

        /** Frames of the maximum size to receive into, recycled once applied: no new memory per batch. */
        private final java.util.concurrent.ConcurrentLinkedQueue<ByteBuffer> spareFrames =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        private final java.util.concurrent.atomic.AtomicInteger pooledFrames = new java.util.concurrent.atomic.AtomicInteger();
        private static final int POOLED_FRAMES = 8;

        private ByteBuffer receiveFrame() throws IOException {
            ByteBuffer lend = spareFrames.poll();
            if (lend == null && pooledFrames.get() < POOLED_FRAMES) {
                pooledFrames.incrementAndGet();
                lend = ByteBuffer.allocate(c.maxFrameSize());
            }
            ByteBuffer f = c.receive(lend);
            if (lend != null && f != lend) {
                spareFrames.offer(lend); // not used: the frame did not fit, or the connection ended
            }
            return f;
        }

        /** Gives a frame back to the pool once nothing refers to its bytes any more. */
        private void recycle(ByteBuffer f) {
            if (f.hasArray() && f.capacity() == c.maxFrameSize() && f.arrayOffset() == 0) {
                spareFrames.offer(f);
            }
        }

        private Message.ResumePoint resumePoint(Message.ResumeQuery q) {
            lock.lock();
            try {
                Map<DiskId, Long> out = new TreeMap<>();
                if (q.disks().isEmpty()) {
                    for (Disk d : disks.values()) {
                        out.put(d.disk, d.durable);
                    }
                } else {
                    for (DiskId id : q.disks()) {
                        Disk d = disks.get(id);
                        out.put(id, d == null ? 0L : d.durable);
                    }
                }
                return new Message.ResumePoint(out);
            } finally {
                lock.unlock();
            }
        }

        private void diskInfo(Message.DiskInfo m) throws IOException {
            applyLock.lock();
            lock.lock();
            try {
                StorageBackend b = storageLocked();
                Disk d = disks.computeIfAbsent(m.disk(), MasterTarget.this::newDisk);
                boolean changedSize = d.size != m.sizeBytes() || !m.group().equals(d.group);
                if (d.volume == null || d.size != m.sizeBytes()) {
                    Volume old = d.volume;
                    d.volume = b.openVolume(volumeName(m.disk()), m.sizeBytes());
                    closeQuietly(old);
                }
                d.size = m.sizeBytes();
                d.group = m.group();
                if (changedSize) {
                    persistLocked();
                }
                hasher.appliedAdvanced(); // hash queries may wait for the volume
            } catch (IOException e) {
                fail(ErrorCode.INTERNAL, "cannot open the replica volume of disk " + m.disk() + ": " + e.getMessage());
                throw e;
            } finally {
                lock.unlock();
                applyLock.unlock();
            }
        }

        private boolean receiveBatch(ByteBuffer frame) throws IOException {
            BatchHeader h = BatchDecoder.readHeader(frame);
            long durable;
            lock.lock();
            try {
                Disk d = disks.get(h.disk());
                if (d == null || d.volume == null) {
                    fail(ErrorCode.PROTOCOL_VIOLATION, "BATCH of disk " + h.disk() + " before its DISK_INFO");
                    return false;
                }
                durable = d.durable;
                long last = lastQueued.getOrDefault(h.disk(), d.applied);
                if (h.sequence() <= last) {
                    if (h.sequence() <= durable) {
                        lock.unlock();
                        try {
                            send(new Message.Ack(h.disk(), durable));
                        } finally {
                            lock.lock();
                        }
                    }
                    recycle(frame);
                    return true; // queued or applied already: its ACK comes with its group
                }
                if (h.sequence() > last + 1) {
                    String text = "expected " + (last + 1) + ", got " + h.sequence();
                    LOG.log(Level.WARNING, "master target: disk " + h.disk() + ": gap, " + text);
                    lock.unlock();
                    try {
                        send(new Message.Resend(h.disk(), last + 1, ResendReason.GAP, text));
                    } finally {
                        lock.lock();
                    }
                    recycle(frame);
                    return true;
                }
                lastQueued.put(h.disk(), h.sequence());
                d.queuedBytes += frame.remaining();
                d.queuedFirstWrites.addLast(h.firstWrite());
                d.counters.bytesIn += frame.remaining();
            } finally {
                lock.unlock();
            }
            queue.add(new Queued(h, frame));
            return true;
        }

        // -------------------------------------------------------------- applying

        private void applyLoop() {
            BatchDecoder decoder = new BatchDecoder(compressors);
            List<Queued> group = new ArrayList<>();
            try {
                while (!stopped) {
                    Queued first = queue.poll(250, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    group.clear();
                    group.add(first);
                    long bytes = first.header.payloadLength();
                    Queued next;
                    while (bytes < options.groupBytes() && (next = queue.poll()) != null) {
                        group.add(next);
                        bytes += next.header.payloadLength();
                    }
                    if (!applyGroup(decoder, group)) {
                        closeQuietly(c);
                        return;
                    }
                    for (Queued q : group) {
                        recycle(q.frame); // applied and committed: its records are on the replica
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** A decoded batch waiting to be journaled and written; its data lives in the arena. */
        private record Decoded(Disk disk, Queued queued, DeltaBatch batch) {
        }

        /** Decoded batches of the group not yet written. Applier thread only. */
        private final List<Decoded> pending = new ArrayList<>();
        /** Tags of written batches, made into points (or pending tags) by the next commit. Applier only. */
        private final List<PointCatalogue.TagSeen> tagsSeen = new ArrayList<>();
        /** Groups with a tag written but not committed yet: their later overwrites are journaled. */
        private final java.util.Set<GroupId> taggedGroups = new java.util.HashSet<>();
        /** Decoded payloads of the pending batches, one after the other. */
        private ByteBuffer arena;
        private int arenaUsed;

        /** Applies a group, commits and acknowledges it; false when the connection must end. */
        private boolean applyGroup(BatchDecoder decoder, List<Queued> group) throws InterruptedException {
            Map<DiskId, Disk> touched = new LinkedHashMap<>();
            Map<DiskId, Long> decodedUpTo = new HashMap<>();
            pending.clear();
            arenaUsed = 0;
            applyLock.lock();
            try {
                for (Queued q : group) {
                    Disk d;
                    lock.lock();
                    try {
                        d = disks.get(q.header.disk());
                    } finally {
                        lock.unlock();
                    }
                    String problem = null;
                    boolean reopen = false;
                    ErrorCode code = ErrorCode.INTERNAL;
                    try {
                        if (d == null || d.volume == null) {
                            throw new IOException("disk " + q.header.disk() + " has no replica volume");
                        }
                        long last = decodedUpTo.getOrDefault(d.disk, d.applied);
                        if (q.header.sequence() <= last) {
                            dequeued(d, q);
                            continue; // applied by an earlier connection
                        }
                        if (q.header.sequence() != last + 1) {
                            writePending(touched);
                            commit(touched);
                            send(new Message.Resend(d.disk, last + 1, ResendReason.GAP,
                                    "expected " + (last + 1) + ", got " + q.header.sequence()));
                            return false;
                        }
                        if (arenaUsed + (long) q.header.payloadLength() > arenaCapacity()) {
                            writePending(touched); // the arena is full: write what it holds first
                        }
                        DeltaBatch b = decodeHolding(decoder, q, d, touched);
                        if (b == null) {
                            return false; // connection ended while holding
                        }
                        for (ChangeRecord r : b.records()) {
                            if (r.kind() == ChangeKind.DIRTY) {
                                throw new IllegalStateException("batch " + d.disk + " seq " + b.sequence()
                                        + " holds a DIRTY record " + r + ": its data must come from a resync, a master"
                                        + " target cannot apply it");
                            }
                        }
                        pending.add(new Decoded(d, q, b));
                        decodedUpTo.put(d.disk, b.sequence());
                        if (!b.tags().isEmpty()) {
                            writePending(touched); // a point never falls inside a journaled unit
                        }
                    } catch (RecordChecksumException e) {
                        problem = e.getMessage();
                        flushQuietly(touched);
                        LOG.log(Level.WARNING, "master target: " + problem + "; asking for a resend");
                        try {
                            send(new Message.Resend(q.header.disk(), q.header.sequence(), ResendReason.BAD_CRC, problem));
                        } catch (IOException io) {
                            LOG.log(Level.DEBUG, "sending RESEND: " + io);
                        }
                        return false;
                    } catch (WireFormatException e) {
                        problem = e.getMessage();
                        code = ErrorCode.MALFORMED_FRAME;
                    } catch (IllegalStateException e) {
                        problem = e.getMessage();
                        code = ErrorCode.PROTOCOL_VIOLATION;
                    } catch (IOException | RuntimeException e) {
                        problem = "applying batch " + q.header.disk() + " seq " + q.header.sequence() + " failed: " + e;
                        reopen = e instanceof IOException;
                    }
                    if (problem != null) {
                        flushQuietly(touched);
                        if (d != null) {
                            lock.lock();
                            try {
                                if (reopen) {
                                    closeQuietly(d.volume);
                                    d.volume = null; // reopened by the next DISK_INFO
                                }
                                d.state = "error";
                                d.message = problem;
                            } finally {
                                lock.unlock();
                            }
                        }
                        fail(code, problem);
                        if (reopen) {
                            reloadAfterFailure();
                        }
                        return false;
                    }
                }
                writePending(touched);
                commit(touched);
                return true;
            } catch (IOException | RuntimeException e) {
                fail(ErrorCode.INTERNAL, "applying or committing batches failed: " + e);
                reloadAfterFailure(); // roll back what the journal protects, resume from the committed state
                return false;
            } finally {
                pending.clear();
                tagsSeen.clear();
                taggedGroups.clear();
                applyLock.unlock();
            }
        }

        private int arenaCapacity() {
            return arena == null ? ARENA_BYTES : arena.capacity();
        }

        /**
         * Journals the old content of every range the pending batches overwrite (for groups with
         * a point or a pending tag), syncs the journal, and only then writes the replicas.
         * Apply lock held.
         */
        private void writePending(Map<DiskId, Disk> touched) throws IOException {
            if (pending.isEmpty()) {
                return;
            }
            Retention r;
            lock.lock();
            try {
                r = retention;
            } finally {
                lock.unlock();
            }
            if (r != null) {
                r.beginGroup();
                boolean journaled = false;
                for (Decoded x : pending) {
                    GroupId g = x.batch().group();
                    if (!taggedGroups.contains(g) && !r.journaling(g)) {
                        continue;
                    }
                    for (ChangeRecord rec : x.batch().records()) {
                        r.journal(x.disk().disk, x.batch().sequence(), rec.offset(), rec.length(), x.disk().volume);
                        journaled = true;
                    }
                }
                if (journaled) {
                    r.sync(); // undo entries are durable before any replica write they protect
                }
            }
            for (Decoded x : pending) {
                Disk d = x.disk();
                DeltaBatch b = x.batch();
                for (ChangeRecord rec : b.records()) {
                    switch (rec.kind()) {
                        case WRITE -> d.volume.write(rec.offset(), rec.data());
                        case ZERO, TRIM -> d.volume.zero(rec.offset(), rec.length());
                        case DIRTY -> throw new IllegalStateException("DIRTY record " + rec + " cannot be applied");
                    }
                }
                for (ConsistencyTag t : b.tags()) {
                    tagsSeen.add(new PointCatalogue.TagSeen(d.disk, b.group(), b.sequence(), t));
                    taggedGroups.add(b.group());
                }
                lock.lock();
                try {
                    d.applied = b.sequence();
                    d.appliedNewest = ChronoUnit.MICROS.between(Instant.EPOCH, b.lastWrite());
                    d.counters.bytesOut += b.dataBytes();
                    d.state = "replicating";
                    d.message = "";
                } finally {
                    lock.unlock();
                }
                hasher.appliedAdvanced();
                dequeued(d, x.queued());
                touched.put(d.disk, d);
            }
            pending.clear();
            arenaUsed = 0;
        }

        private void dequeued(Disk d, Queued q) {
            lock.lock();
            try {
                d.queuedBytes -= q.frame.remaining();
                d.queuedFirstWrites.pollFirst();
            } finally {
                lock.unlock();
            }
        }

        /** Decodes, waiting while the batch's compressor is missing. Returns null if the connection ends meanwhile. */
        private DeltaBatch decodeHolding(BatchDecoder decoder, Queued q, Disk d, Map<DiskId, Disk> touched)
                throws IOException, InterruptedException {
            while (true) {
                long generation;
                lock.lock();
                try {
                    generation = compressorGeneration;
                } finally {
                    lock.unlock();
                }
                try {
                    return decoder.decode(q.frame, this::payloadBuffer);
                } catch (UnknownCompressorException e) {
                    writePending(touched);
                    commit(touched); // acknowledge what is applied before holding
                    touched.clear();
                    lock.lock();
                    try {
                        if (!"holding".equals(d.state)) {
                            LOG.log(Level.WARNING, "master target: " + e.getMessage() + "; holding it and the batches"
                                    + " behind it until a compressor named '" + e.compressorName() + "' is registered");
                        }
                        d.state = "holding";
                        d.message = "holding: unknown compressor " + e.compressorName() + " (batch seq "
                                + q.header.sequence() + ")";
                        while (!stopped && !closed && generation == compressorGeneration) {
                            changed.await(1, TimeUnit.SECONDS);
                        }
                        if (stopped || closed) {
                            return null;
                        }
                    } finally {
                        lock.unlock();
                    }
                }
            }
        }

        /**
         * A slice of the applier's reused arena for a batch's payload: the records of the pending
         * batches are slices of it until they are written. Direct, so volume writes need no copy.
         * The caller writes the pending batches first when a payload does not fit behind them.
         */
        private ByteBuffer payloadBuffer(int length) {
            if (arena == null || arena.capacity() - arenaUsed < length) {
                if (arenaUsed != 0) {
                    throw new IllegalStateException("arena holds pending batches: " + arenaUsed + " bytes");
                }
                arena = ByteBuffer.allocateDirect(Math.max(length, ARENA_BYTES));
            }
            ByteBuffer b = arena.duplicate().position(arenaUsed).limit(arenaUsed + length).slice();
            arenaUsed += length;
            return b;
        }

        private void flushQuietly(Map<DiskId, Disk> touched) {
            try {
                writePending(touched);
                commit(touched);
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "master target: commit failed: " + e);
                reloadAfterFailure();
            }
        }

        /**
         * Flushes the touched volumes, appends the records of the points the committed tags
         * complete (synced), persists the state, lists the points, then acknowledges. Apply lock held.
         */
        private void commit(Map<DiskId, Disk> touched) throws IOException {
            if (touched.isEmpty()) {
                return;
            }
            for (Disk d : touched.values()) {
                d.volume.flush();
            }
            Retention r;
            lock.lock();
            try {
                r = retention;
            } finally {
                lock.unlock();
            }
            // group members are read here, not from inside the retention (lock order: this lock, then retention)
            Map<GroupId, java.util.Set<DiskId>> groupMembers = new HashMap<>();
            for (PointCatalogue.TagSeen t : tagsSeen) {
                groupMembers.computeIfAbsent(t.group(), MasterTarget.this::members);
            }
            Retention.Commit made = r == null ? null : r.commitTags(tagsSeen, groupMembers::get);
            List<Message.Ack> acks = new ArrayList<>();
            lock.lock();
            try {
                Map<DiskId, long[]> before = new HashMap<>();
                for (Disk d : touched.values()) {
                    before.put(d.disk, new long[] {d.durable, d.newestWriteMicros, d.counters.committedBytesOut});
                    d.durable = d.applied;
                    d.counters.committedBytesOut = d.counters.bytesOut;
                    d.newestWriteMicros = d.appliedNewest;
                }
                try {
                    persistLocked();
                } catch (IOException | RuntimeException e) {
                    for (Disk d : touched.values()) {
                        d.durable = before.get(d.disk)[0];
                        d.newestWriteMicros = before.get(d.disk)[1];
                        d.counters.committedBytesOut = before.get(d.disk)[2];
                    }
                    throw e;
                }
                for (Disk d : touched.values()) {
                    acks.add(new Message.Ack(d.disk, d.durable));
                }
            } finally {
                lock.unlock();
            }
            if (r != null) {
                r.committed(made);
            }
            tagsSeen.clear();
            taggedGroups.clear();
            touched.clear();
            for (Message.Ack a : acks) {
                send(a);
            }
            pruneIfDue(r);
        }
    }

    /** Bytes of decoded payload the applier holds before writing (one journal sync per this much, at most). */
    static final int ARENA_BYTES = 16 << 20;

    /** The disks of a group now. */
    private java.util.Set<DiskId> members(GroupId group) {
        lock.lock();
        try {
            java.util.Set<DiskId> out = new java.util.TreeSet<>();
            for (Disk d : disks.values()) {
                if (group.equals(d.group)) {
                    out.add(d.disk);
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Prunes at most once a second (and at once when the space cap is exceeded). Apply lock held. */
    private void pruneIfDue(Retention r) throws IOException {
        if (r == null) {
            return;
        }
        long now = clock.millis();
        if (now - lastPruneMillis < 1000 && r.journal().usedBytes() <= r.settings().capBytes()) {
            return;
        }
        lastPruneMillis = now;
        Retention.PrunePlan plan = r.planPrune(clock.instant());
        if (plan.changed()) {
            lock.lock();
            try {
                persistLocked(); // the drop is durable before the segments go
            } finally {
                lock.unlock();
            }
        }
        r.deleteSegments(plan);
    }

    private record Queued(BatchHeader header, ByteBuffer frame) {
    }

    // ------------------------------------------------------------------ status, close

    // ------------------------------------------------------------------ recovery points

    /** The loaded retention (loading the state if needed). */
    private Retention retentionLocked() throws IOException {
        storageLocked();
        if (retention == null) {
            throw new IOException("the retention journal of storage backend '" + options.storage() + "' is not open");
        }
        return retention;
    }

    /** Listed recovery points of a group (or of all groups), sorted by time. */
    public List<RecoveryPoint> points(Optional<GroupId> group) throws IOException {
        lock.lock();
        try {
            return retentionLocked().points(group);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A listed point with the sequence of each member disk.
     *
     * @throws UnknownPointException if no point of that id is listed (never made or pruned)
     */
    public PointDetail point(String id) throws IOException {
        lock.lock();
        try {
            return retentionLocked().point(id);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A read-only view of {@code disk} as it was at a listed point: the replica with the undo
     * chain laid over it, ready at once whatever the disk size, correct while replication goes
     * on. Close it when done: until then it pins the point (pruning stops at it).
     *
     * @throws UnknownPointException if no point of that id is listed
     * @throws IllegalArgumentException if the disk is not a member of the point
     */
    public BlockDevice openView(String pointId, DiskId disk) throws IOException {
        // No apply lock: the journal registers the view atomically with its appends, which precede
        // the replica writes they protect (docs/JOURNAL.md).
        lock.lock();
        try {
            Retention r = retentionLocked();
            PointDetail p = r.point(pointId);
            if (!p.sequences().containsKey(disk)) {
                throw new IllegalArgumentException("disk " + disk + " is not part of recovery point '" + pointId
                        + "' (its disks: " + p.sequences().keySet() + ")");
            }
            Disk d = disks.get(disk);
            if (d == null) {
                throw new IOException("disk " + disk + " of recovery point '" + pointId + "' has no replica here");
            }
            if (d.volume == null) {
                d.volume = loadedFrom.openVolume(volumeName(disk), d.size);
            }
            return r.openView(pointId, disk, d.volume, d.size);
        } finally {
            lock.unlock();
        }
    }

    /** The retention journal's state: settings, space used, oldest and newest point. */
    public RetentionStatus retention() throws IOException {
        lock.lock();
        try {
            return retentionLocked().status();
        } finally {
            lock.unlock();
        }
    }

    /** New retention settings, in force from the next prune (within a second of the next commit). */
    public void retention(RetentionSettings settings) {
        Objects.requireNonNull(settings, "settings");
        lock.lock();
        try {
            retentionSettings = settings;
            if (retention != null) {
                retention.settings(settings);
            }
        } finally {
            lock.unlock();
        }
        applyLock.lock();
        try {
            lastPruneMillis = 0; // prune at the next commit
        } finally {
            applyLock.unlock();
        }
    }

    /** Undo entries rolled back onto the replicas when the state was last loaded (0 if not loaded). */
    long rolledBackOnLoad() {
        lock.lock();
        try {
            return retention == null ? 0 : retention.journal().rolledBackEntries();
        } finally {
            lock.unlock();
        }
    }

    /** The last durably applied sequence of a disk (0 if none). */
    public long lastApplied(DiskId disk) {
        lock.lock();
        try {
            Disk d = disks.get(disk);
            return d == null ? 0 : d.durable;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Stage stage() {
        return Stage.MASTER_TARGET;
    }

    @Override
    public List<DiskReplicationStatus> disks() {
        lock.lock();
        try {
            List<DiskReplicationStatus> out = new ArrayList<>();
            for (Disk d : disks.values()) {
                Instant newest = d.newestWriteMicros == Long.MIN_VALUE ? null
                        : Instant.EPOCH.plus(d.newestWriteMicros, ChronoUnit.MICROS);
                out.add(new DiskReplicationStatus(d.disk, Stage.MASTER_TARGET, d.state, d.message, d.applied,
                        d.durable, Math.max(0, d.queuedBytes), d.queuedFirstWrites.peekFirst(), newest,
                        d.counters.bytesIn, d.counters.bytesOut));
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        synchronized (this) {
            closeQuietly(server);
            server = null;
        }
        for (Session s : new ArrayList<>(sessions.values())) {
            s.stop();
        }
        hasher.close();
        applyLock.lock();
        lock.lock();
        try {
            for (Disk d : disks.values()) {
                closeQuietly(d.volume);
                d.volume = null;
            }
            closeRetentionLocked();
        } finally {
            lock.unlock();
            applyLock.unlock();
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
}
