package org.secondsite.console.internal;

import java.io.IOException;
import java.util.Optional;

import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Component;

/**
 * Serves the web console at {@code /console} through the OSGi HTTP Whiteboard (Pax Web): the
 * single page and its scripts from this bundle. It holds no data and no credentials: the page
 * calls the REST API at {@code /api/v1} with a session token it gets from {@code POST /api/v1/sessions}.
 */
@Component(service = Servlet.class, property = {
    "osgi.http.whiteboard.servlet.pattern=/console/*",
    "osgi.http.whiteboard.servlet.name=secondsite-console"})
public class ConsoleServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    /** Scripts and styles only from this origin; the API on the same origin; no framing. */
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            + "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            + "form-action 'self'; frame-ancestors 'none'";

    private final transient StaticFiles files = new StaticFiles(r -> ConsoleServlet.class.getClassLoader()
            .getResource(r));

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        serve(req, resp, true);
    }

    @Override
    protected void doHead(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        serve(req, resp, false);
    }

    private void serve(HttpServletRequest req, HttpServletResponse resp, boolean body) throws IOException {
        String path = req.getPathInfo();
        if (path == null) { // "/console": relative links need the trailing slash
            resp.setStatus(HttpServletResponse.SC_MOVED_PERMANENTLY);
            resp.setHeader("Location", req.getContextPath() + req.getServletPath() + "/");
            return;
        }
        resp.setHeader("X-Content-Type-Options", "nosniff");
        resp.setHeader("Referrer-Policy", "no-referrer");
        Optional<StaticFiles.File> f = files.find(path);
        if (f.isEmpty()) {
            resp.setStatus(HttpServletResponse.SC_NOT_FOUND);
            resp.setContentType("text/plain; charset=utf-8");
            if (body) {
                resp.getWriter().print("Not found: the console has no file " + path.substring(0,
                        Math.min(path.length(), 100)) + "\n");
            }
            return;
        }
        StaticFiles.File file = f.get();
        resp.setHeader("ETag", file.etag());
        resp.setHeader("Cache-Control", "no-cache");
        if (file.contentType().startsWith("text/html")) {
            resp.setHeader("Content-Security-Policy", CSP);
            resp.setHeader("X-Frame-Options", "DENY");
        }
        if (StaticFiles.matches(req.getHeader("If-None-Match"), file.etag())) {
            resp.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            return;
        }
        resp.setContentType(file.contentType());
        resp.setContentLength(file.content().length);
        if (body) {
            resp.getOutputStream().write(file.content());
        }
    }
}
