package org.secondsite.transport.tls.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * Tunables of the TLS transport, validated once. Plain Java so the transport can be built
 * and tested without an OSGi container.
 *
 * @param maxFrameSize largest frame sent or accepted, in bytes (1 .. {@link Integer#MAX_VALUE} - 4)
 * @param allowTls12 whether TLS 1.2 is offered as a fallback; otherwise TLS 1.3 only
 * @param handshakeTimeout budget for the TLS handshake plus the transport preamble; a peer
 *        that does not complete it in time (e.g. a plaintext client) is disconnected
 * @param bufferSize size of the buffered stream on each direction of a connection, in bytes
 * @param socketSendBuffer SO_SNDBUF in bytes, or 0 for the system default (autotuned)
 * @param socketReceiveBuffer SO_RCVBUF in bytes, or 0 for the system default (autotuned)
 */
public record TlsOptions(int maxFrameSize, boolean allowTls12, Duration handshakeTimeout, int bufferSize,
        int socketSendBuffer, int socketReceiveBuffer) {

    /** 32 MiB. */
    public static final int DEFAULT_MAX_FRAME_SIZE = 32 * 1024 * 1024;
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    public static final int DEFAULT_BUFFER_SIZE = 64 * 1024;

    public TlsOptions {
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        if (maxFrameSize < 1 || maxFrameSize > Integer.MAX_VALUE - 4) {
            throw new IllegalArgumentException("maxFrameSize must be between 1 and " + (Integer.MAX_VALUE - 4)
                    + " bytes, was " + maxFrameSize);
        }
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()
                || handshakeTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("handshakeTimeout must be positive and below "
                    + Integer.MAX_VALUE + " ms, was " + handshakeTimeout);
        }
        if (bufferSize < 1024 || bufferSize > 16 * 1024 * 1024) {
            throw new IllegalArgumentException("bufferSize must be between 1024 and 16777216 bytes, was " + bufferSize);
        }
        if (socketSendBuffer < 0 || socketReceiveBuffer < 0) {
            throw new IllegalArgumentException("socket buffer sizes must be 0 (system default) or positive, were "
                    + socketSendBuffer + " / " + socketReceiveBuffer);
        }
    }

    /** Defaults: 32 MiB frames, TLS 1.3 only, 10 s handshake, 64 KiB buffers, system socket buffers. */
    public static TlsOptions defaults() {
        return new TlsOptions(DEFAULT_MAX_FRAME_SIZE, false, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_BUFFER_SIZE, 0, 0);
    }

    public TlsOptions withMaxFrameSize(int size) {
        return new TlsOptions(size, allowTls12, handshakeTimeout, bufferSize, socketSendBuffer, socketReceiveBuffer);
    }

    public TlsOptions withAllowTls12(boolean allow) {
        return new TlsOptions(maxFrameSize, allow, handshakeTimeout, bufferSize, socketSendBuffer, socketReceiveBuffer);
    }

    public TlsOptions withHandshakeTimeout(Duration timeout) {
        return new TlsOptions(maxFrameSize, allowTls12, timeout, bufferSize, socketSendBuffer, socketReceiveBuffer);
    }

    public TlsOptions withBufferSize(int size) {
        return new TlsOptions(maxFrameSize, allowTls12, handshakeTimeout, size, socketSendBuffer, socketReceiveBuffer);
    }

    public TlsOptions withSocketBuffers(int send, int receive) {
        return new TlsOptions(maxFrameSize, allowTls12, handshakeTimeout, bufferSize, send, receive);
    }

    /** The protocols enabled on every socket. */
    String[] protocols() {
        return allowTls12 ? new String[] {"TLSv1.3", "TLSv1.2"} : new String[] {"TLSv1.3"};
    }
}
