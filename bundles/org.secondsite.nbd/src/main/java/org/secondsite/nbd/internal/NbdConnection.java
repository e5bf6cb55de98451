package org.secondsite.nbd.internal;

import static org.secondsite.nbd.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.secondsite.nbd.NbdFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, served by its own thread: fixed-newstyle handshake, then transmission with
 * simple replies, one request at a time.
 *
 * <p>Hot path: requests are read through a reused direct input buffer (one {@code read} brings in as
 * many pipelined requests as the socket holds), payloads up to {@value #INLINE_PAYLOAD} bytes are
 * used in place in that buffer, larger ones in a reused direct payload buffer. The device is written
 * from the direct buffer: the server copies nothing (a write observer may keep a copy).
 * Replies are gathered in a reused direct output buffer that is written out before the thread would
 * block reading, so a batch of pipelined requests is answered with one {@code write}.
 */
final class NbdConnection implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdConnection.class);

    private static final int IN_CAPACITY = 256 << 10;
    private static final int OUT_CAPACITY = 256 << 10;
    /** Payloads up to this size are read into the input buffer; larger ones into {@link #payload}. */
    private static final int INLINE_PAYLOAD = 128 << 10;
    private static final int INITIAL_PAYLOAD = 1 << 20;

    private final NbdListener server;
    /** The listener's counters until an export is chosen, then the export's. */
    private NbdStatistics stats;
    /** The export chosen by NBD_OPT_GO or NBD_OPT_EXPORT_NAME; null during the handshake. */
    private ServedExport export;
    private final SocketChannel channel;
    private final String peer;
    private final Runnable onEnd;
    private final ByteBuffer in = ByteBuffer.allocateDirect(IN_CAPACITY).limit(0);
    private final ByteBuffer out = ByteBuffer.allocateDirect(OUT_CAPACITY);
    private final NbdRequest request = new NbdRequest();
    private final int[] optionLength = new int[1];
    private ByteBuffer payload;
    private boolean noZeroes;
    private volatile boolean handshakeDone;
    private volatile boolean closing;
    private Thread thread;

    NbdConnection(NbdListener server, NbdStatistics serverStats, SocketChannel channel, String peer, Runnable onEnd) {
        this.server = server;
        this.stats = serverStats;
        this.channel = channel;
        this.peer = peer;
        this.onEnd = onEnd;
    }

    String peer() {
        return peer;
    }

    boolean handshakeDone() {
        return handshakeDone;
    }

    void start(String threadName) {
        thread = new Thread(this, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** Closes the socket; the connection thread ends when its current request is done. */
    void close() {
        closing = true;
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing connection of {}: {}", peer, e.toString());
        }
    }

    /** Waits for the connection thread to end; false if it did not within {@code timeout}. */
    boolean awaitEnd(Duration timeout) throws InterruptedException {
        Thread t = thread;
        if (t != null) {
            t.join(Math.max(1, timeout.toMillis()));
            return !t.isAlive();
        }
        return true;
    }

    @Override
    public void run() {
        String where = "NBD client " + peer + " on " + server.address();
        try {
            if (handshake()) {
                handshakeDone = true;
                where = "NBD client " + peer + " on export '" + export.name() + "'";
                LOG.debug("{}: transmission started", where);
                transmission();
            }
        } catch (NbdProtocolException e) {
            LOG.warn("{}: protocol violation: {}; closing the connection", where, e.getMessage());
        } catch (ClientClosedException e) {
            LOG.info("{}: {}", where, e.getMessage());
        } catch (EOFException e) {
            LOG.warn("{}: {}; closing the connection, the export is unharmed", where, e.getMessage());
        } catch (ClosedChannelException e) {
            if (closing) {
                LOG.debug("{}: closed by the server", where);
            } else {
                LOG.warn("{}: connection closed: {}", where, e.toString());
            }
        } catch (IOException e) {
            if (closing) {
                LOG.debug("{}: closed by the server: {}", where, e.toString());
            } else {
                LOG.warn("{}: connection failed: {}", where, e.toString());
            }
        } catch (RuntimeException e) {
            stats.internalErrors.increment();
            LOG.error("{}: unexpected failure; closing the connection", where, e);
        } finally {
            if (!closing) {
                // Replies of requests completed before the violation or end of stream still go out.
                try {
                    flushOut();
                } catch (IOException e) {
                    LOG.debug("{}: pending replies could not be sent: {}", where, e.toString());
                }
            }
            close();
            ServedExport e = export;
            if (e != null) {
                e.detach(this);
            }
            onEnd.run();
        }
    }

    // ---------------------------------------------------------------- handshake

    /** Returns true when transmission is to start, false when the client ended the negotiation. */
    private boolean handshake() throws IOException {
        out.putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES));
        flushOut();
        if (!fill(4, "client flags", true)) {
            throw new ClientClosedException("client closed the connection before sending its flags");
        }
        int clientFlags = in.getInt();
        if ((clientFlags & ~KNOWN_CLIENT_FLAGS) != 0) {
            throw new NbdProtocolException(String.format(
                    "client flags 0x%08x carry unknown bits 0x%08x; only FIXED_NEWSTYLE (1) and NO_ZEROES (2) are known",
                    clientFlags, clientFlags & ~KNOWN_CLIENT_FLAGS));
        }
        // A client without FIXED_NEWSTYLE is served as a fixed-newstyle one (the spec allows this).
        noZeroes = (clientFlags & CLIENT_FLAG_NO_ZEROES) != 0;
        while (true) {
            if (!fill(16, "option header", true)) {
                throw new ClientClosedException("client closed the connection during option haggling");
            }
            int option = OptionDecoder.checkHeader(in, optionLength);
            int length = optionLength[0];
            fill(length, "data of " + optionName(option), false);
            ByteBuffer data = in.slice(in.position(), length);
            in.position(in.position() + length);
            OptionRequest o = OptionDecoder.decode(option, data);
            switch (o.action()) {
                case EXPORT_NAME -> {
                    ServedExport e = server.resolve(o.exportName());
                    if (e == null || !e.attach(this)) {
                        // This option cannot be answered with an error: the spec says to end the session.
                        throw new NbdProtocolException("NBD_OPT_EXPORT_NAME asked for "
                                + (o.exportName() == null ? "an invalid export name" : "unknown export '" + o.exportName() + "'")
                                + "; " + exportsText());
                    }
                    bind(e);
                    out.putLong(e.size()).putShort((short) e.transmissionFlags());
                    if (!noZeroes) {
                        out.put(new byte[124]);
                    }
                    flushOut();
                    return true;
                }
                case ABORT -> {
                    optionReply(option, REP_ACK, null);
                    flushOut();
                    LOG.debug("NBD client {}: aborted the negotiation", peer);
                    return false;
                }
                case LIST -> {
                    for (String n : server.names()) {
                        byte[] name = n.getBytes(StandardCharsets.UTF_8);
                        if (out.remaining() < 64 + name.length) {
                            flushOut();
                        }
                        optionReplyHeader(option, REP_SERVER, 4 + name.length);
                        out.putInt(name.length).put(name);
                    }
                    optionReply(option, REP_ACK, null);
                }
                case INFO, GO -> {
                    ServedExport e = server.resolve(o.exportName());
                    boolean go = o.action() == OptionRequest.Action.GO;
                    if (e == null || (go && !e.attach(this))) {
                        LOG.info("NBD client {}: {} for unknown export '{}'", peer, optionName(option), o.exportName());
                        optionReply(option, REP_ERR_UNKNOWN, "unknown export '" + o.exportName() + "'; " + exportsText());
                    } else {
                        sendInfo(o, e);
                        optionReply(option, REP_ACK, null);
                        if (go) {
                            bind(e);
                            flushOut();
                            return true;
                        }
                    }
                }
                case REFUSE -> {
                    if (o.errorReply() == REP_ERR_INVALID) {
                        LOG.warn("NBD client {}: invalid {}: {}", peer, optionName(option), o.message());
                    } else {
                        LOG.debug("NBD client {}: refused {}: {}", peer, optionName(option), o.message());
                    }
                    optionReply(option, o.errorReply(), o.message());
                }
            }
            flushOut();
        }
    }

    /** Transmission with {@code e}, attached already: its counters from now on. */
    private void bind(ServedExport e) {
        export = e;
        stats = e.stats();
    }

    /** "this server exports 'a', 'b'" (at most 20 names), or "this server has no exports". */
    private String exportsText() {
        java.util.List<String> names = server.names();
        if (names.isEmpty()) {
            return "this server has no exports";
        }
        StringBuilder b = new StringBuilder("this server exports ");
        for (int i = 0; i < names.size() && i < 20; i++) {
            b.append(i == 0 ? "" : ", ").append('\'').append(names.get(i)).append('\'');
        }
        if (names.size() > 20) {
            b.append(" and ").append(names.size() - 20).append(" more");
        }
        return b.toString();
    }

    /** NBD_REP_INFO replies: EXPORT always, then each requested type this server knows, once. */
    private void sendInfo(OptionRequest o, ServedExport export) {
        optionReplyHeader(o.option(), REP_INFO, 12);
        out.putShort((short) INFO_EXPORT).putLong(export.size()).putShort((short) export.transmissionFlags());
        for (int type : o.infoTypes()) {
            switch (type) {
                case INFO_NAME -> {
                    byte[] name = export.name().getBytes(StandardCharsets.UTF_8);
                    optionReplyHeader(o.option(), REP_INFO, 2 + name.length);
                    out.putShort((short) INFO_NAME).put(name);
                }
                case INFO_DESCRIPTION -> {
                    if (export.description() != null) { // else there is nothing to send
                        byte[] text = truncate(export.description().getBytes(StandardCharsets.UTF_8));
                        optionReplyHeader(o.option(), REP_INFO, 2 + text.length);
                        out.putShort((short) INFO_DESCRIPTION).put(text);
                    }
                }
                case INFO_BLOCK_SIZE -> {
                    optionReplyHeader(o.option(), REP_INFO, 14);
                    out.putShort((short) INFO_BLOCK_SIZE).putInt(1).putInt(PREFERRED_BLOCK_SIZE).putInt(MAX_PAYLOAD);
                }
                default -> {
                    // Unknown information types are ignored, as the spec requires.
                }
            }
        }
    }

    private static byte[] truncate(byte[] s) {
        return s.length <= MAX_STRING_BYTES ? s : java.util.Arrays.copyOf(s, MAX_STRING_BYTES);
    }

    private void optionReplyHeader(int option, int type, int length) {
        out.putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type).putInt(length);
    }

    private void optionReply(int option, int type, String message) {
        byte[] text = message == null ? new byte[0] : truncate(message.getBytes(StandardCharsets.UTF_8));
        optionReplyHeader(option, type, text.length);
        out.put(text);
    }

    // ---------------------------------------------------------------- transmission

    private void transmission() throws IOException {
        NbdRequest r = request;
        while (fill(REQUEST_HEADER_SIZE, "request header", true)) {
            RequestDecoder.decode(in, export.size(), export.isReadOnly(), r);
            if (r.fatal) {
                throw new NbdProtocolException(r.problem);
            }
            if (r.error != 0) {
                stats.rejectedRequests.increment();
                LOG.warn("NBD client {} on export '{}': rejected {}: {}", peer, export.name(), r, r.problem);
                if (r.type == CMD_WRITE) {
                    skip((int) r.length);
                }
                reply(r.error, r.handle);
                continue;
            }
            switch (r.type) {
                case CMD_READ -> read(r);
                case CMD_WRITE -> write(r);
                case CMD_WRITE_ZEROES -> {
                    int error = 0;
                    try {
                        export.zero(r.offset, r.length, r.fua());
                    } catch (IOException e) {
                        error = ioError(r, e);
                    }
                    reply(error, r.handle);
                }
                case CMD_TRIM -> {
                    int error = 0;
                    try {
                        export.trim(r.offset, r.length, r.fua());
                    } catch (IOException e) {
                        error = ioError(r, e);
                    }
                    reply(error, r.handle);
                }
                case CMD_FLUSH -> {
                    int error = 0;
                    try {
                        export.flush();
                    } catch (IOException e) {
                        error = ioError(r, e);
                    }
                    reply(error, r.handle);
                }
                case CMD_DISC -> {
                    flushOut();
                    LOG.debug("NBD client {} on export '{}': disconnected", peer, export.name());
                    return;
                }
                default -> throw new IllegalStateException("decoder accepted " + r);
            }
        }
        throw new ClientClosedException("client closed the connection without NBD_CMD_DISC");
    }

    private void write(NbdRequest r) throws IOException {
        int length = (int) r.length;
        ByteBuffer src;
        int inLimit = -1;
        int inStart = -1;
        if (length <= INLINE_PAYLOAD) {
            fill(length, "WRITE payload", false);
            inStart = in.position();
            inLimit = in.limit();
            in.limit(inStart + length);
            src = in;
        } else {
            src = readPayload(length);
        }
        int error = 0;
        try {
            export.write(r.offset, src, r.fua());
        } catch (IOException e) {
            error = ioError(r, e);
        } finally {
            if (inLimit >= 0) {
                in.limit(inLimit).position(inStart + length);
            }
        }
        reply(error, r.handle);
    }

    private void read(NbdRequest r) throws IOException {
        int length = (int) r.length;
        if (SIMPLE_REPLY_SIZE + length <= OUT_CAPACITY) {
            if (out.remaining() < SIMPLE_REPLY_SIZE + length) {
                flushOut();
            }
            int mark = out.position();
            out.putInt(SIMPLE_REPLY_MAGIC).putInt(0).putLong(r.handle);
            out.limit(out.position() + length);
            try {
                export.read(r.offset, out);
                out.limit(out.capacity());
            } catch (IOException e) {
                out.limit(out.capacity()).position(mark);
                reply(ioError(r, e), r.handle);
            }
        } else {
            ByteBuffer buf = payloadBuffer(length);
            try {
                export.read(r.offset, buf);
            } catch (IOException e) {
                reply(ioError(r, e), r.handle);
                return;
            }
            buf.flip();
            reply(0, r.handle);
            flushOut();
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        }
    }

    /**
     * The NBD error for a failed request. An {@link NbdFailure} was reported by its device when the
     * problem appeared, so here it is logged at debug level only; any other failure is logged each time.
     */
    private int ioError(NbdRequest r, IOException e) {
        stats.ioErrors.increment();
        if (e instanceof NbdFailure f) {
            LOG.debug("NBD client {} on export '{}': {} failed: {}", peer, export.name(), r, f.getMessage());
            return f.nbdError();
        }
        LOG.error("NBD client {} on export '{}': {} failed: {}", peer, export.name(), r, e.toString());
        return EIO;
    }

    private void reply(int error, long handle) throws IOException {
        if (out.remaining() < SIMPLE_REPLY_SIZE) {
            flushOut();
        }
        out.putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(handle);
    }

    // ---------------------------------------------------------------- buffers

    /**
     * Makes at least {@code needed} (at most {@link #IN_CAPACITY}) bytes available in {@link #in},
     * reading as much as the socket gives. Pending replies are written out before blocking.
     *
     * @param atBoundary whether a clean end of stream is expected here (between messages)
     * @return false on a clean end of stream at a message boundary
     */
    private boolean fill(int needed, String what, boolean atBoundary) throws IOException {
        if (in.remaining() >= needed) {
            return true;
        }
        if (in.capacity() - in.position() < needed) {
            in.compact().flip();
        }
        flushOut();
        while (in.remaining() < needed) {
            int start = in.position();
            int end = in.limit();
            in.position(end).limit(in.capacity());
            int n = channel.read(in);
            in.limit(in.position()).position(start);
            if (n < 0) {
                if (atBoundary && in.remaining() == 0) {
                    return false;
                }
                throw new EOFException("client closed the connection in the middle of the " + what + " ("
                        + in.remaining() + " of " + needed + " bytes received)");
            }
        }
        return true;
    }

    /** Reads a large WRITE payload into the payload buffer: what is buffered, then the rest. */
    private ByteBuffer readPayload(int length) throws IOException {
        ByteBuffer buf = payloadBuffer(length);
        int buffered = Math.min(in.remaining(), length);
        int limit = in.limit();
        in.limit(in.position() + buffered);
        buf.put(in);
        in.limit(limit);
        if (buf.hasRemaining()) {
            flushOut();
            while (buf.hasRemaining()) {
                if (channel.read(buf) < 0) {
                    throw new EOFException("client closed the connection in the middle of the WRITE payload ("
                            + buf.position() + " of " + length + " bytes received)");
                }
            }
        }
        return buf.flip();
    }

    /** The reused payload buffer, cleared with limit {@code length}; grown (to a power of two) when needed. */
    private ByteBuffer payloadBuffer(int length) {
        if (payload == null || payload.capacity() < length) {
            int capacity = Math.max(INITIAL_PAYLOAD, Integer.highestOneBit(length - 1) << 1);
            payload = ByteBuffer.allocateDirect(Math.min(capacity, MAX_PAYLOAD));
        }
        return payload.clear().limit(length);
    }

    private void skip(int length) throws IOException {
        int left = length;
        while (left > 0) {
            if (!in.hasRemaining()) {
                fill(1, "WRITE payload", false);
            }
            int n = Math.min(left, in.remaining());
            in.position(in.position() + n);
            left -= n;
        }
    }

    private void flushOut() throws IOException {
        if (out.position() == 0) {
            return;
        }
        out.flip();
        while (out.hasRemaining()) {
            channel.write(out);
        }
        out.clear();
    }

    /** End of stream at a message boundary: the client went away without NBD_CMD_DISC or NBD_OPT_ABORT. */
    static final class ClientClosedException extends IOException {
        private static final long serialVersionUID = 1L;

        ClientClosedException(String message) {
            super(message);
        }
    }
}
