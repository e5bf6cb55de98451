package org.secondsite.wire;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

import org.secondsite.api.appliance.Role;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.wire.internal.Fields;

/**
 * The control messages of the protocol (every type but BATCH, which {@link BatchEncoder} and
 * {@link BatchDecoder} handle). Constructors check every limit of docs/PROTOCOL.md, so a
 * message that exists can always be encoded; texts are normalized (cut to
 * {@link WireProtocol#MAX_TEXT_BYTES}) and times truncated to microseconds as they travel.
 */
public sealed interface Message {

    /** The type written in the frame. */
    MessageType type();

    /** Roles that speak the replication protocol. */
    static boolean isWireRole(Role role) {
        return role == Role.AGENT || role == Role.PROCESS_SERVER || role == Role.MASTER_TARGET;
    }

    /**
     * First message of the connecting side.
     *
     * @param minVersion lowest protocol version offered, >= 1
     * @param maxVersion highest protocol version offered
     * @param componentId the sender's component id
     * @param role the sender's role: agent, process server or master target
     * @param compressors compressors the sender can decode, in order of preference
     * @param capabilities optional features, e.g. {@code resync.hash}; unknown ones are ignored
     */
    record Hello(int minVersion, int maxVersion, String componentId, Role role, List<String> compressors,
                 List<String> capabilities) implements Message {
        public Hello {
            if (minVersion < 1 || maxVersion < minVersion || maxVersion > 0xFFFF) {
                throw new IllegalArgumentException("versions must satisfy 1 <= min <= max <= 65535: " + minVersion + ".." + maxVersion);
            }
            Fields.checkId("component id", componentId);
            Objects.requireNonNull(role, "role");
            if (!isWireRole(role)) {
                throw new IllegalArgumentException("role " + role + " does not speak the replication protocol");
            }
            compressors = checkCompressors(compressors);
            capabilities = List.copyOf(capabilities);
            if (capabilities.size() > WireProtocol.MAX_CAPABILITIES) {
                throw new IllegalArgumentException("at most " + WireProtocol.MAX_CAPABILITIES + " capabilities: " + capabilities.size());
            }
            for (String c : capabilities) {
                Fields.checkToken("capability", c);
            }
            if (new HashSet<>(capabilities).size() != capabilities.size()) {
                throw new IllegalArgumentException("duplicate capability in " + capabilities);
            }
        }

        /** A HELLO offering exactly {@link WireProtocol#VERSION}. */
        public Hello(String componentId, Role role, List<String> compressors, List<String> capabilities) {
            this(WireProtocol.VERSION, WireProtocol.VERSION, componentId, role, compressors, capabilities);
        }

        @Override
        public MessageType type() {
            return MessageType.HELLO;
        }
    }

    /**
     * The receiver's answer to HELLO.
     *
     * @param version the chosen version; 0 when refused
     * @param accepted whether the receiver goes on
     * @param componentId the receiver's component id
     * @param compressors compressors the receiver can decode, in order of preference
     * @param reason why it refused; empty when accepted
     */
    record HelloAck(int version, boolean accepted, String componentId, List<String> compressors, String reason)
            implements Message {
        public HelloAck {
            reason = Fields.normalizeText(reason);
            if (accepted && (version < 1 || version > 0xFFFF)) {
                throw new IllegalArgumentException("an accepting HELLO_ACK needs a version 1..65535: " + version);
            }
            if (!accepted && version != 0) {
                throw new IllegalArgumentException("a refusing HELLO_ACK has version 0: " + version);
            }
            if (accepted != reason.isEmpty()) {
                throw new IllegalArgumentException(accepted ? "an accepting HELLO_ACK has no reason"
                        : "a refusing HELLO_ACK needs a reason");
            }
            Fields.checkId("component id", componentId);
            compressors = checkCompressors(compressors);
        }

        public static HelloAck accept(int version, String componentId, List<String> compressors) {
            return new HelloAck(version, true, componentId, compressors, "");
        }

        public static HelloAck refuse(String componentId, String reason) {
            return new HelloAck(0, false, componentId, List.of(), reason);
        }

        @Override
        public MessageType type() {
            return MessageType.HELLO_ACK;
        }
    }

    /**
     * Every batch of {@code disk} up to {@code durableSequence} is durable at the receiver.
     *
     * @param durableSequence >= 0 (0: none yet)
     */
    record Ack(DiskId disk, long durableSequence) implements Message {
        public Ack {
            Objects.requireNonNull(disk, "disk");
            if (durableSequence < 0) {
                throw new IllegalArgumentException("durable sequence must be >= 0: " + durableSequence);
            }
        }

        @Override
        public MessageType type() {
            return MessageType.ACK;
        }
    }

    /** Send {@code disk} again from {@code fromSequence} on. */
    record Resend(DiskId disk, long fromSequence, ResendReason reason, String text) implements Message {
        public Resend {
            Objects.requireNonNull(disk, "disk");
            Objects.requireNonNull(reason, "reason");
            if (fromSequence < 1) {
                throw new IllegalArgumentException("from sequence must be >= 1: " + fromSequence);
            }
            text = Fields.normalizeText(text);
        }

        @Override
        public MessageType type() {
            return MessageType.RESEND;
        }
    }

    /**
     * Liveness, with optional figures such as {@code backlog.bytes} or {@code rpo.micros}.
     *
     * @param time the sender's clock (truncated to microseconds)
     * @param figures key to value, at most {@link WireProtocol#MAX_FIGURES}; kept sorted by key
     */
    record Heartbeat(Instant time, SortedMap<String, Long> figures) implements Message {
        public Heartbeat {
            Objects.requireNonNull(time, "time");
            Fields.micros(time);
            time = time.truncatedTo(ChronoUnit.MICROS);
            TreeMap<String, Long> copy = new TreeMap<>();
            for (Map.Entry<String, Long> e : figures.entrySet()) {
                copy.put(Fields.checkToken("figure key", e.getKey()), Objects.requireNonNull(e.getValue(), "figure value"));
            }
            if (copy.size() > WireProtocol.MAX_FIGURES) {
                throw new IllegalArgumentException("at most " + WireProtocol.MAX_FIGURES + " figures: " + copy.size());
            }
            figures = Collections.unmodifiableSortedMap(copy);
        }

        public Heartbeat(Instant time, Map<String, Long> figures) {
            this(time, new TreeMap<>(figures));
        }

        @Override
        public MessageType type() {
            return MessageType.HEARTBEAT;
        }
    }

    /** A fatal error; its sender closes the connection afterwards. */
    record ErrorMessage(ErrorCode code, String text) implements Message {
        public ErrorMessage {
            Objects.requireNonNull(code, "code");
            text = Fields.normalizeText(text);
        }

        @Override
        public MessageType type() {
            return MessageType.ERROR;
        }
    }

    /** Asks the receiver's last durable sequence of each disk; empty asks for all of the sender's disks. */
    record ResumeQuery(List<DiskId> disks) implements Message {
        public ResumeQuery {
            disks = List.copyOf(disks);
            if (disks.size() > WireProtocol.MAX_DISKS) {
                throw new IllegalArgumentException("at most " + WireProtocol.MAX_DISKS + " disks: " + disks.size());
            }
            if (new HashSet<>(disks).size() != disks.size()) {
                throw new IllegalArgumentException("duplicate disk in " + disks);
            }
        }

        @Override
        public MessageType type() {
            return MessageType.RESUME_QUERY;
        }
    }

    /** The receiver's last durable sequence per disk (0: none). */
    record ResumePoint(SortedMap<DiskId, Long> durable) implements Message {
        public ResumePoint {
            TreeMap<DiskId, Long> copy = new TreeMap<>();
            for (Map.Entry<DiskId, Long> e : durable.entrySet()) {
                long v = Objects.requireNonNull(e.getValue(), "durable sequence");
                if (v < 0) {
                    throw new IllegalArgumentException("durable sequence of " + e.getKey() + " must be >= 0: " + v);
                }
                copy.put(Objects.requireNonNull(e.getKey(), "disk"), v);
            }
            if (copy.size() > WireProtocol.MAX_DISKS) {
                throw new IllegalArgumentException("at most " + WireProtocol.MAX_DISKS + " disks: " + copy.size());
            }
            durable = Collections.unmodifiableSortedMap(copy);
        }

        public ResumePoint(Map<DiskId, Long> durable) {
            this(new TreeMap<>(durable));
        }

        @Override
        public MessageType type() {
            return MessageType.RESUME_POINT;
        }
    }

    /**
     * Announces a disk to the receiver before the disk's batches: its consistency group and
     * its size, so that a master target can create the replica volume with the right size.
     * Sent after RESUME_POINT on every connection, for each disk the sender will send.
     *
     * @param disk the disk
     * @param group its consistency group
     * @param sizeBytes the disk's size in bytes, >= 1
     */
    record DiskInfo(DiskId disk, GroupId group, long sizeBytes) implements Message {
        public DiskInfo {
            Objects.requireNonNull(disk, "disk");
            Objects.requireNonNull(group, "group");
            if (sizeBytes < 1) {
                throw new IllegalArgumentException("disk size must be >= 1 byte: " + sizeBytes);
            }
        }

        @Override
        public MessageType type() {
            return MessageType.DISK_INFO;
        }
    }

    /**
     * Asks the master target for the block hashes of ranges of a disk's replica, as it is once
     * every batch up to {@code afterSequence} is applied (capability {@code resync.hash}). The
     * agent sends it, the process server relays it (with a request id of its own), the master
     * target answers HASHES.
     *
     * @param requestId chosen by the sender, echoed in HASHES
     * @param disk the disk
     * @param blockSize bytes per hashed block: a power of two, {@value WireProtocol#MIN_HASH_BLOCK} to
     *        {@value WireProtocol#MAX_HASH_BLOCK}
     * @param afterSequence the replica must have applied this sequence first (0: no condition)
     * @param ranges 1 to {@value WireProtocol#MAX_HASH_RANGES} ranges, ascending, not overlapping;
     *        each is cut into blocks from its own offset (its last block may be shorter); at most
     *        {@value WireProtocol#MAX_HASH_BLOCKS} blocks and {@value WireProtocol#MAX_HASH_QUERY_BYTES}
     *        bytes in all
     */
    record HashQuery(long requestId, DiskId disk, int blockSize, long afterSequence, List<Range> ranges)
            implements Message {
        public HashQuery {
            Objects.requireNonNull(disk, "disk");
            checkBlockSize(blockSize);
            if (afterSequence < 0) {
                throw new IllegalArgumentException("after sequence must be >= 0: " + afterSequence);
            }
            ranges = List.copyOf(ranges);
            if (ranges.isEmpty() || ranges.size() > WireProtocol.MAX_HASH_RANGES) {
                throw new IllegalArgumentException("a hash query has 1.." + WireProtocol.MAX_HASH_RANGES + " ranges: "
                        + ranges.size());
            }
            long previousEnd = 0;
            long blocks = 0;
            long bytes = 0;
            for (Range r : ranges) {
                if (r.offset() < previousEnd) {
                    throw new IllegalArgumentException("range " + r + " starts before the end " + previousEnd
                            + " of the previous one: ranges must ascend without overlap");
                }
                previousEnd = r.end();
                blocks += BlockHashes.blocks(r.length(), blockSize);
                bytes += r.length();
            }
            if (blocks > WireProtocol.MAX_HASH_BLOCKS) {
                throw new IllegalArgumentException("a hash query asks at most " + WireProtocol.MAX_HASH_BLOCKS
                        + " blocks, these ranges hold " + blocks + " blocks of " + blockSize + " bytes");
            }
            if (bytes > WireProtocol.MAX_HASH_QUERY_BYTES) {
                throw new IllegalArgumentException("a hash query covers at most " + WireProtocol.MAX_HASH_QUERY_BYTES
                        + " bytes, these ranges cover " + bytes);
            }
        }

        /** Number of hashes the answer carries: the blocks of every range. */
        public int blockCount() {
            int n = 0;
            for (Range r : ranges) {
                n += BlockHashes.blocks(r.length(), blockSize);
            }
            return n;
        }

        /** The same query with another request id (the process server's, when it relays). */
        public HashQuery withRequestId(long id) {
            return new HashQuery(id, disk, blockSize, afterSequence, ranges);
        }

        @Override
        public MessageType type() {
            return MessageType.HASH_QUERY;
        }

        /**
         * A range of a disk.
         *
         * @param offset first byte, >= 0
         * @param length bytes, 1 to {@value WireProtocol#MAX_HASH_QUERY_BYTES}
         */
        public record Range(long offset, int length) {
            public Range {
                if (offset < 0) {
                    throw new IllegalArgumentException("range offset must be >= 0: " + offset);
                }
                if (length < 1 || length > WireProtocol.MAX_HASH_QUERY_BYTES) {
                    throw new IllegalArgumentException("range length must be 1.." + WireProtocol.MAX_HASH_QUERY_BYTES
                            + ": " + length);
                }
                if (offset + length < 0) {
                    throw new IllegalArgumentException("range " + offset + "+" + length + " overflows");
                }
            }

            /** First byte after the range. */
            public long end() {
                return offset + length;
            }

            @Override
            public String toString() {
                return offset + "+" + length;
            }
        }
    }

    /**
     * The answer to a HASH_QUERY: with {@link HashStatus#OK}, one hash per block of the query's
     * ranges in their order ({@value WireProtocol#HASH_BYTES} bytes each, see {@link BlockHashes});
     * otherwise no hash and a text saying why.
     *
     * @param requestId the query's
     * @param disk the query's
     * @param blockSize the query's
     * @param appliedSequence the disk's applied sequence when the replica was read (0 if unknown)
     * @param status the outcome
     * @param text empty with OK; otherwise why, for the log and the operator
     * @param hashes the hashes, back to back; empty unless OK. Held without a copy: do not modify
     *        what was passed in
     */
    record Hashes(long requestId, DiskId disk, int blockSize, long appliedSequence, HashStatus status, String text,
                  ByteBuffer hashes) implements Message {
        public Hashes {
            Objects.requireNonNull(disk, "disk");
            Objects.requireNonNull(status, "status");
            checkBlockSize(blockSize);
            if (appliedSequence < 0) {
                throw new IllegalArgumentException("applied sequence must be >= 0: " + appliedSequence);
            }
            text = Fields.normalizeText(text);
            hashes = hashes.slice().asReadOnlyBuffer();
            int n = hashes.remaining();
            if (n % WireProtocol.HASH_BYTES != 0 || n / WireProtocol.HASH_BYTES > WireProtocol.MAX_HASH_BLOCKS) {
                throw new IllegalArgumentException("hashes must be a multiple of " + WireProtocol.HASH_BYTES
                        + " bytes, at most " + WireProtocol.MAX_HASH_BLOCKS + " of them: " + n + " bytes");
            }
            if (status == HashStatus.OK && (n == 0 || !text.isEmpty())) {
                throw new IllegalArgumentException("an OK answer carries at least one hash and no text");
            }
            if (status != HashStatus.OK && (n != 0 || text.isEmpty())) {
                throw new IllegalArgumentException("a " + status + " answer carries no hash and a text saying why");
            }
        }

        /** An answer without hashes. */
        public static Hashes refuse(HashQuery q, HashStatus status, long appliedSequence, String text) {
            return new Hashes(q.requestId(), q.disk(), q.blockSize(), appliedSequence, status, text,
                    ByteBuffer.allocate(0));
        }

        /** The hashes (a read-only view, position 0). */
        @Override
        public ByteBuffer hashes() {
            return hashes.duplicate();
        }

        /** Number of hashes. */
        public int count() {
            return hashes.remaining() / WireProtocol.HASH_BYTES;
        }

        /** The same answer with another request id (the agent's, when the process server relays it back). */
        public Hashes withRequestId(long id) {
            return new Hashes(id, disk, blockSize, appliedSequence, status, text, hashes);
        }

        @Override
        public String toString() {
            return "Hashes[requestId=" + requestId + ", disk=" + disk + ", blockSize=" + blockSize + ", appliedSequence="
                    + appliedSequence + ", status=" + status + ", text=" + text + ", count=" + count() + "]";
        }

        @Override
        public MessageType type() {
            return MessageType.HASHES;
        }
    }

    /**
     * Process server to agent (capability {@code tag.coordination}): run the pre-freeze hooks
     * (APPLICATION), then hold every write of the agent's disks of {@code group}, answer TAG_HELD,
     * and keep holding until TAG_RELEASE, at most {@code holdMillis} after the hold began.
     *
     * @param group the consistency group
     * @param tag the tag to insert on a committing TAG_RELEASE (its time truncated to microseconds)
     * @param holdMillis longest hold, 1 to {@value WireProtocol#MAX_TAG_HOLD_MILLIS}
     */
    record TagPrepare(GroupId group, ConsistencyTag tag, int holdMillis) implements Message {
        public TagPrepare {
            Objects.requireNonNull(group, "group");
            Objects.requireNonNull(tag, "tag");
            Fields.micros(tag.time());
            tag = new ConsistencyTag(tag.id(), tag.name(), tag.kind(), tag.time().truncatedTo(ChronoUnit.MICROS));
            int bytes;
            try {
                bytes = java.nio.charset.StandardCharsets.UTF_8.newEncoder()
                        .encode(java.nio.CharBuffer.wrap(tag.name())).remaining();
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new IllegalArgumentException("tag name '" + tag.name() + "' is not valid UTF-16 (unpaired surrogate)");
            }
            if (bytes > WireProtocol.MAX_TAG_NAME_BYTES) {
                throw new IllegalArgumentException("tag name has " + bytes + " UTF-8 bytes, at most "
                        + WireProtocol.MAX_TAG_NAME_BYTES);
            }
            if (holdMillis < 1 || holdMillis > WireProtocol.MAX_TAG_HOLD_MILLIS) {
                throw new IllegalArgumentException("hold must be 1.." + WireProtocol.MAX_TAG_HOLD_MILLIS + " ms: "
                        + holdMillis);
            }
        }

        @Override
        public MessageType type() {
            return MessageType.TAG_PREPARE;
        }
    }

    /**
     * Agent to process server: the writes of {@code disks} (the agent's disks of the group, maybe
     * none) are held for the tag.
     *
     * @param tagId the TAG_PREPARE's tag id
     * @param written whether a change entered those disks' streams since the group's last checkpoint
     *        (the coordinator skips a CHECKPOINT of a group no member wrote)
     * @param disks 0 to {@value WireProtocol#MAX_DISKS} disks, no duplicates
     */
    record TagHeld(UUID tagId, boolean written, List<DiskId> disks) implements Message {
        public TagHeld {
            Objects.requireNonNull(tagId, "tagId");
            disks = List.copyOf(disks);
            if (disks.size() > WireProtocol.MAX_DISKS) {
                throw new IllegalArgumentException("at most " + WireProtocol.MAX_DISKS + " disks: " + disks.size());
            }
            if (new HashSet<>(disks).size() != disks.size()) {
                throw new IllegalArgumentException("duplicate disk in " + disks);
            }
        }

        @Override
        public MessageType type() {
            return MessageType.TAG_HELD;
        }
    }

    /**
     * Agent to process server: the tag is refused (hook failed, group inconsistent, ...), or the
     * hold expired before TAG_RELEASE and the agent released by itself (the tag is void).
     *
     * @param tagId the TAG_PREPARE's tag id
     * @param text why, not empty
     */
    record TagRefused(UUID tagId, String text) implements Message {
        public TagRefused {
            Objects.requireNonNull(tagId, "tagId");
            text = Fields.normalizeText(text);
            if (text.isEmpty()) {
                throw new IllegalArgumentException("TAG_REFUSED carries a text saying why");
            }
        }

        @Override
        public MessageType type() {
            return MessageType.TAG_REFUSED;
        }
    }

    /**
     * Process server to agent: end the hold of {@code tagId}; with {@code commit} insert the tag
     * into every held disk's stream first.
     */
    record TagRelease(UUID tagId, boolean commit) implements Message {
        public TagRelease {
            Objects.requireNonNull(tagId, "tagId");
        }

        @Override
        public MessageType type() {
            return MessageType.TAG_RELEASE;
        }
    }

    /**
     * Agent to process server, the answer to TAG_RELEASE: whether the tag entered the streams
     * of the held disks.
     *
     * @param tagId the tag id
     * @param inserted whether the tag was inserted (false: not committed, or no longer held)
     * @param text empty, or a note (why not inserted, a post-thaw hook that failed)
     */
    record TagDone(UUID tagId, boolean inserted, String text) implements Message {
        public TagDone {
            Objects.requireNonNull(tagId, "tagId");
            text = Fields.normalizeText(text);
        }

        @Override
        public MessageType type() {
            return MessageType.TAG_DONE;
        }
    }

    private static void checkBlockSize(int blockSize) {
        if (blockSize < WireProtocol.MIN_HASH_BLOCK || blockSize > WireProtocol.MAX_HASH_BLOCK
                || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two " + WireProtocol.MIN_HASH_BLOCK + ".."
                    + WireProtocol.MAX_HASH_BLOCK + ": " + blockSize);
        }
    }

    private static List<String> checkCompressors(List<String> compressors) {
        List<String> copy = List.copyOf(compressors);
        if (copy.size() > WireProtocol.MAX_COMPRESSORS) {
            throw new IllegalArgumentException("at most " + WireProtocol.MAX_COMPRESSORS + " compressors: " + copy.size());
        }
        for (String c : copy) {
            Fields.checkCompressor(c);
        }
        if (new HashSet<>(copy).size() != copy.size()) {
            throw new IllegalArgumentException("duplicate compressor in " + copy);
        }
        return copy;
    }
}
