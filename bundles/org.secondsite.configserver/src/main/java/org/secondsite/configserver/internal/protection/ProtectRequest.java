package org.secondsite.configserver.internal.protection;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.secondsite.api.model.DiskId;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.catalogue.Policy;

/**
 * What protecting a machine needs: its disks as its agent sees them, the process server and master
 * target to replicate through, and a policy.
 *
 * @param machineId the machine (1-64 letters, digits, {@code . _ : -})
 * @param name display name; the id when null
 * @param kind {@code physical-linux} when null
 * @param group consistency group; the machine id when null
 */
public record ProtectRequest(String machineId, String name, String kind, String agentId, String processServerId,
                             String masterTargetId, String policyId, String group, List<Machine.Disk> disks) {
    public static final int MAX_DISKS = 64;
    public static final int MAX_OPTIONS = 32;
    /** The catalogue's disk id column. */
    static final int MAX_DISK_ID = 64;
    private static final Pattern DRIVER = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
    private static final Pattern OPTION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public ProtectRequest {
        disks = disks == null ? List.of() : List.copyOf(disks);
    }

    /** Checks every field, naming the first bad one (JSON paths such as {@code disks[1].source}). */
    public ProtectRequest validate() {
        id("machineId", machineId);
        if (name != null && (name.isBlank() || name.length() > 200)) {
            throw ConfigServerException.invalid("name", "name must be 1-200 characters");
        }
        if (kind != null && !Machine.KINDS.contains(kind)) {
            throw ConfigServerException.invalid("kind", "kind '" + kind + "' is invalid: expected one of "
                    + String.join(", ", Machine.KINDS));
        }
        id("agentId", agentId);
        id("processServerId", processServerId);
        id("masterTargetId", masterTargetId);
        id("policyId", policyId);
        if (group != null) {
            id("group", group);
        }
        if (disks.isEmpty() || disks.size() > MAX_DISKS) {
            throw ConfigServerException.invalid("disks", "disks must list 1 to " + MAX_DISKS + " disks, has "
                    + disks.size());
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < disks.size(); i++) {
            Machine.Disk d = disks.get(i);
            String at = "disks[" + i + "].";
            try {
                DiskId.of(d.id());
            } catch (IllegalArgumentException | NullPointerException e) {
                throw ConfigServerException.invalid(at + "diskId", at + "diskId: " + e.getMessage());
            }
            if (d.id().length() > MAX_DISK_ID) {
                throw ConfigServerException.invalid(at + "diskId", at + "diskId is longer than " + MAX_DISK_ID
                        + " characters");
            }
            if (!seen.add(d.id())) {
                throw ConfigServerException.invalid(at + "diskId", at + "diskId '" + d.id() + "' is listed twice");
            }
            if (d.source() == null || d.source().isBlank() || d.source().length() > 1024 || d.source().indexOf('\0') >= 0) {
                throw ConfigServerException.invalid(at + "source", at + "source is required: the disk's path as the "
                        + "agent sees it (a file or block device), at most 1024 characters");
            }
            if (d.driver() == null || !DRIVER.matcher(d.driver()).matches()) {
                throw ConfigServerException.invalid(at + "driver", at + "driver '" + d.driver() + "' is invalid: a "
                        + "capture driver name such as nbd or scan");
            }
            if (d.sizeBytes() < 0) {
                throw ConfigServerException.invalid(at + "sizeBytes", at + "sizeBytes must be 0 or more");
            }
            if (d.options().size() > MAX_OPTIONS) {
                throw ConfigServerException.invalid(at + "options", at + "options has " + d.options().size()
                        + " entries; at most " + MAX_OPTIONS);
            }
            for (Map.Entry<String, String> o : d.options().entrySet()) {
                if (!OPTION.matcher(o.getKey()).matches()) {
                    throw ConfigServerException.invalid(at + "options", at + "options key '" + o.getKey()
                            + "' is invalid: 1-64 letters, digits, '.', '_' or '-'");
                }
                if (o.getValue() == null || o.getValue().length() > 1024) {
                    throw ConfigServerException.invalid(at + "options." + o.getKey(), at + "options." + o.getKey()
                            + " must be a string of at most 1024 characters");
                }
            }
        }
        return this;
    }

    static void id(String field, String value) {
        if (value == null || !Policy.ID.matcher(value).matches()) {
            throw ConfigServerException.invalid(field, field + " '" + value + "' is invalid: use 1-64 letters, digits, "
                    + "'.', '_', ':' or '-', starting with a letter or digit");
        }
    }
}
