//! Every key and certificate form wechatpay-php accepts loads; every bad input is refused with
//! an error that says what was wrong, and nothing panics.

use crate::common;
use crate::common::{file_uri, path, text};
use wechatpay::{Error, KeyError, PemUtil, Rsa};

fn key_error(result: wechatpay::Result<impl std::fmt::Debug>) -> KeyError {
    match result {
        Err(Error::Key(e)) => e,
        other => panic!("expected a key error, got {other:?}"),
    }
}

#[test]
fn private_key_forms_all_load_the_same_key() {
    let reference = Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap();
    let passphrase = text("keys/merchant_passphrase.txt");
    let loaded = [
        Rsa::from_private(text("keys/merchant_pkcs1.pem")).unwrap(),
        Rsa::from_private(file_uri("keys/merchant_pkcs8.pem")).unwrap(),
        Rsa::from_private(file_uri("keys/merchant_pkcs1.pem")).unwrap(),
        Rsa::from_private(file_uri("keys/merchant_pkcs8.der")).unwrap(),
        Rsa::from_private(file_uri("keys/merchant_pkcs1.der")).unwrap(),
        Rsa::from_private(format!("private.pkcs8://{}", text("keys/merchant_pkcs8.b64"))).unwrap(),
        Rsa::from_private(format!("private.pkcs1://{}", text("keys/merchant_pkcs1.b64"))).unwrap(),
        Rsa::from_pkcs8(text("keys/merchant_pkcs8.b64")).unwrap(),
        Rsa::from_pkcs1(text("keys/merchant_pkcs1.b64")).unwrap(),
        Rsa::from_private_with_passphrase(text("keys/merchant_encrypted.pem"), &passphrase).unwrap(),
        Rsa::from_private_with_passphrase(file_uri("keys/merchant_encrypted.der"), &passphrase).unwrap(),
        PemUtil::load_private_key(path("keys/merchant_pkcs8.pem")).unwrap(),
        PemUtil::load_private_key(file_uri("keys/merchant_pkcs1.pem")).unwrap(),
        PemUtil::load_private_key_from_string(text("keys/merchant_pkcs1.pem")).unwrap(),
        wechatpay::PrivateKey::from_pkcs8_der(&common::bytes("keys/merchant_pkcs8.der")).unwrap(),
        wechatpay::PrivateKey::from_pkcs1_der(&common::bytes("keys/merchant_pkcs1.der")).unwrap(),
    ];
    for (i, key) in loaded.iter().enumerate() {
        assert_eq!(key.public_key(), reference.public_key(), "form #{i}");
        assert_eq!(key.bits(), 2048);
    }
    // A passphrase given for an unencrypted key is ignored, as OpenSSL does.
    assert!(Rsa::from_private_with_passphrase(text("keys/merchant_pkcs8.pem"), "unused").is_ok());
}

#[test]
fn pem_with_crlf_and_preamble_loads() {
    let pem = text("keys/merchant_pkcs1.pem").replace('\n', "\r\n");
    assert!(Rsa::from_private(format!("Bag Attributes\r\n    friendlyName: x\r\n{pem}")).is_ok());
}

#[test]
fn combined_key_and_certificate_file_gives_each_loader_its_part() {
    let combined = text("keys/merchant_combined.pem");
    let private = Rsa::from_private(&combined).unwrap();
    let public = Rsa::from_public(&combined).unwrap();
    assert_eq!(private.public_key(), &public);
    assert_eq!(
        PemUtil::load_certificate_from_string(&combined).unwrap().serial_no(),
        text("keys/merchant_cert.serial").trim()
    );
}

#[test]
fn keys_over_4096_bits_load_and_verify_on_both_backends() {
    let public = Rsa::from_public(text("keys/rsa5120_public.pem")).unwrap();
    assert_eq!(public.bits(), 5120);
    let signature = text("vectors/message.rsa5120.sig.b64");
    assert!(Rsa::verify(text("vectors/message.txt"), &signature, &public).unwrap());
    assert!(Rsa::encrypt("13900000000", &public).is_ok());
}

#[test]
fn public_key_forms_all_load_the_same_key() {
    let reference = Rsa::from_public(text("keys/platform_public_spki.pem")).unwrap();
    let loaded = [
        Rsa::from_public(text("keys/platform_public_pkcs1.pem")).unwrap(),
        Rsa::from_public(text("keys/platform_cert.pem")).unwrap(),
        Rsa::from_public(file_uri("keys/platform_public_spki.pem")).unwrap(),
        Rsa::from_public(file_uri("keys/platform_public_pkcs1.pem")).unwrap(),
        Rsa::from_public(file_uri("keys/platform_cert.pem")).unwrap(),
        Rsa::from_public(file_uri("keys/platform_public_spki.der")).unwrap(),
        Rsa::from_public(file_uri("keys/platform_public_pkcs1.der")).unwrap(),
        Rsa::from_public(file_uri("keys/platform_cert.der")).unwrap(),
        Rsa::from_public(format!("public.spki://{}", text("keys/platform_public_spki.b64"))).unwrap(),
        Rsa::from_public(format!("public.pkcs1://{}", text("keys/platform_public_pkcs1.b64"))).unwrap(),
        Rsa::from_spki(text("keys/platform_public_spki.b64")).unwrap(),
        Rsa::from_pkcs1_public(text("keys/platform_public_pkcs1.b64")).unwrap(),
        wechatpay::PublicKey::from_spki_der(&common::bytes("keys/platform_public_spki.der")).unwrap(),
        wechatpay::PublicKey::from_pkcs1_der(&common::bytes("keys/platform_public_pkcs1.der")).unwrap(),
    ];
    for (i, key) in loaded.iter().enumerate() {
        assert_eq!(key, &reference, "form #{i}");
    }
    assert_eq!(reference.to_pem(), text("keys/platform_public_spki.pem"));
    assert_eq!(reference.spki_der(), common::bytes("keys/platform_public_spki.der"));
    assert_eq!(reference.pkcs1_der(), common::bytes("keys/platform_public_pkcs1.der"));
}

#[test]
fn pkcs1_to_spki_matches_openssl() {
    let spki = Rsa::pkcs1_to_spki(text("keys/platform_public_pkcs1.b64")).unwrap();
    assert_eq!(spki, text("keys/platform_public_spki.b64"));
    assert!(matches!(key_error(Rsa::pkcs1_to_spki("AAAA")), KeyError::Der { .. }));
    assert!(matches!(key_error(Rsa::pkcs1_to_spki("A*")), KeyError::Base64 { .. }));
}

#[test]
fn non_rsa_keys_are_named() {
    for (fixture, name) in [
        ("keys/ec_pkcs8.pem", "EC"),
        ("keys/ec_sec1.pem", "EC"),
        ("keys/ed25519.pem", "Ed25519"),
        ("keys/sm2.pem", "SM2"),
    ] {
        match key_error(Rsa::from_private(text(fixture))) {
            KeyError::NotRsa { algorithm } => assert!(algorithm.contains(name), "{fixture}: {algorithm}"),
            other => panic!("{fixture}: {other:?}"),
        }
    }
    match key_error(Rsa::from_public(text("keys/ec_public.pem"))) {
        KeyError::NotRsa { algorithm } => assert!(algorithm.contains("1.2.840.10045.2.1"), "{algorithm}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn small_keys_are_refused_with_their_size() {
    assert!(matches!(
        key_error(Rsa::from_private(text("keys/rsa1024.pem"))),
        KeyError::TooSmall { bits: 1024 }
    ));
    assert!(matches!(
        key_error(Rsa::from_public(text("keys/rsa1024_public.pem"))),
        KeyError::TooSmall { bits: 1024 }
    ));
}

#[test]
fn wrong_kind_of_input_is_named() {
    assert!(matches!(
        key_error(Rsa::from_private(text("keys/merchant_cert.pem"))),
        KeyError::CertificateGiven
    ));
    assert!(matches!(
        key_error(Rsa::from_private(file_uri("keys/platform_cert.der"))),
        KeyError::CertificateGiven
    ));
    assert!(matches!(
        key_error(Rsa::from_private(text("keys/platform_public_spki.pem"))),
        KeyError::PublicKeyGiven
    ));
    assert!(matches!(
        key_error(Rsa::from_private(format!(
            "public.spki://{}",
            text("keys/platform_public_spki.b64")
        ))),
        KeyError::PublicKeyGiven
    ));
    assert!(matches!(
        key_error(Rsa::from_public(text("keys/merchant_pkcs8.pem"))),
        KeyError::PrivateKeyGiven
    ));
    assert!(matches!(
        key_error(Rsa::from_public(file_uri("keys/merchant_pkcs1.der"))),
        KeyError::PrivateKeyGiven
    ));
    assert!(matches!(
        key_error(PemUtil::load_certificate(path("keys/merchant_pkcs8.pem"))),
        KeyError::PrivateKeyGiven
    ));
}

#[test]
fn encrypted_key_without_or_with_wrong_passphrase() {
    assert!(matches!(
        key_error(Rsa::from_private(text("keys/merchant_encrypted.pem"))),
        KeyError::PassphraseRequired
    ));
    assert!(matches!(
        key_error(Rsa::from_private(file_uri("keys/merchant_encrypted.der"))),
        KeyError::PassphraseRequired
    ));
    assert!(matches!(
        key_error(Rsa::from_private_with_passphrase(
            text("keys/merchant_encrypted.pem"),
            "wrong"
        )),
        KeyError::WrongPassphrase
    ));
}

#[test]
fn truncated_or_corrupt_base64_is_named() {
    let b64 = text("keys/merchant_pkcs8.b64");
    // One character past a quantum boundary: the base64 itself is invalid.
    let cut = (b64.len() / 2) / 4 * 4;
    assert!(matches!(
        key_error(Rsa::from_pkcs8(&b64[..cut + 1])),
        KeyError::Base64 { .. }
    ));
    // Cut on a quantum boundary: valid base64, truncated DER.
    assert!(matches!(key_error(Rsa::from_pkcs8(&b64[..cut])), KeyError::Der { .. }));
    assert!(matches!(key_error(Rsa::from_pkcs8("")), KeyError::Base64 { .. }));
    assert!(matches!(key_error(Rsa::from_pkcs8("!!!!")), KeyError::Base64 { .. }));
    // Truncated PEM: no END line.
    let pem = text("keys/merchant_pkcs8.pem");
    assert!(matches!(
        key_error(Rsa::from_private(&pem[..pem.len() / 2])),
        KeyError::Pem { .. }
    ));
    // Every cut of a DER key errors with a DER error, never panics.
    let der = common::bytes("keys/merchant_pkcs8.der");
    for cut in 0..der.len() {
        assert!(
            matches!(
                wechatpay::PrivateKey::from_pkcs8_der(&der[..cut]),
                Err(Error::Key(KeyError::Der { .. }))
            ),
            "cut at {cut}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cut.der");
    std::fs::write(&file, &der[..der.len() / 2]).unwrap();
    assert!(Rsa::from_private(format!("file://{}", file.display())).is_err());
}

#[test]
fn wrong_file_path_names_the_path() {
    match key_error(Rsa::from_private("file:///nonexistent/apiclient_key.pem")) {
        KeyError::File { path, source } => {
            assert_eq!(path, std::path::Path::new("/nonexistent/apiclient_key.pem"));
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
    let err = Rsa::from_public("file:///nonexistent/cert.pem").unwrap_err();
    assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    assert!(matches!(
        key_error(PemUtil::load_certificate("/nonexistent/cert.pem")),
        KeyError::File { .. }
    ));
    // file:// works for certificates as for keys.
    let by_uri = PemUtil::load_certificate(file_uri("keys/platform_cert.pem")).unwrap();
    let from_string = PemUtil::load_certificate_from_string(file_uri("keys/platform_cert.pem")).unwrap();
    assert_eq!(by_uri.der(), from_string.der());
}

#[test]
fn unrecognized_inputs_do_not_echo_secrets() {
    let secret = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ";
    let err = Rsa::from_private(secret).unwrap_err();
    assert!(matches!(err, Error::Key(KeyError::UnrecognizedInput { .. })));
    assert!(!err.to_string().contains(secret));
    assert!(!format!("{err:?}").contains(secret));
    assert!(matches!(
        key_error(Rsa::from_public("hello")),
        KeyError::UnrecognizedInput { .. }
    ));
    assert!(matches!(
        key_error(Rsa::from_public(
            "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"
        )),
        KeyError::UnsupportedPemLabel { .. }
    ));
}

#[test]
fn debug_never_prints_key_material() {
    let key = Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap();
    let debug = format!("{key:?}");
    assert_eq!(debug, "PrivateKey { bits: 2048, .. }");
    let b64 = text("keys/merchant_pkcs8.b64");
    assert!(!debug.contains(&b64[40..60]));
}

#[test]
fn keys_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<wechatpay::PrivateKey>();
    assert_send_sync::<wechatpay::PublicKey>();
    assert_send_sync::<wechatpay::Certificate>();
    assert_send_sync::<wechatpay::KeyRing>();
    assert_send_sync::<wechatpay::NotificationVerifier>();

    let key = Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap();
    let signatures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let key = key.clone();
                s.spawn(move || Rsa::sign("same message", &key).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(signatures.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn certificate_serial_and_validity_match_openssl() {
    for name in ["merchant_cert", "platform_cert"] {
        let cert = PemUtil::load_certificate(path(&format!("keys/{name}.pem"))).unwrap();
        assert_eq!(
            PemUtil::parse_certificate_serial_no(&cert),
            text(&format!("keys/{name}.serial")).trim()
        );
    }
    // The merchant serial starts with 0x8F: DER stores a leading 00 that must not show.
    let merchant = PemUtil::load_certificate(path("keys/merchant_cert.pem")).unwrap();
    assert!(merchant.serial_no().starts_with("8F"));
    let private = Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap();
    assert!(merchant.matches(&private));

    let platform = PemUtil::load_certificate(path("keys/platform_cert.der")).unwrap();
    assert!(!platform.matches(&private));
    assert_eq!(
        platform.public_key(),
        &Rsa::from_public(text("keys/platform_public_spki.pem")).unwrap()
    );
    // notBefore/notAfter exactly as OpenSSL printed them ("Nov 27 01:43:23 2026 GMT").
    let dates = text("keys/platform_cert.dates");
    let openssl_time = |prefix: &str| -> std::time::SystemTime {
        let line = dates.lines().find_map(|l| l.strip_prefix(prefix)).unwrap();
        let parts: Vec<&str> = line.split_whitespace().collect();
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let month = months.iter().position(|m| *m == parts[0]).unwrap() as i64 + 1;
        let (day, year): (i64, i64) = (parts[1].parse().unwrap(), parts[3].parse().unwrap());
        let hms: Vec<i64> = parts[2].split(':').map(|x| x.parse().unwrap()).collect();
        // Days from the civil date (Howard Hinnant's algorithm).
        let (y, m) = if month <= 2 {
            (year - 1, month + 9)
        } else {
            (year, month - 3)
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + day - 1;
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
        let secs = days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64)
    };
    assert_eq!(platform.not_before(), openssl_time("notBefore="));
    assert_eq!(platform.not_after(), openssl_time("notAfter="));
    assert!(platform.is_valid_at(platform.not_before()));
    assert!(!platform.is_valid_at(platform.not_after() + std::time::Duration::from_secs(1)));
    let reparsed = PemUtil::load_certificate_from_string(platform.to_pem()).unwrap();
    assert_eq!(reparsed.der(), platform.der());
    assert!(platform.subject().contains("CN=Test WeChat Pay Platform Certificate"));
}
