package org.secondsite.appliance.internal.rest;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.apache.karaf.features.Dependency;
import org.apache.karaf.features.Feature;
import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.features.Repository;

/** {@link FeatureCatalog} on Karaf's {@link FeaturesService}. */
final class KarafFeatureCatalog implements FeatureCatalog {
    /** The SecondSite features repository is named {@code secondsite-<project version>} (features/feature.xml). */
    static final String REPOSITORY_PREFIX = "secondsite-";

    private final FeaturesService features;

    KarafFeatureCatalog(FeaturesService features) {
        this.features = features;
    }

    @Override
    public List<Info> repositoryFeatures() throws Exception {
        List<Info> out = new ArrayList<>();
        for (Repository r : features.listRepositories()) {
            if (r.getName() != null && r.getName().startsWith(REPOSITORY_PREFIX)) {
                for (Feature f : r.getFeatures()) {
                    out.add(new Info(f.getName(), f.getVersion(), f.getDescription()));
                }
            }
        }
        return out;
    }

    @Override
    public Set<String> installed() throws Exception {
        Set<String> out = new HashSet<>();
        for (Feature f : features.listInstalledFeatures()) {
            out.add(f.getName());
        }
        return out;
    }

    @Override
    public Set<String> required() throws Exception {
        Set<String> out = new HashSet<>();
        for (Feature f : features.listRequiredFeatures()) {
            out.add(f.getName());
        }
        return out;
    }

    @Override
    public List<String> dependencies(String feature) throws Exception {
        Feature f = features.getFeature(feature);
        if (f == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (Dependency d : f.getDependencies()) {
            out.add(d.getName());
        }
        return out;
    }

    @Override
    public void install(String feature) throws Exception {
        features.installFeature(feature, EnumSet.noneOf(FeaturesService.Option.class));
    }

    @Override
    public void uninstall(String feature) throws Exception {
        features.uninstallFeature(feature, EnumSet.noneOf(FeaturesService.Option.class));
    }
}
