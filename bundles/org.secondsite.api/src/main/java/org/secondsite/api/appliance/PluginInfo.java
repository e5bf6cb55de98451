package org.secondsite.api.appliance;

import java.util.Objects;

/**
 * One plugin service found in the OSGi service registry.
 *
 * @param point its extension point
 * @param name its identity property's value
 * @param bundle symbolic name of the bundle that registered it
 * @param version that bundle's version
 * @param state that bundle's state (e.g. {@code ACTIVE})
 */
public record PluginInfo(ExtensionPoint point, String name, String bundle, String version, String state) {
    public PluginInfo {
        Objects.requireNonNull(point, "point");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(state, "state");
    }
}
