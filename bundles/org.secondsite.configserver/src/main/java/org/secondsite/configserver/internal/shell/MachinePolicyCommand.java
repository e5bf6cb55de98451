package org.secondsite.configserver.internal.shell;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.ConfigServerService;
import org.secondsite.configserver.internal.protection.Job;

@Service
@Command(scope = "dr", name = "machine-policy",
        description = "Gives a protected machine another replication policy and pushes it to its agent, process server "
                + "and master target. Starts a change-policy job (same as PUT /api/v1/machines/{id}/policy).")
public class MachinePolicyCommand implements Action {
    @Reference
    ConfigServerService service;

    @Argument(index = 0, name = "machine", required = true, description = "The protected machine")
    @Completion(MachineIdCompleter.class)
    String machine;

    @Argument(index = 1, name = "policy", required = true, description = "The new policy")
    @Completion(PolicyIdCompleter.class)
    String policy;

    @Override
    public Object execute() throws Exception {
        try {
            Job job = service.server().changePolicy(machine, policy, Shell.user());
            System.out.println("Job " + job.id() + " (policy of " + machine + " -> " + policy + ") started; follow it "
                    + "with dr:job-list " + job.id());
        } catch (ConfigServerException e) {
            Shell.refused(e);
        }
        return null;
    }
}
