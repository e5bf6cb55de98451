package org.secondsite.configserver.internal.shell;

import java.util.Collection;

import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.configserver.internal.ConfigServer;
import org.secondsite.configserver.internal.Page;
import org.secondsite.configserver.internal.catalogue.Policy;

/** Completes policy ids. */
@Service
public class PolicyIdCompleter extends IdCompleter {
    @Override
    Collection<String> ids(ConfigServer server) throws Exception {
        return server.policies(0, Page.MAX_LIMIT).items().stream().map(Policy::id).toList();
    }
}
