package org.secondsite.agent.internal.shell;

import java.io.PrintStream;
import java.util.Optional;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.agent.internal.AgentService;
import org.secondsite.agent.internal.TagResult;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;

@Service
@Command(scope = "dr", name = "tag",
        description = "Inserts a named consistency tag into the change stream of every disk of a group.",
        detailedDescription = "All disks of the group get the tag at one moment (no write of the group is accepted "
                + "between the first disk's tag and the last's); the master target makes a recovery point of it once "
                + "every disk applied it. Without --app the tag is a crash-consistent bookmark. With --app the "
                + "configured pre-freeze hooks run first and the configured mounts are frozen (fsfreeze), then the "
                + "tag is inserted, then the mounts are thawed and the post-thaw hooks run - thawing always happens, "
                + "also when a hook failed. The tag is refused, with the reason, when a hook fails or hangs past its "
                + "timeout, when the name was used by a recent tag of the group, or when a disk of the group cannot be "
                + "consistent now (bitmap mode, resync). A disk id stands for its group. A group spanning several "
                + "machines is tagged through its process server instead.")
public class TagCommand implements Action {

    @Argument(index = 0, name = "group", required = true,
            description = "A consistency group of this agent, or a protected disk (its group is tagged).")
    @Completion(GroupOrDiskCompleter.class)
    String target;

    @Argument(index = 1, name = "name", required = true,
            description = "The tag's name, 1-128 printable characters, unique among the group's recent tags.")
    String name;

    @Option(name = "--app", description = "Application consistent: run the pre-freeze/post-thaw hooks and freeze "
            + "the configured mounts around the tag.")
    boolean application;

    @Reference
    AgentService agent;

    @Override
    public Object execute() {
        run(System.out, System.err);
        return null;
    }

    /** The command's work, printing to {@code out} and {@code err}; returns whether the tag was inserted. */
    boolean run(PrintStream out, PrintStream err) {
        Optional<GroupId> group = resolve(target);
        if (group.isEmpty()) {
            err.println("Error: '" + target + "' is neither a protected disk nor a consistency group of this agent; "
                    + "groups: " + (agent.groups().isEmpty() ? "none" : agent.groups()));
            return false;
        }
        TagResult r = agent.tag(group.get(), name, application ? TagKind.APPLICATION : TagKind.BOOKMARK);
        (r.ok() ? out : err).println(r.ok() ? r.summary() : "Error: " + r.summary());
        return r.ok();
    }

    private Optional<GroupId> resolve(String value) {
        try {
            Optional<GroupId> g = agent.groupOf(DiskId.of(value));
            if (g.isPresent()) {
                return g;
            }
        } catch (IllegalArgumentException e) {
            // not a disk id
        }
        try {
            GroupId g = GroupId.of(value);
            return agent.groups().contains(g) ? Optional.of(g) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
