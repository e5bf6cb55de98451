package org.secondsite.api.appliance;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The roles one appliance image can play. Each role is a Karaf feature named
 * {@code secondsite-<id>}; the appliance installs the feature of its configured role and
 * removes the others at run time.
 */
public enum Role {
    /** Captures writes on a protected machine and sends them to its process server. */
    AGENT("agent"),
    /** Primary site: receives agent traffic, spools, compresses, throttles, forwards. */
    PROCESS_SERVER("process-server"),
    /** Secondary site: applies changes to replicas, keeps retention and recovery points. */
    MASTER_TARGET("master-target"),
    /** Control plane: catalogue, registration, policies, jobs, REST API. */
    CONFIG_SERVER("config-server"),
    /** The web console (needs a configuration server in the same appliance or reachable). */
    CONSOLE("console"),
    /** Every role in one JVM with embedded Derby and local storage: the default. */
    ALL_IN_ONE("all-in-one");

    private final String id;

    Role(String id) {
        this.id = id;
    }

    /** The role's name in configuration and commands, e.g. {@code process-server}. */
    public String id() {
        return id;
    }

    /** The Karaf feature that provides the role. */
    public String feature() {
        return "secondsite-" + id;
    }

    /**
     * The role named {@code id} (case-insensitive, surrounding blanks ignored).
     *
     * @throws IllegalArgumentException naming the valid roles if there is none such
     */
    public static Role parse(String id) {
        if (id != null) {
            String wanted = id.trim();
            for (Role r : values()) {
                if (r.id.equalsIgnoreCase(wanted)) {
                    return r;
                }
            }
        }
        throw new IllegalArgumentException("unknown role '" + id + "'; valid roles: " + validIds());
    }

    /** The valid role ids, comma-separated, for error messages and help texts. */
    public static String validIds() {
        return Arrays.stream(values()).map(Role::id).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return id;
    }
}
