package org.secondsite.appliance.internal.shell;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.appliance.internal.ReplicationOverview;

@Service
@Command(scope = "dr", name = "replication",
        description = "Shows every protected disk at each replication stage running here: state, sequences, backlog and lag.",
        detailedDescription = "One row per disk and stage (agent, process server, master target). 'Last' is the newest "
                + "sequence the stage took in, 'Acked' the newest the next stage holds durably (for the master target: "
                + "applied). 'Lag' is the age of the oldest write not yet durable downstream: the data a failure of this "
                + "stage now would cost. 'Replica at' is the source time of the newest write the replica contains. "
                + "In/s and Out/s are measured over the last " + ReplicationOverview.SAMPLE_SECONDS + " s. 'Resync' (agent "
                + "rows) is the disk's running or last resync: phase, percent compared, bytes sent, estimated time left.")
public class ReplicationCommand implements Action {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    @Reference
    ReplicationOverview overview;

    @Override
    public Object execute() {
        List<ReplicationOverview.Row> rows = overview.rows();
        Instant now = Instant.now();
        ShellTable table = new ShellTable();
        for (String c : new String[] {"Disk", "Stage", "State", "Last", "Acked", "Backlog", "Lag", "Replica at", "In",
            "In/s", "Out", "Out/s", "Resync", "Detail"}) {
            table.column(c);
        }
        for (ReplicationOverview.Row row : rows) {
            DiskReplicationStatus d = row.status();
            table.addRow().addContent(d.disk().value(), d.stage().name().toLowerCase().replace('_', '-'), d.state(),
                    d.lastSequence(), d.acknowledgedSequence(), bytes(d.backlogBytes()), lag(d.lag(now)),
                    d.newestApplied().map(TIME::format).orElse("-"), bytes(d.bytesIn()),
                    bytes((long) row.inPerSecond()), bytes(d.bytesOut()), bytes((long) row.outPerSecond()),
                    resync(d.resync()), d.message());
        }
        table.emptyTableText("no protected disk at any stage of this appliance");
        table.print(System.out);
        return null;
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f %s", v, units[u]);
    }

    /** A resync in one cell: "comparing 42.0% of 2.0 GiB, sent 3.1 MiB, ETA 35 s", "done, sent ...", "failed: why". */
    static String resync(ResyncProgress r) {
        if (r == null) {
            return "-";
        }
        String sent = "sent " + bytes(r.sentBytes());
        return switch (r.phase()) {
            case DONE -> "done (" + r.reason() + "), " + sent;
            case FAILED -> "failed (" + r.reason() + "): " + r.message();
            default -> String.format("%s %.1f%% of %s, %s%s%s", r.phase().name().toLowerCase(), r.percent(),
                    bytes(r.totalBytes()), sent, r.eta().map(e -> ", ETA " + Math.max(1, e.toSeconds()) + " s").orElse(""),
                    r.message().isEmpty() ? "" : " - " + r.message());
        };
    }

    static String lag(Duration d) {
        return d.isZero() ? "0" : String.format("%.1f s", d.toMillis() / 1000.0);
    }
}
