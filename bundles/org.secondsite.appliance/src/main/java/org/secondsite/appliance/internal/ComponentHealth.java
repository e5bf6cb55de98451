package org.secondsite.appliance.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

/**
 * Which SecondSite components are not running, and why: a component whose activation failed
 * (for example on a malformed configuration value) or that waits for a service. Components
 * waiting for a configuration nobody gave (such as a per-disk factory) are not problems.
 */
@Component(service = ComponentHealth.class)
public class ComponentHealth {

    /** One component that is not running. */
    public record Problem(String component, String bundle, String state, String detail) {
    }

    /** A disk state that is an alert: its source fails (the agent keeps tracking its changes). */
    static final String SOURCE_FAILED = "source-failed";

    private final BundleContext context;
    private final ServiceComponentRuntime scr;
    /** Every replication stage here; read only for the disks' states. */
    @org.osgi.service.component.annotations.Reference
    volatile ReplicationOverview overview;

    @Activate
    public ComponentHealth(BundleContext context, @Reference ServiceComponentRuntime scr) {
        this.context = context;
        this.scr = scr;
    }

    /** The problems now, by bundle then component; empty when everything runs. */
    public List<Problem> problems() {
        List<Problem> out = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            String bsn = b.getSymbolicName();
            if (bsn == null || !bsn.startsWith("org.secondsite.") || b.getState() != Bundle.ACTIVE) {
                continue;
            }
            for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(b)) {
                if (!scr.isComponentEnabled(d)) {
                    continue;
                }
                for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                    if (c.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                        out.add(new Problem(d.name, bsn, "failed", c.failure == null ? "activation failed" : rootCause(c.failure)));
                    } else if (c.state == ComponentConfigurationDTO.UNSATISFIED_REFERENCE) {
                        List<String> missing = new ArrayList<>();
                        for (UnsatisfiedReferenceDTO r : c.unsatisfiedReferences) {
                            missing.add(r.name + (r.target == null ? "" : " " + r.target));
                        }
                        out.add(new Problem(d.name, bsn, "waiting", "waits for " + String.join(", ", missing)));
                    }
                }
            }
        }
        out.sort(Comparator.comparing(Problem::bundle).thenComparing(Problem::component));
        ReplicationOverview o = overview;
        if (o != null) {
            out.addAll(diskProblems(o.disks()));
        }
        return out;
    }

    /** Disks whose source fails, as problems named after the disk and the stage reporting it. */
    static List<Problem> diskProblems(List<org.secondsite.api.replication.DiskReplicationStatus> disks) {
        List<Problem> out = new ArrayList<>();
        for (org.secondsite.api.replication.DiskReplicationStatus d : disks) {
            if (SOURCE_FAILED.equals(d.state())) {
                out.add(new Problem("disk " + d.disk().value(), d.stage().name().toLowerCase(java.util.Locale.ROOT)
                        .replace('_', '-'), d.state(), d.message()));
            }
        }
        return out;
    }

    /** The DTO holds a stack trace: its innermost "Caused by:" line names the real reason. */
    static String rootCause(String failure) {
        String reason = null;
        for (String line : failure.split("\n")) {
            String t = line.trim();
            if (reason == null) {
                reason = t;
            } else if (t.startsWith("Caused by: ")) {
                reason = t.substring("Caused by: ".length());
            }
        }
        return reason == null ? "activation failed" : reason;
    }
}
