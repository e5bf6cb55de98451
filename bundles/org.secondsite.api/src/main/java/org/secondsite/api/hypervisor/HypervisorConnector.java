package org.secondsite.api.hypervisor;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Talks to a hypervisor manager (e.g. vCenter) at a site: discovers the machines to
 * protect, and creates, powers and removes replica machines at failover. Register an
 * implementation as an OSGi service with the property {@value #PROPERTY} set to its
 * {@link #name()}.
 */
@ConsumerType
public interface HypervisorConnector {
    /** Service property naming the connector, e.g. {@code secondsite.hypervisor=vcenter}. */
    String PROPERTY = "secondsite.hypervisor";

    /** The connector's name, equal to its {@value #PROPERTY} service property. */
    String name();

    /** The virtual machines the manager knows, with their disks and networks. */
    List<VmDescriptor> inventory() throws HypervisorException;

    /** The networks replica machines can be attached to. */
    List<String> networks() throws HypervisorException;

    /**
     * Creates (registers) a replica machine from replica disks, powered off.
     *
     * @return the new machine's id in the manager
     */
    String createReplicaVm(ReplicaVmSpec spec) throws HypervisorException;

    /** Powers a machine on; no error if it is already on. */
    void powerOn(String vmId) throws HypervisorException;

    /** Powers a machine off (hard); no error if it is already off. */
    void powerOff(String vmId) throws HypervisorException;

    /** Removes a replica machine from the manager, keeping its disks. */
    void removeVm(String vmId) throws HypervisorException;
}
