package org.secondsite.configserver.internal.shell;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.ConfigServerService;
import org.secondsite.configserver.internal.catalogue.Policy;

@Service
@Command(scope = "dr", name = "policy-create",
        description = "Creates a replication policy, same as POST /api/v1/policies.")
public class PolicyCreateCommand implements Action {
    @Reference
    ConfigServerService service;

    @Argument(index = 0, name = "id", required = true, description = "Name of the new policy")
    String id;

    @Option(name = "--rpo", description = "RPO threshold in seconds: an alert is due above it (default 900)")
    int rpo = 900;

    @Option(name = "--checkpoint", description = "Seconds between crash-consistent recovery points (default "
            + Policy.DEFAULT_CHECKPOINT_INTERVAL_SECONDS + ")")
    int checkpoint = Policy.DEFAULT_CHECKPOINT_INTERVAL_SECONDS;

    @Option(name = "--retention", description = "Retention window in seconds (default 86400 = 1 day)")
    long retention = 86_400;

    @Option(name = "--retention-space", description = "Journal bytes per protected machine, 0 = no cap (default 0)")
    long retentionSpace = Policy.DEFAULT_RETENTION_SPACE_BYTES;

    @Option(name = "--app-consistency", description = "Interval of application-consistent points, ISO-8601 (PT1H), "
            + "or off (default " + Policy.DEFAULT_APP_CONSISTENCY_SCHEDULE + ")")
    String appConsistency = Policy.DEFAULT_APP_CONSISTENCY_SCHEDULE;

    @Option(name = "--compressor", description = "Compressor plugin (default " + Policy.DEFAULT_COMPRESSOR + ")")
    String compressor = Policy.DEFAULT_COMPRESSOR;

    @Option(name = "--bandwidth", description = "Bandwidth schedule, e.g. 'Mon-Fri 08:00-18:00=20MB/s, *=0' "
            + "(default: unlimited)")
    String bandwidth = Policy.DEFAULT_BANDWIDTH_SCHEDULE;

    @Override
    public Object execute() throws Exception {
        try {
            Policy p = service.server().createPolicy(new Policy(id, rpo, checkpoint, retention, retentionSpace,
                    appConsistency, compressor, bandwidth, null, null), Shell.user());
            System.out.println("Created policy '" + p.id() + "'.");
        } catch (ConfigServerException e) {
            Shell.refused(e);
        }
        return null;
    }
}
