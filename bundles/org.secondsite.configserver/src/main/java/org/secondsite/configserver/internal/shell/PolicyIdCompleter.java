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
import org.secondsite.configserver.internal.catalogue.Policy;

/** Completes policy ids. */
@Service
public class PolicyIdCompleter implements Completer {
    @Reference
    ConfigServerService service;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter ids = new StringsCompleter();
        try {
            for (Policy p : service.server().policies(0, Page.MAX_LIMIT).items()) {
                ids.getStrings().add(p.id());
            }
        } catch (Exception e) {
            return -1;
        }
        return ids.complete(session, commandLine, candidates);
    }
}
