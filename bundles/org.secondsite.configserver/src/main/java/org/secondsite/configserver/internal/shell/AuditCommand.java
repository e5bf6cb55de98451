package org.secondsite.configserver.internal.shell;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.ConfigServerService;
import org.secondsite.configserver.internal.Page;
import org.secondsite.configserver.internal.catalogue.AuditLog;

@Service
@Command(scope = "dr", name = "audit",
        description = "Shows the audit log newest first: who changed what, and the outcome (ok, refused: ..., "
                + "failed: ...). Same as GET /api/v1/audit.")
public class AuditCommand implements Action {
    @Reference
    ConfigServerService service;

    @Option(name = "--user", description = "Only this user's entries (a registration's user is component:<id>@<address>)")
    String user;

    @Option(name = "--offset", description = "Index of the first entry shown")
    int offset = 0;

    @Option(name = "--limit", description = "How many entries to show (at most " + Page.MAX_LIMIT + ")")
    int limit = Page.DEFAULT_LIMIT;

    @Override
    public Object execute() throws Exception {
        Page<AuditLog.Entry> page;
        try {
            page = service.server().audit(user, offset, limit);
        } catch (ConfigServerException e) {
            Shell.refused(e);
            return null;
        }
        ShellTable table = new ShellTable();
        for (String c : new String[] {"Id", "Time", "User", "Action", "Target", "Outcome"}) {
            table.column(c);
        }
        for (AuditLog.Entry e : page.items()) {
            table.addRow().addContent(e.id(), e.at(), e.actor(), e.action(), e.target(), e.outcome());
        }
        table.print(System.out);
        Shell.pageFooter(page, offset, "entr" + (page.total() == 1 ? "y" : "ies"));
        return null;
    }
}
