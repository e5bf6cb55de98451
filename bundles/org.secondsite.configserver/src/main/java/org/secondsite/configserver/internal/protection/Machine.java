package org.secondsite.configserver.internal.protection;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A machine in the catalogue and the disks protected on it.
 *
 * @param id the machine's id (1-64 letters, digits, {@code . _ : -})
 * @param name a display name
 * @param kind {@code vmware}, {@code physical-linux} or {@code physical-windows}
 * @param agentId the agent that captures its disks
 * @param processServerId the process server its agent sends to
 * @param masterTargetId the master target that keeps its replicas
 * @param groupId its consistency group
 * @param policyId its replication policy
 * @param state {@code protecting}, {@code protected}, {@code unprotecting} or {@code unprotected}
 * @param createdAt when it was first protected
 * @param disks its disks, by id
 */
public record Machine(String id, String name, String kind, String agentId, String processServerId,
                      String masterTargetId, String groupId, String policyId, String state, Instant createdAt,
                      List<Disk> disks) {
    public static final String PROTECTING = "protecting";
    public static final String PROTECTED = "protected";
    public static final String UNPROTECTING = "unprotecting";
    public static final String UNPROTECTED = "unprotected";
    public static final List<String> KINDS = List.of("vmware", "physical-linux", "physical-windows");

    public Machine {
        disks = disks == null ? List.of() : List.copyOf(disks);
    }

    /** Whether the components should be replicating this machine (its disks are in their desired state). */
    public boolean replicating() {
        return PROTECTING.equals(state) || PROTECTED.equals(state);
    }

    /**
     * A protected disk.
     *
     * @param id the disk id replication uses ({@code machine:disk0})
     * @param source the disk as the agent sees it (a file or block device path)
     * @param driver the capture driver's name
     * @param options capture driver options ({@code capture.<key>} on the agent)
     * @param sizeBytes the size when known, else 0
     * @param resyncRequest how many resyncs were requested for it (the agent starts one when it grows)
     */
    public record Disk(String id, String source, String driver, Map<String, String> options, long sizeBytes,
                       long resyncRequest) {
        public Disk {
            options = options == null ? Map.of() : Map.copyOf(options);
        }
    }
}
