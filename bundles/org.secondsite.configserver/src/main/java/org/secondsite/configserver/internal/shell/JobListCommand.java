package org.secondsite.configserver.internal.shell;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.ConfigServerService;
import org.secondsite.configserver.internal.Page;
import org.secondsite.configserver.internal.protection.Job;

@Service
@Command(scope = "dr", name = "job-list",
        description = "Lists protection jobs newest first (same as GET /api/v1/jobs); with a job id, shows its steps "
                + "with state, progress and errors.")
public class JobListCommand implements Action {
    @Reference
    ConfigServerService service;

    @Argument(name = "job", description = "Show this job's steps")
    Long job;

    @Option(name = "--machine", description = "Only this machine's jobs")
    @Completion(MachineIdCompleter.class)
    String machine;

    @Option(name = "--state", description = "Only jobs in this state: running, succeeded or failed")
    String state;

    @Option(name = "--offset", description = "Index of the first job shown")
    int offset = 0;

    @Option(name = "--limit", description = "How many jobs to show (at most " + Page.MAX_LIMIT + ")")
    int limit = Page.DEFAULT_LIMIT;

    @Override
    public Object execute() throws Exception {
        try {
            if (job != null) {
                Job j = service.server().job(job);
                System.out.println("Job " + j.id() + ": " + j.kind() + " " + j.machineId() + ", " + j.state() + " "
                        + j.progress() + "%, by " + j.createdBy() + " at " + j.createdAt()
                        + (j.error() == null ? "" : "\nError: " + j.error()));
                ShellTable table = new ShellTable();
                for (String c : new String[] {"#", "Step", "State", "Progress", "Started", "Ended"}) {
                    table.column(c);
                }
                table.column("Error").maxSize(100);
                for (Job.Step s : j.steps()) {
                    table.addRow().addContent(s.ordinal(), s.name(), s.state(), s.progress() + "%",
                            s.startedAt() == null ? "" : s.startedAt(), s.endedAt() == null ? "" : s.endedAt(),
                            s.error() == null ? "" : s.error());
                }
                table.print(System.out);
                return null;
            }
            Page<Job> page = service.server().jobs(machine, state, offset, limit);
            ShellTable table = new ShellTable();
            for (String c : new String[] {"Id", "Kind", "Machine", "State", "Progress", "Step", "By", "Started"}) {
                table.column(c);
            }
            table.column("Error").maxSize(80);
            for (Job j : page.items()) {
                String step = j.steps().stream().filter(s -> !Job.SUCCEEDED.equals(s.state())).findFirst()
                        .map(Job.Step::name).orElse("");
                table.addRow().addContent(j.id(), j.kind(), j.machineId(), j.state(), j.progress() + "%", step,
                        j.createdBy(), j.createdAt(), j.error() == null ? "" : j.error());
            }
            table.print(System.out);
            Shell.pageFooter(page, offset, "jobs");
        } catch (ConfigServerException e) {
            Shell.refused(e);
        }
        return null;
    }
}
