package org.secondsite.wire;

import java.util.OptionalInt;

import org.secondsite.api.model.ChangeRecord;

/** Constants and limits of the wire protocol; docs/PROTOCOL.md explains each. */
public final class WireProtocol {
    /** The protocol version this codec speaks. */
    public static final int VERSION = 1;
    /** Magic number at the start of HELLO: ASCII "SSRP". */
    public static final int MAGIC = 0x53535250;

    /** Largest frame of any type, in bytes: 18 MiB. Transports must accept frames this large. */
    public static final int MAX_FRAME_SIZE = 18 << 20;
    /** Smallest possible frame: type, flags, CRC32C. */
    public static final int MIN_FRAME_SIZE = 6;
    /** Most bytes of record data (uncompressed) in one batch: 16 MiB. */
    public static final int MAX_PAYLOAD = 16 << 20;
    /** Most bytes of compressed payload in one batch: 16 MiB + 192 KiB (room for incompressible data). */
    public static final int MAX_COMPRESSED_PAYLOAD = MAX_PAYLOAD + (MAX_PAYLOAD >>> 7) + (64 << 10);
    /** Most records in one batch. */
    public static final int MAX_RECORDS = 65_536;
    /** Most consistency tags in one batch. */
    public static final int MAX_TAGS = 64;
    /** Most disks in RESUME_QUERY and RESUME_POINT. */
    public static final int MAX_DISKS = 4096;
    /** Most compressors listed in HELLO and HELLO_ACK. */
    public static final int MAX_COMPRESSORS = 16;
    /** Most capabilities listed in HELLO. */
    public static final int MAX_CAPABILITIES = 64;
    /** Most figures in one HEARTBEAT. */
    public static final int MAX_FIGURES = 32;
    /** Most UTF-8 bytes of a text field (reasons, error texts); longer texts are cut. */
    public static final int MAX_TEXT_BYTES = 1024;
    /** Most UTF-8 bytes of a consistency tag's name. */
    public static final int MAX_TAG_NAME_BYTES = 512;
    /** Length of disk, group and component ids: 1 to this many ASCII characters. */
    public static final int MAX_ID_LENGTH = 128;
    /** Length of compressor names. */
    public static final int MAX_COMPRESSOR_NAME_LENGTH = 16;
    /** Length of capabilities and heartbeat figure keys. */
    public static final int MAX_TOKEN_LENGTH = 64;
    /** Bytes of one entry of a batch's record table. */
    public static final int RECORD_ENTRY_SIZE = 17;
    /** Largest range of one record (that of {@link ChangeRecord#MAX_LENGTH}). */
    public static final int MAX_RECORD_LENGTH = ChangeRecord.MAX_LENGTH;

    /**
     * Capability (HELLO) of a peer that speaks HASH_QUERY and HASHES (§3.11, §3.12): the agent
     * sends queries, the process server relays them, the master target answers them.
     */
    public static final String CAPABILITY_RESYNC_HASH = "resync.hash";
    /** Bytes of one block hash in HASHES: SHA-256 truncated to 128 bits. */
    public static final int HASH_BYTES = 16;
    /** Smallest block size of a HASH_QUERY. */
    public static final int MIN_HASH_BLOCK = 512;
    /** Largest block size of a HASH_QUERY: 64 MiB. */
    public static final int MAX_HASH_BLOCK = 64 << 20;
    /** Most ranges in one HASH_QUERY. */
    public static final int MAX_HASH_RANGES = 4096;
    /** Most blocks (hashes) one HASH_QUERY may ask for: HASHES then carries at most 1 MiB of hashes. */
    public static final int MAX_HASH_BLOCKS = 65_536;
    /** Most bytes of disk one HASH_QUERY may cover, all ranges together: 1 GiB. */
    public static final int MAX_HASH_QUERY_BYTES = 1 << 30;
    /** Most HASH_QUERY a sender may have unanswered on one connection; a receiver may refuse more. */
    public static final int MAX_HASH_QUERIES_IN_FLIGHT = 1024;

    /**
     * Capability (HELLO) of an agent that takes part in cross-machine consistency groups: it
     * answers TAG_PREPARE and TAG_RELEASE (§3.13-§3.17, §7).
     */
    public static final String CAPABILITY_TAG_COORDINATION = "tag.coordination";
    /** Longest hold of a group's writes a TAG_PREPARE may ask for: 60 s. */
    public static final int MAX_TAG_HOLD_MILLIS = 60_000;

    private WireProtocol() {
    }

    /**
     * The version a receiver supporting {@code ourMin..ourMax} chooses for a peer offering
     * {@code peerMin..peerMax}: the highest common one, or empty if there is none.
     */
    public static OptionalInt negotiate(int ourMin, int ourMax, int peerMin, int peerMax) {
        int hi = Math.min(ourMax, peerMax);
        int lo = Math.max(ourMin, peerMin);
        return hi >= lo && hi >= 1 ? OptionalInt.of(hi) : OptionalInt.empty();
    }
}
