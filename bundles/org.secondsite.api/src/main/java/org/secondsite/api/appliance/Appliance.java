package org.secondsite.api.appliance;

import java.time.Instant;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/** The running appliance: its role, version and installed plugins. */
@ProviderType
public interface Appliance {

    /** The appliance version (the assembly's Maven version). */
    String version();

    /** When the appliance core started. */
    Instant startedAt();

    /** The configured role and how far its features are in place. */
    RoleState roleState();

    /**
     * Changes the role: persists it in {@code etc/org.secondsite.appliance.cfg} and
     * reconciles the installed features at once, without a restart. Returns when the
     * change is recorded; {@link #roleState()} follows the reconciliation.
     */
    void changeRole(Role role) throws java.io.IOException;

    /** Every plugin service now registered, ordered by extension point then name. */
    List<PluginInfo> plugins();
}
