//! Tests that only make sense on one database are marked for the other, so
//! the runner shows them as ignored instead of passing them silently:
//! `postgres_tests` is set when the suite is built to run against PostgreSQL
//! (`TEST_DATABASE_URL`); `zeep_tests` when a Python with zeep is named by
//! `RASTRO_ZEEP_PYTHON` (`.ci/run` makes one); `browser_tests` when a
//! ChromeDriver is named by `RASTRO_CHROMEDRIVER` (`.ci/run` installs Debian's
//! `chromium` and `chromium-driver`).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(zeep_tests)");
    println!("cargo::rerun-if-env-changed=RASTRO_ZEEP_PYTHON");
    println!("cargo::rustc-check-cfg=cfg(browser_tests)");
    println!("cargo::rerun-if-env-changed=RASTRO_CHROMEDRIVER");
    if std::env::var_os("RASTRO_CHROMEDRIVER").is_some() {
        println!("cargo::rustc-cfg=browser_tests");
    }
    if std::env::var_os("RASTRO_ZEEP_PYTHON").is_some() {
        println!("cargo::rustc-cfg=zeep_tests");
    }
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
