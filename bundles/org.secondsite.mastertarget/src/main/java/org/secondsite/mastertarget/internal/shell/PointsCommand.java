package org.secondsite.mastertarget.internal.shell;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Optional;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.mastertarget.internal.MasterTargetComponent;
import org.secondsite.mastertarget.internal.retention.RetentionStatus;

@Service
@Command(scope = "dr", name = "points",
        description = "Lists the recovery points this master target can materialise.",
        detailedDescription = "Crash-consistent points come from the agents' checkpoints (every checkpoint interval, "
                + "1 s by default); application-consistent ones from tags taken with hooks (dr:tag --app), bookmarks "
                + "from dr:tag. A point of a consistency group covers every disk of the group at one moment. Points "
                + "older than the retention window, or beyond the journal's space cap, are pruned oldest first. "
                + "Materialise one with dr:export (NBD, read-only or test failover) or dr:recover (raw image).")
public class PointsCommand implements Action {
    @Option(name = "--group", description = "Only the points of this consistency group.")
    String group;

    @Option(name = "--last", description = "Only the newest N points (default: all).")
    int last;

    @Option(name = "--tagged", description = "Only application-consistent points and bookmarks (points with a tag name).")
    boolean tagged;

    @Reference
    MasterTargetComponent masterTarget;

    @Override
    public Object execute() throws IOException {
        run(System.out, System.err);
        return null;
    }

    boolean run(PrintStream out, PrintStream err) throws IOException {
        Optional<GroupId> g;
        try {
            g = group == null ? Optional.empty() : Optional.of(GroupId.of(group));
        } catch (IllegalArgumentException e) {
            err.println("Error: '" + group + "' is not a group id: " + e.getMessage());
            return false;
        }
        List<RecoveryPoint> points = masterTarget.masterTarget().points(g);
        if (tagged) {
            points = points.stream().filter(p -> p.tag().isPresent()).toList();
        }
        if (last > 0 && points.size() > last) {
            points = points.subList(points.size() - last, points.size());
        }
        ShellTable t = new ShellTable();
        t.column("Point");
        t.column("Group");
        t.column("Time (UTC)");
        t.column("Kind");
        t.column("Tag");
        for (RecoveryPoint p : points) {
            t.addRow().addContent(p.id(), p.group().value(), p.time().toString(),
                    p.kind().name().toLowerCase().replace('_', '-'), p.tag().orElse(""));
        }
        t.print(out);
        RetentionStatus r = masterTarget.masterTarget().retention();
        out.printf("%d point(s) listed; journal %s of %s, window %s%s%n", r.points(), Sizes.bytes(r.usedBytes()),
                Sizes.bytes(r.settings().capBytes()), Sizes.duration(r.settings().window()),
                r.oldest().map(o -> ", oldest " + o.time()).orElse(""));
        return true;
    }
}
