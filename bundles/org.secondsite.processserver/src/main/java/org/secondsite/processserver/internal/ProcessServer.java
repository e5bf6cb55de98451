package org.secondsite.processserver.internal;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;

import org.secondsite.api.appliance.Role;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.api.transport.FrameConnection;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.api.transport.TransportServer;
import org.secondsite.processserver.internal.spool.Spool;
import org.secondsite.processserver.internal.spool.SpoolEntry;
import org.secondsite.processserver.internal.spool.SpoolFullException;
import org.secondsite.processserver.internal.spool.SpoolOptions;
import org.secondsite.processserver.internal.throttle.BandwidthSchedule;
import org.secondsite.processserver.internal.throttle.Throttle;
import org.secondsite.wire.BatchDecoder;
import org.secondsite.wire.BatchEncoder;
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
 * The process server's data path, plain Java: a receiver for agents that verifies each
 * batch, recompresses it for the WAN and acknowledges it once it is durable in the
 * {@link Spool}; and a forwarder that sends the spool to the master target within a window
 * and a bandwidth {@link Throttle}, and releases spool entries once the master target
 * acknowledges them as durable.
 *
 * <h2>Receiving (per agent connection)</h2>
 * HELLO must come from an agent whose HELLO component id is its certificate's name, with a
 * common protocol version, else HELLO_ACK refuses with the reason. A BATCH is checked whole
 * (frame CRC and fields, then record CRCs after decompression) before anything is spooled.
 * Per disk: a sequence at or below the durable one is acknowledged again and not spooled; a
 * gap gets RESEND(expected, GAP); a record CRC failure gets RESEND(seq, BAD_CRC); a malformed
 * frame gets ERROR MALFORMED_FRAME and the connection is closed. A batch whose compressor
 * this process server lacks is spooled and forwarded as it came (the frame is intact; the
 * master target holds it until it has the compressor), so nothing is dropped. When the spool
 * is full the agent gets ERROR RECEIVER_FULL and the connection is closed: the agent keeps
 * its data and retries with back-off.
 *
 * <h2>Durable points</h2>
 * A disk's durable sequence is the highest spooled one, or the highest the master target
 * acknowledged (kept in {@link PsState}, written before the spool releases entries), or the
 * master target's RESUME_POINT, whichever is highest.
 */
public final class ProcessServer implements Closeable, ReplicationMonitor {
    private static final System.Logger LOG = System.getLogger(ProcessServer.class.getName());

    private final ProcessServerOptions options;
    private final Supplier<String> componentId;
    private final Function<String, Transport> transports;
    private final Supplier<TransportSecurity> security;
    private final Function<String, Compressor> compressors;
    private final Clock clock;
    private final Spool spool;
    private final Throttle throttle;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Signalled when {@link #state} has acknowledged sequences to write, or on close. */
    private final Condition stateDirty = lock.newCondition();
    // ---- guarded by lock ----
    private final PsState state;
    private final TreeMap<DiskId, Disk> disks = new TreeMap<>();
    private boolean closed;
    private String forwardState = "disconnected";
    private String forwardMessage = "not connected to the master target yet";
    private FrameConnection forwardConnection;
    private long forwardInflight;

    private final Set<FrameConnection> agentConnections = ConcurrentHashMap.newKeySet();
    /** Relays the resync's hash queries and answers (outside the spool). */
    private final HashRelay hashRelay = new HashRelay();
    /** Tags of consistency groups spanning several agents. */
    private final GroupCoordinator coordinator;
    private TransportServer server;
    private String serverTransport;
    private final Thread forwarder;
    private final Thread stateWriter;
    /** At most one state-file write per this interval while master-target ACKs stream in. */
    static final Duration STATE_WRITE_INTERVAL = Duration.ofMillis(100);

    public ProcessServer(ProcessServerOptions options, Supplier<String> componentId,
                         Function<String, Transport> transports, Supplier<TransportSecurity> security,
                         Function<String, Compressor> compressors, Clock clock) throws IOException {
        this.options = Objects.requireNonNull(options, "options");
        this.componentId = componentId;
        this.transports = transports;
        this.security = security;
        this.compressors = Compressors.withNone(compressors);
        this.clock = clock;
        this.throttle = new Throttle(options.schedule(), System::nanoTime,
                () -> LocalDateTime.now(clock));
        this.state = new PsState(options.spoolDir());
        this.spool = Spool.open(new SpoolOptions(options.spoolDir(), options.spoolSegmentBytes(),
                options.spoolMaxBytes(), WireProtocol.MAX_FRAME_SIZE));
        try {
            recover();
        } catch (IOException | RuntimeException e) {
            spool.close();
            throw e;
        }
        this.coordinator = new GroupCoordinator(clock, 256);
        for (Disk d : disks.values()) {
            coordinator.disk(d.info.agent(), d.info.disk(), d.info.group());
        }
        this.forwarder = new Thread(this::forwardLoop, "secondsite-ps-forwarder");
        forwarder.setDaemon(true);
        this.stateWriter = new Thread(this::stateWriteLoop, "secondsite-ps-state-writer");
        stateWriter.setDaemon(true);
        stateWriter.start();
        forwarder.start();
        ensureListening();
    }

    /** Rebuilds per-disk figures from the state file and the spool's unreleased entries. */
    private void recover() throws IOException {
        for (PsState.Disk d : state.disks().values()) {
            Disk disk = new Disk(d);
            disk.durable = d.forwarded();
            disk.accepted = d.forwarded();
            disk.forwarded = d.forwarded();
            disks.put(d.disk(), disk);
        }
        try (Spool.Reader r = spool.readerFromOldestUnreleased()) {
            for (SpoolEntry e; (e = r.next()) != null;) {
                Disk disk = disks.get(DiskId.of(e.diskId()));
                if (disk == null) {
                    throw new IOException("spool holds disk '" + e.diskId() + "' unknown to " + PsState.FILE
                            + "; the state file does not belong to this spool");
                }
                if (e.sequence() <= disk.forwarded) {
                    continue; // durable at the master target; released below
                }
                disk.pending.addLast(new long[] {e.sequence(), e.nextPosition() - e.position(), e.timestamp()});
                disk.backlog += e.nextPosition() - e.position();
                disk.durable = Math.max(disk.durable, e.sequence());
                disk.accepted = disk.durable;
            }
        }
        for (Disk d : disks.values()) {
            spool.release(d.info.disk().value(), d.forwarded);
        }
    }

    public ProcessServerOptions options() {
        return options;
    }

    /** For tests: the batches of {@code disk} still in the spool (not released), decoded, in order. */
    List<org.secondsite.api.model.DeltaBatch> spooled(DiskId disk) throws IOException {
        List<org.secondsite.api.model.DeltaBatch> out = new ArrayList<>();
        BatchDecoder decoder = new BatchDecoder(compressors);
        try (Spool.Reader r = spool.readerFromOldestUnreleased()) {
            for (SpoolEntry e; (e = r.next()) != null;) {
                if (e.diskId().equals(disk.value())) {
                    out.add(decoder.decode(e.payload()));
                }
            }
        } catch (UnknownCompressorException e) {
            throw new IOException(e);
        }
        return out;
    }

    /**
     * The coordinator of tags of consistency groups whose disks belong to several agents
     * ({@link GroupCoordinator#tag}, {@link GroupCoordinator#groups}).
     */
    public GroupCoordinator coordinator() {
        return coordinator;
    }

    /** Applies a new bandwidth schedule at once, also to a frame waiting for tokens. */
    public void setSchedule(BandwidthSchedule schedule) {
        throttle.setSchedule(schedule);
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public Throttle throttle() {
        return throttle;
    }

    /** The address the receiver listens on, if it does. */
    public synchronized InetSocketAddress listenAddress() {
        return server == null ? null : server.address();
    }

    /** Per-disk record of the process server. */
    private static final class Disk {
        PsState.Disk info;
        final Object receiveLock = new Object();
        /** Highest sequence durable here (spooled) or downstream. */
        long durable;
        /**
         * Highest sequence taken into the spool (maybe not durable yet) or durable downstream;
         * at least {@link #durable}. What the next batch must follow.
         */
        long accepted;
        /** Spool position just after the entry of {@link #accepted}, when taken by this run (0 if not). */
        long acceptedEnd;
        /** Highest sequence the master target acknowledged. */
        long forwarded;
        /** Unreleased spool entries: {sequence, bytes, firstWriteMicros}. */
        final ArrayDeque<long[]> pending = new ArrayDeque<>();
        long backlog;
        long bytesIn;
        long bytesOut;
        String holding = "";
        String refused = "";

        Disk(PsState.Disk info) {
            this.info = info;
        }
    }

    // ------------------------------------------------------------------ listening

    /** Starts the receiver when a transport and the identity are available (again). */
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
            server = t.listen(options.listen(), sec, this::serveAgent);
            serverTransport = options.transport();
            LOG.log(Level.INFO, "process server: receiving agents on " + server.address());
        } catch (IOException e) {
            // Typically the port is still held by the listener being replaced (a transport update) or by
            // another process: keep trying, the operator sees why in the log.
            LOG.log(Level.ERROR, "process server: cannot listen on " + options.listen() + ": " + e + "; retrying in "
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

    /** A transport service went away: stop using it; connections are re-established when it returns. */
    public void transportGone(String name) {
        synchronized (this) {
            if (server != null && name.equals(serverTransport)) {
                closeQuietly(server);
                server = null;
            }
        }
        // An update registers the new transport before the old one goes: listen on it now.
        ensureListening();
        for (FrameConnection c : agentConnections) {
            closeQuietly(c);
        }
        dropForwardConnection();
    }

    /** Closes the connection to the master target (as a link failure would). */
    public void dropForwardConnection() {
        FrameConnection c;
        lock.lock();
        try {
            c = forwardConnection;
        } finally {
            lock.unlock();
        }
        closeQuietly(c);
    }

    /** Closes every agent connection (as a link failure would). */
    public void dropAgentConnections() {
        for (FrameConnection c : agentConnections) {
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

    // ------------------------------------------------------------------ receiving

    private void serveAgent(FrameConnection c) throws IOException {
        agentConnections.add(c);
        try {
            new AgentSession(c).run();
        } finally {
            agentConnections.remove(c);
        }
    }

    private final class AgentSession implements HashRelay.AgentLink {
        final FrameConnection c;
        final BatchDecoder decoder = new BatchDecoder(compressors);
        final BatchEncoder encoder = new BatchEncoder();
        ByteBuffer payload;
        ByteBuffer out;
        String agent;
        Replies replies;
        /** Whether the agent's HELLO listed resync.hash (it may send HASH_QUERY). */
        boolean resyncHash;
        /** Whether the agent's HELLO listed tag.coordination (it answers TAG_PREPARE). */
        boolean tagCoordination;
        /** This connection as a member of coordinated tags. */
        final GroupCoordinator.Member member = new GroupCoordinator.Member() {
            @Override
            public String agent() {
                return agent;
            }

            @Override
            public void send(Message m) {
                relay(MessageCodec.encode(m));
            }
        };

        AgentSession(FrameConnection c) {
            this.c = c;
        }

        @Override
        public void relay(ByteBuffer frame) {
            Replies r = replies;
            if (r != null) {
                r.relay(frame);
            }
        }

        void run() throws IOException {
            ByteBuffer f = c.receive();
            if (f == null) {
                return;
            }
            Message first;
            try {
                if (MessageCodec.type(f) != MessageType.HELLO) {
                    fail(ErrorCode.PROTOCOL_VIOLATION, "the first frame must be HELLO, got " + MessageCodec.type(f));
                    return;
                }
                first = MessageCodec.decode(f);
            } catch (WireFormatException e) {
                fail(ErrorCode.MALFORMED_FRAME, e.getMessage());
                return;
            }
            Message.Hello hello = (Message.Hello) first;
            String refusal = null;
            if (hello.role() != Role.AGENT) {
                refusal = "this process server accepts agents only; the peer says it is a " + hello.role();
            } else if (!hello.componentId().equals(c.peerIdentity())) {
                refusal = "HELLO names component '" + hello.componentId() + "' but the peer's certificate is '"
                        + c.peerIdentity() + "'";
            } else if (WireProtocol.negotiate(WireProtocol.VERSION, WireProtocol.VERSION, hello.minVersion(),
                    hello.maxVersion()).isEmpty()) {
                refusal = "unsupported protocol version " + hello.minVersion() + ".." + hello.maxVersion()
                        + "; this process server speaks " + WireProtocol.VERSION;
            }
            if (refusal != null) {
                LOG.log(Level.WARNING, "process server: refusing " + c.peerIdentity() + ": " + refusal);
                c.send(MessageCodec.encode(Message.HelloAck.refuse(componentId.get(), refusal)));
                return;
            }
            agent = hello.componentId();
            resyncHash = hello.capabilities().contains(WireProtocol.CAPABILITY_RESYNC_HASH);
            tagCoordination = hello.capabilities().contains(WireProtocol.CAPABILITY_TAG_COORDINATION);
            c.send(MessageCodec.encode(Message.HelloAck.accept(WireProtocol.VERSION, componentId.get(),
                    localCompressors())));
            FrameReader frames = new FrameReader(c);
            replies = new Replies(c);
            frames.start();
            replies.start();
            if (tagCoordination) {
                coordinator.connected(member);
            }
            try {
                while ((f = frames.take()) != null) {
                    if (!handle(f)) {
                        return;
                    }
                    frames.recycle(f); // handled: a batch was copied into the spool's pending group
                }
            } finally {
                coordinator.disconnected(member);
                hashRelay.agentGone(this);
                replies.finish();
                frames.finish();
            }
        }

        /** Sends {@code m} after every reply queued before it. */
        private void send(Message m) throws IOException {
            replies.put(new Reply(0, null, 0, MessageCodec.encode(m)));
        }

        /** Handles one frame after HELLO; false when the connection must end. */
        private boolean handle(ByteBuffer f) throws IOException {
            MessageType type;
            try {
                type = MessageCodec.type(f);
                if (type == MessageType.BATCH) {
                    return batch(f);
                }
                Message m = MessageCodec.decode(f);
                if (m instanceof Message.Heartbeat) {
                    send(new Message.Heartbeat(clock.instant(), heartbeatFigures()));
                } else if (m instanceof Message.ResumeQuery q) {
                    send(resumePoint(q));
                } else if (m instanceof Message.DiskInfo d) {
                    return diskInfo(d);
                } else if (m instanceof Message.HashQuery q) {
                    return hashQuery(q);
                } else if (m instanceof Message.TagHeld || m instanceof Message.TagRefused
                        || m instanceof Message.TagDone) {
                    if (!tagCoordination) {
                        fail(ErrorCode.PROTOCOL_VIOLATION, m.type() + " from an agent whose HELLO did not list "
                                + "capability " + WireProtocol.CAPABILITY_TAG_COORDINATION);
                        return false;
                    }
                    coordinator.received(agent, m);
                } else {
                    fail(ErrorCode.PROTOCOL_VIOLATION, m.type() + " is not expected from an agent");
                    return false;
                }
                return true;
            } catch (WireFormatException e) {
                fail(ErrorCode.MALFORMED_FRAME, e.getMessage());
                return false;
            }
        }

        private void fail(ErrorCode code, String text) throws IOException {
            LOG.log(Level.WARNING, "process server: " + code + " from/for " + c.peerIdentity() + ": " + text);
            Message.ErrorMessage m = new Message.ErrorMessage(code, text);
            if (replies == null) {
                c.send(MessageCodec.encode(m));
            } else {
                send(m);
            }
        }

        private Message.ResumePoint resumePoint(Message.ResumeQuery q) {
            lock.lock();
            try {
                Map<DiskId, Long> out = new TreeMap<>();
                if (q.disks().isEmpty()) {
                    for (Disk d : disks.values()) {
                        if (agent.equals(d.info.agent())) {
                            out.put(d.info.disk(), d.durable);
                        }
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

        private boolean diskInfo(Message.DiskInfo m) throws IOException {
            lock.lock();
            try {
                Disk d = disks.get(m.disk());
                if (d != null && !d.info.agent().equals(agent)) {
                    fail(ErrorCode.UNAUTHORIZED, "disk " + m.disk() + " is sent by agent '" + d.info.agent()
                            + "', not '" + agent + "'");
                    return false;
                }
                long forwarded = d == null ? 0 : d.forwarded;
                PsState.Disk info = new PsState.Disk(m.disk(), m.group(), m.sizeBytes(), agent, forwarded);
                state.put(info);
                if (d == null) {
                    d = new Disk(info);
                    disks.put(m.disk(), d);
                } else {
                    d.info = info;
                }
                coordinator.disk(agent, m.disk(), m.group());
                changed.signalAll();
                return true;
            } finally {
                lock.unlock();
            }
        }

        /** Relays one HASH_QUERY to the master target; false when the connection must end. */
        private boolean hashQuery(Message.HashQuery q) throws IOException {
            if (!resyncHash) {
                fail(ErrorCode.PROTOCOL_VIOLATION, "HASH_QUERY from an agent whose HELLO did not list capability "
                        + WireProtocol.CAPABILITY_RESYNC_HASH);
                return false;
            }
            String owner;
            lock.lock();
            try {
                Disk d = disks.get(q.disk());
                owner = d == null ? null : d.info.agent();
            } finally {
                lock.unlock();
            }
            if (owner == null) {
                fail(ErrorCode.PROTOCOL_VIOLATION, "HASH_QUERY of disk " + q.disk() + " before its DISK_INFO");
                return false;
            }
            if (!owner.equals(agent)) {
                fail(ErrorCode.UNAUTHORIZED, "disk " + q.disk() + " is sent by agent '" + owner + "', not '" + agent + "'");
                return false;
            }
            if (!hashRelay.query(this, q)) {
                fail(ErrorCode.PROTOCOL_VIOLATION, "more than " + WireProtocol.MAX_HASH_QUERIES_IN_FLIGHT
                        + " HASH_QUERY unanswered on this connection");
                return false;
            }
            return true;
        }

        /** Handles one BATCH; false when the connection must end. */
        private boolean batch(ByteBuffer frame) throws IOException {
            BatchHeader h = BatchDecoder.readHeader(frame);
            Disk disk;
            lock.lock();
            try {
                disk = disks.get(h.disk());
            } finally {
                lock.unlock();
            }
            if (disk == null || !disk.info.agent().equals(agent)) {
                fail(ErrorCode.PROTOCOL_VIOLATION, "BATCH of disk " + h.disk() + " before its DISK_INFO on this connection");
                return false;
            }
            synchronized (disk.receiveLock) {
                long accepted;
                long acceptedEnd;
                lock.lock();
                try {
                    accepted = disk.accepted;
                    acceptedEnd = disk.acceptedEnd;
                } finally {
                    lock.unlock();
                }
                if (h.sequence() <= accepted) {
                    // held already: acknowledge again once what this run took of the disk is durable
                    replies.put(new Reply(acceptedEnd, disk, accepted, null));
                    return true;
                }
                if (h.sequence() > accepted + 1) {
                    String text = "expected " + (accepted + 1) + ", got " + h.sequence();
                    LOG.log(Level.WARNING, "process server: disk " + h.disk() + ": gap, " + text);
                    send(new Message.Resend(h.disk(), accepted + 1, ResendReason.GAP, text));
                    return true;
                }
                ByteBuffer toSpool = frame;
                String holding = "";
                try {
                    Compressor wan = compressors.apply(options.wanCompressor());
                    if (wan != null && !wan.name().equals(h.compressor()) && h.payloadLength() > 0) {
                        // checked whole and recompressed in one pass, without building change records
                        if (out == null) {
                            out = ByteBuffer.allocateDirect(WireProtocol.MAX_FRAME_SIZE);
                        }
                        out.clear();
                        encoder.recompress(frame, compressors, wan, out);
                        toSpool = out.flip();
                    } else {
                        decoder.decode(frame, this::payloadBuffer); // checks the record CRCs
                    }
                } catch (RecordChecksumException e) {
                    LOG.log(Level.WARNING, "process server: " + e.getMessage() + "; asking for a resend");
                    send(new Message.Resend(h.disk(), h.sequence(), ResendReason.BAD_CRC, e.getMessage()));
                    return true;
                } catch (UnknownCompressorException e) {
                    holding = "holding: unknown compressor " + e.compressorName();
                    LOG.log(Level.WARNING, "process server: " + e.getMessage()
                            + "; spooling and forwarding the frame as received");
                }
                long timestamp = ChronoUnit.MICROS.between(Instant.EPOCH, h.firstWrite());
                long end;
                long bytes = toSpool.remaining() + 64L;
                try {
                    // copied into the spool's pending group at once; durable (and acknowledged) later, in order,
                    // while this thread checks and recompresses the next batch
                    end = spool.appendNoWait(h.disk().value(), h.sequence(), timestamp, toSpool);
                } catch (SpoolFullException e) {
                    lock.lock();
                    try {
                        disk.refused = e.getMessage();
                    } finally {
                        lock.unlock();
                    }
                    LOG.log(Level.WARNING, "process server: refusing batch " + h.disk() + " seq " + h.sequence()
                            + ": " + e.getMessage());
                    send(new Message.ErrorMessage(ErrorCode.RECEIVER_FULL, e.getMessage()));
                    return false;
                }
                lock.lock();
                try {
                    disk.accepted = h.sequence();
                    disk.acceptedEnd = end;
                    disk.pending.addLast(new long[] {h.sequence(), bytes, timestamp});
                    disk.backlog += bytes;
                    disk.bytesIn += frame.remaining();
                    disk.holding = holding;
                    disk.refused = "";
                } finally {
                    lock.unlock();
                }
                replies.put(new Reply(end, disk, h.sequence(), null));
                return true;
            }
        }

        private ByteBuffer payloadBuffer(int length) {
            if (payload == null || payload.capacity() < length) {
                payload = ByteBuffer.allocate(Math.max(length, 1 << 20));
            }
            return payload.clear();
        }
    }

    /**
     * A reply to an agent, sent in order: {@code frame} if not null; else, once the spool is
     * durable up to {@code spoolEnd}, ACK of {@code disk} (durable up to {@code sequence} then).
     */
    private record Reply(long spoolEnd, Disk disk, long sequence, ByteBuffer frame) {
    }

    /**
     * Sends an agent session's replies on their own thread, in the order the session queued
     * them. An ACK waits until its spool entry is durable (ACK means durable), so the session
     * checks and recompresses the next batch while the spool writes and syncs this one, and
     * batches queued meanwhile share one fsync. Per disk ACKs are cumulative and in sequence
     * order, because the session appends a disk's batches in that order.
     */
    private final class Replies extends Thread {
        /** Replies waiting, at most; the batches they acknowledge are in the spool's pending group. */
        static final int AHEAD = 8;
        private static final Reply END = new Reply(0, null, 0, null);
        /** Wakes the thread for {@link #relayed} frames. */
        private static final Reply WAKE = new Reply(0, null, 0, null);
        private final FrameConnection c;
        private final java.util.concurrent.ArrayBlockingQueue<Reply> queue =
                new java.util.concurrent.ArrayBlockingQueue<>(AHEAD);
        /** Relayed HASHES: sent between replies, without waiting behind the spool. */
        private final java.util.concurrent.ConcurrentLinkedQueue<ByteBuffer> relayed =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        private volatile IOException failure;

        Replies(FrameConnection c) {
            super("secondsite-ps-agent-replies");
            setDaemon(true);
            this.c = c;
        }

        @Override
        public void run() {
            try {
                for (Reply r; (r = queue.take()) != END;) {
                    if (failure == null) {
                        try {
                            sendRelayed();
                            if (r != WAKE) {
                                reply(r);
                            }
                            sendRelayed();
                        } catch (IOException e) {
                            failure = e;
                            closeQuietly(c); // ends the session's reading too
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void sendRelayed() throws IOException {
            for (ByteBuffer f; (f = relayed.poll()) != null;) {
                c.send(f);
            }
        }

        /** Queues a relayed frame; never blocks (the thread is woken, or busy and sends it next). */
        void relay(ByteBuffer frame) {
            relayed.add(frame);
            queue.offer(WAKE);
        }

        private void reply(Reply r) throws IOException {
            if (r.frame() != null) {
                c.send(r.frame());
                return;
            }
            Disk d = r.disk();
            if (r.spoolEnd() > 0) {
                try {
                    spool.awaitDurable(r.spoolEnd());
                } catch (SpoolFullException e) {
                    // the spool's filesystem filled under this batch: it stays queued (durable once space
                    // returns); the agent keeps its copy, hears why, and reconnects after its back-off
                    lock.lock();
                    try {
                        d.refused = e.getMessage();
                    } finally {
                        lock.unlock();
                    }
                    LOG.log(Level.WARNING, "process server: cannot make batch " + d.info.disk() + " seq "
                            + r.sequence() + " durable: " + e.getMessage());
                    c.send(MessageCodec.encode(new Message.ErrorMessage(ErrorCode.RECEIVER_FULL, e.getMessage())));
                    throw e;
                }
            }
            long durable;
            lock.lock();
            try {
                d.durable = Math.max(d.durable, r.sequence());
                durable = d.durable;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            c.send(MessageCodec.encode(new Message.Ack(d.info.disk(), durable)));
        }

        /** Queues {@code r}; fails if replying failed (the connection is then closed). */
        void put(Reply r) throws IOException {
            try {
                while (!queue.offer(r, 100, TimeUnit.MILLISECONDS)) {
                    check();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("process server session interrupted");
            }
            check();
        }

        private void check() throws IOException {
            IOException f = failure;
            if (f != null) {
                throw new IOException("replying to agent " + c.peerIdentity() + " failed: " + f.getMessage(), f);
            }
        }

        /** Sends what is queued (each ACK once durable), then ends. */
        void finish() {
            try {
                while (isAlive() && !queue.offer(END, 100, TimeUnit.MILLISECONDS)) {
                    // the replier is waiting for the spool or the link; it drains the queue
                }
                join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Reads an agent connection's frames on its own thread, a few ahead of the session that
     * handles them, so that TLS decryption of the next batch overlaps with checking,
     * recompressing and spooling the current one. Frames are handed over in order.
     */
    private static final class FrameReader extends Thread {
        /** Frames read ahead, at most; each is at most {@link WireProtocol#MAX_FRAME_SIZE}. */
        static final int AHEAD = 2;
        private static final ByteBuffer END = ByteBuffer.allocate(0);
        private final FrameConnection c;
        private final java.util.concurrent.ArrayBlockingQueue<ByteBuffer> queue =
                new java.util.concurrent.ArrayBlockingQueue<>(AHEAD);
        private volatile boolean stopped;
        private volatile IOException failure;

        FrameReader(FrameConnection c) {
            super("secondsite-ps-agent-reader");
            setDaemon(true);
            this.c = c;
        }

        @Override
        public void run() {
            try {
                ByteBuffer f;
                while (!stopped && (f = receive()) != null) {
                    if (!hand(f)) {
                        return;
                    }
                }
            } catch (IOException e) {
                failure = e;
            }
            hand(END);
        }

        private boolean hand(ByteBuffer f) {
            try {
                while (!stopped) {
                    if (queue.offer(f, 100, TimeUnit.MILLISECONDS)) {
                        return true;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        }

        /** Frames of the maximum size to receive into, given back by the session once handled. */
        private final java.util.concurrent.ConcurrentLinkedQueue<ByteBuffer> spare =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        private int pooled;

        private ByteBuffer receive() throws IOException {
            ByteBuffer lend = spare.poll();
            if (lend == null && pooled < AHEAD + 2) {
                pooled++;
                lend = ByteBuffer.allocate(c.maxFrameSize());
            }
            ByteBuffer f = c.receive(lend);
            if (lend != null && f != lend) {
                spare.offer(lend);
            }
            return f;
        }

        /** Takes back a frame whose bytes nobody refers to any more. */
        void recycle(ByteBuffer f) {
            if (f.hasArray() && f.capacity() == c.maxFrameSize() && f.arrayOffset() == 0) {
                spare.offer(f);
            }
        }

        /** The next frame, or null at the end of the connection; rethrows the read failure. */
        ByteBuffer take() throws IOException {
            ByteBuffer f;
            try {
                f = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("process server session interrupted");
            }
            if (f == END) {
                if (failure != null) {
                    throw failure;
                }
                return null;
            }
            return f;
        }

        /** Ends reading: the session is over and its connection is closed. */
        void finish() {
            stopped = true;
            closeQuietly(c);
            queue.clear();
        }
    }

    private List<String> localCompressors() {
        List<String> out = new ArrayList<>();
        for (String name : List.of(options.wanCompressor(), "lz4", "zstd")) {
            if (!out.contains(name) && compressors.apply(name) != null) {
                out.add(name);
            }
        }
        if (!out.contains(Compressors.NONE_NAME)) {
            out.add(Compressors.NONE_NAME); // wanCompressor = none, or a 'none' plugin, must not list it twice
        }
        return out;
    }

    private Map<String, Long> heartbeatFigures() {
        var f = spool.figures();
        Map<String, Long> m = new TreeMap<>();
        m.put("backlog.bytes", f.backlogBytes());
        m.put("backlog.batches", f.entryCount());
        m.put("spool.free.bytes", Math.max(0, f.maxBytes() - f.diskBytes()));
        m.put("rpo.micros", f.hasBacklog()
                ? Math.max(0, ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant()) - f.oldestTimestamp()) : 0);
        return m;
    }

    // ------------------------------------------------------------------ forwarding

    private void forwardLoop() {
        long backoff = options.backoffMin().toNanos();
        String lastFailure = null; // logged at WARNING once, then at DEBUG until it changes or the link works
        while (!isClosed()) {
            boolean progressed = false;
            try {
                Transport t = transports.apply(options.transport());
                TransportSecurity sec = security.get();
                if (t == null || sec == null) {
                    setForward("waiting", t == null ? "transport '" + options.transport() + "' is not available"
                            : "the component identity (TLS material) is not available");
                } else {
                    progressed = forwardSession(t, sec);
                }
            } catch (IOException | RuntimeException e) {
                if (isClosed()) {
                    return;
                }
                String failure = "link to master target " + options.masterTarget() + " failed: " + e;
                setForward("disconnected", failure);
                LOG.log(failure.equals(lastFailure) ? Level.DEBUG : Level.WARNING, "process server: " + failure
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

    private void setForward(String s, String message) {
        lock.lock();
        try {
            forwardState = s;
            forwardMessage = message;
        } finally {
            lock.unlock();
        }
    }

    private boolean forwardSession(Transport t, TransportSecurity sec) throws IOException {
        InetSocketAddress target = options.masterTarget().isUnresolved()
                ? new InetSocketAddress(options.masterTarget().getHostString(), options.masterTarget().getPort())
                : options.masterTarget();
        FrameConnection c = t.connect(target, sec, options.connectTimeout());
        AckReader reader = null;
        long relayEpoch = 0;
        QuerySender relaySender = null;
        String relayEnd = "the connection to the master target ended";
        try (Spool.Reader sr = spool.readerFromOldestUnreleased().reuseBuffer()) { // each entry is sent before the next
            lock.lock();
            try {
                if (closed) {
                    return false;
                }
                forwardConnection = c;
                forwardInflight = 0;
            } finally {
                lock.unlock();
            }
            c.send(MessageCodec.encode(new Message.Hello(componentId.get(), Role.PROCESS_SERVER, localCompressors(),
                    List.of(WireProtocol.CAPABILITY_RESYNC_HASH))));
            Message m = receiveControl(c);
            if (!(m instanceof Message.HelloAck ack)) {
                throw new IOException("master target answered HELLO with " + m.type());
            }
            if (!ack.accepted()) {
                setForward("refused", "master target " + ack.componentId() + " refused this process server: "
                        + ack.reason());
                throw new IOException("master target refused this process server: " + ack.reason());
            }
            List<DiskId> asked;
            lock.lock();
            try {
                asked = new ArrayList<>(disks.keySet());
            } finally {
                lock.unlock();
            }
            c.send(MessageCodec.encode(new Message.ResumeQuery(asked)));
            m = receiveControl(c);
            if (!(m instanceof Message.ResumePoint point)) {
                throw new IOException("master target answered RESUME_QUERY with " + m.type());
            }
            for (Map.Entry<DiskId, Long> e : point.durable().entrySet()) {
                forwarded(e.getKey(), e.getValue());
            }
            Set<DiskId> announced = new HashSet<>();
            lock.lock();
            try {
                forwardState = "replicating";
                forwardMessage = "";
            } finally {
                lock.unlock();
            }
            reader = new AckReader(c);
            reader.start();
            ReentrantLock sendLock = new ReentrantLock();
            relayEpoch = hashRelay.connected();
            relaySender = new QuerySender(c, sendLock, relayEpoch);
            relaySender.start();
            try {
                pumpSpool(c, sr, reader, announced, sendLock);
            } catch (IOException | RuntimeException e) {
                relayEnd = e.toString();
                throw e;
            }
            return reader.acks > 0;
        } finally {
            if (relayEpoch != 0) {
                hashRelay.disconnected(relayEpoch, relayEnd);
                relaySender.finish();
            }
            closeQuietly(c);
            lock.lock();
            try {
                if (forwardConnection == c) {
                    forwardConnection = null;
                }
                forwardInflight = 0;
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

    private void pumpSpool(FrameConnection c, Spool.Reader sr, AckReader reader, Set<DiskId> announced,
                           ReentrantLock sendLock) throws IOException {
        long heartbeatNanos = options.heartbeat().toNanos();
        long lastSend = System.nanoTime();
        while (true) {
            checkAlive(reader, heartbeatNanos);
            announce(c, announced, sendLock);
            SpoolEntry e = sr.next();
            if (e == null) {
                if (System.nanoTime() - lastSend >= heartbeatNanos) {
                    send(c, sendLock, MessageCodec.encode(new Message.Heartbeat(clock.instant(), heartbeatFigures())));
                    lastSend = System.nanoTime();
                }
                try {
                    spool.awaitData(sr.position(), 100, TimeUnit.MILLISECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("forwarder interrupted");
                }
                continue;
            }
            DiskId disk = DiskId.of(e.diskId());
            int size = e.payload().remaining();
            lock.lock();
            try {
                Disk d = disks.get(disk);
                if (d == null || e.sequence() <= d.forwarded) {
                    continue;
                }
                while (!closed && reader.ended == null && forwardInflight > 0
                        && forwardInflight + size > options.windowBytes()) {
                    changed.awaitNanos(TimeUnit.MILLISECONDS.toNanos(250));
                    checkAliveLocked(reader, heartbeatNanos);
                }
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("forwarder interrupted");
            } finally {
                lock.unlock();
            }
            checkAlive(reader, heartbeatNanos);
            long wait = throttle.reserve(size);
            while (wait > 0) {
                lock.lock();
                try {
                    if (closed || reader.ended != null) {
                        break;
                    }
                    setForwardLocked("throttled", "bandwidth limit " + throttle.currentRate() + " B/s ("
                            + throttle.schedule() + ")");
                    changed.awaitNanos(wait);
                    if ("throttled".equals(forwardState)) {
                        forwardState = "replicating";
                        forwardMessage = "";
                    }
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("forwarder interrupted");
                } finally {
                    lock.unlock();
                }
                wait = throttle.pendingDelayNanos();
            }
            checkAlive(reader, heartbeatNanos);
            lock.lock();
            try {
                forwardInflight += size;
                Disk d = disks.get(disk);
                if (d != null) {
                    d.bytesOut += size;
                }
            } finally {
                lock.unlock();
            }
            send(c, sendLock, e.payload());
            lastSend = System.nanoTime();
        }
    }

    /** Sends on the master-target connection, which the forwarder and the {@link QuerySender} share. */
    private static void send(FrameConnection c, ReentrantLock sendLock, ByteBuffer frame) throws IOException {
        sendLock.lock();
        try {
            c.send(frame);
        } finally {
            sendLock.unlock();
        }
    }

    /**
     * Sends the relayed hash queries on the master-target connection as they arrive, beside the
     * forwarder's batches (one frame at a time under the connection's send lock), so that a
     * query never waits behind the spool backlog.
     */
    private final class QuerySender extends Thread {
        private final FrameConnection c;
        private final ReentrantLock sendLock;
        private final long epoch;
        private volatile boolean stopped;

        QuerySender(FrameConnection c, ReentrantLock sendLock, long epoch) {
            super("secondsite-ps-hash-relay");
            setDaemon(true);
            this.c = c;
            this.sendLock = sendLock;
            this.epoch = epoch;
        }

        @Override
        public void run() {
            try {
                while (!stopped && hashRelay.current(epoch)) {
                    Message.HashQuery q = hashRelay.next(epoch, 250);
                    if (q != null) {
                        send(c, sendLock, MessageCodec.encode(q));
                    }
                }
            } catch (IOException e) {
                closeQuietly(c); // the forwarder sees the connection fail and reconnects
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void finish() {
            stopped = true;
            try {
                join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void setForwardLocked(String s, String message) {
        forwardState = s;
        forwardMessage = message;
    }

    private void checkAlive(AckReader reader, long heartbeatNanos) throws IOException {
        lock.lock();
        try {
            checkAliveLocked(reader, heartbeatNanos);
        } finally {
            lock.unlock();
        }
    }

    private void checkAliveLocked(AckReader reader, long heartbeatNanos) throws IOException {
        if (closed) {
            throw new IOException("process server is closing");
        }
        if (reader.ended != null) {
            throw reader.ended;
        }
        if (System.nanoTime() - reader.lastReceived > 3 * heartbeatNanos) {
            throw new IOException("no frame from the master target for three heartbeat intervals: link lost");
        }
    }

    /** Sends DISK_INFO for disks not yet announced on this connection. */
    private void announce(FrameConnection c, Set<DiskId> announced, ReentrantLock sendLock) throws IOException {
        List<Message.DiskInfo> infos = new ArrayList<>();
        lock.lock();
        try {
            for (Disk d : disks.values()) {
                if (!announced.contains(d.info.disk())) {
                    infos.add(new Message.DiskInfo(d.info.disk(), d.info.group(), d.info.size()));
                }
            }
        } finally {
            lock.unlock();
        }
        for (Message.DiskInfo i : infos) {
            send(c, sendLock, MessageCodec.encode(i));
            announced.add(i.disk());
        }
    }

    /**
     * The master target holds {@code disk} durably up to {@code seq}: remember it. The state
     * writer persists it (coalesced, outside the lock) and only then releases the spool
     * entries it covers, so that a restart never loses the durable point of released entries.
     */
    private void forwarded(DiskId disk, long seq) {
        lock.lock();
        try {
            Disk d = disks.get(disk);
            if (d == null || seq <= d.forwarded) {
                return;
            }
            state.update(new PsState.Disk(d.info.disk(), d.info.group(), d.info.size(), d.info.agent(), seq));
            d.info = state.disks().get(disk);
            d.forwarded = seq;
            d.durable = Math.max(d.durable, seq);
            d.accepted = Math.max(d.accepted, seq);
            while (!d.pending.isEmpty() && d.pending.peekFirst()[0] <= seq) {
                long[] p = d.pending.pollFirst();
                d.backlog -= p[1];
                forwardInflight = Math.max(0, forwardInflight - (p[1] - 64));
            }
            changed.signalAll();
            stateDirty.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writes the acknowledged sequences to the state file at most once per
     * {@link #STATE_WRITE_INTERVAL} (at once when idle), then releases the spool entries the
     * written file covers. After a crash the process server may thus send the master target
     * batches it already holds; the master target acknowledges them without applying them again.
     */
    private void stateWriteLoop() {
        long interval = STATE_WRITE_INTERVAL.toNanos();
        while (true) {
            PsState.Snapshot snapshot;
            lock.lock();
            try {
                while (!closed && !state.dirty()) {
                    stateDirty.await();
                }
                if (closed) {
                    return; // close() writes what is left
                }
                snapshot = state.takeSnapshot();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                lock.unlock();
            }
            long next = System.nanoTime() + interval;
            try {
                writeStateAndRelease(snapshot);
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.ERROR, "process server: cannot write " + PsState.FILE + " in " + options.spoolDir()
                        + "; spool entries stay until it can: " + e);
                lock.lock();
                try {
                    state.markDirty();
                } finally {
                    lock.unlock();
                }
            }
            lock.lock();
            try {
                for (long left; !closed && (left = next - System.nanoTime()) > 0;) {
                    stateDirty.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    private void writeStateAndRelease(PsState.Snapshot snapshot) throws IOException {
        state.write(snapshot);
        for (PsState.Disk d : snapshot.disks().values()) {
            spool.release(d.disk().value(), d.forwarded());
        }
    }

    private static Message receiveControl(FrameConnection c) throws IOException {
        while (true) {
            ByteBuffer f = c.receive();
            if (f == null) {
                throw new EOFException("master target closed the connection");
            }
            Message m = MessageCodec.decode(f);
            if (m instanceof Message.ErrorMessage e) {
                throw new IOException("master target sent ERROR " + e.code() + ": " + e.text());
            }
            if (!(m instanceof Message.Heartbeat)) {
                return m;
            }
        }
    }

    /** Reads the master target's ACK, RESEND, ERROR and HEARTBEAT frames. */
    private final class AckReader extends Thread {
        final FrameConnection c;
        volatile IOException ended;
        volatile long lastReceived = System.nanoTime();
        volatile long acks;

        AckReader(FrameConnection c) {
            super("secondsite-ps-forward-receiver");
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
                        end = new EOFException("master target closed the connection");
                        break;
                    }
                    lastReceived = System.nanoTime();
                    Message m = MessageCodec.decode(f);
                    if (m instanceof Message.Ack a) {
                        forwarded(a.disk(), a.durableSequence());
                        acks++;
                    } else if (m instanceof Message.Hashes h) {
                        hashRelay.answer(h);
                    } else if (m instanceof Message.Resend r) {
                        LOG.log(Level.INFO, "process server: master target asks disk " + r.disk() + " again from "
                                + r.fromSequence() + " (" + r.reason() + ": " + r.text() + "); resuming on a new connection");
                        end = new IOException("RESEND " + r.disk() + " from " + r.fromSequence() + " (" + r.reason()
                                + ": " + r.text() + ")");
                        break;
                    } else if (m instanceof Message.ErrorMessage e) {
                        end = new IOException("master target sent ERROR " + e.code() + ": " + e.text());
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
        return Stage.PROCESS_SERVER;
    }

    @Override
    public List<DiskReplicationStatus> disks() {
        lock.lock();
        try {
            List<DiskReplicationStatus> out = new ArrayList<>();
            for (Disk d : disks.values()) {
                String s = forwardState;
                String msg = forwardMessage;
                if (!d.refused.isEmpty()) {
                    s = "spool-full";
                    msg = d.refused;
                } else if (!d.holding.isEmpty()) {
                    s = d.holding;
                    msg = "batches are spooled and forwarded as received; the master target applies them once it"
                            + " has the compressor";
                }
                Instant oldest = d.pending.isEmpty() ? null
                        : Instant.EPOCH.plus(d.pending.peekFirst()[2], ChronoUnit.MICROS);
                out.add(new DiskReplicationStatus(d.info.disk(), Stage.PROCESS_SERVER, s, msg, d.durable,
                        d.forwarded, d.backlog, oldest, null, d.bytesIn, d.bytesOut));
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** The spool (for figures). */
    public Spool spool() {
        return spool;
    }

    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            changed.signalAll();
            stateDirty.signalAll(); // the state writer waits on this one; without it close() waited 10 s for it
        } finally {
            lock.unlock();
        }
        coordinator.close();
        synchronized (this) {
            closeQuietly(server);
            server = null;
        }
        dropAgentConnections();
        dropForwardConnection();
        try {
            forwarder.join(TimeUnit.SECONDS.toMillis(10));
            stateWriter.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        PsState.Snapshot last = null;
        lock.lock();
        try {
            if (state.dirty()) {
                last = state.takeSnapshot();
            }
        } finally {
            lock.unlock();
        }
        try {
            if (last != null) {
                writeStateAndRelease(last);
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "process server: cannot write " + PsState.FILE + " on close (the master target's"
                    + " RESUME_POINT gives the durable points again): " + e);
        } finally {
            spool.close();
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

    /** For status displays: the age of the oldest write not yet durable at the master target. */
    public Duration lag() {
        var f = spool.figures();
        return f.hasBacklog() ? Duration.of(Math.max(0, ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant())
                - f.oldestTimestamp()), ChronoUnit.MICROS) : Duration.ZERO;
    }
}
