package org.secondsite.configserver.internal.shell;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.secondsite.configserver.internal.ConfigServerService;
import org.secondsite.configserver.internal.Page;
import org.secondsite.configserver.internal.catalogue.Event;

/** Completes the ids of active alerts nobody has acknowledged yet (the newest {@link Page#MAX_LIMIT}). */
@Service
public class AlertIdCompleter implements Completer {
    @Reference
    ConfigServerService service;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter ids = new StringsCompleter();
        try {
            for (Event e : service.server().alerts(true, 0, Page.MAX_LIMIT).items()) {
                if (e.acknowledgedBy() == null) {
                    ids.getStrings().add(Long.toString(e.id()));
                }
            }
        } catch (Exception e) {
            return -1;
        }
        return ids.complete(session, commandLine, candidates);
    }
}
