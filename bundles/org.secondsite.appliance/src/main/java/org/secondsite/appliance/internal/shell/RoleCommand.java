package org.secondsite.appliance.internal.shell;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.api.appliance.Role;
import org.secondsite.api.appliance.RoleState;

@Service
@Command(scope = "dr", name = "role",
        description = "Shows the appliance's role, or changes it at run time.",
        detailedDescription = "Without an argument, prints the role and whether its features are in place. With a role "
                + "(agent, process-server, master-target, config-server, console, all-in-one), saves it in "
                + "etc/org.secondsite.appliance.cfg, installs that role's feature and removes the others', without a "
                + "restart, and waits until that is done.")
public class RoleCommand implements Action {

    @Argument(index = 0, name = "role", required = false, description = "The new role.")
    @Completion(RoleCompleter.class)
    String role;

    @Option(name = "--timeout", description = "Seconds to wait for the role's features to be in place (default 300).")
    int timeoutSeconds = 300;

    @Reference
    Appliance appliance;

    @Override
    public Object execute() throws Exception {
        if (role == null) {
            print(appliance.roleState());
            return null;
        }
        Role wanted;
        try {
            wanted = Role.parse(role);
        } catch (IllegalArgumentException e) {
            System.err.println("Error: " + e.getMessage() + ". The role stays '" + appliance.roleState().role() + "'.");
            return null;
        }
        System.out.println("Changing role to '" + wanted.id() + "'...");
        try {
            RoleState end = appliance.changeRole(wanted).toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS);
            print(end);
        } catch (TimeoutException e) {
            System.err.println("Still reconciling after " + timeoutSeconds + " s; see dr:status.");
        } catch (ExecutionException e) {
            System.err.println("Error: " + e.getCause().getMessage());
        }
        return null;
    }

    private static void print(RoleState rs) {
        System.out.println("Role: " + rs.role().id() + " (" + rs.phase().name().toLowerCase()
                + (rs.message().isEmpty() ? "" : ": " + rs.message()) + ")");
    }
}
