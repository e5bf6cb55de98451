package org.secondsite.configserver.internal.shell;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.ConfigServerService;
import org.secondsite.configserver.internal.protection.Job;
import org.secondsite.configserver.internal.protection.Machine;
import org.secondsite.configserver.internal.protection.ProtectRequest;

@Service
@Command(scope = "dr", name = "protect",
        description = "Protects a machine: its agent captures the listed disks and replicates them through the process "
                + "server to the master target under the policy. Starts a protect job (same as POST "
                + "/api/v1/machines/{id}/protect); follow it with dr:job-list.")
public class ProtectCommand implements Action {
    @Reference
    ConfigServerService service;

    @Argument(index = 0, name = "machine", required = true, description = "Machine id (a new one, or unprotected)")
    @Completion(MachineIdCompleter.class)
    String machine;

    @Option(name = "--agent", required = true, description = "Registered agent that captures the disks")
    String agent;

    @Option(name = "--process-server", required = true, description = "Registered process server the agent sends to")
    String processServer;

    @Option(name = "--master-target", required = true, description = "Registered master target keeping the replicas")
    String masterTarget;

    @Option(name = "--policy", required = true, description = "Replication policy (dr:policy-list)")
    @Completion(PolicyIdCompleter.class)
    String policy;

    @Option(name = "--disk", required = true, multiValued = true, description = "A disk as <diskId>=<source>[;driver=<name>]"
            + "[;<captureOption>=<value>...], e.g. 'web01:disk0=/dev/sdb;listen=127.0.0.1:10809' (repeat per disk; "
            + "driver nbd by default)")
    List<String> disks;

    @Option(name = "--group", description = "Consistency group (default: the machine id)")
    String group;

    @Option(name = "--name", description = "Display name (default: the machine id)")
    String name;

    @Option(name = "--kind", description = "vmware, physical-linux (default) or physical-windows")
    String kind;

    @Override
    public Object execute() throws Exception {
        try {
            List<Machine.Disk> list = new ArrayList<>();
            for (int i = 0; i < disks.size(); i++) {
                list.add(parseDisk(disks.get(i), i));
            }
            Job job = service.server().protect(new ProtectRequest(machine, name, kind, agent, processServer, masterTarget,
                    policy, group, list), Shell.user());
            System.out.println("Job " + job.id() + " (protect " + machine + ") started: " + job.steps().size()
                    + " steps; follow it with dr:job-list " + job.id());
        } catch (ConfigServerException e) {
            Shell.refused(e);
        }
        return null;
    }

    /** {@code diskId=source[;key=value...]}. */
    static Machine.Disk parseDisk(String text, int index) {
        String[] parts = text.split(";");
        int eq = parts[0].indexOf('=');
        if (eq <= 0 || eq == parts[0].length() - 1) {
            throw ConfigServerException.invalid("disks[" + index + "]", "--disk '" + text + "' must be "
                    + "<diskId>=<source>[;key=value...]");
        }
        String driver = "nbd";
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            int e = parts[i].indexOf('=');
            if (e <= 0) {
                throw ConfigServerException.invalid("disks[" + index + "]", "--disk option '" + parts[i]
                        + "' must be key=value");
            }
            String key = parts[i].substring(0, e);
            if ("driver".equals(key)) {
                driver = parts[i].substring(e + 1);
            } else {
                options.put(key, parts[i].substring(e + 1));
            }
        }
        return new Machine.Disk(parts[0].substring(0, eq), parts[0].substring(eq + 1), driver, options, 0, 0);
    }
}
