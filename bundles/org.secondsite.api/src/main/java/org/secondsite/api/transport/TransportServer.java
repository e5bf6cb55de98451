package org.secondsite.api.transport;

import java.io.Closeable;
import java.net.InetSocketAddress;

/** A listening endpoint; closing it stops accepting and closes its connections. */
public interface TransportServer extends Closeable {
    /** The bound address, with the real port when 0 was asked for. */
    InetSocketAddress address();
}
