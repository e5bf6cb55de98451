package org.secondsite.appliance.internal;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.stream.Collectors;

import org.secondsite.api.appliance.Role;

/**
 * Brings the installed role features in line with one wanted role (and any roles played beside
 * it): installs their features first (so bundles shared with the old role stay up), then removes
 * every other role's feature. Idempotent: a second run with the same role changes nothing.
 */
final class RoleReconciler {
    private static final Set<String> ALL_ROLE_FEATURES =
            Arrays.stream(Role.values()).map(Role::feature).collect(Collectors.toUnmodifiableSet());

    private final FeatureOps ops;

    RoleReconciler(FeatureOps ops) {
        this.ops = ops;
    }

    /** @return a short description of what changed, e.g. "installed secondsite-agent; removed secondsite-all-in-one" */
    String reconcile(Role wanted) throws Exception {
        return reconcile(wanted, Set.of());
    }

    /** The same with roles played beside {@code wanted} on this appliance. */
    String reconcile(Role wanted, Set<Role> additional) throws Exception {
        Set<String> required = ops.required(ALL_ROLE_FEATURES);
        StringBuilder done = new StringBuilder();
        Set<String> features = new LinkedHashSet<>();
        features.add(wanted.feature());
        additional.forEach(r -> features.add(r.feature()));
        for (String feature : features) {
            if (!required.contains(feature)) {
                ops.install(feature);
                done.append(done.length() > 0 ? ", " : "installed ").append(feature);
            }
        }
        Set<String> others = new LinkedHashSet<>(required);
        others.removeAll(features);
        if (!others.isEmpty()) {
            ops.uninstall(others);
            done.append(done.length() > 0 ? "; " : "").append("removed ").append(String.join(", ", others));
        }
        return done.length() == 0 ? "nothing to change" : done.toString();
    }
}
