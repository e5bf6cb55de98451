package org.secondsite.api.transport;

import org.osgi.annotation.versioning.ProviderType;

/**
 * This appliance's identity towards other components: its component id (the common name of
 * its certificate) and the TLS material that proves it and verifies peers. Offered by the
 * appliance core as an OSGi service; agents, process servers and master targets use it for
 * every {@link Transport} connection.
 */
@ProviderType
public interface ComponentIdentity {

    /** This component's id, as in its certificate's common name. */
    String componentId();

    /**
     * Key and trust material for a connection, with a peer check that accepts only
     * components whose certificates the trusted authority issued and that are not revoked.
     */
    TransportSecurity transportSecurity();
}
