package org.secondsite.itests;

import org.secondsite.api.appliance.Role;

/** The appliance booted in the process-server role. */
public class ProcessServerRoleIT extends RoleTestBase {
    @Override
    protected Role bootRole() {
        return Role.PROCESS_SERVER;
    }
}
