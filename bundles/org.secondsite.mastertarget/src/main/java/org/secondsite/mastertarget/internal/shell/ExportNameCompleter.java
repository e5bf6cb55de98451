package org.secondsite.mastertarget.internal.shell;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.secondsite.mastertarget.internal.MasterTargetComponent;
import org.secondsite.mastertarget.internal.recovery.Recovery;

/** Completes the names of live recovery exports. */
@Service
public class ExportNameCompleter implements Completer {
    @Reference
    MasterTargetComponent masterTarget;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter delegate = new StringsCompleter();
        masterTarget.recovery().exports().stream().map(Recovery.ExportInfo::name).distinct()
                .forEach(delegate.getStrings()::add);
        return delegate.complete(session, commandLine, candidates);
    }
}
