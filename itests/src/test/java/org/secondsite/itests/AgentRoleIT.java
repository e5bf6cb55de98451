package org.secondsite.itests;

import org.secondsite.api.appliance.Role;

/** The appliance booted in the agent role. */
public class AgentRoleIT extends RoleTestBase {
    @Override
    protected Role bootRole() {
        return Role.AGENT;
    }
}
