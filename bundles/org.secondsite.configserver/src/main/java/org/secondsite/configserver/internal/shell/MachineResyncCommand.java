package org.secondsite.configserver.internal.shell;

import java.util.List;

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
@Command(scope = "dr", name = "machine-resync",
        description = "Resynchronises disks of a protected machine (all of them when none is named): its agent compares "
                + "each source with the replica and sends what differs. Starts a resync job (same as POST "
                + "/api/v1/machines/{id}/resync).")
public class MachineResyncCommand implements Action {
    @Reference
    ConfigServerService service;

    @Argument(index = 0, name = "machine", required = true, description = "The protected machine")
    @Completion(MachineIdCompleter.class)
    String machine;

    @Argument(index = 1, name = "disks", multiValued = true, description = "Disk ids (default: every disk)")
    List<String> disks;

    @Override
    public Object execute() throws Exception {
        try {
            Job job = service.server().resync(machine, disks == null ? List.of() : disks, Shell.user());
            System.out.println("Job " + job.id() + " (resync " + machine + ") started; follow it with dr:job-list "
                    + job.id());
        } catch (ConfigServerException e) {
            Shell.refused(e);
        }
        return null;
    }
}
