package org.secondsite.api.appliance;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ProviderType;

/** The running appliance: its role, version and installed plugins. */
@ProviderType
public interface Appliance {
    /** The JAX-RS whiteboard name of the appliance's REST application, served at {@code /api/v1}. */
    String REST_APPLICATION = "secondsite";

    /** Target filter selecting the REST application, for {@code osgi.jaxrs.application.select}. */
    String REST_APPLICATION_SELECT = "(osgi.jaxrs.name=" + REST_APPLICATION + ")";

    /** JAAS role that may read everything. */
    String ROLE_VIEWER = "viewer";

    /** JAAS role that may act (protect, tag, fail over), and read. */
    String ROLE_OPERATOR = "operator";

    /** JAAS role that may configure the appliance, and act and read. */
    String ROLE_ADMIN = "admin";

    /** The appliance version (the assembly's Maven version). */
    String version();

    /** When the appliance core started. */
    Instant startedAt();

    /** The configured role and how far its features are in place. */
    RoleState roleState();

    /**
     * Changes the role: persists it in {@code etc/org.secondsite.appliance.cfg} and
     * reconciles the installed features at once, without a restart.
     *
     * @return completes when the reconciliation for {@code role} has ended, with its final
     *         state ({@link RoleState.Phase#APPLIED} or {@link RoleState.Phase#FAILED})
     * @throws java.io.IOException if the configuration cannot be written
     */
    CompletionStage<RoleState> changeRole(Role role) throws java.io.IOException;

    /** Every plugin service now registered, ordered by extension point then name. */
    List<PluginInfo> plugins();
}
