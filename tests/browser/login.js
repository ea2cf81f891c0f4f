// One sign-in through a real browser: Debian's Chromium (/usr/bin/chromium) driven by
// playwright-core, which downloads no browser of its own. Called by
// tests/containers/test_browser_login.py with a JSON job on stdin:
//   {appUrl, appOrigin, hostRules, username, password, screenshot}
// It opens the app URL, expects to land on Keycloak's login form, signs in and waits until the
// browser is back at the app (or Keycloak shows an error). It prints one JSON line with what the
// browser saw and always writes the last page to `screenshot` (the test keeps it only on failure).
// playwright-core comes from NODE_PATH (scripts/test-deps installs the lockfile outside the clone).
"use strict";
const { chromium } = require("playwright-core");

async function main() {
  const job = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const seen = { steps: [] };
  const browser = await chromium.launch({
    executablePath: process.env.ITSTACK_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // --no-sandbox: the lane runs as root, where Chromium refuses its sandbox.
    // --host-resolver-rules: the app's real host name (from the program) answered on loopback.
    args: ["--no-sandbox", "--disable-dev-shm-usage", `--host-resolver-rules=${job.hostRules}`],
  });
  let page;
  try {
    // The loopback app has a throw-away self-signed certificate for the program's host name.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    page = await context.newPage();
    page.setDefaultTimeout(30000);
    await page.goto(job.appUrl);
    await page.waitForSelector("#kc-form-login");
    seen.loginPage = { url: page.url(), title: await page.title() };
    seen.steps.push("login form");
    await page.fill("#username", job.username);
    await page.fill("#password", job.password);
    await Promise.all([page.waitForLoadState("load"), page.click("#kc-login")]);
    // Either back at the app, or still on Keycloak with its error message.
    await page.waitForFunction(
      (origin) => location.origin === origin || document.querySelector("#input-error, .kc-feedback-text, .pf-c-alert__title, .pf-v5-c-alert__title"),
      job.appOrigin,
    );
    seen.steps.push("after submit");
    seen.final = { url: page.url(), title: await page.title(), text: await page.innerText("body") };
    const error = await page.$("#input-error, .kc-feedback-text, .pf-c-alert__title, .pf-v5-c-alert__title");
    seen.error = error ? (await error.innerText()).trim() : null;
  } catch (e) {
    seen.failure = String(e && e.stack || e);
    if (page) seen.final = { url: page.url() };
  } finally {
    if (page) {
      try {
        await page.screenshot({ path: job.screenshot, fullPage: true });
        seen.screenshot = job.screenshot;
      } catch (e) {
        seen.screenshotFailure = String(e);
      }
    }
    await browser.close();
  }
  process.stdout.write(JSON.stringify(seen) + "\n");
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + "\n");
  process.exit(1);
});
