package org.secondsite.agent.internal.shell;

import java.io.IOException;
import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.agent.internal.AgentService;
import org.secondsite.api.model.DiskId;

@Service
@Command(scope = "dr", name = "resync",
        description = "Compares a protected disk with its replica and sends the blocks that differ.",
        detailedDescription = "The master target hashes the replica in 32 KiB chunks, this agent hashes the source; "
                + "inside chunks that differ both sides hash 4 KiB blocks and only the differing blocks travel. Writes "
                + "go on during the resync and are replicated as usual; the replica is consistent again from the batch "
                + "tagged 'resync complete'. The request is recorded at once and survives an agent restart; if a "
                + "resync of the disk runs, another full pass follows it. Follow the progress (percent, bytes sent, "
                + "ETA) with dr:replication. Use it when the replica is known or suspected to differ from the source, "
                + "e.g. after the replica was restored or edited by hand.")
public class ResyncCommand implements Action {

    @Argument(index = 0, name = "disk", required = true, description = "The protected disk, e.g. web01:disk0.")
    @Completion(ProtectedDiskCompleter.class)
    String disk;

    @Option(name = "--reason", description = "Why, for the status and the log (default: 'operator request').")
    String reason = "operator request";

    @Reference
    AgentService agent;

    @Override
    public Object execute() {
        run(System.out, System.err);
        return null;
    }

    /** The command's work, printing to {@code out} and {@code err}; returns whether the resync was requested. */
    boolean run(PrintStream out, PrintStream err) {
        DiskId id;
        try {
            id = DiskId.of(disk);
        } catch (IllegalArgumentException e) {
            err.println("Error: '" + disk + "' is not a disk id: " + e.getMessage());
            return false;
        }
        if (!agent.protectedDisks().contains(id)) {
            err.println("Error: disk " + id + " is not protected by this agent; protected disks: "
                    + (agent.protectedDisks().isEmpty() ? "none" : agent.protectedDisks()));
            return false;
        }
        try {
            agent.requestResync(id, reason);
        } catch (IOException | IllegalArgumentException e) {
            err.println("Error: the resync of " + id + " could not be requested: " + e.getMessage());
            return false;
        }
        out.println("Resync of " + id + " requested (" + reason + "); follow it with dr:replication.");
        return true;
    }
}
