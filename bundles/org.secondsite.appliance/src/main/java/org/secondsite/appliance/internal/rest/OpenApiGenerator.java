package org.secondsite.appliance.internal.rest;

import java.lang.annotation.Annotation;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

import javax.ws.rs.BeanParam;
import javax.ws.rs.Consumes;
import javax.ws.rs.CookieParam;
import javax.ws.rs.DefaultValue;
import javax.ws.rs.FormParam;
import javax.ws.rs.HeaderParam;
import javax.ws.rs.HttpMethod;
import javax.ws.rs.MatrixParam;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.QueryParam;
import javax.ws.rs.container.Suspended;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.secondsite.appliance.rest.ApiDoc;
import org.secondsite.appliance.rest.ComponentAuthenticator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Builds the OpenAPI 3.0 document of a JAX-RS application from its root resource classes, by
 * reflection on what the runtime itself reads: {@code @Path} of class and method, the HTTP method
 * annotations, {@code @PathParam}/{@code @QueryParam}/{@code @HeaderParam}/{@code @CookieParam}
 * (with type and {@code @DefaultValue}), the entity parameter, {@code @Consumes}/{@code @Produces},
 * and the roles exactly as {@link AuthFilter} enforces them ({@code @PermitAll} on the method opens
 * it; else {@code @RolesAllowed} of the method, else of the class, else admin). {@link ApiDoc} adds
 * summaries, descriptions, the success status and body type of methods returning a
 * {@code Response}, and error statuses reflection cannot infer.
 *
 * <p>Records become schemas under {@code components/schemas} (simple name; qualified by the
 * enclosing class when two differ by package only). Errors share the {@code Problem} schema
 * ({@code application/problem+json}). Each operation carries {@code x-secondsite-roles}, the
 * roles of which a caller needs one, unless it is open to anyone ({@code security: []}).
 * A class whose annotations cannot be read (a type its bundle cannot load) is listed under
 * {@code x-secondsite-unreadable} with the reason rather than failing the whole document.
 */
public final class OpenApiGenerator {
    /** The name of the shared error schema. */
    public static final String PROBLEM = "Problem";
    /** The name of the HTTP Basic security scheme. */
    public static final String BASIC = "basicAuth";
    /** The name of the security scheme of requests signed by registered components. */
    public static final String SIGNATURE = "componentSignature";
    /** The operation extension listing the roles allowed. */
    public static final String ROLES = "x-secondsite-roles";

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");

    /** What the document says about itself. */
    public record Info(String title, String version, String description) {
    }

    private final Map<Class<?>, String> schemaNames = new HashMap<>();
    private final Set<String> usedSchemaNames = new HashSet<>();
    private final Set<String> operationIds = new HashSet<>();
    private final Set<Integer> errorStatuses = new TreeSet<>();
    private ObjectNode schemas;

    private OpenApiGenerator() {
    }

    /**
     * @param info title, version and description of the document
     * @param basePath the application's base path ({@code /api/v1}): the server URL; paths are relative to it
     * @param resources the root resource classes of the application, in any order
     * @return the document; the same input gives the same document
     */
    public static ObjectNode generate(Info info, String basePath, Collection<Class<?>> resources) {
        return new OpenApiGenerator().document(info, basePath, resources);
    }

    private ObjectNode document(Info info, String basePath, Collection<Class<?>> resources) {
        ObjectNode doc = F.objectNode();
        doc.put("openapi", "3.0.3");
        ObjectNode i = doc.putObject("info");
        i.put("title", info.title());
        i.put("version", info.version());
        if (info.description() != null && !info.description().isEmpty()) {
            i.put("description", info.description());
        }
        doc.putArray("servers").addObject().put("url", "/" + trimSlashes(basePath));
        ArrayNode tags = doc.putArray("tags");
        ObjectNode paths = doc.putObject("paths");
        ObjectNode components = F.objectNode();
        schemas = components.putObject("schemas");
        schemas.set(PROBLEM, problemSchema());
        usedSchemaNames.add(PROBLEM);

        List<Class<?>> sorted = new ArrayList<>(new HashSet<>(resources));
        sorted.sort(Comparator.comparing(Class::getName));
        Map<String, ObjectNode> tagsByName = new TreeMap<>();
        ArrayNode unreadable = F.arrayNode();
        for (Class<?> c : sorted) {
            try {
                addResource(c, paths, tagsByName);
            } catch (RuntimeException | LinkageError e) {
                unreadable.addObject().put("class", c.getName()).put("reason", e.toString());
            }
        }
        tagsByName.values().forEach(tags::add);
        if (!unreadable.isEmpty()) {
            doc.set("x-secondsite-unreadable", unreadable);
        }

        ObjectNode responses = components.putObject("responses");
        for (int status : errorStatuses) {
            responses.set(errorResponseName(status), errorResponse(status));
        }
        ObjectNode schemes = components.putObject("securitySchemes");
        ObjectNode basic = schemes.putObject(BASIC);
        basic.put("type", "http").put("scheme", "basic").put("description",
                "A user of the 'karaf' JAAS realm. Roles come from its groups: viewergroup (viewer), "
                        + "operatorgroup (operator, viewer), admingroup (admin, operator, viewer).");
        schemes.putObject(SIGNATURE).put("type", "http").put("scheme", ComponentAuthenticator.SCHEME)
                .put("description", "A request signed by a registered component with its private key: "
                        + "Authorization: " + ComponentAuthenticator.SCHEME + " cert=\"<base64 DER certificate>\","
                        + "sig=\"<base64 signature>\" and " + ComponentAuthenticator.DATE_HEADER + ": <ISO-8601 "
                        + "instant>; the signature covers METHOD, the raw path and query, the date and the body's "
                        + "SHA-256, one per line (docs/PROTOCOL.md section 8). Gives the role '"
                        + ComponentAuthenticator.ROLE + "'.");
        doc.set("components", components);
        doc.putArray("security").addObject().putArray(BASIC);
        return doc;
    }

    private void addResource(Class<?> c, ObjectNode paths, Map<String, ObjectNode> tagsByName) {
        Path classPath = c.getAnnotation(Path.class);
        String base = classPath == null ? "" : classPath.value();
        String tagName = trimSlashes(base).isEmpty() ? c.getSimpleName() : trimSlashes(base);
        List<Method> methods = new ArrayList<>();
        for (Method m : c.getMethods()) {
            if (!m.isBridge() && !m.isSynthetic() && !Modifier.isStatic(m.getModifiers()) && httpMethod(m) != null) {
                methods.add(m);
            }
        }
        methods.sort(Comparator.comparing(OpenApiGenerator::methodPath).thenComparing(OpenApiGenerator::httpMethod)
                .thenComparing(Method::getName));
        // Every operation first, so that a class failing half-way leaves nothing behind.
        record Op(String path, String verb, ObjectNode node) {
        }
        List<Op> ops = new ArrayList<>();
        for (Method m : methods) {
            Template t = Template.parse(joinPaths(base, methodPath(m)));
            ops.add(new Op(t.path, httpMethod(m).toLowerCase(), operation(c, m, t, tagName)));
        }
        ObjectNode tag = tagsByName.computeIfAbsent(tagName, n -> F.objectNode().put("name", n));
        ApiDoc classDoc = c.getAnnotation(ApiDoc.class);
        if (classDoc != null && !tag.has("description")) {
            tag.put("description", classDoc.description().isEmpty()
                    ? classDoc.summary() : classDoc.summary() + "\n\n" + classDoc.description());
        }
        for (Op op : ops) {
            ObjectNode item = paths.has(op.path) ? (ObjectNode) paths.get(op.path) : paths.putObject(op.path);
            if (item.has(op.verb)) {
                // Two resources claim the same path and method: the runtime serves one of them.
                ArrayNode shadowed = item.has("x-secondsite-shadowed")
                        ? (ArrayNode) item.get("x-secondsite-shadowed") : item.putArray("x-secondsite-shadowed");
                shadowed.add(op.node.get("operationId").asText());
            } else {
                item.set(op.verb, op.node);
            }
        }
    }

    private ObjectNode operation(Class<?> c, Method m, Template t, String tag) {
        ApiDoc doc = m.getAnnotation(ApiDoc.class);
        String verb = httpMethod(m);
        ObjectNode op = F.objectNode();
        op.putArray("tags").add(tag);
        if (doc != null) {
            op.put("summary", doc.summary());
            if (!doc.description().isEmpty()) {
                op.put("description", doc.description());
            }
        }
        op.put("operationId", operationId(c.getSimpleName() + "." + m.getName()));

        ArrayNode params = F.arrayNode();
        Parameter entity = null;
        List<Parameter> form = new ArrayList<>();
        boolean pathParams = false;
        for (Parameter p : m.getParameters()) {
            PathParam pp = p.getAnnotation(PathParam.class);
            QueryParam qp = p.getAnnotation(QueryParam.class);
            HeaderParam hp = p.getAnnotation(HeaderParam.class);
            CookieParam cp = p.getAnnotation(CookieParam.class);
            if (pp != null) {
                pathParams = true;
                ObjectNode schema = schema(p.getParameterizedType());
                String pattern = t.patterns.get(pp.value());
                if (pattern != null) {
                    schema.put("pattern", "^(?:" + pattern + ")$");
                }
                params.add(parameter(pp.value(), "path", true, schema, p));
            } else if (qp != null) {
                params.add(parameter(qp.value(), "query", false, schema(p.getParameterizedType()), p));
            } else if (hp != null) {
                params.add(parameter(hp.value(), "header", false, schema(p.getParameterizedType()), p));
            } else if (cp != null) {
                params.add(parameter(cp.value(), "cookie", false, schema(p.getParameterizedType()), p));
            } else if (p.isAnnotationPresent(FormParam.class)) {
                form.add(p);
            } else if (!p.isAnnotationPresent(Context.class) && !p.isAnnotationPresent(Suspended.class)
                    && !p.isAnnotationPresent(BeanParam.class) && !p.isAnnotationPresent(MatrixParam.class)) {
                entity = p;
            }
        }
        if (!params.isEmpty()) {
            op.set("parameters", params);
        }
        String[] consumes = mediaTypes(m.getAnnotation(Consumes.class), c.getAnnotation(Consumes.class));
        if (entity != null) {
            ObjectNode body = op.putObject("requestBody");
            ObjectNode content = body.putObject("content");
            for (String type : consumes.length == 0 ? new String[] {MediaType.WILDCARD} : consumes) {
                content.putObject(type).set("schema", entity.getType() == String.class && isJson(type)
                        ? F.objectNode() : schema(entity.getParameterizedType()));
            }
        } else if (!form.isEmpty()) {
            ObjectNode schema = F.objectNode().put("type", "object");
            ObjectNode props = schema.putObject("properties");
            for (Parameter p : form) {
                props.set(p.getAnnotation(FormParam.class).value(), schema(p.getParameterizedType()));
            }
            op.putObject("requestBody").putObject("content").putObject(MediaType.APPLICATION_FORM_URLENCODED)
                    .set("schema", schema);
        }

        ObjectNode responses = op.putObject("responses");
        int success = successStatus(m, verb, doc);
        ObjectNode ok = responses.putObject(Integer.toString(success));
        ok.put("description", reason(success));
        Optional<Type> bodyType = successBody(m, doc);
        String[] produces = mediaTypes(m.getAnnotation(Produces.class), c.getAnnotation(Produces.class));
        if (success != 204 && (bodyType.isPresent() || (m.getReturnType() == Response.class && produces.length > 0))) {
            ObjectNode content = ok.putObject("content");
            for (String type : produces.length == 0 ? new String[] {MediaType.APPLICATION_JSON} : produces) {
                content.putObject(type).set("schema", bodyType.map(this::schema).orElseGet(F::objectNode));
            }
        }

        Set<Integer> errors = new TreeSet<>();
        if (!params.isEmpty() || entity != null || !form.isEmpty()) {
            errors.add(400);
        }
        boolean open = AuthFilter.permitAll(m);
        if (!open) {
            errors.add(401);
            errors.add(403);
        }
        if (pathParams) {
            errors.add(404);
        }
        if (!SAFE_METHODS.contains(verb)) {
            errors.add(409);
        }
        errors.add(500);
        if (doc != null) {
            Arrays.stream(doc.errors()).forEach(errors::add);
        }
        for (int status : errors) {
            if (!responses.has(Integer.toString(status))) {
                errorStatuses.add(status);
                responses.putObject(Integer.toString(status)).put("$ref", "#/components/responses/"
                        + errorResponseName(status));
            }
        }
        if (open) {
            op.putArray("security");
        } else {
            ArrayNode roles = op.putArray(ROLES);
            Set<String> required = new TreeSet<>(AuthFilter.requiredRoles(m, c));
            required.forEach(roles::add);
            if (required.contains(ComponentAuthenticator.ROLE)) {
                ArrayNode security = op.putArray("security");
                security.addObject().putArray(BASIC);
                security.addObject().putArray(SIGNATURE);
            }
        }
        return op;
    }

    private static ObjectNode parameter(String name, String in, boolean required, ObjectNode schema, Parameter p) {
        DefaultValue dv = p.getAnnotation(DefaultValue.class);
        if (dv != null) {
            schema.set("default", defaultValue(dv.value(), schema));
        }
        ObjectNode n = F.objectNode();
        n.put("name", name).put("in", in);
        if (required) {
            n.put("required", true);
        }
        n.set("schema", schema);
        return n;
    }

    private static JsonNode defaultValue(String v, ObjectNode schema) {
        String type = schema.path("type").asText();
        try {
            switch (type) {
                case "integer":
                    return F.numberNode(Long.parseLong(v.trim()));
                case "number":
                    return F.numberNode(new BigDecimal(v.trim()));
                case "boolean":
                    if (v.trim().equalsIgnoreCase("true") || v.trim().equalsIgnoreCase("false")) {
                        return F.booleanNode(Boolean.parseBoolean(v.trim()));
                    }
                    return F.textNode(v);
                default:
                    return F.textNode(v);
            }
        } catch (NumberFormatException e) {
            return F.textNode(v);
        }
    }

    private static int successStatus(Method m, String verb, ApiDoc doc) {
        if (doc != null && doc.status() != 0) {
            return doc.status();
        }
        if (m.getReturnType() == void.class || (m.getReturnType() == Response.class && verb.equals("DELETE"))) {
            return 204;
        }
        return 200;
    }

    private static Optional<Type> successBody(Method m, ApiDoc doc) {
        if (doc != null && doc.response() != Void.class) {
            return Optional.of(doc.response());
        }
        Class<?> r = m.getReturnType();
        if (r == void.class || r == Void.class || r == Response.class) {
            return Optional.empty();
        }
        return Optional.of(m.getGenericReturnType());
    }

    private String operationId(String wanted) {
        String id = wanted;
        for (int n = 2; !operationIds.add(id); n++) {
            id = wanted + "_" + n;
        }
        return id;
    }

    /** A JSON schema for a Java type as Jackson writes it; records become named component schemas. */
    ObjectNode schema(Type type) {
        if (type instanceof Class<?> c) {
            return classSchema(c);
        }
        if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> raw) {
            Type[] args = p.getActualTypeArguments();
            if (Collection.class.isAssignableFrom(raw)) {
                return array(schema(args[0]), Set.class.isAssignableFrom(raw));
            }
            if (Map.class.isAssignableFrom(raw)) {
                ObjectNode s = F.objectNode().put("type", "object");
                ObjectNode values = schema(args[1]);
                s.set("additionalProperties", values.isEmpty() ? F.booleanNode(true) : values);
                return s;
            }
            if (raw == Optional.class) {
                return schema(args[0]);
            }
            return classSchema(raw);
        }
        if (type instanceof GenericArrayType g) {
            return array(schema(g.getGenericComponentType()), false);
        }
        if (type instanceof WildcardType w && w.getUpperBounds().length == 1 && w.getUpperBounds()[0] != Object.class) {
            return schema(w.getUpperBounds()[0]);
        }
        // A type variable (PageView<T>'s items), a wildcard: any JSON value.
        return F.objectNode();
    }

    private ObjectNode classSchema(Class<?> c) {
        if (c == String.class || c == char.class || c == Character.class) {
            return F.objectNode().put("type", "string");
        }
        if (c == boolean.class || c == Boolean.class) {
            return F.objectNode().put("type", "boolean");
        }
        if (c == int.class || c == Integer.class || c == short.class || c == Short.class || c == byte.class
                || c == Byte.class) {
            return F.objectNode().put("type", "integer").put("format", "int32");
        }
        if (c == long.class || c == Long.class) {
            return F.objectNode().put("type", "integer").put("format", "int64");
        }
        if (c == float.class || c == Float.class) {
            return F.objectNode().put("type", "number").put("format", "float");
        }
        if (c == double.class || c == Double.class) {
            return F.objectNode().put("type", "number").put("format", "double");
        }
        if (c == BigDecimal.class) {
            return F.objectNode().put("type", "number");
        }
        if (c == BigInteger.class) {
            return F.objectNode().put("type", "integer");
        }
        if (c == Instant.class || c == OffsetDateTime.class || c == ZonedDateTime.class) {
            return F.objectNode().put("type", "string").put("format", "date-time");
        }
        if (c == LocalDate.class) {
            return F.objectNode().put("type", "string").put("format", "date");
        }
        if (c == Duration.class) {
            return F.objectNode().put("type", "string").put("format", "duration");
        }
        if (c == UUID.class) {
            return F.objectNode().put("type", "string").put("format", "uuid");
        }
        if (c == URI.class) {
            return F.objectNode().put("type", "string").put("format", "uri");
        }
        if (c == byte[].class) {
            return F.objectNode().put("type", "string").put("format", "byte");
        }
        if (c.isEnum()) {
            ObjectNode s = F.objectNode().put("type", "string");
            ArrayNode values = s.putArray("enum");
            for (Object e : c.getEnumConstants()) {
                values.add(((Enum<?>) e).name());
            }
            return s;
        }
        if (c.isArray()) {
            return array(schema(c.getComponentType()), false);
        }
        if (Collection.class.isAssignableFrom(c) || ArrayNode.class.isAssignableFrom(c)) {
            return array(F.objectNode(), Set.class.isAssignableFrom(c));
        }
        if (Map.class.isAssignableFrom(c) || ObjectNode.class.isAssignableFrom(c)) {
            return F.objectNode().put("type", "object");
        }
        if (c.isRecord()) {
            return F.objectNode().put("$ref", "#/components/schemas/" + recordSchema(c));
        }
        if (c == Object.class || JsonNode.class.isAssignableFrom(c)) {
            return F.objectNode();
        }
        return F.objectNode().put("type", "object");
    }

    private static ObjectNode array(ObjectNode items, boolean unique) {
        ObjectNode s = F.objectNode().put("type", "array");
        s.set("items", items);
        if (unique) {
            s.put("uniqueItems", true);
        }
        return s;
    }

    private String recordSchema(Class<?> c) {
        String known = schemaNames.get(c);
        if (known != null) {
            return known;
        }
        String name = c.getSimpleName();
        if (usedSchemaNames.contains(name) && c.getEnclosingClass() != null) {
            name = c.getEnclosingClass().getSimpleName() + "." + name;
        }
        if (usedSchemaNames.contains(name)) {
            name = c.getName().replace('$', '.');
        }
        usedSchemaNames.add(name);
        schemaNames.put(c, name);
        ObjectNode s = F.objectNode().put("type", "object");
        schemas.set(name, s); // before the components: a record may refer to itself
        ObjectNode props = s.putObject("properties");
        ArrayNode required = F.arrayNode();
        for (RecordComponent rc : c.getRecordComponents()) {
            ObjectNode ps = schema(rc.getGenericType());
            if (!rc.getType().isPrimitive()) {
                // Jackson writes every component, null included.
                ps = ps.has("$ref") ? nullableRef(ps) : ps.put("nullable", true);
            }
            props.set(rc.getName(), ps);
            required.add(rc.getName());
        }
        if (!required.isEmpty()) {
            s.set("required", required);
        }
        s.put("additionalProperties", false);
        return name;
    }

    private static ObjectNode nullableRef(ObjectNode ref) {
        ObjectNode s = F.objectNode();
        s.putArray("allOf").add(ref);
        s.put("nullable", true);
        return s;
    }

    private static ObjectNode problemSchema() {
        ObjectNode s = F.objectNode().put("type", "object")
                .put("description", "RFC 7807 problem details, the body of every error answer.");
        s.putArray("required").add("type").add("title").add("status");
        ObjectNode p = s.putObject("properties");
        p.putObject("type").put("type", "string").put("format", "uri-reference")
                .put("description", "the kind of problem; about:blank when the status says it all");
        p.putObject("title").put("type", "string").put("description", "the HTTP reason phrase");
        p.putObject("status").put("type", "integer").put("format", "int32").put("description", "the HTTP status");
        p.putObject("detail").put("type", "string").put("description", "what was wrong, for a human");
        p.putObject("field").put("type", "string")
                .put("description", "the request field that was wrong, when one was (400)");
        return s;
    }

    private static ObjectNode errorResponse(int status) {
        ObjectNode r = F.objectNode().put("description", switch (status) {
            case 400 -> "Bad input: a parameter or body field is invalid (detail and field name it).";
            case 401 -> "No or wrong credentials.";
            case 403 -> "The user lacks the role the operation needs (x-secondsite-roles).";
            case 404 -> "No such object.";
            case 409 -> "Conflicts with the current state.";
            case 500 -> "Unexpected failure; the appliance log holds the cause.";
            default -> reason(status) + ".";
        });
        if (status == 401) {
            r.putObject("headers").putObject("WWW-Authenticate").putObject("schema").put("type", "string");
        }
        r.putObject("content").putObject(Problems.MEDIA_TYPE).putObject("schema")
                .put("$ref", "#/components/schemas/" + PROBLEM);
        return r;
    }

    private static String errorResponseName(int status) {
        Response.Status s = Response.Status.fromStatusCode(status);
        if (s == null) {
            return "Status" + status;
        }
        StringBuilder sb = new StringBuilder();
        for (String w : s.name().split("_")) {
            sb.append(w.charAt(0)).append(w.substring(1).toLowerCase());
        }
        return sb.toString();
    }

    private static String reason(int status) {
        Response.Status s = Response.Status.fromStatusCode(status);
        return s == null ? "Status " + status : s.getReasonPhrase();
    }

    private static String[] mediaTypes(Annotation onMethod, Annotation onClass) {
        Annotation a = onMethod != null ? onMethod : onClass;
        String[] raw = a instanceof Consumes c ? c.value() : a instanceof Produces p ? p.value() : new String[0];
        List<String> out = new ArrayList<>();
        for (String r : raw) {
            for (String t : r.split(",")) {
                String trimmed = t.trim();
                if (!trimmed.isEmpty() && !out.contains(trimmed)) {
                    out.add(trimmed);
                }
            }
        }
        return out.toArray(new String[0]);
    }

    private static boolean isJson(String mediaType) {
        String t = mediaType.toLowerCase();
        return t.startsWith(MediaType.APPLICATION_JSON) || t.contains("+json");
    }

    static String httpMethod(Method m) {
        for (Annotation a : m.getAnnotations()) {
            HttpMethod h = a.annotationType().getAnnotation(HttpMethod.class);
            if (h != null) {
                return h.value();
            }
        }
        return null;
    }

    private static String methodPath(Method m) {
        Path p = m.getAnnotation(Path.class);
        return p == null ? "" : p.value();
    }

    private static String joinPaths(String a, String b) {
        String j = "/" + trimSlashes(a) + "/" + trimSlashes(b);
        j = j.replaceAll("/{2,}", "/");
        return j.length() > 1 && j.endsWith("/") ? j.substring(0, j.length() - 1) : j;
    }

    private static String trimSlashes(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && s.charAt(from) == '/') {
            from++;
        }
        while (to > from && s.charAt(to - 1) == '/') {
            to--;
        }
        return s.substring(from, to);
    }

    /** A JAX-RS path template as OpenAPI writes it: {@code {id: [0-9]+}} becomes {@code {id}}, its regex kept. */
    record Template(String path, Map<String, String> patterns) {
        static Template parse(String jaxrs) {
            StringBuilder out = new StringBuilder();
            Map<String, String> patterns = new LinkedHashMap<>();
            int i = 0;
            while (i < jaxrs.length()) {
                char ch = jaxrs.charAt(i);
                if (ch != '{') {
                    out.append(ch);
                    i++;
                    continue;
                }
                int depth = 0;
                int end = i;
                for (; end < jaxrs.length(); end++) {
                    if (jaxrs.charAt(end) == '{') {
                        depth++;
                    } else if (jaxrs.charAt(end) == '}' && --depth == 0) {
                        break;
                    }
                }
                if (end == jaxrs.length()) {
                    throw new IllegalArgumentException("unbalanced '{' in the path template '" + jaxrs + "'");
                }
                String inner = jaxrs.substring(i + 1, end);
                int colon = inner.indexOf(':');
                String name = (colon < 0 ? inner : inner.substring(0, colon)).trim();
                if (colon >= 0) {
                    patterns.put(name, inner.substring(colon + 1).trim());
                }
                out.append('{').append(name).append('}');
                i = end + 1;
            }
            return new Template(out.toString(), patterns);
        }
    }
}
