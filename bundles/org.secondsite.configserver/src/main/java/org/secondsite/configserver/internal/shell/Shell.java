package org.secondsite.configserver.internal.shell;

import java.security.AccessController;
import java.security.Principal;

import javax.security.auth.Subject;

import org.apache.karaf.jaas.boot.principal.UserPrincipal;
import org.secondsite.configserver.internal.ConfigServerException;

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
}
