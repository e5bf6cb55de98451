package org.secondsite.wire;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

import org.secondsite.api.appliance.Role;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;
import org.secondsite.wire.internal.Codes;
import org.secondsite.wire.internal.Fields;
import org.secondsite.wire.internal.WireReader;
import org.secondsite.wire.internal.WireWriter;

/**
 * Encodes and decodes the control messages (all types but BATCH) of docs/PROTOCOL.md.
 * Stateless and thread-safe.
 */
public final class MessageCodec {
    private static final int HEADER_AND_CRC = 6;

    private MessageCodec() {
    }

    /**
     * The type of a frame, after checking its size, CRC and flags, so that the caller can
     * hand a BATCH to {@link BatchDecoder} and the rest to {@link #decode}.
     */
    public static MessageType type(ByteBuffer frame) throws WireFormatException {
        return WireReader.open(frame).type();
    }

    /** Exact length of the frame {@link #encode} writes for {@code m}. */
    public static int encodedLength(Message m) {
        int body;
        if (m instanceof Message.Hello h) {
            body = 4 + 2 + 2 + 1 + h.componentId().length() + 1 + 1 + asciiListLength(h.compressors())
                    + 1 + asciiListLength(h.capabilities());
        } else if (m instanceof Message.HelloAck a) {
            body = 2 + 1 + 1 + a.componentId().length() + 1 + asciiListLength(a.compressors()) + textLength(a.reason());
        } else if (m instanceof Message.Ack a) {
            body = 1 + a.disk().value().length() + 8;
        } else if (m instanceof Message.Resend r) {
            body = 1 + r.disk().value().length() + 8 + 1 + textLength(r.text());
        } else if (m instanceof Message.Heartbeat h) {
            body = 8 + 1 + asciiListLength(h.figures().keySet()) + 8 * h.figures().size();
        } else if (m instanceof Message.ErrorMessage e) {
            body = 2 + textLength(e.text());
        } else if (m instanceof Message.ResumeQuery q) {
            body = 2;
            for (DiskId d : q.disks()) {
                body += 1 + d.value().length();
            }
        } else if (m instanceof Message.ResumePoint p) {
            body = 2;
            for (DiskId d : p.durable().keySet()) {
                body += 1 + d.value().length() + 8;
            }
        } else if (m instanceof Message.DiskInfo d) {
            body = 1 + d.disk().value().length() + 1 + d.group().value().length() + 8;
        } else if (m instanceof Message.HashQuery q) {
            body = 8 + 1 + q.disk().value().length() + 4 + 8 + 2 + 12 * q.ranges().size();
        } else if (m instanceof Message.Hashes h) {
            body = 8 + 1 + h.disk().value().length() + 4 + 8 + 1 + textLength(h.text()) + 4 + h.count() * WireProtocol.HASH_BYTES;
        } else if (m instanceof Message.TagPrepare p) {
            body = 16 + 1 + p.group().value().length() + 1 + 8 + 4 + 2
                    + p.tag().name().getBytes(StandardCharsets.UTF_8).length;
        } else if (m instanceof Message.TagHeld h) {
            body = 16 + 1 + 2;
            for (DiskId d : h.disks()) {
                body += 1 + d.value().length();
            }
        } else if (m instanceof Message.TagRefused r) {
            body = 16 + textLength(r.text());
        } else if (m instanceof Message.TagRelease) {
            body = 16 + 1;
        } else if (m instanceof Message.TagDone d) {
            body = 16 + 1 + textLength(d.text());
        } else {
            throw new IllegalArgumentException("not a control message: " + m);
        }
        return HEADER_AND_CRC + body;
    }

    /** Encodes {@code m} into a new heap buffer (position 0, limit the frame's length). */
    public static ByteBuffer encode(Message m) {
        ByteBuffer out = ByteBuffer.allocate(encodedLength(m));
        encode(m, out);
        return out.flip();
    }

    /**
     * Writes {@code m} as one frame at {@code out}'s position and moves the position past it.
     *
     * @return the frame's length
     * @throws IllegalArgumentException if {@code out} has less than {@link #encodedLength} bytes left
     */
    public static int encode(Message m, ByteBuffer out) {
        int len = encodedLength(m);
        if (out.remaining() < len) {
            throw new IllegalArgumentException(m.type() + " needs " + len + " bytes, the buffer has " + out.remaining() + " left");
        }
        WireWriter w = new WireWriter(out, m.type());
        if (m instanceof Message.Hello h) {
            w.i32(WireProtocol.MAGIC);
            w.u16(h.minVersion());
            w.u16(h.maxVersion());
            w.ascii8(h.componentId());
            w.u8(roleCode(h.role()));
            w.u8(h.compressors().size());
            h.compressors().forEach(w::ascii8);
            w.u8(h.capabilities().size());
            h.capabilities().forEach(w::ascii8);
        } else if (m instanceof Message.HelloAck a) {
            w.u16(a.version());
            w.u8(a.accepted() ? 1 : 0);
            w.ascii8(a.componentId());
            w.u8(a.compressors().size());
            a.compressors().forEach(w::ascii8);
            w.text(a.reason());
        } else if (m instanceof Message.Ack a) {
            w.ascii8(a.disk().value());
            w.i64(a.durableSequence());
        } else if (m instanceof Message.Resend r) {
            w.ascii8(r.disk().value());
            w.i64(r.fromSequence());
            w.u8(r.reason().code());
            w.text(r.text());
        } else if (m instanceof Message.Heartbeat h) {
            w.i64(Fields.micros(h.time()));
            w.u8(h.figures().size());
            for (Map.Entry<String, Long> e : h.figures().entrySet()) {
                w.ascii8(e.getKey());
                w.i64(e.getValue());
            }
        } else if (m instanceof Message.ErrorMessage e) {
            w.u16(e.code().code());
            w.text(e.text());
        } else if (m instanceof Message.ResumeQuery q) {
            w.u16(q.disks().size());
            q.disks().forEach(d -> w.ascii8(d.value()));
        } else if (m instanceof Message.ResumePoint p) {
            w.u16(p.durable().size());
            for (Map.Entry<DiskId, Long> e : p.durable().entrySet()) {
                w.ascii8(e.getKey().value());
                w.i64(e.getValue());
            }
        } else if (m instanceof Message.DiskInfo d) {
            w.ascii8(d.disk().value());
            w.ascii8(d.group().value());
            w.i64(d.sizeBytes());
        } else if (m instanceof Message.HashQuery q) {
            w.i64(q.requestId());
            w.ascii8(q.disk().value());
            w.i32(q.blockSize());
            w.i64(q.afterSequence());
            w.u16(q.ranges().size());
            for (Message.HashQuery.Range r : q.ranges()) {
                w.i64(r.offset());
                w.i32(r.length());
            }
        } else if (m instanceof Message.Hashes h) {
            w.i64(h.requestId());
            w.ascii8(h.disk().value());
            w.i32(h.blockSize());
            w.i64(h.appliedSequence());
            w.u8(h.status().code());
            w.text(h.text());
            w.i32(h.count());
            w.bytes(h.hashes());
        } else if (m instanceof Message.TagPrepare p) {
            uuid(w, p.tag().id());
            w.ascii8(p.group().value());
            w.u8(Codes.tagKind(p.tag().kind()));
            w.i64(Fields.micros(p.tag().time()));
            w.i32(p.holdMillis());
            w.utf8(p.tag().name().getBytes(StandardCharsets.UTF_8));
        } else if (m instanceof Message.TagHeld h) {
            uuid(w, h.tagId());
            w.u8(h.written() ? 1 : 0);
            w.u16(h.disks().size());
            h.disks().forEach(d -> w.ascii8(d.value()));
        } else if (m instanceof Message.TagRefused r) {
            uuid(w, r.tagId());
            w.text(r.text());
        } else if (m instanceof Message.TagRelease r) {
            uuid(w, r.tagId());
            w.u8(r.commit() ? 1 : 0);
        } else if (m instanceof Message.TagDone d) {
            uuid(w, d.tagId());
            w.u8(d.inserted() ? 1 : 0);
            w.text(d.text());
        }
        return w.finish(new CRC32C());
    }

    /**
     * Decodes a control message frame (position to limit of {@code frame}; the buffer is
     * not modified).
     *
     * @throws WireFormatException if the frame is malformed in any way, or is a BATCH
     */
    public static Message decode(ByteBuffer frame) throws WireFormatException {
        WireReader r = WireReader.open(frame);
        Message m = switch (r.type()) {
            case HELLO -> decodeHello(r);
            case HELLO_ACK -> decodeHelloAck(r);
            case ACK -> {
                DiskId disk = diskId(r, "disk id");
                long seq = r.i64("durable sequence");
                if (seq < 0) {
                    throw r.error("durable sequence", "is " + seq + ", must be >= 0");
                }
                yield build(r, () -> new Message.Ack(disk, seq));
            }
            case RESEND -> {
                DiskId disk = diskId(r, "disk id");
                long seq = r.i64("from sequence");
                if (seq < 1) {
                    throw r.error("from sequence", "is " + seq + ", must be >= 1");
                }
                int code = r.u8("reason");
                ResendReason reason = ResendReason.ofCode(code);
                if (reason == null) {
                    throw r.error("reason", "is " + code + ", must be 1 (gap), 2 (bad crc) or 3 (unknown compressor)");
                }
                String text = r.utf8("text", 0, WireProtocol.MAX_TEXT_BYTES);
                yield build(r, () -> new Message.Resend(disk, seq, reason, text));
            }
            case HEARTBEAT -> {
                long micros = r.i64("time");
                int n = r.u8Count("figure count", WireProtocol.MAX_FIGURES);
                TreeMap<String, Long> figures = new TreeMap<>();
                String previous = null;
                for (int i = 0; i < n; i++) {
                    String key = r.token("figure key " + i);
                    if (previous != null && key.compareTo(previous) <= 0) {
                        throw r.error("figure key " + i, "'" + key + "' is not after '" + previous + "' (keys must ascend)");
                    }
                    figures.put(key, r.i64("figure value " + i));
                    previous = key;
                }
                yield build(r, () -> new Message.Heartbeat(Fields.instant(micros), figures));
            }
            case ERROR -> {
                int code = r.u16("code");
                ErrorCode ec = ErrorCode.ofCode(code);
                if (ec == null) {
                    throw r.error("code", "is " + code + ", must be 1.." + ErrorCode.values().length);
                }
                String text = r.utf8("text", 0, WireProtocol.MAX_TEXT_BYTES);
                yield build(r, () -> new Message.ErrorMessage(ec, text));
            }
            case RESUME_QUERY -> {
                int n = r.u16Count("disk count", WireProtocol.MAX_DISKS);
                List<DiskId> disks = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    disks.add(diskId(r, "disk id " + i));
                }
                yield build(r, () -> new Message.ResumeQuery(disks));
            }
            case RESUME_POINT -> {
                int n = r.u16Count("disk count", WireProtocol.MAX_DISKS);
                TreeMap<DiskId, Long> durable = new TreeMap<>();
                DiskId previous = null;
                for (int i = 0; i < n; i++) {
                    DiskId disk = diskId(r, "disk id " + i);
                    if (previous != null && disk.compareTo(previous) <= 0) {
                        throw r.error("disk id " + i, "'" + disk + "' is not after '" + previous + "' (disks must ascend)");
                    }
                    long seq = r.i64("durable sequence " + i);
                    if (seq < 0) {
                        throw r.error("durable sequence " + i, "is " + seq + ", must be >= 0");
                    }
                    durable.put(disk, seq);
                    previous = disk;
                }
                yield build(r, () -> new Message.ResumePoint(durable));
            }
            case DISK_INFO -> {
                DiskId disk = diskId(r, "disk id");
                String groupValue = r.id("group id");
                GroupId group;
                try {
                    group = GroupId.of(groupValue);
                } catch (IllegalArgumentException e) {
                    throw r.error("group id", e.getMessage());
                }
                long size = r.i64("size");
                if (size < 1) {
                    throw r.error("size", "is " + size + ", must be >= 1");
                }
                yield build(r, () -> new Message.DiskInfo(disk, group, size));
            }
            case HASH_QUERY -> decodeHashQuery(r);
            case HASHES -> decodeHashes(r);
            case TAG_PREPARE -> decodeTagPrepare(r);
            case TAG_HELD -> {
                UUID id = uuid(r, "tag id");
                boolean written = bool(r, "written");
                int n = r.u16Count("disk count", WireProtocol.MAX_DISKS);
                List<DiskId> disks = new ArrayList<>(n);
                java.util.Set<DiskId> seen = new java.util.HashSet<>();
                for (int i = 0; i < n; i++) {
                    DiskId d = diskId(r, "disk id " + i);
                    if (!seen.add(d)) {
                        throw r.error("disk id " + i, "'" + d + "' is listed twice");
                    }
                    disks.add(d);
                }
                yield build(r, () -> new Message.TagHeld(id, written, disks));
            }
            case TAG_REFUSED -> {
                UUID id = uuid(r, "tag id");
                String text = r.utf8("text", 1, WireProtocol.MAX_TEXT_BYTES);
                yield build(r, () -> new Message.TagRefused(id, text));
            }
            case TAG_RELEASE -> {
                UUID id = uuid(r, "tag id");
                boolean commit = bool(r, "commit");
                yield build(r, () -> new Message.TagRelease(id, commit));
            }
            case TAG_DONE -> {
                UUID id = uuid(r, "tag id");
                boolean inserted = bool(r, "inserted");
                String text = r.utf8("text", 0, WireProtocol.MAX_TEXT_BYTES);
                yield build(r, () -> new Message.TagDone(id, inserted, text));
            }
            case BATCH -> throw new WireFormatException("BATCH frames are decoded by BatchDecoder, not MessageCodec");
        };
        r.expectEnd();
        return m;
    }

    private static Message decodeHello(WireReader r) throws WireFormatException {
        int magic = r.i32("magic");
        if (magic != WireProtocol.MAGIC) {
            throw new WireFormatException(String.format("HELLO: magic is %08x, expected %08x ('SSRP'): not a SecondSite peer",
                    magic, WireProtocol.MAGIC));
        }
        int min = r.u16("min version");
        int max = r.u16("max version");
        if (min < 1 || max < min) {
            throw r.error("max version", "versions " + min + ".." + max + " must satisfy 1 <= min <= max");
        }
        String component = r.id("component id");
        int roleCode = r.u8("role");
        Role role = switch (roleCode) {
            case 1 -> Role.AGENT;
            case 2 -> Role.PROCESS_SERVER;
            case 3 -> Role.MASTER_TARGET;
            default -> throw r.error("role", "is " + roleCode + ", must be 1 (agent), 2 (process server) or 3 (master target)");
        };
        List<String> compressors = compressorList(r);
        int nc = r.u8Count("capability count", WireProtocol.MAX_CAPABILITIES);
        List<String> capabilities = new ArrayList<>(nc);
        for (int i = 0; i < nc; i++) {
            capabilities.add(r.token("capability " + i));
        }
        return build(r, () -> new Message.Hello(min, max, component, role, compressors, capabilities));
    }

    private static Message decodeHelloAck(WireReader r) throws WireFormatException {
        int version = r.u16("version");
        int accepted = r.u8("accepted");
        if (accepted > 1) {
            throw r.error("accepted", "is " + accepted + ", must be 0 or 1");
        }
        String component = r.id("component id");
        List<String> compressors = compressorList(r);
        String reason = r.utf8("reason", 0, WireProtocol.MAX_TEXT_BYTES);
        return build(r, () -> new Message.HelloAck(version, accepted == 1, component, compressors, reason));
    }

    private static Message decodeHashQuery(WireReader r) throws WireFormatException {
        long id = r.i64("request id");
        DiskId disk = diskId(r, "disk id");
        int blockSize = blockSize(r);
        long after = r.i64("after sequence");
        if (after < 0) {
            throw r.error("after sequence", "is " + after + ", must be >= 0");
        }
        int n = r.u16("range count");
        if (n < 1 || n > WireProtocol.MAX_HASH_RANGES) {
            throw r.error("range count", "is " + n + ", must be 1.." + WireProtocol.MAX_HASH_RANGES);
        }
        if (r.remaining() < 12 * n) {
            throw r.error("range count", n + " ranges need " + 12 * n + " bytes, only " + r.remaining()
                    + " left (truncated frame)");
        }
        List<Message.HashQuery.Range> ranges = new ArrayList<>(n);
        long previousEnd = 0;
        long blocks = 0;
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            long offset = r.i64("range " + i + " offset");
            if (offset < previousEnd) {
                throw r.error("range " + i + " offset", "is " + offset + ", must be >= " + previousEnd
                        + " (ranges ascend without overlap)");
            }
            int length = r.i32("range " + i + " length", 1, WireProtocol.MAX_HASH_QUERY_BYTES);
            if (offset + length < 0) {
                throw r.error("range " + i + " length", offset + " + " + length + " overflows a 64-bit offset");
            }
            previousEnd = offset + length;
            blocks += (length + (long) blockSize - 1) / blockSize;
            bytes += length;
            if (blocks > WireProtocol.MAX_HASH_BLOCKS) {
                throw r.error("range " + i + " length", "the ranges so far hold " + blocks + " blocks of " + blockSize
                        + " bytes, at most " + WireProtocol.MAX_HASH_BLOCKS + " may be asked");
            }
            if (bytes > WireProtocol.MAX_HASH_QUERY_BYTES) {
                throw r.error("range " + i + " length", "the ranges so far cover " + bytes + " bytes, at most "
                        + WireProtocol.MAX_HASH_QUERY_BYTES + " may be asked");
            }
            ranges.add(new Message.HashQuery.Range(offset, length));
        }
        return build(r, () -> new Message.HashQuery(id, disk, blockSize, after, ranges));
    }

    private static Message decodeHashes(WireReader r) throws WireFormatException {
        long id = r.i64("request id");
        DiskId disk = diskId(r, "disk id");
        int blockSize = blockSize(r);
        long applied = r.i64("applied sequence");
        if (applied < 0) {
            throw r.error("applied sequence", "is " + applied + ", must be >= 0");
        }
        int code = r.u8("status");
        HashStatus status = HashStatus.ofCode(code);
        if (status == null) {
            throw r.error("status", "is " + code + ", must be 0 (ok), 1 (retry) or 2 (failed)");
        }
        String text = r.utf8("text", 0, WireProtocol.MAX_TEXT_BYTES);
        int count = r.i32("hash count", 0, WireProtocol.MAX_HASH_BLOCKS);
        if (status == HashStatus.OK && (count == 0 || !text.isEmpty())) {
            throw r.error("hash count", "an OK answer carries at least one hash and an empty text; found " + count
                    + " hashes and " + (text.isEmpty() ? "no text" : "a text"));
        }
        if (status != HashStatus.OK && (count != 0 || text.isEmpty())) {
            throw r.error("hash count", "a " + status + " answer carries no hash and a non-empty text; found " + count
                    + " hashes and " + (text.isEmpty() ? "no text" : "a text"));
        }
        ByteBuffer view = r.slice(count * WireProtocol.HASH_BYTES, "hashes");
        ByteBuffer hashes = ByteBuffer.allocate(view.remaining()).put(view).flip();
        return build(r, () -> new Message.Hashes(id, disk, blockSize, applied, status, text, hashes));
    }

    private static Message decodeTagPrepare(WireReader r) throws WireFormatException {
        UUID id = uuid(r, "tag id");
        String groupValue = r.id("group id");
        GroupId group;
        try {
            group = GroupId.of(groupValue);
        } catch (IllegalArgumentException e) {
            throw r.error("group id", e.getMessage());
        }
        int code = r.u8("kind");
        TagKind kind = Codes.tagKind(code);
        if (kind == null) {
            throw r.error("kind", "is " + code + ", must be 0 (application), 1 (bookmark), 2 (planned failover) or "
                    + "3 (checkpoint)");
        }
        long micros = r.i64("time");
        int hold = r.i32("hold millis", 1, WireProtocol.MAX_TAG_HOLD_MILLIS);
        String name = r.utf8("name", 1, WireProtocol.MAX_TAG_NAME_BYTES);
        return build(r, () -> new Message.TagPrepare(group,
                new ConsistencyTag(id, name, kind, Fields.instant(micros)), hold));
    }

    private static UUID uuid(WireReader r, String field) throws WireFormatException {
        long hi = r.i64(field);
        long lo = r.i64(field);
        return new UUID(hi, lo);
    }

    private static void uuid(WireWriter w, UUID id) {
        w.i64(id.getMostSignificantBits());
        w.i64(id.getLeastSignificantBits());
    }

    private static boolean bool(WireReader r, String field) throws WireFormatException {
        int v = r.u8(field);
        if (v > 1) {
            throw r.error(field, "is " + v + ", must be 0 or 1");
        }
        return v == 1;
    }

    private static int blockSize(WireReader r) throws WireFormatException {
        int b = r.i32("block size");
        if (b < WireProtocol.MIN_HASH_BLOCK || b > WireProtocol.MAX_HASH_BLOCK || Integer.bitCount(b) != 1) {
            throw r.error("block size", "is " + b + ", must be a power of two " + WireProtocol.MIN_HASH_BLOCK + ".."
                    + WireProtocol.MAX_HASH_BLOCK);
        }
        return b;
    }

    private static List<String> compressorList(WireReader r) throws WireFormatException {
        int n = r.u8Count("compressor count", WireProtocol.MAX_COMPRESSORS);
        List<String> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(r.compressor("compressor " + i));
        }
        return list;
    }

    static DiskId diskId(WireReader r, String field) throws WireFormatException {
        String v = r.id(field);
        try {
            return DiskId.of(v);
        } catch (IllegalArgumentException e) {
            throw r.error(field, e.getMessage());
        }
    }

    /** Builds a decoded message; a rule its constructor checks beyond the field checks becomes a WireFormatException. */
    private static <T> T build(WireReader r, Supplier<T> constructor) throws WireFormatException {
        try {
            return constructor.get();
        } catch (IllegalArgumentException e) {
            throw new WireFormatException(r.type() + ": " + e.getMessage(), e);
        }
    }

    static int roleCode(Role role) {
        return switch (role) {
            case AGENT -> 1;
            case PROCESS_SERVER -> 2;
            case MASTER_TARGET -> 3;
            default -> throw new IllegalArgumentException("role " + role + " does not speak the replication protocol");
        };
    }

    private static int asciiListLength(java.util.Collection<String> list) {
        int n = 0;
        for (String s : list) {
            n += 1 + s.length();
        }
        return n;
    }

    private static int textLength(String normalized) {
        return 2 + normalized.getBytes(StandardCharsets.UTF_8).length;
    }
}
