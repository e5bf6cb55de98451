package org.secondsite.configserver.internal.shell;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.ConfigServerService;
import org.secondsite.configserver.internal.catalogue.Event;

@Service
@Command(scope = "dr", name = "alert-ack",
        description = "Acknowledges an alert: records that you have seen it (audited). The alert stays active until "
                + "its condition ends. Same as POST /api/v1/alerts/{id}/acknowledge.")
public class AlertAckCommand implements Action {
    @Reference
    ConfigServerService service;

    @Argument(index = 0, name = "id", required = true, description = "Number of the alert (see dr:alerts)")
    @Completion(AlertIdCompleter.class)
    long id;

    @Override
    public Object execute() throws Exception {
        try {
            Event a = service.server().acknowledgeAlert(id, Shell.user());
            System.out.println("Acknowledged alert " + a.id() + " (" + a.severity() + " " + a.kind() + " "
                    + a.subject() + ")" + (a.active() ? "; it stays active until its condition ends." : "."));
        } catch (ConfigServerException e) {
            Shell.refused(e);
        }
        return null;
    }
}
