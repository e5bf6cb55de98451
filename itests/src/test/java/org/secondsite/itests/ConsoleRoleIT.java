package org.secondsite.itests;

import org.secondsite.api.appliance.Role;

/** The appliance booted in the console role. */
public class ConsoleRoleIT extends RoleTestBase {
    @Override
    protected Role bootRole() {
        return Role.CONSOLE;
    }
}
