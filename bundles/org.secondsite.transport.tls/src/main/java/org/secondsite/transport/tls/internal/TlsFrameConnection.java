package org.secondsite.transport.tls.internal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.net.ssl.SSLSocket;

import org.secondsite.api.transport.FrameConnection;
import org.secondsite.api.transport.FrameException;

/**
 * One authenticated connection: frames are a 4-byte big-endian length followed by that many
 * bytes, carried over a blocking {@link SSLSocket}. One thread may send while another
 * receives.
 *
 * <p>Hot path: {@link #send} writes the reused 4-byte header and then the payload straight
 * from the caller's array into a buffered stream (a frame at least as large as the buffer is
 * written through without a copy) and flushes once per frame; only a direct buffer is copied,
 * in chunks, through one reused array. {@link #receive} allocates exactly the frame's size,
 * after checking the announced length against the maximum, unless the caller lends a buffer
 * it fits in ({@link #receive(ByteBuffer)}).
 */
final class TlsFrameConnection implements FrameConnection {

    private final Socket raw;
    private final SSLSocket ssl;
    private final DataInputStream in;
    private final BufferedOutputStream out;
    private final int maxFrameSize;
    private final String peerIdentity;
    private final Runnable onClose;
    private final byte[] header = new byte[4];
    private final byte[] lengthIn = new byte[4];
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean sending;
    private byte[] directChunk;

    TlsFrameConnection(Socket raw, SSLSocket ssl, int bufferSize, int maxFrameSize, String peerIdentity,
            Runnable onClose) throws IOException {
        this.raw = raw;
        this.ssl = ssl;
        this.in = new DataInputStream(new BufferedInputStream(ssl.getInputStream(), bufferSize));
        this.out = new BufferedOutputStream(ssl.getOutputStream(), bufferSize);
        this.maxFrameSize = maxFrameSize;
        this.peerIdentity = peerIdentity;
        this.onClose = onClose;
    }

    DataInputStream input() {
        return in;
    }

    BufferedOutputStream output() {
        return out;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Consumes the frame: its position is advanced to its limit when this returns.
     */
    @Override
    public void send(ByteBuffer frame) throws IOException {
        int length = frame.remaining();
        if (length > maxFrameSize) {
            throw new FrameException("refusing to send a frame of " + length + " bytes: the maximum frame size is "
                    + maxFrameSize + " bytes");
        }
        if (closed.get()) {
            throw new SocketException("connection to '" + peerIdentity + "' is closed");
        }
        sending = true;
        try {
            header[0] = (byte) (length >>> 24);
            header[1] = (byte) (length >>> 16);
            header[2] = (byte) (length >>> 8);
            header[3] = (byte) length;
            out.write(header, 0, 4);
            if (frame.hasArray()) {
                out.write(frame.array(), frame.arrayOffset() + frame.position(), length);
                frame.position(frame.limit());
            } else {
                byte[] chunk = directChunk;
                if (chunk == null) {
                    chunk = directChunk = new byte[Math.min(64 * 1024, Math.max(length, 4096))];
                }
                while (frame.hasRemaining()) {
                    int n = Math.min(chunk.length, frame.remaining());
                    frame.get(chunk, 0, n);
                    out.write(chunk, 0, n);
                }
            }
            out.flush();
        } finally {
            sending = false;
        }
    }

    @Override
    public ByteBuffer receive() throws IOException {
        return receive(null);
    }

    /** Receives into {@code reuse}'s array when it has one, is writable and the frame fits. */
    @Override
    public ByteBuffer receive(ByteBuffer reuse) throws IOException {
        int first = in.read();
        if (first < 0) {
            return null;
        }
        lengthIn[0] = (byte) first;
        try {
            in.readFully(lengthIn, 1, 3);
        } catch (EOFException e) {
            throw new EOFException("peer '" + peerIdentity + "' closed the connection inside a frame header");
        }
        int length = ((lengthIn[0] & 0xff) << 24) | ((lengthIn[1] & 0xff) << 16) | ((lengthIn[2] & 0xff) << 8)
                | (lengthIn[3] & 0xff);
        if (length < 0) {
            close();
            throw new FrameException("peer '" + peerIdentity + "' sent a malformed frame length " + length
                    + " (negative); expected 0.." + maxFrameSize);
        }
        if (length > maxFrameSize) {
            close();
            throw new FrameException("peer '" + peerIdentity + "' sent a frame of " + length
                    + " bytes, more than the maximum frame size of " + maxFrameSize + " bytes");
        }
        ByteBuffer frame = reuse != null && reuse.hasArray() && !reuse.isReadOnly() && reuse.capacity() >= length
                ? reuse.clear().limit(length) : ByteBuffer.allocate(length);
        try {
            in.readFully(frame.array(), frame.arrayOffset(), length);
        } catch (EOFException e) {
            throw new EOFException("peer '" + peerIdentity + "' closed the connection inside a frame of " + length
                    + " bytes");
        }
        return frame;
    }

    @Override
    public String peerIdentity() {
        return peerIdentity;
    }

    @Override
    public int maxFrameSize() {
        return maxFrameSize;
    }

    /** The negotiated TLS protocol, e.g. {@code TLSv1.3}. */
    String protocol() {
        return ssl.getSession().getProtocol();
    }

    boolean isClosed() {
        return closed.get();
    }

    /**
     * Closes the connection. When no send is in progress the TLS layer says goodbye
     * (close_notify), so the peer's {@link #receive} returns {@code null}; when a send is
     * blocked on a slow peer, the TCP socket is closed under it instead of waiting for the
     * TLS write lock.
     */
    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (!sending) {
                ssl.close();
            }
        } catch (IOException e) {
            // the TCP socket is closed below whatever happened to close_notify
        } finally {
            try {
                raw.close();
            } finally {
                onClose.run();
            }
        }
    }
}
