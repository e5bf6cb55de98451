package org.secondsite.appliance.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "SecondSite appliance",
        description = "Which role this appliance plays. Changing it installs and removes role features at run time.")
@interface ApplianceConfig {

    @AttributeDefinition(name = "Role",
            description = "One of: agent, process-server, master-target, config-server, console, all-in-one.")
    String role() default "all-in-one";

    @AttributeDefinition(name = "Additional roles", required = false,
            description = "Roles played besides 'role' on the same appliance, e.g. master-target beside config-server "
                    + "on the recovery site (comma-separated).")
    String[] additionalRoles() default {};
}
