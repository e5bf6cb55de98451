package org.secondsite.api.transport;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * An authenticated, ordered, bidirectional stream of frames. One thread may send while
 * another receives; concurrent senders must synchronise themselves.
 */
public interface FrameConnection extends Closeable {

    /**
     * Sends one frame: {@code frame.remaining()} bytes, at most {@link #maxFrameSize()}.
     * Blocks while the peer is slow (back-pressure), never buffers without bound.
     */
    void send(ByteBuffer frame) throws IOException;

    /**
     * Receives the next frame, blocking until one arrives.
     *
     * @return the frame (position 0, limit its length), or {@code null} when the peer closed
     *         the connection cleanly
     * @throws FrameException if the peer sent a frame larger than {@link #maxFrameSize()} or
     *         a malformed length
     */
    ByteBuffer receive() throws IOException;

    /**
     * Receives the next frame like {@link #receive()}, into {@code reuse} when the transport can
     * and the frame fits, so a receiver that recycles its buffers allocates (and zeroes) no new
     * memory per frame. The result is then a buffer over {@code reuse}'s memory (position 0,
     * limit the frame's length); otherwise a new buffer. Either way, {@code reuse}'s previous
     * content is gone. The default ignores {@code reuse}.
     *
     * @param reuse a writable buffer to receive into, or {@code null}
     */
    default ByteBuffer receive(ByteBuffer reuse) throws IOException {
        return receive();
    }

    /** The authenticated identity of the peer (its certificate's common name). */
    String peerIdentity();

    /** The largest frame either side may send, in bytes. */
    int maxFrameSize();
}
