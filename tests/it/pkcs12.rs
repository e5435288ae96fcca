//! `apiclient_cert.p12` loads (legacy RC2/3DES and AES), with the mchid as the default password.

use crate::common::{bytes, text};
use wechatpay::{Error, KeyError, PemUtil, Rsa};

#[test]
fn legacy_and_modern_p12_files_load_the_merchant_certificate() {
    let merchant = Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap();
    for file in ["keys/apiclient_cert_legacy.p12", "keys/apiclient_cert.p12"] {
        let (certificate, key) = PemUtil::load_pkcs12(bytes(file), "1900000109").unwrap();
        assert!(certificate.matches(&key), "{file}");
        assert_eq!(key.public_key(), merchant.public_key(), "{file}");
        assert_eq!(certificate.serial_no(), text("keys/merchant_cert.serial").trim());
    }
    assert!(matches!(
        PemUtil::load_pkcs12(bytes("keys/apiclient_cert.p12"), "wrong"),
        Err(Error::Key(KeyError::WrongPassphrase))
    ));
    assert!(matches!(
        PemUtil::load_pkcs12(b"not a p12", "x"),
        Err(Error::Key(KeyError::Der { .. }))
    ));
}

#[test]
fn the_builder_takes_the_p12_with_the_mchid_as_password() {
    let builder = wechatpay::Builder::new()
        .mchid("1900000109")
        .secret("0123456789abcdef0123456789abcdef")
        .merchant_pkcs12(bytes("keys/apiclient_cert_legacy.p12"), None)
        .unwrap();
    assert!(builder.build().is_ok());
    let err = wechatpay::Builder::new()
        .merchant_pkcs12(bytes("keys/apiclient_cert.p12"), None)
        .unwrap_err();
    assert!(err.to_string().contains("mchid"), "{err}");
}
