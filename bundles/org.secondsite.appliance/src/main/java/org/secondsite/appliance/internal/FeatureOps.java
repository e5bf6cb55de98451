package org.secondsite.appliance.internal;

import java.util.Set;

/** The few feature operations role reconciliation needs; Karaf's FeaturesService in production. */
interface FeatureOps {
    /** Names of the given features that are installed as top-level requirements. */
    Set<String> required(Set<String> candidates) throws Exception;

    void install(String feature) throws Exception;

    void uninstall(Set<String> features) throws Exception;
}
