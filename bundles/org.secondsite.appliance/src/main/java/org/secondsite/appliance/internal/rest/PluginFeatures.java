package org.secondsite.appliance.internal.rest;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The plugin features an admin may install or uninstall at run time (hot swap), and those two
 * operations, on a {@link FeatureCatalog}.
 *
 * <p>The allow-list: a feature of the SecondSite repository whose name is
 * {@code secondsite-<extension point>-<plugin>} or {@code secondsite-<extension point>-<plugin>-core},
 * the extension point being one of capture, compressor, transport, storage or hypervisor (the
 * naming of features/src/main/feature/feature.xml: {@code -core} is the plugin's bundle, the plain
 * name adds its configuration file). Aggregates such as {@code secondsite-compressors}, roles,
 * libraries and core features never match: nothing else can be installed or removed here.
 *
 * <p>Uninstalling removes a feature the admin installed by name; a feature that a top-level
 * requirement (a role, or another installed feature) includes is refused with the chain that
 * requires it, as is one that is not installed by name.
 */
final class PluginFeatures {
    static final Pattern RULE = Pattern.compile(
            "secondsite-(capture|compressor|transport|storage|hypervisor)-[a-z0-9]+(?:-[a-z0-9]+)*");
    static final String RULE_TEXT = "features of the SecondSite repository named secondsite-<capture|compressor|"
            + "transport|storage|hypervisor>-<plugin>[-core]";

    /** One plugin feature: installed (by anything), installed by name, and which top-level requirements include it. */
    record View(String name, String extensionPoint, String version, String description, boolean installed,
                boolean installedByName, List<String> requiredBy) {
    }

    /** The answer of the listing. */
    record Listing(List<View> items, int total, String rule) {
    }

    /** A refused request: the HTTP status it maps to and a sentence for the caller. */
    static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        Refusal(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private final FeatureCatalog catalog;

    PluginFeatures(FeatureCatalog catalog) {
        this.catalog = catalog;
    }

    Listing list() throws Exception {
        Set<String> installed = catalog.installed();
        Set<String> required = catalog.required();
        Map<String, List<String>> deps = new HashMap<>();
        List<View> out = new ArrayList<>();
        for (FeatureCatalog.Info f : allowed()) {
            out.add(view(f, installed, required, deps));
        }
        return new Listing(out, out.size(), RULE_TEXT);
    }

    View install(String name) throws Exception {
        FeatureCatalog.Info f = find(name);
        if (!catalog.required().contains(name)) {
            catalog.install(name);
        }
        return view(f, catalog.installed(), catalog.required(), new HashMap<>());
    }

    View uninstall(String name) throws Exception {
        FeatureCatalog.Info f = find(name);
        Set<String> required = catalog.required();
        Map<String, List<String>> deps = new HashMap<>();
        List<String> chain = requiredBy(name, required, deps);
        if (!chain.isEmpty()) {
            throw new Refusal(409, "plugin feature '" + name + "' is required by " + String.join("; ", chain)
                    + ": uninstalling it would remove what that requires (change the role, or uninstall that first)");
        }
        if (!required.contains(name)) {
            throw new Refusal(409, "plugin feature '" + name + "' is not installed"
                    + (catalog.installed().contains(name) ? " by name" : ""));
        }
        catalog.uninstall(name);
        return view(f, catalog.installed(), catalog.required(), new HashMap<>());
    }

    private List<FeatureCatalog.Info> allowed() throws Exception {
        Map<String, FeatureCatalog.Info> byName = new HashMap<>();
        for (FeatureCatalog.Info f : catalog.repositoryFeatures()) {
            if (RULE.matcher(f.name()).matches()) {
                byName.putIfAbsent(f.name(), f);
            }
        }
        List<FeatureCatalog.Info> out = new ArrayList<>(byName.values());
        out.sort(Comparator.comparing(FeatureCatalog.Info::name));
        return out;
    }

    private FeatureCatalog.Info find(String name) throws Exception {
        Optional<FeatureCatalog.Info> f = name == null ? Optional.empty()
                : allowed().stream().filter(i -> i.name().equals(name)).findFirst();
        if (f.isEmpty()) {
            throw new Refusal(404, "no plugin feature '" + name + "': expected one of the " + RULE_TEXT
                    + " (GET /api/v1/plugins/features lists them)");
        }
        return f.get();
    }

    private View view(FeatureCatalog.Info f, Set<String> installed, Set<String> required,
                      Map<String, List<String>> deps) throws Exception {
        Matcher m = RULE.matcher(f.name());
        String point = m.matches() ? m.group(1) : "";
        return new View(f.name(), point, f.version(), f.description(), installed.contains(f.name()),
                required.contains(f.name()), requiredBy(f.name(), required, deps));
    }

    /**
     * The top-level requirements other than {@code name} that include it, each with the path, e.g.
     * {@code secondsite-all-in-one > secondsite-agent > secondsite-compressors}.
     */
    private List<String> requiredBy(String name, Set<String> required, Map<String, List<String>> deps)
            throws Exception {
        List<String> out = new ArrayList<>();
        for (String root : required.stream().sorted().toList()) {
            if (root.equals(name)) {
                continue;
            }
            List<String> path = path(root, name, deps);
            if (path != null) {
                out.add(String.join(" > ", path.subList(0, path.size() - 1)));
            }
        }
        return out;
    }

    /** A path of includes from {@code from} to {@code to} (both ends included), or null; breadth first. */
    private List<String> path(String from, String to, Map<String, List<String>> deps) throws Exception {
        Map<String, String> parent = new HashMap<>();
        Set<String> seen = new HashSet<>(Set.of(from));
        Deque<String> queue = new ArrayDeque<>(List.of(from));
        while (!queue.isEmpty()) {
            String at = queue.removeFirst();
            List<String> next = deps.get(at);
            if (next == null) {
                next = catalog.dependencies(at);
                deps.put(at, next);
            }
            for (String n : next) {
                if (!seen.add(n)) {
                    continue;
                }
                parent.put(n, at);
                if (n.equals(to)) {
                    List<String> path = new ArrayList<>();
                    for (String p = n; p != null; p = parent.get(p)) {
                        path.add(0, p);
                    }
                    return path;
                }
                queue.addLast(n);
            }
        }
        return null;
    }
}
