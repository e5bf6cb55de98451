package org.secondsite.itests;

import org.secondsite.api.appliance.Role;

/** The appliance booted in the config-server role. */
public class ConfigServerRoleIT extends RoleTestBase {
    @Override
    protected Role bootRole() {
        return Role.CONFIG_SERVER;
    }
}
