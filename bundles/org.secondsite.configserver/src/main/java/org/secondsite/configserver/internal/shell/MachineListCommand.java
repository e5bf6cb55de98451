package org.secondsite.configserver.internal.shell;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.ConfigServerService;
import org.secondsite.configserver.internal.Page;
import org.secondsite.configserver.internal.protection.Machine;

@Service
@Command(scope = "dr", name = "machine-list",
        description = "Lists machines and their protection (state, components, policy, disks), same as GET "
                + "/api/v1/machines. With a machine id, shows that machine's disks.")
public class MachineListCommand implements Action {
    @Reference
    ConfigServerService service;

    @Argument(name = "machine", description = "Show only this machine, with one row per disk")
    @Completion(MachineIdCompleter.class)
    String machine;

    @Option(name = "--offset", description = "Index of the first machine shown")
    int offset = 0;

    @Option(name = "--limit", description = "How many machines to show (at most " + Page.MAX_LIMIT + ")")
    int limit = Page.DEFAULT_LIMIT;

    @Override
    public Object execute() throws Exception {
        try {
            if (machine != null) {
                Machine m = service.server().machine(machine);
                System.out.println(m.id() + " (" + m.name() + ", " + m.kind() + "): " + m.state() + "; agent " + m.agentId()
                        + " -> process server " + m.processServerId() + " -> master target " + m.masterTargetId()
                        + "; group " + m.groupId() + "; policy " + m.policyId());
                ShellTable table = new ShellTable();
                for (String c : new String[] {"Disk", "Source", "Driver", "Options", "Resyncs requested"}) {
                    table.column(c);
                }
                for (Machine.Disk d : m.disks()) {
                    table.addRow().addContent(d.id(), d.source(), d.driver(), d.options(), d.resyncRequest());
                }
                table.print(System.out);
                return null;
            }
            Page<Machine> page = service.server().machines(offset, limit);
            ShellTable table = new ShellTable();
            for (String c : new String[] {"Id", "State", "Agent", "Process server", "Master target", "Policy", "Disks"}) {
                table.column(c);
            }
            for (Machine m : page.items()) {
                table.addRow().addContent(m.id(), m.state(), m.agentId(), m.processServerId(), m.masterTargetId(),
                        m.policyId(), m.disks().size());
            }
            table.print(System.out);
            Shell.pageFooter(page, offset, "machines");
        } catch (ConfigServerException e) {
            Shell.refused(e);
        }
        return null;
    }
}
