package org.secondsite.mastertarget.internal.shell;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.api.model.DiskId;
import org.secondsite.mastertarget.internal.MasterTargetComponent;
import org.secondsite.mastertarget.internal.recovery.Recovery;

@Service
@Command(scope = "dr", name = "export",
        description = "Serves a recovery point over NBD: read-only, or writable for a test failover.",
        detailedDescription = "The export is the replica with the retention journal's undo chain laid over it: nothing "
                + "is copied, so it is ready in moments whatever the disk size, and replication goes on meanwhile. "
                + "With --writable (test failover) writes go to a scratch overlay under the master target's data "
                + "folder, never to the replica; dr:discard deletes them. A point of several disks gives one export "
                + "per disk, named <name>-0, <name>-1... in disk order. The export pins its point: it is not pruned "
                + "until discarded. Attach it with any NBD client, e.g. 'qemu-nbd -c /dev/nbd0 nbd://host:port/name' "
                + "or 'nbdfuse'. Exports listen on the master target's exportListen address (127.0.0.1:10810 by "
                + "default; plain NBD, keep it on a trusted network).")
public class ExportCommand implements Action {
    @Argument(index = 0, name = "point", required = true, description = "The recovery point id (dr:points).")
    @Completion(PointCompleter.class)
    String point;

    @Argument(index = 1, name = "name", required = true,
            description = "Export name: 1-64 letters, digits, '.', '_' or '-'; unique among live exports.")
    String name;

    @Option(name = "--disk", description = "Only this disk of the point (default: every disk of it).")
    String disk;

    @Option(name = "--writable", description = "Test failover: accept writes into a scratch overlay.")
    boolean writable;

    @Reference
    MasterTargetComponent masterTarget;

    @Override
    public Object execute() {
        run(System.out, System.err);
        return null;
    }

    boolean run(PrintStream out, PrintStream err) {
        try {
            Optional<DiskId> d = disk == null ? Optional.empty() : Optional.of(DiskId.of(disk));
            List<Recovery.ExportInfo> exports = masterTarget.recovery().export(name, point, d,
                    writable ? Recovery.Mode.TEST_FAILOVER : Recovery.Mode.READ_ONLY);
            for (Recovery.ExportInfo e : exports) {
                out.println("Exported " + e.disk() + " at point " + point + " as " + e.uri()
                        + (writable ? " (test failover: writes go to a scratch overlay)" : " (read-only)"));
            }
            out.println("End it with: dr:discard " + name);
            return true;
        } catch (NoSuchElementException | IllegalArgumentException | IllegalStateException | IOException e) {
            err.println("Error: " + e.getMessage());
            return false;
        }
    }
}
