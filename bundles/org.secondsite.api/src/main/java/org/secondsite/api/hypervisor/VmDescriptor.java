package org.secondsite.api.hypervisor;

import java.util.List;
import java.util.Objects;

/**
 * A virtual machine as the manager describes it.
 *
 * @param id the manager's id (for vCenter, the managed object reference value)
 * @param name display name
 * @param cpus virtual CPUs
 * @param memoryMiB memory in MiB
 * @param poweredOn whether it is running
 * @param disks its virtual disks
 * @param networks names of the networks its adapters are attached to
 */
public record VmDescriptor(String id, String name, int cpus, long memoryMiB, boolean poweredOn,
                           List<VmDisk> disks, List<String> networks) {
    public VmDescriptor {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        disks = List.copyOf(disks);
        networks = List.copyOf(networks);
    }

    /**
     * One virtual disk.
     *
     * @param key the manager's key for the disk within the machine
     * @param capacityBytes size in bytes
     * @param backing where the disk lives (for vCenter, the datastore path)
     */
    public record VmDisk(String key, long capacityBytes, String backing) {
    }
}
