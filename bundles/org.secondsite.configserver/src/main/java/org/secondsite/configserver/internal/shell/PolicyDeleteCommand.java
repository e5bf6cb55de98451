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
@Command(scope = "dr", name = "policy-delete",
        description = "Deletes a replication policy no machine uses, same as DELETE /api/v1/policies/{id}.")
public class PolicyDeleteCommand implements Action {
    @Reference
    ConfigServerService service;

    @Argument(index = 0, name = "id", required = true, description = "Name of the policy")
    @Completion(PolicyIdCompleter.class)
    String id;

    @Override
    public Object execute() throws Exception {
        try {
            service.server().deletePolicy(id, Shell.user());
            System.out.println("Deleted policy '" + id + "'.");
        } catch (ConfigServerException e) {
            Shell.refused(e);
        }
        return null;
    }
}
