//! Live cross-checks against the `openssl` command (CI installs it): what we produce, OpenSSL
//! reads, and what OpenSSL produces, we read — on fresh random inputs, not only the fixtures.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::{path, text};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use wechatpay::{AesEcb, Formatter, Hash, Rsa};

fn openssl(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the openssl command is needed for these tests (apt-get install openssl)");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `openssl pkeyutl` options for RSA-OAEP with SHA-1 and MGF1-SHA-1, WeChat Pay's padding.
#[rustfmt::skip]
const OAEP_SHA1: [&str; 6] = [
    "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1", "-pkeyopt", "rsa_mgf1_md:sha1",
];

fn pkeyutl(operation: &str, key_args: &[&str], input: &[u8]) -> Vec<u8> {
    let args: Vec<&str> = ["pkeyutl", operation]
        .iter()
        .chain(key_args)
        .chain(&OAEP_SHA1)
        .copied()
        .collect();
    openssl(&args, input)
}

fn fixture(rel: &str) -> String {
    path(rel).display().to_string()
}

#[test]
fn our_oaep_ciphertexts_decrypt_with_openssl() {
    let public = Rsa::from_public(text("keys/merchant_cert.pem")).unwrap();
    for plaintext in ["张三", "13900000000", "110101199003077777", &"长".repeat(71)] {
        let ciphertext = STANDARD.decode(Rsa::encrypt(plaintext, &public).unwrap()).unwrap();
        let decrypted = pkeyutl(
            "-decrypt",
            &["-inkey", &fixture("keys/merchant_pkcs8.pem")],
            &ciphertext,
        );
        assert_eq!(String::from_utf8(decrypted).unwrap(), plaintext);
    }
}

#[test]
fn openssl_oaep_ciphertexts_decrypt_with_us() {
    let private = Rsa::from_private(text("keys/merchant_pkcs1.pem")).unwrap();
    let cert = fixture("keys/merchant_cert.pem");
    for _ in 0..4 {
        let plaintext = Formatter::nonce(40).unwrap();
        let ciphertext = pkeyutl("-encrypt", &["-certin", "-inkey", &cert], plaintext.as_bytes());
        assert_eq!(Rsa::decrypt(&STANDARD.encode(ciphertext), &private).unwrap(), plaintext);
    }
}

#[test]
fn fresh_signatures_are_byte_identical_to_openssl() {
    let private = Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap();
    for size in [0, 1, 100, 5000] {
        let body = if size == 0 {
            String::new()
        } else {
            Formatter::nonce(size).unwrap()
        };
        let message = Formatter::request("POST", "/v3/pay/transactions/jsapi", 1_700_000_000, "N", &body);
        let theirs = openssl(
            &["dgst", "-sha256", "-sign", &fixture("keys/merchant_pkcs8.pem")],
            message.as_bytes(),
        );
        assert_eq!(Rsa::sign(&message, &private).unwrap(), STANDARD.encode(theirs));
    }
}

#[test]
fn aes_ecb_and_digests_agree_with_openssl_on_random_input() {
    let key = Hash::md5(&Formatter::nonce(32).unwrap(), "", false);
    let key_hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    for size in [1, 15, 16, 17, 1000] {
        let plain = Formatter::nonce(size).unwrap();
        let theirs = openssl(&["enc", "-aes-256-ecb", "-K", &key_hex], plain.as_bytes());
        assert_eq!(AesEcb::encrypt(&plain, &key).unwrap(), STANDARD.encode(&theirs));

        let secret = Formatter::nonce(32).unwrap();
        let signed = format!("{plain}&key={secret}");
        let md5 = String::from_utf8(openssl(&["dgst", "-md5", "-r"], signed.as_bytes())).unwrap();
        assert_eq!(Hash::md5(&plain, &secret, false), md5.split(' ').next().unwrap());
        let hmac = String::from_utf8(openssl(&["dgst", "-sha256", "-hmac", &secret, "-r"], signed.as_bytes())).unwrap();
        assert_eq!(Hash::hmac(&plain, &secret), hmac.split(' ').next().unwrap());
    }
}
