package org.secondsite.console.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The console's files, read from the bundle once and kept: a request path below {@code /console}
 * maps to {@code console/<path>} ({@code /} is {@code index.html}), and {@code /webjars/<path>}
 * to the embedded WebJar under {@code META-INF/resources/webjars/}. Paths outside those folders,
 * with {@code ..}, or with a type not in {@link #TYPES} are not found. Each file has an ETag (its
 * content's hash) so that browsers revalidate cheaply.
 */
final class StaticFiles {
    /** A file ready to send. */
    record File(byte[] content, String contentType, String etag) {
    }

    static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml",
            "png", "image/png",
            "ico", "image/x-icon",
            "json", "application/json",
            "txt", "text/plain; charset=utf-8");
    private static final Pattern SAFE = Pattern.compile("(/[A-Za-z0-9_][A-Za-z0-9._-]*)+");
    private static final int MAX_PATH = 200;

    private final Function<String, URL> loader;
    private final Map<String, Optional<File>> cache = new ConcurrentHashMap<>();

    /** @param loader finds a resource of the bundle by its path, or null */
    StaticFiles(Function<String, URL> loader) {
        this.loader = loader;
    }

    /** The file for a request path below {@code /console} ({@code null} or empty: the index). */
    Optional<File> find(String pathInfo) {
        String p = pathInfo == null || pathInfo.isEmpty() || pathInfo.equals("/") ? "/index.html" : pathInfo;
        if (p.length() > MAX_PATH || !SAFE.matcher(p).matches() || p.contains("..")) {
            return Optional.empty();
        }
        String ext = p.substring(p.lastIndexOf('.') + 1);
        String type = p.lastIndexOf('.') > p.lastIndexOf('/') ? TYPES.get(ext) : null;
        if (type == null) {
            return Optional.empty();
        }
        String resource = p.startsWith("/webjars/") ? "META-INF/resources" + p : "console" + p;
        return cache.computeIfAbsent(resource, r -> load(r, type));
    }

    private Optional<File> load(String resource, String type) {
        URL url = loader.apply(resource);
        if (url == null) {
            return Optional.empty();
        }
        try (InputStream in = url.openStream()) {
            byte[] content = in.readAllBytes();
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(content);
            String etag = "\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest).substring(0, 22) + "\"";
            return Optional.of(new File(content, type, etag));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource + " from the console bundle", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether an {@code If-None-Match} header names this ETag (or is {@code *}). */
    static boolean matches(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null) {
            return false;
        }
        for (String t : ifNoneMatch.split(",")) {
            String v = t.trim();
            if (v.startsWith("W/")) {
                v = v.substring(2);
            }
            if (v.equals("*") || v.equals(etag)) {
                return true;
            }
        }
        return false;
    }
}
