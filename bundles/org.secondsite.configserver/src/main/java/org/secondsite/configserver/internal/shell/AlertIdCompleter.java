package org.secondsite.configserver.internal.shell;

import java.util.Collection;

import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.configserver.internal.ConfigServer;
import org.secondsite.configserver.internal.Page;

/** Completes the ids of active alerts nobody has acknowledged yet (the newest {@link Page#MAX_LIMIT}). */
@Service
public class AlertIdCompleter extends IdCompleter {
    @Override
    Collection<String> ids(ConfigServer server) throws Exception {
        return server.alerts(true, 0, Page.MAX_LIMIT).items().stream().filter(e -> e.acknowledgedBy() == null)
                .map(e -> Long.toString(e.id())).toList();
    }
}
