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
import org.secondsite.configserver.internal.protection.Machine;

/** Completes machine ids. */
@Service
public class MachineIdCompleter implements Completer {
    @Reference
    ConfigServerService service;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter ids = new StringsCompleter();
        try {
            for (Machine m : service.server().machines(0, Page.MAX_LIMIT).items()) {
                ids.getStrings().add(m.id());
            }
        } catch (Exception e) {
            return -1;
        }
        return ids.complete(session, commandLine, candidates);
    }
}
