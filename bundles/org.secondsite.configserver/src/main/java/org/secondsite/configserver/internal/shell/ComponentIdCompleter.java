package org.secondsite.configserver.internal.shell;

import java.util.Collection;

import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.configserver.internal.ConfigServer;
import org.secondsite.configserver.internal.Page;
import org.secondsite.configserver.internal.catalogue.Component;

/** Completes the ids of registered components. */
@Service
public class ComponentIdCompleter extends IdCompleter {
    @Override
    Collection<String> ids(ConfigServer server) throws Exception {
        return server.components(0, Page.MAX_LIMIT).items().stream()
                .filter(c -> Component.REGISTERED.equals(c.state())).map(Component::id).toList();
    }
}
