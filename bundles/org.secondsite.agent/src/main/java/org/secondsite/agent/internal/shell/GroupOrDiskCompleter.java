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
import org.secondsite.api.model.GroupId;

/** Completes the consistency groups of this agent's disks, and the disks themselves. */
@Service
public class GroupOrDiskCompleter implements Completer {
    @Reference
    AgentService agent;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter delegate = new StringsCompleter();
        for (GroupId g : agent.groups()) {
            delegate.getStrings().add(g.value());
        }
        for (DiskId d : agent.protectedDisks()) {
            delegate.getStrings().add(d.value());
        }
        return delegate.complete(session, commandLine, candidates);
    }
}
