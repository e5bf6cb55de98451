package org.secondsite.configserver.internal.shell;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.secondsite.configserver.internal.ConfigServerService;

@Service
@Command(scope = "dr", name = "passphrase",
        description = "Shows or rotates the registration passphrase (admin only; both are audited). Components "
                + "register with it once; rotating it does not affect components already registered.")
public class PassphraseCommand implements Action {
    @Reference
    ConfigServerService service;

    @Argument(index = 0, name = "action", required = false,
            description = "show (default): print the passphrase; rotate: replace it with a new random one and print it")
    @Completion(value = StringsCompleter.class, values = {"show", "rotate"})
    String action = "show";

    @Override
    public Object execute() throws Exception {
        switch (action) {
            case "show" -> System.out.println(service.server().revealPassphrase(Shell.user()));
            case "rotate" -> {
                String fresh = service.server().rotatePassphrase(Shell.user());
                System.out.println("New registration passphrase (components already registered are not affected):");
                System.out.println(fresh);
            }
            default -> System.err.println("Error: unknown action '" + action + "'; expected show or rotate");
        }
        return null;
    }
}
