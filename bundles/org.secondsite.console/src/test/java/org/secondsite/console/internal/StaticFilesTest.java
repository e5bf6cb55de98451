package org.secondsite.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class StaticFilesTest {
    private final List<String> asked = new ArrayList<>();
    private final StaticFiles files = new StaticFiles(r -> {
        asked.add(r);
        return StaticFilesTest.class.getClassLoader().getResource(r);
    });

    @Test
    void theIndexTheScriptsAndTheEmbeddedChartLibraryAreServed() {
        StaticFiles.File index = files.find("/").orElseThrow();
        assertEquals("text/html; charset=utf-8", index.contentType());
        String html = new String(index.content(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(html.contains("webjars/uplot/1.6.30/dist/uPlot.iife.min.js"), "filtered uPlot version");
        assertFalse(html.contains("${"), "unfiltered placeholder left");
        assertEquals(index, files.find(null).orElseThrow());
        assertTrue(files.find("/app.js").orElseThrow().contentType().startsWith("text/javascript"));
        assertTrue(files.find("/console.css").isPresent());
        StaticFiles.File uplot = files.find("/webjars/uplot/1.6.30/dist/uPlot.iife.min.js").orElseThrow();
        assertTrue(uplot.content().length > 10_000);
        assertTrue(files.find("/webjars/uplot/1.6.30/dist/uPlot.min.css").isPresent());
        assertTrue(index.etag().startsWith("\"") && index.etag().length() == 24, index.etag());
        // Read once, then kept.
        int before = asked.size();
        files.find("/index.html");
        assertEquals(before, asked.size());
    }

    @Test
    void pathsOutsideTheConsoleOrOfUnknownTypesAreNotFound() {
        for (String p : new String[] {"/../org/secondsite/console/internal/ConsoleServlet.class",
            "/webjars/../../../META-INF/MANIFEST.MF", "/%2e%2e/x.js", "//etc/passwd", "/a\\b.js", "/nothing.js",
            "/index", "/.hidden.js", "/" + "a".repeat(300) + ".js", "/webjars/none/1.0/none.js"}) {
            assertTrue(files.find(p).isEmpty(), p);
        }
        assertFalse(asked.stream().anyMatch(r -> r.contains("..")), asked.toString());
    }

    @Test
    void ifNoneMatchRecognisesTheEtag() {
        assertTrue(StaticFiles.matches("\"abc\"", "\"abc\""));
        assertTrue(StaticFiles.matches("\"x\", W/\"abc\"", "\"abc\""));
        assertTrue(StaticFiles.matches("*", "\"abc\""));
        assertFalse(StaticFiles.matches("\"abd\"", "\"abc\""));
        assertFalse(StaticFiles.matches(null, "\"abc\""));
    }
}
