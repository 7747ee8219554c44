//! A minimal browser for the portal's pages over plain HTTP: it keeps the
//! cookies the server sets, follows no redirect by itself (tests look at
//! each), and reads the CSRF token out of a form.

use std::collections::BTreeMap;

use reqwest::{header, redirect::Policy};

/// One page as the server answered it.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: header::HeaderMap,
    /// Body text.
    pub body: String,
}

impl Answer {
    /// The `Location` of a redirect.
    pub fn location(&self) -> Option<String> {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    /// The CSRF token of the page's first form.
    pub fn csrf(&self) -> String {
        value_of(&self.body, "csrf").unwrap_or_else(|| panic!("no csrf field in {}", self.body))
    }

    /// Every `Set-Cookie` of the answer.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    }
}

/// The `value` of the hidden input named `name`.
pub fn value_of(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// A visitor with its own cookies.
pub struct Visitor {
    base: String,
    http: reqwest::Client,
    /// The cookies it holds, by name.
    pub cookies: BTreeMap<String, String>,
    /// The `Accept-Language` it sends.
    pub language: Option<String>,
}

impl Visitor {
    /// A visitor of the server at `base`, with no cookies.
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().redirect(Policy::none()).timeout(std::time::Duration::from_secs(60)).build().expect("client");
        Visitor { base: base.to_owned(), http, cookies: BTreeMap::new(), language: None }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let mut request = request.header(header::COOKIE, self.cookie_header());
        if let Some(language) = &self.language {
            request = request.header(header::ACCEPT_LANGUAGE, language);
        }
        let response = request.send().await.expect("send");
        let answer = Answer { status: response.status().as_u16(), headers: response.headers().clone(), body: String::new() };
        for cookie in answer.set_cookies() {
            let pair = cookie.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if value.is_empty() || cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Answer { body: response.text().await.unwrap_or_default(), ..answer }
    }

    /// GET a path (or a full URL on the same server).
    pub async fn get(&mut self, path: &str) -> Answer {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        let request = self.http.get(url);
        self.send(request).await
    }

    /// POST a form.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let request = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    /// Logs in through the form of `/login?company=…` and checks it worked
    /// (it lands on the home of the account's area).
    pub async fn log_in(&mut self, company: &str, email: &str, password: &str) {
        let page = self.get(&format!("/login?company={company}")).await;
        let csrf = page.csrf();
        let answer = self.post("/login", &[("csrf", &csrf), ("email", email), ("password", password), ("company", company)]).await;
        let home = answer.location().unwrap_or_default();
        assert!(answer.status == 303 && ["/orders", "/admin", "/support"].contains(&home.as_str()), "{}", answer.body);
        assert!(self.cookies.contains_key("rastro_session"));
    }
}

impl Visitor {
    /// Logs in through `/support/login` (platform support has no company).
    pub async fn log_in_support(&mut self, email: &str, password: &str) {
        let page = self.get("/support/login").await;
        let answer = self.post("/support/login", &[("csrf", &page.csrf()), ("email", email), ("password", password)]).await;
        assert_eq!(answer.location().as_deref(), Some("/support"), "{}", answer.body);
    }
}

/// The first link in `text` that starts with `prefix`, up to a space, quote
/// or line end.
pub fn link_in(text: &str, prefix: &str) -> Option<String> {
    let at = text.find(prefix)?;
    let rest = &text[at..];
    let end = rest.find(|c: char| c.is_whitespace() || c == '"' || c == '<').unwrap_or(rest.len());
    Some(rest[..end].replace("&amp;", "&"))
}
