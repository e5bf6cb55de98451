package org.secondsite.appliance.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.ws.rs.core.Response;

import org.junit.jupiter.api.Test;

/**
 * {@code /plugins/features} on a fake of Karaf's features (a slice of features.xml): only the
 * allow-listed plugin features are listed, installed or removed; what a role includes is refused
 * with the chain that includes it.
 */
class PluginFeaturesResourceTest {
    /** Features by name with what they include, the top-level requirements, and what was done. */
    static final class FakeCatalog implements FeatureCatalog {
        final Map<String, List<String>> repository = new LinkedHashMap<>();
        final Map<String, List<String>> others = new LinkedHashMap<>();
        final Set<String> required = new HashSet<>();
        final List<String> calls = new ArrayList<>();

        FakeCatalog() {
            repository.put("secondsite-api", List.of());
            repository.put("secondsite-tp-lz4", List.of());
            repository.put("secondsite-tp-zstd", List.of());
            repository.put("secondsite-compressor-none-core", List.of("scr", "secondsite-api"));
            repository.put("secondsite-compressor-lz4-core", List.of("scr", "secondsite-api", "secondsite-tp-lz4"));
            repository.put("secondsite-compressor-zstd-core", List.of("scr", "secondsite-api", "secondsite-tp-zstd"));
            repository.put("secondsite-compressor-zstd", List.of("secondsite-compressor-zstd-core"));
            repository.put("secondsite-compressors", List.of("secondsite-compressor-none-core",
                    "secondsite-compressor-lz4-core", "secondsite-compressor-zstd"));
            repository.put("secondsite-capture-nbd-core", List.of("scr", "secondsite-api"));
            repository.put("secondsite-capture-scan-core", List.of("scr", "secondsite-api"));
            repository.put("secondsite-storage-file-core", List.of("scr"));
            repository.put("secondsite-storage-file", List.of("secondsite-storage-file-core"));
            repository.put("secondsite-agent", List.of("secondsite-compressors", "secondsite-capture-nbd-core"));
            repository.put("secondsite-master-target", List.of("secondsite-compressors", "secondsite-storage-file"));
            repository.put("secondsite-all-in-one", List.of("secondsite-agent", "secondsite-master-target"));
            // A feature of another repository that only looks like a plugin feature.
            others.put("secondsite-capture-evil", List.of());
            others.put("scr", List.of());
            required.add("secondsite-all-in-one");
        }

        @Override
        public List<Info> repositoryFeatures() {
            return repository.keySet().stream().map(n -> new Info(n, "0.1.0.SNAPSHOT", "about " + n)).toList();
        }

        @Override
        public Set<String> installed() {
            Set<String> out = new HashSet<>();
            for (String r : required) {
                collect(r, out);
            }
            return out;
        }

        private void collect(String name, Set<String> out) {
            if (out.add(name)) {
                dependencies(name).forEach(d -> collect(d, out));
            }
        }

        @Override
        public Set<String> required() {
            return Set.copyOf(required);
        }

        @Override
        public List<String> dependencies(String feature) {
            List<String> d = repository.get(feature);
            return d != null ? d : others.getOrDefault(feature, List.of());
        }

        @Override
        public void install(String feature) {
            calls.add("install " + feature);
            required.add(feature);
        }

        @Override
        public void uninstall(String feature) {
            calls.add("uninstall " + feature);
            required.remove(feature);
        }
    }

    private final FakeCatalog catalog = new FakeCatalog();
    private final PluginsResource resource = new PluginsResource(null, catalog);

    private static PluginFeatures.View view(Response r) {
        assertEquals(200, r.getStatus(), () -> String.valueOf(r.getEntity()));
        return (PluginFeatures.View) r.getEntity();
    }

    @Test
    void onlyPluginFeaturesOfTheSecondSiteRepositoryAreListedWithWhatIncludesThem() {
        Response r = resource.features();
        assertEquals(200, r.getStatus());
        PluginFeatures.Listing l = (PluginFeatures.Listing) r.getEntity();
        assertEquals(List.of("secondsite-capture-nbd-core", "secondsite-capture-scan-core",
                "secondsite-compressor-lz4-core", "secondsite-compressor-none-core", "secondsite-compressor-zstd",
                "secondsite-compressor-zstd-core", "secondsite-storage-file", "secondsite-storage-file-core"),
                l.items().stream().map(PluginFeatures.View::name).toList());
        assertEquals(8, l.total());
        PluginFeatures.View lz4 = l.items().get(2);
        assertEquals("compressor", lz4.extensionPoint());
        assertTrue(lz4.installed());
        assertFalse(lz4.installedByName());
        assertEquals(List.of("secondsite-all-in-one > secondsite-agent > secondsite-compressors"), lz4.requiredBy());
        PluginFeatures.View scan = l.items().get(1);
        assertEquals("capture", scan.extensionPoint());
        assertFalse(scan.installed());
        assertEquals(List.of(), scan.requiredBy());
    }

    @Test
    void namesOutsideTheAllowListAre404AndNothingIsTouched() {
        for (String name : new String[] {"secondsite-agent", "secondsite-compressors", "secondsite-tp-lz4", "scr",
                "secondsite-capture-evil", "secondsite-api", "../etc", ""}) {
            assertEquals(404, resource.install(name, null).getStatus(), name);
            assertEquals(404, resource.uninstall(name, null).getStatus(), name);
        }
        assertEquals(List.of(), catalog.calls);
        String detail = String.valueOf(resource.install("secondsite-agent", null).getEntity());
        assertTrue(detail.contains("no plugin feature 'secondsite-agent'"), detail);
    }

    @Test
    void aFeatureARoleIncludesCannotBeUninstalled() {
        Response r = resource.uninstall("secondsite-compressor-lz4-core", null);
        assertEquals(409, r.getStatus());
        String detail = String.valueOf(r.getEntity());
        assertTrue(detail.contains("required by secondsite-all-in-one > secondsite-agent > secondsite-compressors"),
                detail);
        assertEquals(List.of(), catalog.calls);
    }

    @Test
    void anAdminInstallsAPluginFeatureAndUninstallsItAgain() {
        PluginFeatures.View installed = view(resource.install("secondsite-capture-scan-core", null));
        assertTrue(installed.installed());
        assertTrue(installed.installedByName());
        // Installing again changes nothing.
        view(resource.install("secondsite-capture-scan-core", null));
        assertEquals(List.of("install secondsite-capture-scan-core"), catalog.calls);
        PluginFeatures.View removed = view(resource.uninstall("secondsite-capture-scan-core", null));
        assertFalse(removed.installed());
        assertFalse(removed.installedByName());
        assertEquals(List.of("install secondsite-capture-scan-core", "uninstall secondsite-capture-scan-core"),
                catalog.calls);
    }

    @Test
    void theCoreOfAnInstalledConfiguredPluginIsRequiredByIt() {
        catalog.required.remove("secondsite-all-in-one");
        view(resource.install("secondsite-compressor-zstd", null));
        Response r = resource.uninstall("secondsite-compressor-zstd-core", null);
        assertEquals(409, r.getStatus());
        assertTrue(String.valueOf(r.getEntity()).contains("required by secondsite-compressor-zstd"),
                String.valueOf(r.getEntity()));
        view(resource.uninstall("secondsite-compressor-zstd", null));
    }

    @Test
    void uninstallingAFeatureThatIsNotInstalledIs409() {
        Response r = resource.uninstall("secondsite-capture-scan-core", null);
        assertEquals(409, r.getStatus());
        assertTrue(String.valueOf(r.getEntity()).contains("'secondsite-capture-scan-core' is not installed"),
                String.valueOf(r.getEntity()));
        assertEquals(List.of(), catalog.calls);
    }

    @Test
    void withoutKarafsFeaturesServiceTheAnswerIs503() {
        PluginsResource unbound = new PluginsResource(null);
        assertEquals(503, unbound.features().getStatus());
        assertEquals(503, unbound.install("secondsite-capture-scan-core", null).getStatus());
    }
}
