package org.secondsite.link.internal.shell;

import java.io.PrintStream;
import java.time.Instant;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.secondsite.link.internal.LinkStatusBoard;
import org.secondsite.link.internal.LinkStatus;

@Service
@Command(scope = "dr", name = "link",
        description = "Shows this component's link to its configuration server: the server, the component id, "
                + "since when it is registered, when its certificate expires, the last heartbeat (time and "
                + "outcome), the desired-state revision applied and the last error. Configure the link in "
                + "etc/org.secondsite.link.cfg (configServer, componentId, role, passphrase).")
public class LinkCommand implements Action {
    @Reference
    LinkStatusBoard board;

    @Override
    public Object execute() {
        print(board.status(), System.out);
        return null;
    }

    /** Prints a status as a two-column table. */
    static void print(LinkStatus s, PrintStream out) {
        if (s == null) {
            out.println("The link is not configured: set configServer, componentId, role and passphrase in "
                    + "etc/org.secondsite.link.cfg (PID org.secondsite.link).");
            return;
        }
        ShellTable table = new ShellTable();
        table.column("Property");
        table.column("Value");
        row(table, "State", s.phase());
        row(table, "Configuration server", s.configServer() == null ? "" : s.configServer().toString());
        row(table, "Component", s.componentId() == null ? "" : s.componentId() + " (" + s.role() + ")");
        row(table, "Registered since", time(s.registeredAt(), "not registered"));
        row(table, "Certificate", s.certificateSerial() == null ? "none"
                : "serial " + s.certificateSerial() + ", expires " + time(s.certificateExpires(), "?"));
        row(table, "Last heartbeat", s.lastHeartbeatAt() == null ? "never"
                : s.lastHeartbeatAt() + ": " + s.lastHeartbeatOutcome());
        row(table, "Applied revision", s.appliedRevision() + (s.desiredRevision() > s.appliedRevision()
                ? " (server has " + s.desiredRevision() + ")" : ""));
        row(table, "Apply error", s.applyError() == null ? "none" : s.applyError());
        row(table, "Last error", s.lastError() == null ? "none"
                : (s.lastErrorAt() == null ? "" : s.lastErrorAt() + ": ") + s.lastError());
        table.print(out);
    }

    private static void row(ShellTable table, String name, String value) {
        table.addRow().addContent(name, value);
    }

    private static String time(Instant t, String none) {
        return t == null ? none : t.toString();
    }
}
