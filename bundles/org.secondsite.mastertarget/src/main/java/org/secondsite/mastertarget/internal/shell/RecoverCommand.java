package org.secondsite.mastertarget.internal.shell;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.NoSuchElementException;

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
@Command(scope = "dr", name = "recover",
        description = "Copies one disk of a recovery point to a raw image file.",
        detailedDescription = "The copy reads the point's view (replica + undo chain) while replication goes on, writes "
                + "<file>.partial (sparse: zero regions stay holes) and renames it to <file> once complete and synced. "
                + "It runs in the background; follow it with dr:exports, or pass --wait to follow it here. For "
                + "instant access without a copy use dr:export.")
public class RecoverCommand implements Action {
    @Argument(index = 0, name = "point", required = true, description = "The recovery point id (dr:points).")
    @Completion(PointCompleter.class)
    String point;

    @Argument(index = 1, name = "disk", required = true, description = "The disk of the point to copy, e.g. web01:disk0.")
    String disk;

    @Argument(index = 2, name = "file", required = true, description = "The raw image to write; must not exist.")
    String file;

    @Option(name = "--wait", description = "Wait for the copy to finish, printing progress.")
    boolean await;

    @Reference
    MasterTargetComponent masterTarget;

    @Override
    public Object execute() throws InterruptedException {
        run(System.out, System.err);
        return null;
    }

    boolean run(PrintStream out, PrintStream err) throws InterruptedException {
        Recovery recovery = masterTarget.recovery();
        Recovery.CopyInfo c;
        try {
            Path target = Paths.get(file).toAbsolutePath();
            c = recovery.copy(point, DiskId.of(disk), target);
        } catch (NoSuchElementException | IllegalArgumentException | IllegalStateException | IOException e) {
            err.println("Error: " + e.getMessage());
            return false;
        }
        out.println("Copy " + c.id() + " of " + c.disk() + " at point " + point + " to " + c.target() + " started.");
        if (!await) {
            return true;
        }
        long id = c.id();
        while (true) {
            Recovery.CopyInfo now = recovery.copies().stream().filter(x -> x.id() == id).findFirst().orElseThrow();
            out.printf("\r%5.1f %% of %s", now.percent(), Sizes.bytes(now.totalBytes()));
            out.flush();
            if (!now.state().equals("running")) {
                out.println();
                out.println("Copy " + id + ": " + now.state() + (now.message().isEmpty() ? "" : ": " + now.message()));
                return now.state().equals("done");
            }
            recovery.awaitCopy(id, Duration.ofSeconds(1));
        }
    }
}
