package org.secondsite.agent.internal;

import java.lang.System.Logger.Level;
import java.time.Duration;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The agent's recovery-point schedule as a policy sets it (PID {@code org.secondsite.agent.schedule},
 * written by the configuration server's desired state): applied live, without restarting the agent
 * or its capture sessions; removed, the agent configuration's own values apply again.
 */
@Component(name = ScheduleComponent.PID, service = {}, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ScheduleComponent.Config.class)
public final class ScheduleComponent {
    static final String PID = "org.secondsite.agent.schedule";
    private static final System.Logger LOG = System.getLogger(ScheduleComponent.class.getName());

    @ObjectClassDefinition(name = "SecondSite agent schedule", description = "Checkpoint interval and "
            + "application-consistent schedule set by a replication policy; applied without restarting the agent")
    @interface Config {
        @AttributeDefinition(name = "Checkpoint interval", description = "Milliseconds between crash-consistent "
                + "checkpoints (100..3600000), or 0 for none")
        long checkpointMillis() default 1000;

        @AttributeDefinition(name = "Application-consistent schedule", description = "Minutes between scheduled "
                + "application-consistent tags; 0 turns the schedule off")
        long appTagMinutes() default 0;
    }

    private final AgentService agent;

    @Activate
    public ScheduleComponent(Config config, @Reference AgentService agent) {
        this.agent = agent;
        apply(config);
    }

    @Modified
    void apply(Config config) {
        if (config.appTagMinutes() < 0 || config.appTagMinutes() > 525_600) {
            throw new IllegalArgumentException("appTagMinutes must be 0 (off) to 525600 (a year), got "
                    + config.appTagMinutes());
        }
        agent.schedule(Duration.ofMillis(config.checkpointMillis()), Duration.ofMinutes(config.appTagMinutes()));
        LOG.log(Level.INFO, "schedule from " + PID + ": checkpoints every " + config.checkpointMillis()
                + " ms, application-consistent tags " + (config.appTagMinutes() == 0 ? "off"
                : "every " + config.appTagMinutes() + " min") + " (applied live)");
    }

    @Deactivate
    void deactivate() {
        agent.schedule(null, null);
    }
}
