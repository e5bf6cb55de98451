package org.secondsite.configserver.internal.shell;

import java.util.Collection;
import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.secondsite.configserver.internal.ConfigServer;
import org.secondsite.configserver.internal.ConfigServerService;

/** What the id completers share: the catalogue's ids of one kind, offered as completions. */
abstract class IdCompleter implements Completer {
    @Reference
    ConfigServerService service;

    /** The ids to offer (read from the catalogue each time). */
    abstract Collection<String> ids(ConfigServer server) throws Exception;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter completer = new StringsCompleter();
        try {
            completer.getStrings().addAll(ids(service.server()));
        } catch (Exception e) {
            return -1; // no completion rather than a stack trace at the prompt
        }
        return completer.complete(session, commandLine, candidates);
    }
}
