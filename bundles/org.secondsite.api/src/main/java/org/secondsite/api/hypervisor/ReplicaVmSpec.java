package org.secondsite.api.hypervisor;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a replica machine needs at failover.
 *
 * @param name display name of the replica
 * @param cpus virtual CPUs
 * @param memoryMiB memory in MiB
 * @param diskBackings where its disks are, in boot order (paths the manager understands)
 * @param networkMap source network name to recovery network name
 */
public record ReplicaVmSpec(String name, int cpus, long memoryMiB, List<String> diskBackings,
                            Map<String, String> networkMap) {
    public ReplicaVmSpec {
        Objects.requireNonNull(name, "name");
        if (cpus < 1 || memoryMiB < 1) {
            throw new IllegalArgumentException("a replica needs at least one CPU and 1 MiB of memory");
        }
        diskBackings = List.copyOf(diskBackings);
        networkMap = Map.copyOf(networkMap);
    }
}
