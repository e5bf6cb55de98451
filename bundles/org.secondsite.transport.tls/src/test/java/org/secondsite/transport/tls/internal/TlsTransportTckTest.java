package org.secondsite.transport.tls.internal;

import java.time.Duration;

import org.secondsite.api.transport.Transport;
import org.secondsite.testkit.tck.TransportTck;

/** The tls plugin against the transport TCK, with its default options but the frame size the TCK asks for. */
class TlsTransportTckTest extends TransportTck {
    @Override
    protected Transport createTransport(int maxFrameSize) {
        // a short handshake timeout keeps the silent-peer test quick; it is not what the TCK measures
        return new TlsTransport(TlsOptions.defaults().withMaxFrameSize(maxFrameSize)
                .withHandshakeTimeout(Duration.ofSeconds(2)));
    }
}
