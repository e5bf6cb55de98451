package org.secondsite.mastertarget.internal.shell;

import java.io.PrintStream;
import java.util.List;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.secondsite.mastertarget.internal.MasterTargetComponent;
import org.secondsite.mastertarget.internal.recovery.Recovery;

@Service
@Command(scope = "dr", name = "exports", description = "Lists the live recovery-point exports and image copies.")
public class ExportsCommand implements Action {
    @Reference
    MasterTargetComponent masterTarget;

    @Override
    public Object execute() {
        run(System.out);
        return null;
    }

    void run(PrintStream out) {
        List<Recovery.ExportInfo> exports = masterTarget.recovery().exports();
        ShellTable t = new ShellTable();
        t.column("Name");
        t.column("Point");
        t.column("Disk");
        t.column("Mode");
        t.column("NBD URI");
        t.column("Scratch");
        for (Recovery.ExportInfo e : exports) {
            t.addRow().addContent(e.name(), e.pointId(), e.disk().value(),
                    e.mode() == Recovery.Mode.READ_ONLY ? "read-only" : "test-failover", e.uri(),
                    e.mode() == Recovery.Mode.READ_ONLY ? "" : Sizes.bytes(e.scratchBytes()));
        }
        t.print(out);
        List<Recovery.CopyInfo> copies = masterTarget.recovery().copies();
        if (!copies.isEmpty()) {
            ShellTable c = new ShellTable();
            c.column("Copy");
            c.column("Point");
            c.column("Disk");
            c.column("Image");
            c.column("Progress");
            c.column("State");
            for (Recovery.CopyInfo i : copies) {
                c.addRow().addContent(i.id(), i.pointId(), i.disk().value(), i.target().toString(),
                        String.format("%.1f %% of %s", i.percent(), Sizes.bytes(i.totalBytes())),
                        i.state() + (i.message().isEmpty() ? "" : ": " + i.message()));
            }
            c.print(out);
        }
    }
}
