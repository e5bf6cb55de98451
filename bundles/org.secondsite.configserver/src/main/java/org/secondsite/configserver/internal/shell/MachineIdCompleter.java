package org.secondsite.configserver.internal.shell;

import java.util.Collection;

import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.configserver.internal.ConfigServer;
import org.secondsite.configserver.internal.Page;
import org.secondsite.configserver.internal.protection.Machine;

/** Completes machine ids. */
@Service
public class MachineIdCompleter extends IdCompleter {
    @Override
    Collection<String> ids(ConfigServer server) throws Exception {
        return server.machines(0, Page.MAX_LIMIT).items().stream().map(Machine::id).toList();
    }
}
