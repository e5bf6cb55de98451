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
@Command(scope = "dr", name = "unprotect",
        description = "Stops replicating a machine: its agent stops capturing and the process server and master target "
                + "release it; replicas and recovery points stay on the master target. Starts an unprotect job (same "
                + "as POST /api/v1/machines/{id}/unprotect).")
public class UnprotectCommand implements Action {
    @Reference
    ConfigServerService service;

    @Argument(index = 0, name = "machine", required = true, description = "The protected machine")
    @Completion(MachineIdCompleter.class)
    String machine;

    @Override
    public Object execute() throws Exception {
        try {
            Job job = service.server().unprotect(machine, Shell.user());
            System.out.println("Job " + job.id() + " (unprotect " + machine + ") started; follow it with dr:job-list "
                    + job.id());
        } catch (ConfigServerException e) {
            Shell.refused(e);
        }
        return null;
    }
}
