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
@Command(scope = "dr", name = "events",
        description = "Lists events newest first: alerts raised and their clearing. Same as GET /api/v1/events.")
public class EventsCommand implements Action {
    @Reference
    ConfigServerService service;

    @Option(name = "--offset", description = "Index of the first event shown")
    int offset = 0;

    @Option(name = "--limit", description = "How many events to show (at most " + Page.MAX_LIMIT + ")")
    int limit = Page.DEFAULT_LIMIT;

    @Override
    public Object execute() throws Exception {
        Page<Event> page;
        try {
            page = service.server().events(offset, limit);
        } catch (ConfigServerException e) {
            Shell.refused(e);
            return null;
        }
        Shell.events(page, offset, "event(s)");
        return null;
    }
}
