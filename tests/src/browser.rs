//! A real headless Chromium driven over WebDriver (fantoccini), for the
//! portal's browser tests. `RASTRO_CHROMEDRIVER` names the ChromeDriver
//! (`.ci/run` installs Debian's `chromium` and `chromium-driver`);
//! `RASTRO_CHROMIUM` the browser, `/usr/bin/chromium` by default.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use serde_json::json;

/// Desktop and phone window sizes for screenshots.
pub const DESKTOP: (u32, u32) = (1280, 900);
/// A phone's width.
pub const PHONE: (u32, u32) = (390, 844);

/// A ChromeDriver process and one browser session on it; both end on drop.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    profile: PathBuf,
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium with an empty profile and
    /// none of its background traffic (this machine's network is closed).
    pub async fn start() -> Self {
        let driver_path = std::env::var("RASTRO_CHROMEDRIVER").expect("RASTRO_CHROMEDRIVER names chromedriver");
        let port = crate::smtp::free_port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = std::env::temp_dir().join(format!("rastro-chromium-{port}"));
        let binary = std::env::var("RASTRO_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            // A Brazilian customer's browser: the portal speaks Portuguese to it.
            "--lang=pt-BR".into(),
            format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), json!({ "binary": binary, "args": args, "prefs": { "intl.accept_languages": "pt-BR,pt" } }));
        let url = format!("http://127.0.0.1:{port}");
        // ChromeDriver takes a moment to listen: try until it answers, up to 20 s.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&url).await {
                Ok(client) => break client,
                Err(err) => {
                    assert!(tokio::time::Instant::now() < deadline, "no browser session within 20 s: {err}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Browser { client, driver, profile }
    }

    /// Opens `url` and waits for its document.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The element `css`, waiting for it up to 10 s.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
    }

    /// Ends the browser session (the browser exits), then the driver.
    pub async fn quit(self) {
        let _ = self.client.clone().close().await;
    }

    /// Types `text` into the field `css`.
    pub async fn fill(&self, css: &str, text: &str) {
        self.find(css).await.send_keys(text).await.expect("type");
    }

    /// Clicks `css`.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    /// Waits up to 10 s until the text of `css` is `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.find(css).await.text().await.unwrap_or_default();
            if text.trim() == expected {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "{css} still says {text:?}, not {expected:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits up to 10 s until the page's path starts with `prefix`.
    pub async fn wait_for_path(&self, prefix: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let path = self.path().await;
            if path.starts_with(prefix) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "still on {path}, not {prefix}…");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The text a reader sees on the page.
    pub async fn visible_text(&self) -> String {
        self.find("body").await.text().await.unwrap_or_default()
    }

    /// Fails unless every field of the page has a label a screen reader
    /// announces, and the page has one `h1` and a `main` (keyboard users skip
    /// to it).
    pub async fn assert_accessible(&self) {
        let found = self
            .run(
                "const unlabelled = [...document.querySelectorAll('input:not([type=hidden]), select, textarea')] \
                   .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label')) \
                   .map(el => el.name || el.id || el.outerHTML); \
                 return { unlabelled, h1: document.querySelectorAll('h1').length, main: !!document.querySelector('main#main') };",
            )
            .await;
        let path = self.path().await;
        assert_eq!(found["unlabelled"], json!([]), "fields without a label on {path}");
        assert_eq!(found["h1"], json!(1), "one h1 on {path}");
        assert_eq!(found["main"], json!(true), "a main landmark on {path}");
    }

    /// Runs `script` in the page and returns its value.
    pub async fn run(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    /// Saves a screenshot at `size` as `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str, size: (u32, u32)) {
        self.client.set_window_size(size.0, size.1).await.expect("resize");
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that failed never closed its session: its browser outlives
        // the driver unless ended by its profile's name.
        let _ = Command::new("pkill").arg("-f").arg(self.profile.as_os_str()).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
