package org.secondsite.appliance.internal;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.stream.Collectors;

import org.secondsite.api.appliance.Role;

/**
 * Brings the installed role features in line with one wanted role: installs the role's
 * feature first (so bundles shared with the old role stay up), then removes every other
 * role's feature. Idempotent: a second run with the same role changes nothing.
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
        Set<String> required = ops.required(ALL_ROLE_FEATURES);
        StringBuilder done = new StringBuilder();
        if (!required.contains(wanted.feature())) {
            ops.install(wanted.feature());
            done.append("installed ").append(wanted.feature());
        }
        Set<String> others = new LinkedHashSet<>(required);
        others.remove(wanted.feature());
        if (!others.isEmpty()) {
            ops.uninstall(others);
            done.append(done.length() > 0 ? "; " : "").append("removed ").append(String.join(", ", others));
        }
        return done.length() == 0 ? "nothing to change" : done.toString();
    }
}
