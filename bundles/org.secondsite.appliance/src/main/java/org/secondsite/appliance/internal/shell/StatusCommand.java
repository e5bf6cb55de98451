package org.secondsite.appliance.internal.shell;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.api.appliance.PluginInfo;
import org.secondsite.api.appliance.RoleState;
import org.secondsite.appliance.internal.ComponentHealth;

@Service
@Command(scope = "dr", name = "status",
        description = "Shows this appliance's role, version and uptime, the plugins installed for each extension point, the resyncs running, and any component or disk with a problem.",
        detailedDescription = "Plugins are read from the OSGi service registry: every capture driver, compressor, "
                + "transport, storage backend and hypervisor connector registered now, with the bundle that provides it.")
public class StatusCommand implements Action {

    @Reference
    Appliance appliance;

    @Reference
    ComponentHealth health;

    @Reference
    org.secondsite.appliance.internal.ReplicationOverview overview;

    @Override
    public Object execute() {
        RoleState rs = appliance.roleState();
        System.out.println("Role:    " + rs.role().id() + " (" + rs.phase().name().toLowerCase()
                + (rs.message().isEmpty() ? "" : ": " + rs.message()) + ")");
        System.out.println("Version: " + appliance.version());
        System.out.println("Uptime:  " + formatUptime(Duration.between(appliance.startedAt(), Instant.now())));
        System.out.println();
        ShellTable table = new ShellTable();
        table.column("Extension point");
        table.column("Plugin");
        table.column("Bundle");
        table.column("Version");
        table.column("State");
        for (PluginInfo p : appliance.plugins()) {
            table.addRow().addContent(p.point().id(), p.name(), p.bundle(), p.version(), p.state());
        }
        table.emptyTableText("no plugins installed");
        table.print(System.out);
        List<String> resyncs = resyncLines(overview.disks());
        if (!resyncs.isEmpty()) {
            System.out.println();
            System.out.println("Resyncs:");
            resyncs.forEach(l -> System.out.println("  " + l));
        }
        List<ComponentHealth.Problem> problems = health.problems();
        if (!problems.isEmpty()) {
            System.out.println();
            System.out.println("Problems:");
            ShellTable p = new ShellTable();
            p.column("Component");
            p.column("State");
            p.column("Detail");
            for (ComponentHealth.Problem pr : problems) {
                p.addRow().addContent(pr.component(), pr.state(), pr.detail());
            }
            p.print(System.out);
        }
        return null;
    }

    /** A line per disk whose resync or dirty-region replay runs now: disk, reason, progress, ETA. */
    static List<String> resyncLines(List<org.secondsite.api.replication.DiskReplicationStatus> disks) {
        List<String> out = new java.util.ArrayList<>();
        for (org.secondsite.api.replication.DiskReplicationStatus d : disks) {
            org.secondsite.api.replication.ResyncProgress r = d.resync();
            if (r != null && (r.phase() == org.secondsite.api.replication.ResyncProgress.Phase.COMPARING
                    || r.phase() == org.secondsite.api.replication.ResyncProgress.Phase.REPLAYING)) {
                out.add(d.disk().value() + " (" + r.reason() + "): " + ReplicationCommand.resync(r));
            }
        }
        return out;
    }

    static String formatUptime(Duration d) {
        long s = Math.max(0, d.toSeconds());
        long days = s / 86400;
        String hms = String.format("%02dh %02dm %02ds", (s % 86400) / 3600, (s % 3600) / 60, s % 60);
        return days > 0 ? days + "d " + hms : hms;
    }
}
