package org.secondsite.api.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Carries length-prefixed frames between two components over a mutually-authenticated
 * channel. The replication protocol (handshake, batches, acknowledgements) is encoded by
 * the core into frames; a transport only moves frames, in order, and refuses peers whose
 * identity it cannot verify. Register an implementation as an OSGi service with the
 * property {@value #PROPERTY} set to its {@link #name()}.
 */
@ConsumerType
public interface Transport {
    /** Service property naming the transport, e.g. {@code secondsite.transport=tls}. */
    String PROPERTY = "secondsite.transport";

    /** The transport's name, equal to its {@value #PROPERTY} service property. */
    String name();

    /**
     * Starts accepting connections on {@code bind} (port 0 picks a free port). Each
     * authenticated connection is handed to {@code handler} on a thread of its own.
     */
    TransportServer listen(InetSocketAddress bind, TransportSecurity security, ConnectionHandler handler)
            throws IOException;

    /**
     * Connects to a listening peer and completes authentication.
     *
     * @throws IOException if the peer cannot be reached or authenticated within {@code timeout}
     */
    FrameConnection connect(InetSocketAddress remote, TransportSecurity security, Duration timeout)
            throws IOException;
}
