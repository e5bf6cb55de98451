package org.secondsite.mastertarget.internal.shell;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.mastertarget.internal.MasterTargetComponent;

/** Completes recovery point ids, newest first. */
@Service
public class PointCompleter implements Completer {
    @Reference
    MasterTargetComponent masterTarget;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter delegate = new StringsCompleter();
        try {
            List<RecoveryPoint> points = masterTarget.masterTarget().points(Optional.empty());
            for (int i = points.size() - 1; i >= 0; i--) {
                delegate.getStrings().add(points.get(i).id());
            }
        } catch (IOException e) {
            return -1;
        }
        return delegate.complete(session, commandLine, candidates);
    }
}
