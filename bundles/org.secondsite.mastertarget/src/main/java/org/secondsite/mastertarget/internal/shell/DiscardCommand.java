package org.secondsite.mastertarget.internal.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.mastertarget.internal.MasterTargetComponent;

@Service
@Command(scope = "dr", name = "discard",
        description = "Ends a recovery-point export: clients are disconnected and test-failover writes deleted.",
        detailedDescription = "The replica and replication are not touched. The point is no longer pinned and may be "
                + "pruned by the retention policy from now on.")
public class DiscardCommand implements Action {
    @Argument(index = 0, name = "name", required = true, description = "The export's name (dr:exports).")
    @Completion(ExportNameCompleter.class)
    String name;

    @Reference
    MasterTargetComponent masterTarget;

    @Override
    public Object execute() {
        run(System.out, System.err);
        return null;
    }

    boolean run(PrintStream out, PrintStream err) {
        try {
            masterTarget.recovery().discard(name);
            out.println("Export " + name + " discarded.");
            return true;
        } catch (IllegalArgumentException e) {
            err.println("Error: " + e.getMessage());
            return false;
        }
    }
}
