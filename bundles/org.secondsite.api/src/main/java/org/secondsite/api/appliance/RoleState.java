package org.secondsite.api.appliance;

import java.time.Instant;
import java.util.Objects;

/**
 * Where the appliance stands in bringing its installed features in line with its role.
 *
 * @param role the configured role
 * @param phase whether the role's features are in place
 * @param message what failed, for {@link Phase#FAILED}; what was changed, for {@link Phase#APPLIED}; otherwise empty
 * @param since when the phase was entered
 */
public record RoleState(Role role, Phase phase, String message, Instant since) {
    public RoleState {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(since, "since");
    }

    /** Reconciliation phases. */
    public enum Phase {
        /** Features are being installed or removed. */
        RECONCILING,
        /** The role's feature is installed and no other role's is. */
        APPLIED,
        /** The last reconciliation failed; {@link RoleState#message()} says why. */
        FAILED
    }
}
