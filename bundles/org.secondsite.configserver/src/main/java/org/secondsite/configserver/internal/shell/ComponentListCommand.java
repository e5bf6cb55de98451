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
import org.secondsite.configserver.internal.catalogue.Component;

@Service
@Command(scope = "dr", name = "component-list",
        description = "Lists the components registered with this configuration server (removed ones too), "
                + "same as GET /api/v1/components.")
public class ComponentListCommand implements Action {
    @Reference
    ConfigServerService service;

    @Option(name = "--offset", description = "Index of the first component shown")
    int offset = 0;

    @Option(name = "--limit", description = "How many components to show (at most " + Page.MAX_LIMIT + ")")
    int limit = Page.DEFAULT_LIMIT;

    @Override
    public Object execute() throws Exception {
        Page<Component> page;
        try {
            page = service.server().components(offset, limit);
        } catch (ConfigServerException e) {
            Shell.refused(e);
            return null;
        }
        ShellTable table = new ShellTable();
        table.column("Id");
        table.column("Role");
        table.column("Site");
        table.column("State");
        table.column("Address");
        table.column("Certificate serial");
        table.column("Registered");
        table.column("Last heartbeat");
        for (Component c : page.items()) {
            table.addRow().addContent(c.id(), c.role(), c.site() == null ? "" : c.site(), c.state(),
                    c.address() == null ? "" : c.address(), c.certificateSerial(), c.registeredAt(),
                    c.lastHeartbeat() == null ? "never" : c.lastHeartbeat());
        }
        table.print(System.out);
        System.out.println(page.items().size() + " of " + page.total() + " component(s)"
                + (page.total() > offset + page.items().size() ? "; more with --offset " + (offset + page.items().size()) : ""));
        return null;
    }
}
