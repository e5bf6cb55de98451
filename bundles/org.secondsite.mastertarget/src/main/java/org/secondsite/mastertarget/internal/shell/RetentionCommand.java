package org.secondsite.mastertarget.internal.shell;

import java.io.IOException;
import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.mastertarget.internal.MasterTargetComponent;
import org.secondsite.mastertarget.internal.retention.RetentionStatus;

@Service
@Command(scope = "dr", name = "retention",
        description = "Shows the retention journal: window, space cap and use, oldest and newest point.",
        detailedDescription = "Before the master target overwrites a replica block it keeps the old content in the "
                + "retention journal; a recovery point is the replica with that undo chain laid over it. Points older "
                + "than the window are pruned, and when the journal reaches its space cap the oldest points go first; "
                + "the oldest point listed always materialises. Set the window and cap in "
                + "etc/org.secondsite.mastertarget.cfg (retentionWindowSeconds, retentionSpaceMiB).")
public class RetentionCommand implements Action {
    @Reference
    MasterTargetComponent masterTarget;

    @Override
    public Object execute() throws IOException {
        run(System.out);
        return null;
    }

    void run(PrintStream out) throws IOException {
        RetentionStatus r = masterTarget.masterTarget().retention();
        out.println("Window:      " + Sizes.duration(r.settings().window()));
        out.println("Space:       " + Sizes.bytes(r.usedBytes()) + " used of " + Sizes.bytes(r.settings().capBytes())
                + " in " + r.segments() + " segment(s)");
        out.println("Points:      " + r.points());
        out.println("Oldest:      " + r.oldest().map(p -> p.id() + " at " + p.time()).orElse("none"));
        out.println("Newest:      " + r.newest().map(p -> p.id() + " at " + p.time()).orElse("none"));
        out.println("Open views:  " + r.openViews() + " (exports and copies; they pin their points)");
    }
}
