package org.secondsite.itests;

import org.secondsite.api.appliance.Role;

/** The appliance booted in the master-target role. */
public class MasterTargetRoleIT extends RoleTestBase {
    @Override
    protected Role bootRole() {
        return Role.MASTER_TARGET;
    }
}
