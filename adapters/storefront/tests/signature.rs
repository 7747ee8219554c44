//! Webhook signatures: known HMAC vectors, a flipped byte, a rotated secret,
//! the generic event's timestamp window.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use adapter_storefront::signature::{generic, generic_headers, nuvemshop, shopify, sign, SignatureError, MAX_SKEW_SECONDS};
use chrono::{DateTime, Duration, Utc};

const BODY: &[u8] = br#"{"id":820982911946154508,"email":"jon@example.com","fulfillment_status":null}"#;
const SECRET: &[u8] = b"hush";

#[test]
fn the_rfc_4231_vector_signs_as_published() {
    // RFC 4231, test case 2.
    assert_eq!(hex::encode(sign(b"Jefe", b"what do ya want for nothing?")), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert!(shopify(&[b"Jefe"], b"what do ya want for nothing?", Some("W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=")).is_ok());
}

#[test]
fn shopify_signs_the_raw_body_in_base64() {
    let header = "hPArqfZA3BCS3clC8KM8EJJI3Vrh2q14RfVD9FAgm6U=";
    assert_eq!(shopify(&[SECRET], BODY, Some(header)), Ok(()));
    assert_eq!(shopify(&[SECRET], BODY, Some(&format!(" {header} "))), Ok(()));
    // One byte of the body flipped, or another secret: refused.
    let mut flipped = BODY.to_vec();
    flipped[10] ^= 1;
    assert_eq!(shopify(&[SECRET], &flipped, Some(header)), Err(SignatureError::Mismatch));
    assert_eq!(shopify(&[b"another"], BODY, Some(header)), Err(SignatureError::Mismatch));
    // The hex of the same MAC is not what Shopify sends.
    assert_eq!(shopify(&[SECRET], BODY, Some("84f02ba9f640dc1092ddc942f0a33c109248dd5ae1daad7845f543f450209ba5")), Err(SignatureError::Mismatch));
    assert_eq!(shopify(&[SECRET], BODY, Some("not base64!")), Err(SignatureError::Malformed("X-Shopify-Hmac-Sha256")));
    assert_eq!(shopify(&[SECRET], BODY, None), Err(SignatureError::Missing("X-Shopify-Hmac-Sha256")));
    assert_eq!(shopify(&[SECRET], BODY, Some("  ")), Err(SignatureError::Missing("X-Shopify-Hmac-Sha256")));
    assert_eq!(shopify(&[], BODY, Some(header)), Err(SignatureError::NoSecret));
}

#[test]
fn nuvemshop_signs_the_raw_body_in_hex() {
    let header = "84f02ba9f640dc1092ddc942f0a33c109248dd5ae1daad7845f543f450209ba5";
    assert_eq!(nuvemshop(&[SECRET], BODY, Some(header)), Ok(()));
    assert_eq!(nuvemshop(&[SECRET], BODY, Some(&header.to_uppercase())), Ok(()));
    assert_eq!(nuvemshop(&[SECRET], &BODY[1..], Some(header)), Err(SignatureError::Mismatch));
    assert_eq!(nuvemshop(&[SECRET], BODY, Some(&header[..63])), Err(SignatureError::Malformed("X-Linkedstore-HMAC-SHA256")));
    assert_eq!(nuvemshop(&[SECRET], BODY, Some(&header[..62])), Err(SignatureError::Mismatch), "a short MAC is no match");
    assert_eq!(nuvemshop(&[SECRET], BODY, None), Err(SignatureError::Missing("X-Linkedstore-HMAC-SHA256")));
}

#[test]
fn a_rotated_secret_signs_while_the_company_still_has_it() {
    let header = "hPArqfZA3BCS3clC8KM8EJJI3Vrh2q14RfVD9FAgm6U=";
    // The new secret first, the previous one through its grace period.
    assert_eq!(shopify(&[b"the-new-secret", SECRET], BODY, Some(header)), Ok(()));
    assert_eq!(shopify(&[SECRET, b"the-new-secret"], BODY, Some(header)), Ok(()));
    assert_eq!(shopify(&[b"the-new-secret"], BODY, Some(header)), Err(SignatureError::Mismatch));
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

#[test]
fn the_generic_event_signs_its_timestamp_with_its_body() {
    let now = at(1_764_928_800);
    let signature = "sha256=ad27b3e5eea09c252717303ebda2d32146515cd4c2162e3b27f253bcfd9abd11";
    assert_eq!(generic(&[SECRET], BODY, Some("1764928800"), Some(signature), now), Ok(()));
    assert_eq!(generic_headers(SECRET, BODY, now), ("1764928800".to_owned(), signature.to_owned()));
    // Another timestamp with the same signature: the timestamp is signed too.
    assert_eq!(generic(&[SECRET], BODY, Some("1764928801"), Some(signature), now), Err(SignatureError::Mismatch));
    let mut flipped = BODY.to_vec();
    *flipped.last_mut().unwrap() ^= 0x20;
    assert_eq!(generic(&[SECRET], &flipped, Some("1764928800"), Some(signature), now), Err(SignatureError::Mismatch));
    // The prefix says the algorithm.
    assert_eq!(generic(&[SECRET], BODY, Some("1764928800"), Some(&signature[7..]), now), Err(SignatureError::Malformed("X-Rastro-Signature")));
    assert_eq!(generic(&[SECRET], BODY, Some("1764928800"), Some("sha256=zz"), now), Err(SignatureError::Malformed("X-Rastro-Signature")));
    assert_eq!(generic(&[SECRET], BODY, Some("yesterday"), Some(signature), now), Err(SignatureError::Malformed("X-Rastro-Timestamp")));
    assert_eq!(generic(&[SECRET], BODY, None, Some(signature), now), Err(SignatureError::Missing("X-Rastro-Timestamp")));
    assert_eq!(generic(&[SECRET], BODY, Some("1764928800"), None, now), Err(SignatureError::Missing("X-Rastro-Signature")));
    assert_eq!(generic(&[], BODY, Some("1764928800"), Some(signature), now), Err(SignatureError::NoSecret));
}

#[test]
fn a_generic_event_is_accepted_within_five_minutes_either_way_and_no_further() {
    let signed_at = Utc::now();
    let (timestamp, signature) = generic_headers(SECRET, BODY, signed_at);
    let check = |now: DateTime<Utc>| generic(&[SECRET], BODY, Some(&timestamp), Some(&signature), now);
    let sent = at(signed_at.timestamp());
    assert_eq!(check(sent + Duration::seconds(MAX_SKEW_SECONDS)), Ok(()));
    assert_eq!(check(sent - Duration::seconds(MAX_SKEW_SECONDS)), Ok(()));
    assert_eq!(check(sent + Duration::seconds(MAX_SKEW_SECONDS + 1)), Err(SignatureError::Stale(MAX_SKEW_SECONDS + 1)));
    assert_eq!(check(sent - Duration::seconds(MAX_SKEW_SECONDS + 1)), Err(SignatureError::Stale(-MAX_SKEW_SECONDS - 1)));
    // A timestamp no clock can reach does not overflow.
    assert!(matches!(generic(&[SECRET], BODY, Some(&i64::MIN.to_string()), Some(&signature), sent), Err(SignatureError::Stale(_))));
    assert_eq!(SignatureError::Stale(400).to_string(), "the timestamp is 400 s away from now; at most 300 s is accepted");
}

#[test]
fn magento_carries_the_secret_or_signs_like_the_generic_event() {
    use adapter_storefront::signature::magento;
    let now = Utc::now();
    let secret = "mg_secret-of-the-company-01";
    assert_eq!(magento(&[secret.as_bytes()], BODY, None, None, Some(secret), now), Ok(()));
    assert_eq!(magento(&[b"older-secret-in-grace", secret.as_bytes()], BODY, None, None, Some(&format!(" {secret} ")), now), Ok(()));
    assert_eq!(magento(&[secret.as_bytes()], BODY, None, None, Some("mg_secret-of-the-company-0"), now), Err(SignatureError::Mismatch));
    assert_eq!(magento(&[secret.as_bytes()], BODY, None, None, Some("mg_secret-of-the-company-011"), now), Err(SignatureError::Mismatch));
    assert_eq!(magento(&[secret.as_bytes()], BODY, None, None, None, now), Err(SignatureError::Missing("X-Rastro-Webhook-Secret")));
    assert_eq!(magento(&[], BODY, None, None, Some(secret), now), Err(SignatureError::NoSecret));
    // Signed: the signature is what counts, over the body, in its time window.
    let (timestamp, signature) = generic_headers(secret.as_bytes(), BODY, now);
    assert_eq!(magento(&[secret.as_bytes()], BODY, Some(&timestamp), Some(&signature), None, now), Ok(()));
    let mut flipped = BODY.to_vec();
    flipped[3] ^= 1;
    assert_eq!(magento(&[secret.as_bytes()], &flipped, Some(&timestamp), Some(&signature), Some(secret), now), Err(SignatureError::Mismatch));
    assert!(matches!(
        magento(&[secret.as_bytes()], BODY, Some(&timestamp), Some(&signature), None, now + Duration::minutes(6)),
        Err(SignatureError::Stale(_))
    ));
}
