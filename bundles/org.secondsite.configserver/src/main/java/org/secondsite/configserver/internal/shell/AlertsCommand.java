package org.secondsite.configserver.internal.shell;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.ConfigServerService;
import org.secondsite.configserver.internal.Page;
import org.secondsite.configserver.internal.catalogue.Event;

@Service
@Command(scope = "dr", name = "alerts",
        description = "Lists the active alerts newest first (RPO over threshold, spool space low, heartbeat missing, "
                + "resync required); --all includes cleared ones. Same as GET /api/v1/alerts?active=true.")
public class AlertsCommand implements Action {
    @Reference
    ConfigServerService service;

    @Option(name = "--all", description = "Show cleared alerts too")
    boolean all;

    @Option(name = "--offset", description = "Index of the first alert shown")
    int offset = 0;

    @Option(name = "--limit", description = "How many alerts to show (at most " + Page.MAX_LIMIT + ")")
    int limit = Page.DEFAULT_LIMIT;

    @Override
    public Object execute() throws Exception {
        Page<Event> page;
        try {
            page = service.server().alerts(!all, offset, limit);
        } catch (ConfigServerException e) {
            Shell.refused(e);
            return null;
        }
        Shell.events(page, offset, all ? "alert(s)" : "active alert(s)");
        return null;
    }
}
