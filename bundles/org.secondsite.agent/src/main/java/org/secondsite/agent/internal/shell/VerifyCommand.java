package org.secondsite.agent.internal.shell;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Optional;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.agent.internal.AgentService;
import org.secondsite.agent.internal.VerifyReport;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.ResyncProgress;

@Service
@Command(scope = "dr", name = "verify",
        description = "Checks online that a protected disk's replica equals its source; reports mismatched regions.",
        detailedDescription = "Compares the source with the replica by hashes, as dr:resync does (32 KiB chunks, then "
                + "4 KiB blocks inside differing chunks), but sends nothing: the replica is left as it is and "
                + "replication goes on. A range the workload writes during the comparison is compared again after the "
                + "write reached the replica; one written at every comparison is reported as skipped, not as a "
                + "mismatch. The command returns at once: follow the progress with dr:replication and print the "
                + "result with --result. --repair verifies and then resyncs just the mismatched regions; "
                + "--repair-found resyncs just the mismatched regions of the last verification (compared again, only "
                + "differing blocks sent). Refused while a resync of the disk runs or is owed.")
public class VerifyCommand implements Action {
    /** Regions listed per kind in a printed report. */
    static final int MAX_LISTED = 50;

    @Argument(index = 0, name = "disk", required = true, description = "The protected disk, e.g. web01:disk0.")
    @Completion(ProtectedDiskCompleter.class)
    String disk;

    @Option(name = "--repair", description = "After the verification, resync just the mismatched regions.")
    boolean repair;

    @Option(name = "--repair-found", description = "Resync just the mismatched regions of the last verification "
            + "(no new verification of the whole disk).")
    boolean repairFound;

    @Option(name = "--result", description = "Print the running verification's progress and the last result.")
    boolean result;

    @Reference
    AgentService agent;

    @Override
    public Object execute() {
        run(System.out, System.err);
        return null;
    }

    /** The command's work, printing to {@code out} and {@code err}; returns whether it succeeded. */
    boolean run(PrintStream out, PrintStream err) {
        DiskId id;
        try {
            id = DiskId.of(disk);
        } catch (IllegalArgumentException e) {
            err.println("Error: '" + disk + "' is not a disk id: " + e.getMessage());
            return false;
        }
        if ((repair ? 1 : 0) + (repairFound ? 1 : 0) + (result ? 1 : 0) > 1) {
            err.println("Error: --repair, --repair-found and --result exclude each other; give at most one");
            return false;
        }
        if (!agent.protectedDisks().contains(id)) {
            err.println("Error: disk " + id + " is not protected by this agent; protected disks: "
                    + (agent.protectedDisks().isEmpty() ? "none" : agent.protectedDisks()));
            return false;
        }
        if (result) {
            printResult(id, out);
            return true;
        }
        VerifyReport.Mode mode = repair ? VerifyReport.Mode.VERIFY_AND_REPAIR
                : repairFound ? VerifyReport.Mode.REPAIR : VerifyReport.Mode.VERIFY;
        try {
            agent.verify(id, mode);
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            err.println("Error: " + e.getMessage());
            return false;
        }
        out.println(switch (mode) {
            case VERIFY -> "Verification of " + id + " started (compare only; the replica is not changed and "
                    + "replication goes on).";
            case VERIFY_AND_REPAIR -> "Verification of " + id + " started; the mismatched regions it finds will be "
                    + "resynced.";
            case REPAIR -> "Repair of the mismatched regions of " + id + " started (compared again, only differing "
                    + "blocks sent).";
        });
        out.println("Follow it with dr:replication; the result: dr:verify --result " + id);
        return true;
    }

    private void printResult(DiskId id, PrintStream out) {
        Optional<ResyncProgress> p = agent.resyncProgress(id);
        Optional<VerifyReport> r = agent.verifyReport(id);
        if (p.isPresent() && p.get().phase() == ResyncProgress.Phase.COMPARING) {
            ResyncProgress g = p.get();
            out.println("Running on " + id + ": " + g.reason() + ", "
                    + String.format(Locale.ROOT, "%.1f", g.percent()) + " % (" + g.doneBytes() + " of "
                    + g.totalBytes() + " bytes)" + (g.message().isEmpty() ? "" : "; " + g.message()));
        }
        if (r.isEmpty()) {
            out.println("No verification of " + id + " ended since the agent started; start one with dr:verify " + id);
            return;
        }
        VerifyReport report = r.get();
        out.print(report.describe(MAX_LISTED));
        if (report.outcome() == VerifyReport.Outcome.COMPLETED && report.mode() == VerifyReport.Mode.VERIFY
                && !report.mismatched().isEmpty()) {
            out.println("Resync just these regions: dr:verify --repair-found " + id);
        }
    }
}
