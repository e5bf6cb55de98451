package org.secondsite.nbd;

/**
 * Constants of the NBD protocol (NetworkBlockDevice/nbd {@code doc/proto.md}), limited to what this
 * server speaks: fixed newstyle negotiation, the INFO extension and simple replies. Public so that
 * a {@link org.secondsite.api.storage.BlockDevice} can fail a request with a chosen error
 * ({@link NbdFailure}) and tests can speak the protocol.
 */
public final class NbdProtocol {
    private NbdProtocol() {
    }

    // Handshake magics.
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454F5054L;
    public static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;

    // Handshake flags (server, 16 bits) and client flags (32 bits).
    public static final int FLAG_FIXED_NEWSTYLE = 1;
    public static final int FLAG_NO_ZEROES = 1 << 1;
    public static final int CLIENT_FLAG_FIXED_NEWSTYLE = 1;
    public static final int CLIENT_FLAG_NO_ZEROES = 1 << 1;
    public static final int KNOWN_CLIENT_FLAGS = CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES;

    // Transmission flags.
    public static final int FLAG_HAS_FLAGS = 1;
    public static final int FLAG_READ_ONLY = 1 << 1;
    public static final int FLAG_SEND_FLUSH = 1 << 2;
    public static final int FLAG_SEND_FUA = 1 << 3;
    public static final int FLAG_SEND_TRIM = 1 << 5;
    public static final int FLAG_SEND_WRITE_ZEROES = 1 << 6;
    public static final int FLAG_CAN_MULTI_CONN = 1 << 8;
    /** Transmission flags of a writable export. */
    public static final int TRANSMISSION_FLAGS = FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_SEND_TRIM
            | FLAG_SEND_WRITE_ZEROES | FLAG_CAN_MULTI_CONN;
    /** Transmission flags of a read-only export: no FUA, TRIM or WRITE_ZEROES to offer. */
    public static final int READ_ONLY_TRANSMISSION_FLAGS = FLAG_HAS_FLAGS | FLAG_READ_ONLY | FLAG_SEND_FLUSH
            | FLAG_CAN_MULTI_CONN;

    // Options.
    public static final int OPT_EXPORT_NAME = 1;
    public static final int OPT_ABORT = 2;
    public static final int OPT_LIST = 3;
    public static final int OPT_STARTTLS = 5;
    public static final int OPT_INFO = 6;
    public static final int OPT_GO = 7;
    public static final int OPT_STRUCTURED_REPLY = 8;

    // Option replies.
    public static final int REP_ACK = 1;
    public static final int REP_SERVER = 2;
    public static final int REP_INFO = 3;
    public static final int REP_ERR_UNSUP = 0x80000000 | 1;
    public static final int REP_ERR_POLICY = 0x80000000 | 2;
    public static final int REP_ERR_INVALID = 0x80000000 | 3;
    public static final int REP_ERR_UNKNOWN = 0x80000000 | 6;

    // Information types of NBD_REP_INFO.
    public static final int INFO_EXPORT = 0;
    public static final int INFO_NAME = 1;
    public static final int INFO_DESCRIPTION = 2;
    public static final int INFO_BLOCK_SIZE = 3;

    // Transmission.
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int REQUEST_HEADER_SIZE = 28;
    public static final int SIMPLE_REPLY_SIZE = 16;

    public static final int CMD_READ = 0;
    public static final int CMD_WRITE = 1;
    public static final int CMD_DISC = 2;
    public static final int CMD_FLUSH = 3;
    public static final int CMD_TRIM = 4;
    public static final int CMD_WRITE_ZEROES = 6;

    public static final int CMD_FLAG_FUA = 1;
    public static final int CMD_FLAG_NO_HOLE = 1 << 1;

    // Error values.
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int ESHUTDOWN = 108;

    /** Largest READ or WRITE payload (the spec's default maximum payload, advertised in NBD_INFO_BLOCK_SIZE). */
    public static final int MAX_PAYLOAD = 32 << 20;
    /** Preferred block size advertised to clients. */
    public static final int PREFERRED_BLOCK_SIZE = 4096;
    /** Largest option data accepted during the handshake; a longer option ends the connection (spec: DoS). */
    public static final int MAX_OPTION_LENGTH = 16 << 10;
    /** Longest string (export name) the spec allows. */
    public static final int MAX_STRING_BYTES = 4096;

    public static String commandName(int type) {
        return switch (type) {
            case CMD_READ -> "READ";
            case CMD_WRITE -> "WRITE";
            case CMD_DISC -> "DISC";
            case CMD_FLUSH -> "FLUSH";
            case CMD_TRIM -> "TRIM";
            case 5 -> "CACHE";
            case CMD_WRITE_ZEROES -> "WRITE_ZEROES";
            case 7 -> "BLOCK_STATUS";
            default -> "command " + type;
        };
    }

    public static String optionName(int option) {
        return switch (option) {
            case OPT_EXPORT_NAME -> "NBD_OPT_EXPORT_NAME";
            case OPT_ABORT -> "NBD_OPT_ABORT";
            case OPT_LIST -> "NBD_OPT_LIST";
            case OPT_STARTTLS -> "NBD_OPT_STARTTLS";
            case OPT_INFO -> "NBD_OPT_INFO";
            case OPT_GO -> "NBD_OPT_GO";
            case OPT_STRUCTURED_REPLY -> "NBD_OPT_STRUCTURED_REPLY";
            case 9 -> "NBD_OPT_LIST_META_CONTEXT";
            case 10 -> "NBD_OPT_SET_META_CONTEXT";
            case 11 -> "NBD_OPT_EXTENDED_HEADERS";
            default -> "option " + Integer.toUnsignedString(option);
        };
    }
}
