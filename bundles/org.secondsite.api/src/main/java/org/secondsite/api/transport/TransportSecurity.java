package org.secondsite.api.transport;

import java.util.Objects;
import java.util.function.Predicate;

import javax.net.ssl.SSLContext;

/**
 * Key and trust material for one side of a connection: the component's own certificate
 * and private key and the certificate authorities it trusts, as an {@link SSLContext};
 * plus a check of the peer's identity after the handshake (e.g. that it is a registered,
 * not revoked component).
 *
 * @param context initialised with this component's key manager and the trusted CAs
 * @param peerCheck tests the peer's certificate common name; a peer it rejects is disconnected
 */
public record TransportSecurity(SSLContext context, Predicate<String> peerCheck) {
    public TransportSecurity {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(peerCheck, "peerCheck");
    }
}
