package org.secondsite.processserver.internal.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;
import org.secondsite.processserver.internal.GroupCoordinator;
import org.secondsite.processserver.internal.ProcessServerComponent;

@Service
@Command(scope = "dr", name = "group-tag",
        description = "Tags a consistency group that spans several machines, through this process server.",
        detailedDescription = "Every agent with disks in the group holds the group's writes (TAG_PREPARE; with --app "
                + "after its pre-freeze hooks and filesystem freezes), and once all have answered the process server "
                + "commits: each agent inserts the tag into every stream and lets writes go. No agent holds writes "
                + "longer than its tagHoldMillis; an agent that had to let go makes the tag void, and the master "
                + "target then never lists the point. All agents of a group must send to this process server. For a "
                + "group on one machine, dr:tag on its agent does the same without the round trip.")
public class GroupTagCommand implements Action {
    @Argument(index = 0, name = "group", required = true, description = "The consistency group.")
    String group;

    @Argument(index = 1, name = "name", required = true, description = "The tag's name, 1-128 printable characters.")
    String name;

    @Option(name = "--app", description = "Application-consistent: run the agents' pre-freeze and post-thaw hooks.")
    boolean app;

    @Reference
    ProcessServerComponent processServer;

    @Override
    public Object execute() {
        run(System.out, System.err);
        return null;
    }

    boolean run(PrintStream out, PrintStream err) {
        GroupId g;
        try {
            g = GroupId.of(group);
        } catch (IllegalArgumentException e) {
            err.println("Error: '" + group + "' is not a group id: " + e.getMessage());
            return false;
        }
        GroupCoordinator.Outcome o = processServer.coordinator().tag(g, name,
                app ? TagKind.APPLICATION : TagKind.BOOKMARK);
        (o.ok() ? out : err).println(o.summary());
        return o.ok();
    }
}
