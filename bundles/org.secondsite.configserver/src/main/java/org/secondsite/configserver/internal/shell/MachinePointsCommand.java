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
import org.secondsite.configserver.internal.protection.MirroredPoint;

@Service
@Command(scope = "dr", name = "machine-points",
        description = "Lists a machine's recovery points newest first, as its master target reported them to the "
                + "catalogue (same as GET /api/v1/machines/{id}/points). On the master target itself, dr:points "
                + "lists them live and dr:export serves one.")
public class MachinePointsCommand implements Action {
    @Reference
    ConfigServerService service;

    @Argument(name = "machine", required = true, description = "The machine")
    @Completion(MachineIdCompleter.class)
    String machine;

    @Option(name = "--offset", description = "Index of the first point shown")
    int offset = 0;

    @Option(name = "--limit", description = "How many points to show (at most " + Page.MAX_LIMIT + ")")
    int limit = Page.DEFAULT_LIMIT;

    @Override
    public Object execute() throws Exception {
        try {
            Page<MirroredPoint> page = service.server().points(machine, offset, limit);
            ShellTable table = new ShellTable();
            for (String c : new String[] {"Time", "Kind", "Tag", "Group", "Disks", "Point id"}) {
                table.column(c);
            }
            for (MirroredPoint p : page.items()) {
                table.addRow().addContent(p.time(), p.kind(), p.tag() == null ? "" : p.tag(), p.group(),
                        String.join(", ", p.disks()), p.id());
            }
            table.print(System.out);
            Shell.pageFooter(page, offset, "points");
        } catch (ConfigServerException e) {
            Shell.refused(e);
        }
        return null;
    }
}
