package org.secondsite.link.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

/**
 * HTTP calls to the configuration server: registration (contract §1) and signed heartbeats
 * (§2, §3). Answers are read up to a bound; problem+json details are kept for the log.
 */
public final class ConfigServerClient {
    static final String REGISTRATION = "/api/v1/registration";
    static final String HEARTBEATS = "/api/v1/heartbeats";
    /** Longest error or registration answer read. */
    static final int MAX_SMALL_ANSWER = 64 * 1024;
    /** Longest heartbeat answer read: a desired-state document plus the envelope. */
    static final int MAX_HEARTBEAT_ANSWER = DesiredStateDecoder.MAX_DOCUMENT_BYTES + 64 * 1024;
    /** Largest Retry-After honoured; a larger one is cut to this. */
    static final Duration MAX_RETRY_AFTER = Duration.ofHours(1);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private final LinkSettings settings;
    private final HttpClient http;
    private final Clock clock;

    public ConfigServerClient(LinkSettings settings, Clock clock) throws IOException, GeneralSecurityException {
        this.settings = settings;
        this.clock = clock;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER);
        if (settings.trustedCertificate() != null) {
            b.sslContext(trusting(settings.trustedCertificate()));
        }
        this.http = b.build();
    }

    /** An SSL context trusting exactly the certificates of a PEM file. */
    static SSLContext trusting(Path pem) throws IOException, GeneralSecurityException {
        List<X509Certificate> certs = Credentials.certificates(Files.readString(pem, StandardCharsets.US_ASCII),
                "trustedCertificate " + pem);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        for (int i = 0; i < certs.size(); i++) {
            ks.setCertificateEntry("trusted-" + i, certs.get(i));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    /** The certificate the configuration server issued. */
    public record Issued(String certificate, String authority, String serial, Instant expires) {
    }

    /**
     * Registers with a CSR.
     *
     * @throws CallFailed with the status (400, 403, 409, 429 with its Retry-After, 5xx) or 0 when unreachable
     */
    public Issued register(String csrPem) throws CallFailed {
        byte[] body = json(g -> {
            g.writeStringField("passphrase", settings.passphrase() == null ? "" : settings.passphrase());
            g.writeStringField("componentId", settings.componentId());
            g.writeStringField("role", settings.role());
            if (settings.site() != null) {
                g.writeStringField("site", settings.site());
            }
            if (settings.address() != null) {
                g.writeStringField("address", settings.address());
            }
            g.writeStringField("csr", csrPem);
        });
        URI uri = settings.endpoint(REGISTRATION);
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        byte[] answer = send(request, MAX_SMALL_ANSWER, "registration");
        try (JsonParser p = Json.FACTORY.createParser(answer)) {
            String certificate = null;
            String authority = null;
            String serial = null;
            String expires = null;
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CallFailed(0, null, "registration answer is not a JSON object", null);
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                switch (name) {
                    case "certificate" -> certificate = v == JsonToken.VALUE_STRING ? p.getText() : null;
                    case "authority" -> authority = v == JsonToken.VALUE_STRING ? p.getText() : null;
                    case "serial" -> serial = v == JsonToken.VALUE_STRING ? p.getText() : null;
                    case "expires" -> expires = v == JsonToken.VALUE_STRING ? p.getText() : null;
                    default -> p.skipChildren();
                }
            }
            if (certificate == null || authority == null) {
                throw new CallFailed(0, null, "registration answer lacks the certificate or the authority", null);
            }
            Instant exp = null;
            if (expires != null) {
                try {
                    exp = Instant.parse(expires);
                } catch (java.time.format.DateTimeParseException e) {
                    exp = null; // the certificate itself says when it expires
                }
            }
            return new Issued(certificate, authority, serial, exp);
        } catch (IOException e) {
            throw new CallFailed(0, null, "registration answer is not readable JSON: " + e.getMessage(), e);
        }
    }

    /** What a heartbeat answer said. */
    public record Reply(long desiredRevision, DesiredState desired, String desiredError) {
        /** Whether the answer carried a desired-state document (decoded or refused). */
        public boolean hasDocument() {
            return desired != null || desiredError != null;
        }
    }

    /**
     * Posts a signed heartbeat.
     *
     * @param body the heartbeat JSON (see {@link HeartbeatBody})
     * @throws CallFailed with the status (401, 403, 400...) or 0 when unreachable or the answer is unreadable
     */
    public Reply heartbeat(byte[] body, Signer signer) throws CallFailed {
        URI uri = settings.endpoint(HEARTBEATS);
        String date = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
        String path = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        String authorization;
        try {
            authorization = signer.authorization("POST", path, date, body);
        } catch (GeneralSecurityException e) {
            throw new CallFailed(0, null, "cannot sign the heartbeat: " + e.getMessage(), e);
        }
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .header(Signer.DATE_HEADER, date).header("Authorization", authorization)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        byte[] answer = send(request, MAX_HEARTBEAT_ANSWER, "heartbeat");
        return reply(answer);
    }

    /**
     * Reads a heartbeat answer. The desired document is decoded from its own text, so a refused
     * document still leaves the rest of the answer readable.
     */
    static Reply reply(byte[] answer) throws CallFailed {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(answer)).toString();
        } catch (CharacterCodingException e) {
            throw new CallFailed(0, null, "heartbeat answer is not UTF-8 text", e);
        }
        try (JsonParser p = Json.FACTORY.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CallFailed(0, null, "heartbeat answer is not a JSON object", null);
            }
            long desiredRevision = 0;
            String desired = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if ("desiredRevision".equals(name) && v == JsonToken.VALUE_NUMBER_INT && p.getTextLength() <= 19
                        && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                    desiredRevision = Math.max(0, p.getLongValue());
                } else if ("desired".equals(name) && v == JsonToken.START_OBJECT) {
                    long start = p.getTokenLocation().getCharOffset();
                    p.skipChildren();
                    long end = p.getCurrentLocation().getCharOffset();
                    if (start < 0 || end > text.length() || end <= start || text.charAt((int) start) != '{'
                            || text.charAt((int) end - 1) != '}') {
                        throw new CallFailed(0, null, "heartbeat answer: cannot locate the desired document", null);
                    }
                    desired = text.substring((int) start, (int) end);
                } else if ("desired".equals(name) && v != JsonToken.VALUE_NULL) {
                    return new Reply(desiredRevision, null, "desired must be an object, was " + v);
                } else {
                    p.skipChildren();
                }
            }
            if (desired == null) {
                return new Reply(desiredRevision, null, null);
            }
            try {
                return new Reply(desiredRevision, DesiredStateDecoder.decode(desired), null);
            } catch (DesiredStateException e) {
                return new Reply(desiredRevision, null, e.getMessage());
            }
        } catch (IOException e) {
            throw new CallFailed(0, null, "heartbeat answer is not readable JSON: "
                    + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), e);
        }
    }

    private byte[] send(HttpRequest request, int maxAnswer, String what) throws CallFailed {
        HttpResponse<InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpTimeoutException e) {
            throw new CallFailed(0, null, what + " to " + request.uri() + " timed out", e);
        } catch (ConnectException e) {
            throw new CallFailed(0, null, what + ": cannot connect to " + request.uri() + " ("
                    + (e.getMessage() == null ? "connection refused" : e.getMessage()) + ")", e);
        } catch (IOException e) {
            throw new CallFailed(0, null, what + " to " + request.uri() + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CallFailed(0, null, what + " interrupted", e);
        }
        int status = response.statusCode();
        byte[] body;
        try (InputStream in = response.body()) {
            body = readLimited(in, status == 200 ? maxAnswer : MAX_SMALL_ANSWER);
        } catch (IOException e) {
            throw new CallFailed(status == 200 ? 0 : status, null, what + " answer " + status + " could not be read: "
                    + e.getMessage(), e);
        }
        if (status == 200) {
            return body;
        }
        Duration retryAfter = status == 429 ? retryAfter(response.headers().firstValue("Retry-After")) : null;
        throw new CallFailed(status, retryAfter, what + " refused by " + request.uri() + ": HTTP " + status
                + problem(body), null);
    }

    /** Reads at most {@code max} bytes; more is an error (nothing beyond is allocated). */
    static byte[] readLimited(InputStream in, int max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(max, 8192));
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            if (out.size() + n > max) {
                throw new IOException("answer longer than " + max + " bytes");
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /** Seconds of a Retry-After header (at least 1 s, at most {@link #MAX_RETRY_AFTER}); null when absent or a date. */
    static Duration retryAfter(Optional<String> header) {
        if (header.isEmpty()) {
            return null;
        }
        String v = header.get().trim();
        if (v.isEmpty() || v.length() > 10 || !v.chars().allMatch(Character::isDigit)) {
            return null;
        }
        long s = Long.parseLong(v);
        return Duration.ofSeconds(Math.max(1, Math.min(s, MAX_RETRY_AFTER.toSeconds())));
    }

    /** ": title: detail (field x)" of a problem+json body, or its first characters, or "" when empty. */
    static String problem(byte[] body) {
        if (body.length == 0) {
            return "";
        }
        try (JsonParser p = Json.FACTORY.createParser(body)) {
            if (p.nextToken() == JsonToken.START_OBJECT) {
                String title = null;
                String detail = null;
                String field = null;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    JsonToken v = p.nextToken();
                    String text = v == JsonToken.VALUE_STRING ? p.getText() : null;
                    switch (name) {
                        case "title" -> title = text;
                        case "detail" -> detail = text;
                        case "field" -> field = text;
                        default -> p.skipChildren();
                    }
                }
                StringBuilder b = new StringBuilder();
                if (title != null) {
                    b.append(": ").append(abbreviate(title, 200));
                }
                if (detail != null) {
                    b.append(b.length() == 0 ? ": " : " - ").append(abbreviate(detail, 1000));
                }
                if (field != null) {
                    b.append(" (field ").append(abbreviate(field, 100)).append(')');
                }
                if (b.length() > 0) {
                    return b.toString();
                }
            }
        } catch (IOException e) {
            // not JSON: show the text
        }
        return ": " + abbreviate(new String(body, 0, Math.min(body.length, 1000), StandardCharsets.UTF_8)
                .replaceAll("\\s+", " ").strip(), 300);
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }

    /** Writes one JSON object. */
    interface ObjectWriter {
        void write(JsonGenerator g) throws IOException;
    }

    static byte[] json(ObjectWriter writer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (JsonGenerator g = Json.FACTORY.createGenerator(out)) {
            g.writeStartObject();
            writer.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("cannot write JSON to memory", e);
        }
        return out.toByteArray();
    }
}
