package org.secondsite.processserver.internal.throttle;

import java.time.DayOfWeek;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A bandwidth limit that depends on the day and time, e.g.
 * {@code Mon-Fri 08:00-18:00=20MB/s, Sat=50MB/s, *=0}.
 *
 * <p>Rules are separated by commas and tried in order; the first that matches the local time
 * gives the rate. A rule is {@code [days] [HH:mm-HH:mm]=rate} or {@code *=rate}: days are
 * one day or a range ({@code Mon}, {@code Mon-Fri}, {@code Fri-Mon} wraps), a time range is
 * start inclusive, end exclusive ({@code 22:00-06:00} wraps past midnight and then belongs
 * to the day it starts on). A rate is a number with a unit {@code B/s}, {@code KB/s},
 * {@code MB/s}, {@code GB/s} (powers of 1000), {@code KiB/s}, {@code MiB/s}, {@code GiB/s}
 * (powers of 1024) or {@code Mbit/s}, {@code Gbit/s}; {@code 0} means unlimited. When no rule
 * matches, the rate is unlimited. The empty string is "always unlimited".
 */
public final class BandwidthSchedule {
    private static final Pattern RULE = Pattern.compile(
            "(?:(\\*)|(?:([A-Za-z]{3})(?:-([A-Za-z]{3}))?)?\\s*(?:(\\d{1,2}):(\\d{2})-(\\d{1,2}):(\\d{2}))?)\\s*=\\s*(\\S+)");
    private static final Pattern RATE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([A-Za-z]*)(?:/s)?");
    private static final List<String> DAYS = List.of("mon", "tue", "wed", "thu", "fri", "sat", "sun");

    private final String text;
    private final List<Rule> rules;

    private BandwidthSchedule(String text, List<Rule> rules) {
        this.text = text;
        this.rules = rules;
    }

    /** No limit at any time. */
    public static BandwidthSchedule unlimited() {
        return new BandwidthSchedule("", List.of());
    }

    /**
     * Parses a schedule.
     *
     * @throws IllegalArgumentException naming the rule, what is wrong in it and what is expected
     */
    public static BandwidthSchedule parse(String text) {
        String t = text == null ? "" : text.trim();
        List<Rule> rules = new ArrayList<>();
        if (t.isEmpty()) {
            return new BandwidthSchedule("", rules);
        }
        String[] parts = t.split(",");
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i].trim();
            Matcher m = RULE.matcher(part);
            if (!m.matches()) {
                throw new IllegalArgumentException("bandwidth schedule rule " + (i + 1) + " '" + part
                        + "' is not '[Day[-Day]] [HH:mm-HH:mm]=rate' or '*=rate' (e.g. 'Mon-Fri 08:00-18:00=20MB/s')");
            }
            Set<DayOfWeek> days = EnumSet.allOf(DayOfWeek.class);
            LocalTime from = null;
            LocalTime to = null;
            if (m.group(1) == null) {
                if (m.group(2) == null && m.group(4) == null) {
                    throw new IllegalArgumentException("bandwidth schedule rule " + (i + 1) + " '" + part
                            + "' names neither days nor a time range; use '*=rate' for 'always'");
                }
                if (m.group(2) != null) {
                    DayOfWeek a = day(m.group(2), i, part);
                    DayOfWeek b = m.group(3) == null ? a : day(m.group(3), i, part);
                    days = EnumSet.noneOf(DayOfWeek.class);
                    for (DayOfWeek d = a;; d = d.plus(1)) {
                        days.add(d);
                        if (d == b) {
                            break;
                        }
                    }
                }
                if (m.group(4) != null) {
                    from = time(m.group(4), m.group(5), i, part);
                    to = time(m.group(6), m.group(7), i, part);
                    if (from.equals(to)) {
                        throw new IllegalArgumentException("bandwidth schedule rule " + (i + 1) + " '" + part
                                + "' has an empty time range " + from + "-" + to);
                    }
                }
            }
            rules.add(new Rule(days, from, to, rate(m.group(8), i, part)));
        }
        return new BandwidthSchedule(t, List.copyOf(rules));
    }

    private static DayOfWeek day(String s, int i, String part) {
        int idx = DAYS.indexOf(s.toLowerCase(Locale.ROOT));
        if (idx < 0) {
            throw new IllegalArgumentException("bandwidth schedule rule " + (i + 1) + " '" + part + "': '" + s
                    + "' is not a day; use Mon, Tue, Wed, Thu, Fri, Sat or Sun");
        }
        return DayOfWeek.of(idx + 1);
    }

    private static LocalTime time(String h, String m, int i, String part) {
        int hh = Integer.parseInt(h);
        int mm = Integer.parseInt(m);
        if (hh == 24 && mm == 0) {
            return LocalTime.MAX;
        }
        if (hh > 23 || mm > 59) {
            throw new IllegalArgumentException("bandwidth schedule rule " + (i + 1) + " '" + part + "': " + h + ":" + m
                    + " is not a time of day (00:00..24:00)");
        }
        return LocalTime.of(hh, mm);
    }

    private static long rate(String s, int i, String part) {
        Matcher m = RATE.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("bandwidth schedule rule " + (i + 1) + " '" + part + "': rate '" + s
                    + "' is not a number with a unit such as 20MB/s, 512KiB/s, 100Mbit/s, or 0 for unlimited");
        }
        double value = Double.parseDouble(m.group(1));
        String unit = m.group(2).toLowerCase(Locale.ROOT);
        double factor = switch (unit) {
            case "", "b" -> {
                if (unit.isEmpty() && value != 0) {
                    throw new IllegalArgumentException("bandwidth schedule rule " + (i + 1) + " '" + part + "': rate '"
                            + s + "' needs a unit (B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s, Mbit/s, Gbit/s)");
                }
                yield 1;
            }
            case "kb" -> 1e3;
            case "mb" -> 1e6;
            case "gb" -> 1e9;
            case "kib" -> 1024;
            case "mib" -> 1024 * 1024;
            case "gib" -> 1024 * 1024 * 1024;
            case "kbit" -> 1e3 / 8;
            case "mbit" -> 1e6 / 8;
            case "gbit" -> 1e9 / 8;
            default -> throw new IllegalArgumentException("bandwidth schedule rule " + (i + 1) + " '" + part
                    + "': unknown unit '" + m.group(2) + "'; use B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s, Mbit/s or Gbit/s");
        };
        double bytes = value * factor;
        if (bytes != 0 && bytes < 1024) {
            throw new IllegalArgumentException("bandwidth schedule rule " + (i + 1) + " '" + part + "': rate '" + s
                    + "' is below 1 KiB/s; use 0 for unlimited");
        }
        return (long) Math.min(bytes, Long.MAX_VALUE);
    }

    /** Bytes per second allowed at {@code time}; 0 means unlimited. */
    public long rateAt(LocalDateTime time) {
        for (Rule r : rules) {
            if (r.matches(time)) {
                return r.rate;
            }
        }
        return 0;
    }

    @Override
    public String toString() {
        return text.isEmpty() ? "unlimited" : text;
    }

    private record Rule(Set<DayOfWeek> days, LocalTime from, LocalTime to, long rate) {
        boolean matches(LocalDateTime t) {
            LocalTime time = t.toLocalTime();
            if (from == null) {
                return days.contains(t.getDayOfWeek());
            }
            if (from.isBefore(to)) {
                return days.contains(t.getDayOfWeek()) && !time.isBefore(from) && time.isBefore(to);
            }
            // wraps past midnight: the evening part belongs to the listed day, the morning part to the day after
            return (days.contains(t.getDayOfWeek()) && !time.isBefore(from))
                    || (days.contains(t.getDayOfWeek().minus(1)) && time.isBefore(to));
        }
    }
}
