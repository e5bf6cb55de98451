package org.secondsite.configserver.internal.shell;

import java.security.AccessController;
import java.security.Principal;

import javax.security.auth.Subject;

import org.apache.karaf.jaas.boot.principal.UserPrincipal;
import org.apache.karaf.shell.support.table.ShellTable;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.Page;
import org.secondsite.configserver.internal.catalogue.Event;

/** What the dr:* configuration commands share: the shell user, and printing refusals. */
final class Shell {
    private Shell() {
    }

    /** The user running the command (for the audit log). */
    @SuppressWarnings("removal") // Karaf 4.4 still runs commands under Subject.doAs
    static String user() {
        Subject subject = Subject.getSubject(AccessController.getContext());
        if (subject != null) {
            for (Principal p : subject.getPrincipals(UserPrincipal.class)) {
                return p.getName();
            }
        }
        return "shell";
    }

    /** Prints a refusal the way the shell user can act on it. */
    static void refused(ConfigServerException e) {
        System.err.println("Error: " + e.getMessage());
    }

    /** Prints a page of events or alerts as a table, then how many of how many. */
    static void events(Page<Event> page, int offset, String what) {
        ShellTable table = new ShellTable();
        for (String c : new String[] {"Id", "Raised", "Severity", "Kind", "Subject", "Cleared", "Acknowledged"}) {
            table.column(c);
        }
        table.column("Message").maxSize(100);
        for (Event e : page.items()) {
            table.addRow().addContent(e.id(), e.raisedAt(), e.severity(), e.kind(),
                    e.subject() == null ? "" : e.subject(),
                    e.clearedAt() == null ? (e.alert() ? "active" : "") : e.clearedAt(),
                    e.acknowledgedBy() == null ? "" : e.acknowledgedBy() + " " + e.acknowledgedAt(), e.message());
        }
        table.print(System.out);
        pageFooter(page, offset, what);
    }

    /** "n of total <what>", and how to see more. */
    static void pageFooter(Page<?> page, int offset, String what) {
        int shown = page.items().size();
        System.out.println(shown + " of " + page.total() + " " + what
                + (page.total() > offset + shown ? "; more with --offset " + (offset + shown) : ""));
    }
}
