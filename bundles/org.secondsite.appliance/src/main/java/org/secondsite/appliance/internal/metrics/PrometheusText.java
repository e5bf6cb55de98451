package org.secondsite.appliance.internal.metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Writes metrics in the Prometheus text exposition format 0.0.4: one {@code # HELP} and
 * {@code # TYPE} line per family, then its samples. Label values are escaped (backslash,
 * double quote, newline); names are checked, so a bad name is a programming error found by
 * the tests, never a malformed scrape.
 */
public final class PrometheusText {
    /** The content type scrapers expect. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    /** Metric types used here. */
    public enum Type {
        GAUGE, COUNTER;

        String text() {
            return name().toLowerCase();
        }
    }

    private final Map<String, Family> families = new LinkedHashMap<>();

    private static final class Family {
        final String help;
        final Type type;
        final StringBuilder samples = new StringBuilder();

        Family(String help, Type type) {
            this.help = help;
            this.type = type;
        }
    }

    /**
     * Adds one sample. The first sample of a family fixes its help and type; later ones must
     * agree on the type.
     *
     * @param labels label names and values, alternating: {@code "disk", "vm1:disk0", "stage", "agent"}
     */
    public PrometheusText sample(String name, Type type, String help, double value, String... labels) {
        if (!METRIC_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a Prometheus metric name: '" + name + "'");
        }
        if (labels.length % 2 != 0) {
            throw new IllegalArgumentException("labels must be name/value pairs: " + labels.length + " strings given");
        }
        Family f = families.computeIfAbsent(name, n -> new Family(Objects.requireNonNull(help, "help"), type));
        if (f.type != type) {
            throw new IllegalArgumentException("metric " + name + " is a " + f.type.text() + ", not a " + type.text());
        }
        f.samples.append(name);
        if (labels.length > 0) {
            f.samples.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                if (!LABEL_NAME.matcher(labels[i]).matches() || labels[i].startsWith("__")) {
                    throw new IllegalArgumentException("not a Prometheus label name: '" + labels[i] + "'");
                }
                if (i > 0) {
                    f.samples.append(',');
                }
                f.samples.append(labels[i]).append("=\"");
                escape(labels[i + 1] == null ? "" : labels[i + 1], f.samples, false);
                f.samples.append('"');
            }
            f.samples.append('}');
        }
        f.samples.append(' ').append(number(value)).append('\n');
        return this;
    }

    /** The whole exposition, families in the order of their first sample. */
    public String text() {
        StringBuilder out = new StringBuilder();
        families.forEach((name, f) -> {
            out.append("# HELP ").append(name).append(' ');
            escape(f.help, out, true);
            out.append('\n').append("# TYPE ").append(name).append(' ').append(f.type.text()).append('\n');
            out.append(f.samples);
        });
        return out.toString();
    }

    static String number(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    private static void escape(String s, StringBuilder out, boolean help) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '"' -> out.append(help ? "\"" : "\\\"");
                default -> out.append(c);
            }
        }
    }
}
