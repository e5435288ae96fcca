//! Known answers: RSA signatures byte-identical to OpenSSL, OAEP ciphertexts from OpenSSL,
//! AES-GCM vectors from Python's `cryptography`, AES-ECB and MD5/HMAC from OpenSSL.

use crate::common::{hex, text};
use wechatpay::{AesEcb, AesGcm, CryptoError, Error, Hash, Rsa, SignType};

fn crypto_error<T: std::fmt::Debug>(result: wechatpay::Result<T>) -> CryptoError {
    match result {
        Err(Error::Crypto(e)) => e,
        other => panic!("expected a crypto error, got {other:?}"),
    }
}

#[test]
fn signatures_are_byte_identical_to_openssl() {
    let key = Rsa::from_private(text("keys/merchant_pkcs1.pem")).unwrap();
    assert_eq!(
        Rsa::sign(text("vectors/message.txt"), &key).unwrap(),
        text("vectors/message.sig.b64")
    );
    assert_eq!(Rsa::sign("", &key).unwrap(), text("vectors/empty.sig.b64"));
    let big = Rsa::from_private(text("keys/rsa4096.pem")).unwrap();
    assert_eq!(big.bits(), 4096);
    assert_eq!(
        Rsa::sign(text("vectors/message.txt"), &big).unwrap(),
        text("vectors/message.rsa4096.sig.b64")
    );
}

#[test]
fn openssl_signatures_verify_and_tampering_does_not() {
    let public = Rsa::from_public(text("keys/merchant_cert.pem")).unwrap();
    let message = text("vectors/message.txt");
    let signature = text("vectors/message.sig.b64");
    assert!(Rsa::verify(&message, &signature, &public).unwrap());
    assert!(!Rsa::verify(message.replace("1554208460", "1554208461"), &signature, &public).unwrap());
    let other = Rsa::from_public(text("keys/platform_public_spki.pem")).unwrap();
    assert!(!Rsa::verify(&message, &signature, &other).unwrap());
    // A signature of the wrong length is a mismatch, not an error.
    assert!(!Rsa::verify(&message, "AAAA", &public).unwrap());
    assert!(matches!(
        crypto_error(Rsa::verify(&message, "not base64!", &public)),
        CryptoError::Base64 { what: "signature", .. }
    ));
}

#[test]
fn oaep_from_openssl_decrypts() {
    let key = Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap();
    assert_eq!(
        Rsa::decrypt(&text("vectors/oaep_openssl.b64"), &key).unwrap(),
        text("vectors/oaep_plaintext.txt")
    );
    // The wrong private key cannot.
    let other = Rsa::from_private(text("keys/platform_key.pem")).unwrap();
    assert!(matches!(
        crypto_error(Rsa::decrypt(&text("vectors/oaep_openssl.b64"), &other)),
        CryptoError::Decrypt { algorithm: "RSA-OAEP" }
    ));
}

#[test]
fn oaep_round_trip_is_randomized_and_bounded() {
    let private = Rsa::from_private(text("keys/merchant_pkcs8.pem")).unwrap();
    let public = private.public_key();
    let a = Rsa::encrypt("13900000000", public).unwrap();
    let b = Rsa::encrypt("13900000000", public).unwrap();
    assert_ne!(a, b, "OAEP must be randomized");
    assert_eq!(Rsa::decrypt(&a, &private).unwrap(), "13900000000");
    // 2048-bit key, SHA-1: 256 - 42 = 214 bytes at most.
    assert!(Rsa::encrypt("x".repeat(214), public).is_ok());
    assert_eq!(
        crypto_error(Rsa::encrypt("x".repeat(215), public)),
        CryptoError::MessageTooLong { max: 214, actual: 215 }
    );
    assert!(matches!(
        crypto_error(Rsa::decrypt("%%%", &private)),
        CryptoError::Base64 { .. }
    ));
    assert!(matches!(
        crypto_error(Rsa::decrypt("AAAA", &private)),
        CryptoError::Decrypt { .. }
    ));
}

#[derive(serde::Deserialize)]
struct GcmVector {
    key: String,
    nonce: String,
    aad: String,
    plaintext: String,
    sealed: String,
}

#[test]
fn aes_gcm_matches_independent_vectors() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let vectors: Vec<GcmVector> = serde_json::from_str(&text("vectors/aes_gcm.json")).unwrap();
    assert!(vectors.len() >= 6);
    for v in &vectors {
        let (key, nonce, aad, plain, sealed) = (
            hex(&v.key),
            hex(&v.nonce),
            hex(&v.aad),
            hex(&v.plaintext),
            hex(&v.sealed),
        );
        assert_eq!(
            AesGcm::encrypt(&plain, &key, &nonce, &aad).unwrap(),
            b64.encode(&sealed)
        );
        assert_eq!(
            AesGcm::decrypt_bytes(&b64.encode(&sealed), &key, &nonce, &aad).unwrap(),
            plain
        );
    }
}

#[test]
fn aes_gcm_published_test_case_16() {
    // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 60-byte
    // plaintext, 20-byte AAD), as published in the GCM specification.
    let key = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    let nonce = hex("cafebabefacedbaddecaf888");
    let plain = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let expected = hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b");
    use base64::Engine;
    let sealed = AesGcm::encrypt(&plain, &key, &nonce, &aad).unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD.decode(&sealed).unwrap(),
        expected
    );
}

#[test]
fn aes_gcm_rejects_bad_sizes_and_tampering() {
    let key = "0123456789abcdefghijklmnopqrstuv";
    let sealed = AesGcm::encrypt("payload", key, "0123456789ab", "certificate").unwrap();
    assert_eq!(
        crypto_error(AesGcm::encrypt("p", "short", "0123456789ab", "")),
        CryptoError::KeyLength {
            algorithm: "AEAD_AES_256_GCM",
            expected: 32,
            actual: 5
        }
    );
    assert_eq!(
        crypto_error(AesGcm::decrypt(&sealed, "short", "0123456789ab", "")),
        CryptoError::KeyLength {
            algorithm: "AEAD_AES_256_GCM",
            expected: 32,
            actual: 5
        }
    );
    assert_eq!(
        crypto_error(AesGcm::decrypt(&sealed, key, "0123456789", "certificate")),
        CryptoError::NonceLength {
            algorithm: "AEAD_AES_256_GCM",
            expected: 12,
            actual: 10
        }
    );
    // Named even when the ciphertext is too short to hold a tag.
    assert_eq!(
        crypto_error(AesGcm::decrypt("AAAA", key, "short", "")),
        CryptoError::NonceLength {
            algorithm: "AEAD_AES_256_GCM",
            expected: 12,
            actual: 5
        }
    );
    assert_eq!(
        crypto_error(AesGcm::encrypt("p", key, "0123456789abc", "")),
        CryptoError::NonceLength {
            algorithm: "AEAD_AES_256_GCM",
            expected: 12,
            actual: 13
        }
    );
    let decrypt_failed = CryptoError::Decrypt {
        algorithm: "AEAD_AES_256_GCM",
    };
    assert_eq!(
        crypto_error(AesGcm::decrypt(&sealed, key, "0123456789ab", "other")),
        decrypt_failed
    );
    assert_eq!(
        crypto_error(AesGcm::decrypt(&sealed, key, "ba9876543210", "certificate")),
        decrypt_failed
    );
    assert_eq!(
        crypto_error(AesGcm::decrypt(
            &sealed,
            "vutsrqponmlkjihgfedcba9876543210",
            "0123456789ab",
            "certificate"
        )),
        decrypt_failed
    );
    assert_eq!(
        crypto_error(AesGcm::decrypt("AAAA", key, "0123456789ab", "")),
        decrypt_failed
    );
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut bytes = b64.decode(&sealed).unwrap();
    bytes[0] ^= 1;
    assert_eq!(
        crypto_error(AesGcm::decrypt(&b64.encode(&bytes), key, "0123456789ab", "certificate")),
        decrypt_failed
    );
    assert!(matches!(
        crypto_error(AesGcm::decrypt("@@", key, "0123456789ab", "")),
        CryptoError::Base64 { .. }
    ));
    // Binary plaintext through the text API is an error, not mojibake.
    let binary = AesGcm::encrypt([0xff, 0xfe], key, "0123456789ab", "").unwrap();
    assert!(matches!(
        crypto_error(AesGcm::decrypt(&binary, key, "0123456789ab", "")),
        CryptoError::NotUtf8 { .. }
    ));
}

fn hash_fixture(name: &str) -> String {
    text("vectors/hash.txt")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")).map(str::to_owned))
        .unwrap()
}

#[test]
fn md5_and_hmac_match_openssl() {
    let (data, key) = (hash_fixture("data"), hash_fixture("key"));
    assert_eq!(Hash::md5(&data, &key, false), hash_fixture("md5"));
    assert_eq!(Hash::md5(&data, &key, true), hash_fixture("md5_agency"));
    assert_eq!(Hash::md5(&data, "", false), hash_fixture("md5_nokey"));
    assert_eq!(Hash::hmac(&data, &key), hash_fixture("hmac"));
    assert_eq!(
        Hash::sign("MD5", &data, &key).unwrap(),
        hash_fixture("md5").to_uppercase()
    );
    assert_eq!(
        Hash::sign("HMAC-SHA256", &data, &key).unwrap(),
        hash_fixture("hmac").to_uppercase()
    );
    assert_eq!(
        SignType::HmacSha256.sign(&data, &key),
        hash_fixture("hmac").to_uppercase()
    );
    let err = Hash::sign("SHA1", &data, &key).unwrap_err();
    assert!(err.is_config() && err.to_string().contains("SHA1"), "{err}");
    assert_eq!(SignType::of_signature(&hash_fixture("hmac")), SignType::HmacSha256);
    assert_eq!(SignType::of_signature(&hash_fixture("md5")), SignType::Md5);
}

#[test]
fn equals_is_exact() {
    assert!(Hash::equals("ABC", "ABC"));
    assert!(!Hash::equals("ABC", "ABD"));
    assert!(!Hash::equals("ABC", "AB"));
    assert!(!Hash::equals("ABC", "abc"));
    assert!(Hash::equals("", ""));
}

#[test]
fn aes_ecb_matches_openssl() {
    let key = hash_fixture("apiv2_key_md5");
    assert_eq!(Hash::md5(&hash_fixture("key"), "", false), key);
    let plain = text("vectors/ecb_plaintext.txt");
    assert_eq!(AesEcb::encrypt(&plain, &key).unwrap(), text("vectors/ecb_openssl.b64"));
    assert_eq!(AesEcb::decrypt(&text("vectors/ecb_openssl.b64"), &key).unwrap(), plain);
    // A wrong key fails the padding check (or, 1 time in 256, yields garbage that is not the
    // plaintext); either way the plaintext is never returned.
    assert_ne!(
        AesEcb::decrypt(&text("vectors/ecb_openssl.b64"), "x".repeat(32)).ok(),
        Some(plain)
    );
    assert_eq!(
        crypto_error(AesEcb::encrypt("p", "short")),
        CryptoError::KeyLength {
            algorithm: "AES-256-ECB",
            expected: 32,
            actual: 5
        }
    );
    assert_eq!(
        crypto_error(AesEcb::decrypt("AAAA", &key)),
        CryptoError::Decrypt {
            algorithm: "AES-256-ECB"
        }
    );
    assert!(matches!(
        crypto_error(AesEcb::decrypt("@", &key)),
        CryptoError::Base64 { .. }
    ));
}
