package org.secondsite.itests;

import static org.awaitility.Awaitility.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;

/**
 * The web console in headless Chromium (Debian's {@code chromium} and {@code chromium-driver},
 * driven by Selenium; no browser is downloaded) against the real all-in-one appliance, booted as
 * its own process from the reactor's assembly (as {@link MultiProcessReplicationIT} does: Selenium
 * runs in this JVM, not inside the OSGi container). While {@code dr:demo} writes and replicates
 * its disk: log in (a wrong password is refused with a readable message), see the disk on the
 * dashboard, see its RPO chart get points without a reload, tag a point, start a test failover
 * with a double click and see exactly one listed, discard it; a viewer sees no action button; a
 * session the appliance no longer knows sends the browser back to the login page with a message;
 * the dashboard fits a narrow screen. Screenshots go to {@code target/console-screenshots/}.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class ConsoleBrowserIT {
    private static final Path CHROMIUM = Paths.get("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Paths.get("/usr/bin/chromedriver");
    private static final Duration BOOT = Duration.ofMinutes(3);
    private static final Duration UI = Duration.ofSeconds(30);
    private static final Duration REPLICATION = Duration.ofMinutes(3);
    private static final String VIEWER_PASSWORD = "Viewer-Secret-42";
    private static final Path SHOTS = Paths.get("target", "console-screenshots");

    private static ApplianceInstance appliance;
    private static WebDriver browser;
    private static Path profile;
    private static CompletableFuture<String> demo;
    private static String diskId;

    @BeforeClass
    public static void bootApplianceAndBrowser() throws Exception {
        Assume.assumeTrue("chromium is not installed (Debian package chromium): " + CHROMIUM, Files.isExecutable(CHROMIUM));
        Assume.assumeTrue("chromedriver is not installed (Debian package chromium-driver): " + CHROMEDRIVER,
                Files.isExecutable(CHROMEDRIVER));
        Path archive = Paths.get(System.getProperty("appliance.archive"));
        Path work = Paths.get("target", "console-it").toAbsolutePath();
        appliance = ApplianceInstance.unpack("console", archive, work.resolve("appliance"), "all-in-one");
        appliance.start();
        appliance.awaitHealthy(BOOT);
        String users = await("viewer user created").atMost(UI).ignoreExceptions().until(() -> ssh(
                "jaas:realm-manage --realm karaf\njaas:user-add console-viewer " + VIEWER_PASSWORD
                        + "\njaas:group-add console-viewer viewergroup\njaas:update"), out -> !out.contains("Error"));
        // The demo disk replicates while the browser watches (dr:demo returns once the replica equals the source).
        demo = CompletableFuture.supplyAsync(() -> {
            try {
                return ssh("dr:demo --mib 48");
            } catch (Exception e) {
                return "dr:demo failed: " + e;
            }
        });
        Files.createDirectories(SHOTS);
        profile = Files.createTempDirectory(work, "chromium-profile");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,800");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().withLogFile(work.resolve("chromedriver.log").toFile()).build();
        browser = new ChromeDriver(service, options);
        browser.manage().window().setSize(new Dimension(1280, 800));
    }

    @AfterClass
    public static void stopAll() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (demo != null) {
            System.out.println("dr:demo printed:\n" + demo.getNow("(still running)"));
        }
        if (appliance != null) {
            System.out.println("appliance log tail:\n" + appliance.logTail(60));
            appliance.stop();
        }
    }

    private static String ssh(String command) throws Exception {
        return SshLogin.run(appliance.sshPort, "admin", appliance.adminPassword(), command);
    }

    private static String console() {
        return "http://127.0.0.1:" + appliance.httpPort + "/console";
    }

    private static void shot(String name) throws Exception {
        byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
        Files.write(SHOTS.resolve(name + ".png"), png);
    }

    private static WebElement visible(String css) {
        return await("'" + css + "' shown").atMost(UI).ignoreExceptions().until(() -> {
            WebElement e = browser.findElement(By.cssSelector(css));
            return e.isDisplayed() ? e : null;
        }, java.util.Objects::nonNull);
    }

    private static void login(String user, String password) {
        browser.get(console() + "/#/login");
        WebElement u = visible("#login-user");
        u.clear();
        u.sendKeys(user);
        browser.findElement(By.id("login-password")).clear();
        browser.findElement(By.id("login-password")).sendKeys(password);
        browser.findElement(By.id("login-submit")).click();
    }

    private static void logout() {
        visible("#logout").click();
        visible("#login-user");
    }

    private static HttpResponse<String> rest(String method, String path, String json) throws Exception {
        String auth = Base64.getEncoder().encodeToString(("admin:" + appliance.adminPassword())
                .getBytes(StandardCharsets.UTF_8));
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + appliance.httpPort + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Basic " + auth);
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    public void a_wrongPasswordIsRefusedWithAReadableMessageThenTheAdminLogsIn() throws Exception {
        browser.get(console());
        assertTrue(browser.getCurrentUrl(), browser.getCurrentUrl().contains("/console/"));
        login("admin", "not-the-password");
        WebElement error = visible("#login-form .form-error");
        await("login refusal shown").atMost(UI).until(() -> error.getText().contains("invalid user name or password"));
        assertTrue(error.getText(), error.getText().startsWith("Unauthorized"));
        shot("01-login-refused");
        login("admin", appliance.adminPassword());
        visible("#top");
        WebElement row = await("the demo disk on the dashboard").atMost(REPLICATION).ignoreExceptions()
                .until(() -> browser.findElement(By.cssSelector("#disk-table tr[data-disk]")), java.util.Objects::nonNull);
        diskId = row.getAttribute("data-disk");
        assertTrue(browser.findElement(By.id("who")).getText().startsWith("admin"));
        shot("02-dashboard");
    }

    @Test
    public void b_theRpoChartOfTheReplicatingDiskGetsPointsWithoutReload() throws Exception {
        Assume.assumeTrue("the dashboard test did not find the disk", diskId != null);
        browser.findElement(By.cssSelector("#disk-table tr[data-disk='" + diskId + "'] a")).click();
        WebElement chart = visible("#rpo-chart");
        await("the RPO chart is drawn").atMost(UI).until(() -> !chart.findElements(By.tagName("canvas")).isEmpty());
        int first = await("the RPO chart has points").atMost(UI)
                .until(() -> Integer.parseInt(chart.getAttribute("data-points")), n -> n >= 1);
        // Same page, same chart element: new points arrive by polling, not by a reload.
        Object marker = ((JavascriptExecutor) browser).executeScript("return window.__noReload = 'still-here';");
        await("the RPO chart gets more points").atMost(Duration.ofMinutes(1))
                .until(() -> Integer.parseInt(chart.getAttribute("data-points")), n -> n >= first + 2);
        assertEquals(marker, ((JavascriptExecutor) browser).executeScript("return window.__noReload;"));
        assertTrue(browser.findElement(By.id("disk-rpo")).getText().matches("[0-9.]+ (ms|s|min|h|d)"));
        HttpResponse<String> history = rest("GET", "/api/v1/replication/history?disk=" + diskId + "&window=PT1H", null);
        assertEquals(history.body(), 200, history.statusCode());
        shot("03-disk-rpo-chart");
    }

    @Test
    public void c_anOperatorTagsAPointAndADoubleClickedTestFailoverStartsOnce() throws Exception {
        Assume.assumeTrue("the dashboard test did not log in", diskId != null);
        browser.get(console() + "/#/points");
        visible("#tag-form");
        await("a consistency group offered").atMost(UI).until(() ->
                !browser.findElement(By.id("f-tag-group")).getAttribute("value").isEmpty());
        String tag = "console-it-" + System.currentTimeMillis();
        // Tags are refused while the disk's initial replication still compares: retry until accepted.
        await("the tag accepted").atMost(REPLICATION).pollInterval(Duration.ofSeconds(3)).until(() -> {
            WebElement name = browser.findElement(By.id("f-name"));
            name.clear();
            name.sendKeys(tag);
            WebElement submit = browser.findElement(By.id("tag-submit"));
            submit.click();
            await().atMost(UI).until(submit::isEnabled);
            return browser.findElement(By.id("banner")).getText().contains("Tagged " + tag);
        });
        WebElement row = await("the tagged point listed").atMost(REPLICATION).ignoreExceptions().until(() ->
                browser.findElements(By.cssSelector("#point-table tr[data-point]")).stream()
                        .filter(r -> r.getText().contains(tag)).findFirst().orElse(null), java.util.Objects::nonNull);
        String point = row.getAttribute("data-point");
        assertTrue(browser.findElements(By.cssSelector("#timeline .mark")).size() >= 1);
        shot("04-points-tagged");

        WebElement failover = browser.findElement(By.cssSelector("#point-table tr[data-point='" + point
                + "'] button[data-failover]"));
        new Actions(browser).doubleClick(failover).perform();
        WebElement listed = visible("#export-table tr[data-export^='tfo-']");
        String name = listed.getAttribute("data-export");
        assertTrue(listed.getText(), listed.getText().contains("test-failover") && listed.getText().contains(point));
        HttpResponse<String> exports = rest("GET", "/api/v1/recovery/exports", null);
        Matcher m = Pattern.compile("\"name\":\"(tfo-[^\"]+)\"").matcher(exports.body());
        List<String> names = m.results().map(r -> r.group(1)).distinct().toList();
        assertEquals("one test failover for a double click: " + exports.body(), List.of(name), names);
        shot("05-test-failover-listed");
        browser.findElement(By.cssSelector("#export-table button[data-discard='" + name + "']")).click();
        await("the test failover discarded").atMost(UI).until(() ->
                browser.findElements(By.cssSelector("#export-table tr[data-export='" + name + "']")).isEmpty());
    }

    @Test
    public void d_aViewerSeesNoActionButton() throws Exception {
        Assume.assumeTrue("the dashboard test did not log in", diskId != null);
        logout();
        login("console-viewer", VIEWER_PASSWORD);
        visible("#top");
        assertTrue(browser.findElement(By.id("who")).getText().contains("viewer"));
        for (String page : new String[] {"points", "alerts", "policies", "machines", "jobs", "plugins", "protect",
                "dashboard"}) {
            browser.get(console() + "/#/" + page);
            visible("main h1");
            if (page.equals("points")) {
                visible("#point-table tr[data-point]");
            } else if (page.equals("machines")) {
                await("machines listed").atMost(UI).until(() -> !browser.findElement(By.id("machine-list")).getText()
                        .startsWith("Loading"));
            } else if (page.equals("plugins")) {
                visible("#feature-table tr[data-feature]");
            }
            assertTrue(page + ": a viewer is shown action buttons", browser.findElements(By.cssSelector(
                    "button.act, a.act, form#tag-form, form#policy-form, form#protect-form, form#machine-policy-form"))
                    .isEmpty());
            assertTrue(page + ": a viewer is shown the protect link", browser.findElements(By.cssSelector(
                    "#protect-start")).isEmpty() && !browser.findElement(By.cssSelector("#nav a[data-page='protect']"))
                    .isDisplayed());
        }
        browser.get(console() + "/#/points");
        visible("#point-table tr[data-point]");
        shot("06-viewer-points");
    }

    @Test
    public void e_aSessionTheApplianceNoLongerKnowsReturnsToLoginWithAMessage() throws Exception {
        Assume.assumeTrue("the dashboard test did not log in", diskId != null);
        ((JavascriptExecutor) browser).executeScript("const s = JSON.parse(sessionStorage.getItem('secondsite.session'));"
                + "s.token = 'forgotten-token'; sessionStorage.setItem('secondsite.session', JSON.stringify(s));");
        browser.get(console() + "/#/dashboard");
        browser.navigate().refresh();
        WebElement message = visible("#login-message");
        assertTrue(message.getText(), message.getText().contains("log in again") || message.getText().contains("logged out"));
        shot("07-session-gone");
    }

    @Test
    public void f_theDashboardFitsANarrowScreen() throws Exception {
        Assume.assumeTrue("the dashboard test did not log in", diskId != null);
        login("admin", appliance.adminPassword());
        visible("#disk-table");
        browser.manage().window().setSize(new Dimension(420, 860));
        visible("#disk-table");
        Object overflow = ((JavascriptExecutor) browser).executeScript(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
        shot("08-dashboard-narrow");
        assertTrue("the page scrolls sideways by " + overflow + " px", ((Number) overflow).intValue() <= 1);
        browser.manage().window().setSize(new Dimension(1280, 800));
    }

    /**
     * The machines, jobs and plugins pages for an admin. The all-in-one appliance registers no
     * agent, process server or master target with its configuration server, so it protects no
     * machine through {@code /machines} and has no job: the pages show that, the protect button
     * is there, and every plugin feature the role includes is listed as installed without an
     * uninstall button.
     */
    @Test
    public void g_theMachinesJobsAndPluginsPagesRenderForAnAdmin() throws Exception {
        Assume.assumeTrue("the dashboard test did not log in", diskId != null);
        browser.get(console() + "/#/machines");
        visible("#protect-start");
        assertTrue(browser.findElement(By.cssSelector("#nav a[data-page='protect']")).isDisplayed());
        WebElement machines = visible("#machine-list");
        await("machines listed").atMost(UI).until(() -> !machines.getText().startsWith("Loading"));
        assertTrue(machines.getText(), machines.getText().contains("No machine is protected yet")
                || !browser.findElements(By.cssSelector("#machine-table tr[data-machine]")).isEmpty());
        shot("09-machines");
        browser.get(console() + "/#/jobs");
        WebElement jobs = visible("#job-list");
        await("jobs listed").atMost(UI).until(() -> !jobs.getText().startsWith("Loading"));
        assertTrue(jobs.getText(), jobs.getText().contains("No job yet")
                || !browser.findElements(By.cssSelector("#job-table tr[data-job]")).isEmpty());
        visible("#job-filter");
        shot("10-jobs");
        browser.get(console() + "/#/plugins");
        WebElement lz4 = visible("#feature-table tr[data-feature='secondsite-compressor-lz4-core']");
        assertEquals("true", lz4.getAttribute("data-installed"));
        assertTrue(lz4.getText(), lz4.getText().contains("included by secondsite-all-in-one"));
        assertTrue("a feature the role includes has no uninstall button",
                lz4.findElements(By.cssSelector("button[data-uninstall]")).isEmpty());
        assertTrue(browser.findElements(By.cssSelector("#feature-table tr[data-feature='secondsite-agent']")).isEmpty());
        ((JavascriptExecutor) browser).executeScript("document.getElementById('h-features').scrollIntoView();");
        shot("11-plugin-features");
    }

    /**
     * The protect wizard with a second disk whose source is empty: the API's 400 names
     * {@code disks[1].source} and the console shows it next to the second disk row's source input,
     * back on the disks step; a double click on submit sends one request. With the source fixed,
     * the API answers 404 for the agent (none is registered here, so a real protect cannot succeed
     * in this appliance) and the console shows that next to the agent input. No job is started.
     */
    @Test
    public void h_theProtectWizardShowsTheApisFieldErrorNextToTheRightInput() throws Exception {
        Assume.assumeTrue("the dashboard test did not log in", diskId != null);
        HttpResponse<String> policy = rest("POST", "/api/v1/policies",
                "{\"id\":\"console-it\",\"rpoThresholdSeconds\":300,\"retentionWindowSeconds\":86400}");
        assertTrue(policy.body(), policy.statusCode() == 201 || policy.statusCode() == 200 || policy.statusCode() == 409);
        HttpResponse<String> before = rest("GET", "/api/v1/jobs", null);
        assertEquals(before.body(), 200, before.statusCode());
        browser.get(console() + "/#/machines");
        visible("#protect-start").click();
        visible("#f-machineId").sendKeys("console-it-vm");
        browser.findElement(By.id("f-name")).sendKeys("Console IT machine");
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("f-kind"))).selectByVisibleText("physical-linux");
        browser.findElement(By.id("wizard-next")).click();
        visible("#f-agentId").sendKeys("agent-none");
        await("the agent hint").atMost(UI).until(() -> browser.findElement(By.id("f-agentId-hint")).getText()
                .contains("No agent is registered"));
        browser.findElement(By.id("f-processServerId")).sendKeys("ps-none");
        browser.findElement(By.id("f-masterTargetId")).sendKeys("mt-none");
        browser.findElement(By.id("wizard-next")).click();
        visible("#d0-diskId").sendKeys("disk-a");
        browser.findElement(By.id("d0-source")).sendKeys("/dev/sdb");
        browser.findElement(By.id("add-disk")).click();
        visible("#d1-diskId").sendKeys("disk-b");
        // disks[1].source stays empty.
        browser.findElement(By.id("wizard-next")).click();
        WebElement policies = visible("#f-policyId");
        await("policy offered").atMost(UI).until(() -> policies.findElements(By.tagName("option")).stream()
                .anyMatch(o -> o.getText().equals("console-it")));
        new org.openqa.selenium.support.ui.Select(policies).selectByVisibleText("console-it");
        browser.findElement(By.id("wizard-next")).click();
        WebElement review = visible("#review-table");
        assertTrue(review.getText(), review.getText().contains("console-it-vm") && review.getText().contains("disk-b"));
        shot("12-protect-review");
        new Actions(browser).doubleClick(visible("#protect-submit")).perform();
        WebElement sourceError = visible("#d1-source-err");
        await("the source error next to the second disk's source").atMost(UI)
                .until(() -> sourceError.getText().contains("disks[1].source is required"));
        assertTrue(sourceError.getText(), sourceError.getText().startsWith("Bad Request"));
        assertEquals("true", browser.findElement(By.id("d1-source")).getAttribute("aria-invalid"));
        assertTrue("the first disk's source is not marked", browser.findElement(By.id("d0-source"))
                .getAttribute("aria-invalid") == null && browser.findElement(By.id("d0-source-err")).getText().isEmpty());
        assertEquals("d1-source", browser.switchTo().activeElement().getAttribute("id"));
        shot("13-protect-source-error");

        browser.findElement(By.id("d1-source")).sendKeys("/dev/sdc");
        browser.findElement(By.id("wizard-next")).click();
        browser.findElement(By.id("wizard-next")).click();
        visible("#protect-submit").click();
        WebElement agentError = visible("#f-agentId-err");
        await("the unknown agent shown next to the agent input").atMost(UI)
                .until(() -> agentError.getText().contains("no registered component 'agent-none'"));
        assertTrue(agentError.getText(), agentError.getText().startsWith("Not Found"));
        assertTrue(visible("#f-agentId").getAttribute("aria-invalid").equals("true"));
        shot("14-protect-unknown-agent");
        HttpResponse<String> after = rest("GET", "/api/v1/jobs", null);
        assertEquals("no job started: " + after.body(), total(before.body()), total(after.body()));
    }

    private static long total(String page) {
        Matcher m = Pattern.compile("\"total\":(\\d+)").matcher(page);
        assertTrue(page, m.find());
        return Long.parseLong(m.group(1));
    }
}
