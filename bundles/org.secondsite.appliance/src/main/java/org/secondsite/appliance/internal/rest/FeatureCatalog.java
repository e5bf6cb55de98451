package org.secondsite.appliance.internal.rest;

import java.util.List;
import java.util.Set;

/**
 * The few operations on Karaf's features that the plugin-feature endpoints need (Karaf's
 * {@code FeaturesService} in production, a fake in tests).
 */
interface FeatureCatalog {
    /** A feature of the SecondSite repository. */
    record Info(String name, String version, String description) {
    }

    /** The features of the SecondSite features repository (repository name {@code secondsite-<version>}). */
    List<Info> repositoryFeatures() throws Exception;

    /** Names of every installed feature (top-level requirements and what they pulled in). */
    Set<String> installed() throws Exception;

    /** Names of the top-level requirements (features installed by name: roles, admin installs). */
    Set<String> required() throws Exception;

    /** Names of the features {@code feature} includes; empty for an unknown feature. */
    List<String> dependencies(String feature) throws Exception;

    void install(String feature) throws Exception;

    void uninstall(String feature) throws Exception;
}
