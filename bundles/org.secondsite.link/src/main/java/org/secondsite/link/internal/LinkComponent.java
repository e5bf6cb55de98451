package org.secondsite.link.internal;

import java.nio.file.Paths;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.secondsite.api.replication.RecoveryPointCatalogue;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.api.replication.SpoolMonitor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OSGi shell of {@link Link}: only with a configuration {@code org.secondsite.link}, and idle
 * while its {@code configServer} is empty (the all-in-one appliance is its own configuration
 * server). A configuration change restarts the link; a registered component stays registered.
 * Replication monitors are collected dynamically.
 */
@Component(name = Link.PID, configurationPid = Link.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        immediate = true)
@Designate(ocd = LinkConfig.class)
public class LinkComponent {
    private static final Logger LOG = LoggerFactory.getLogger(LinkComponent.class);

    private final List<ReplicationMonitor> monitors = new CopyOnWriteArrayList<>();
    private final List<RecoveryPointCatalogue> catalogues = new CopyOnWriteArrayList<>();
    private final List<SpoolMonitor> spools = new CopyOnWriteArrayList<>();
    private final Link link;
    private final LinkStatusBoard board;
    private final Supplier<LinkStatus> status;

    @Activate
    public LinkComponent(LinkConfig config, @Reference ConfigurationAdmin configurationAdmin,
                         @Reference LinkStatusBoard board) {
        this.board = board;
        if (config.configServer().isBlank()) {
            LOG.info("Link to a configuration server: idle (configServer is empty in {})", Link.PID);
            link = null;
            LinkStatus idle = LinkStatus.notConfigured(null);
            status = () -> idle;
            board.publish(status);
            return;
        }
        LinkSettings settings;
        try {
            String dir = config.stateDir().isBlank()
                    ? Paths.get(System.getProperty("karaf.data", "data"), "secondsite", "link").toString()
                    : config.stateDir();
            settings = LinkSettings.of(config.configServer(), config.componentId(), config.role(), config.site(),
                    config.address(), config.passphrase(), config.trustedCertificate(), config.heartbeatSeconds(), dir);
        } catch (IllegalArgumentException e) {
            LOG.error("Link to a configuration server: configuration {} refused: {}", Link.PID, e.getMessage());
            link = null;
            LinkStatus refused = LinkStatus.notConfigured(e.getMessage());
            status = () -> refused;
            board.publish(status);
            return;
        }
        link = new Link(settings, new CmConfigStore(configurationAdmin), () -> monitors, () -> catalogues, () -> spools,
                Clock.systemUTC(),
                Link.Timing.DEFAULT);
        status = link::status;
        board.publish(status);
        link.start();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addMonitor(ReplicationMonitor monitor) {
        monitors.add(monitor);
    }

    void removeMonitor(ReplicationMonitor monitor) {
        monitors.remove(monitor);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addCatalogue(RecoveryPointCatalogue catalogue) {
        catalogues.add(catalogue);
    }

    void removeCatalogue(RecoveryPointCatalogue catalogue) {
        catalogues.remove(catalogue);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addSpool(SpoolMonitor spool) {
        spools.add(spool);
    }

    void removeSpool(SpoolMonitor spool) {
        spools.remove(spool);
    }

    @Deactivate
    void deactivate() {
        board.withdraw(status);
        if (link != null) {
            link.close();
        }
    }
}
