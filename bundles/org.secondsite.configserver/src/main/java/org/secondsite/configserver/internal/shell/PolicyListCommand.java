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
import org.secondsite.configserver.internal.catalogue.Policy;

@Service
@Command(scope = "dr", name = "policy-list",
        description = "Lists replication policies, same as GET /api/v1/policies.")
public class PolicyListCommand implements Action {
    @Reference
    ConfigServerService service;

    @Option(name = "--offset", description = "Index of the first policy shown")
    int offset = 0;

    @Option(name = "--limit", description = "How many policies to show (at most " + Page.MAX_LIMIT + ")")
    int limit = Page.DEFAULT_LIMIT;

    @Override
    public Object execute() throws Exception {
        Page<Policy> page;
        try {
            page = service.server().policies(offset, limit);
        } catch (ConfigServerException e) {
            Shell.refused(e);
            return null;
        }
        ShellTable table = new ShellTable();
        for (String c : new String[] {"Id", "RPO threshold s", "Checkpoint s", "Retention s", "Retention bytes",
            "App-consistent", "Compressor", "Bandwidth"}) {
            table.column(c);
        }
        for (Policy p : page.items()) {
            table.addRow().addContent(p.id(), p.rpoThresholdSeconds(), p.checkpointIntervalSeconds(),
                    p.retentionWindowSeconds(), p.retentionSpaceBytes() == 0 ? "no cap" : p.retentionSpaceBytes(),
                    p.appConsistencySchedule(), p.compressor(),
                    p.bandwidthSchedule().isEmpty() ? "unlimited" : p.bandwidthSchedule());
        }
        table.print(System.out);
        System.out.println(page.items().size() + " of " + page.total() + " polic" + (page.total() == 1 ? "y" : "ies"));
        return null;
    }
}
