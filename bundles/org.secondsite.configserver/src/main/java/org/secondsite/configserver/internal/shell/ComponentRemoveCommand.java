package org.secondsite.configserver.internal.shell;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.ConfigServerService;

@Service
@Command(scope = "dr", name = "component-remove",
        description = "Removes a registered component and revokes its certificate: its TLS connections are refused "
                + "from now on. It may register again (with the passphrase) and gets a new certificate. "
                + "Same as DELETE /api/v1/components/{id}.")
public class ComponentRemoveCommand implements Action {
    @Reference
    ConfigServerService service;

    @Argument(index = 0, name = "id", required = true, description = "Id of the component to remove")
    @Completion(ComponentIdCompleter.class)
    String id;

    @Override
    public Object execute() throws Exception {
        try {
            var before = service.server().removeComponent(id, Shell.user());
            System.out.println("Removed " + before.role() + " '" + id + "'; certificate " + before.certificateSerial()
                    + " revoked.");
        } catch (ConfigServerException e) {
            Shell.refused(e);
        }
        return null;
    }
}
