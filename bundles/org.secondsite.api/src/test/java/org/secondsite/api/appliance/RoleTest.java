package org.secondsite.api.appliance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RoleTest {
    @Test
    void parsesIdsCaseInsensitivelyAndTrimmed() {
        assertEquals(Role.PROCESS_SERVER, Role.parse("process-server"));
        assertEquals(Role.ALL_IN_ONE, Role.parse("  All-In-One "));
        assertEquals("secondsite-master-target", Role.MASTER_TARGET.feature());
    }

    @Test
    void unknownRoleNamesTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Role.parse("primary"));
        assertEquals("unknown role 'primary'; valid roles: agent, process-server, master-target, config-server, "
                + "console, all-in-one", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Role.parse(null));
        assertThrows(IllegalArgumentException.class, () -> Role.parse("process_server"));
    }
}
