package org.secondsite.agent.internal.shell;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.secondsite.agent.internal.AgentService;
import org.secondsite.api.model.DiskId;

/** Completes the ids of the disks this agent protects. */
@Service
public class ProtectedDiskCompleter implements Completer {
    @Reference
    AgentService agent;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter delegate = new StringsCompleter();
        for (DiskId d : agent.protectedDisks()) {
            delegate.getStrings().add(d.value());
        }
        return delegate.complete(session, commandLine, candidates);
    }
}
