//! The emulator's key material: the merchant's key and certificate, WeChat Pay's platform key and
//! certificate, the WeChat Pay public key and its `PUB_KEY_ID_…`, and the APIv3 key.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use der::{Decode, Encode};
use pkcs8::EncodePrivateKey;
use rsa::RsaPrivateKey;
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::builder::{Builder as _, CertificateBuilder, Profile};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;
use zeroize::Zeroizing;

use crate::crypto::{Certificate, PrivateKey, PublicKey};
use crate::error::{ConfigError, Result};

/// One side's RSA key pair, with its certificate when it has one.
#[derive(Clone)]
pub struct KeyMaterial {
    private: PrivateKey,
    certificate: Option<Certificate>,
    pkcs8_pem: Option<Zeroizing<String>>,
}

impl KeyMaterial {
    /// The private key.
    pub fn private_key(&self) -> &PrivateKey {
        &self.private
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        self.private.public_key()
    }

    /// The certificate, if this side has one.
    pub fn certificate(&self) -> Option<&Certificate> {
        self.certificate.as_ref()
    }

    /// The private key as `-----BEGIN PRIVATE KEY-----` PEM (to write `apiclient_key.pem`), for
    /// generated keys; `None` for keys you supplied.
    pub fn private_key_pem(&self) -> Option<&str> {
        self.pkcs8_pem.as_deref().map(String::as_str)
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("private", &self.private)
            .field("certificate", &self.certificate)
            .finish()
    }
}

fn failed(what: &str) -> impl Fn(String) -> crate::Error + '_ {
    move |reason| ConfigError::new("emulator", format!("cannot {what}: {reason}")).into()
}

/// How a generated key's certificate is made.
enum Issue<'a> {
    /// No certificate (the WeChat Pay public key).
    None,
    /// Self-signed, as WeChat Pay's platform certificates look to a merchant (and the TLS CA).
    SelfSigned { subject: &'a str, serial: &'a [u8] },
    /// Self-signed with a given validity (test certificates that are expired or not yet valid).
    #[cfg(test)]
    SelfSignedValid { serial: &'a [u8], validity: Validity },
    /// An end-entity certificate issued by the TLS CA (the merchant certificate, usable for
    /// mutual TLS, and the TLS server certificate with its names).
    ByCa {
        subject: &'a str,
        serial: &'a [u8],
        ca: &'a (RsaPrivateKey, Name),
        server_names: bool,
    },
}

fn generate(issue: Issue<'_>) -> Result<(KeyMaterial, RsaPrivateKey)> {
    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
        .map_err(|e| failed("generate an RSA key")(e.to_string()))?;
    let pkcs8 = key
        .to_pkcs8_der()
        .map_err(|e| failed("encode the key")(e.to_string()))?;
    let private = PrivateKey::from_pkcs8_der(pkcs8.as_bytes())?;
    let pkcs8_pem = Some(Zeroizing::new(crate::crypto::pem_encode_private_key(pkcs8.as_bytes())));
    let certificate = match issue {
        Issue::None => None,
        Issue::SelfSigned { subject, serial } => Some(certify(&key, subject, serial, None, false, None)?),
        #[cfg(test)]
        Issue::SelfSignedValid { serial, validity } => Some(certify(
            &key,
            "CN=Emulated WeChat Pay Platform,O=wechatpay-sdk emulator,C=CN",
            serial,
            None,
            false,
            Some(validity),
        )?),
        Issue::ByCa {
            subject,
            serial,
            ca,
            server_names,
        } => Some(certify(&key, subject, serial, Some(ca), server_names, None)?),
    };
    Ok((
        KeyMaterial {
            private,
            certificate,
            pkcs8_pem,
        },
        key,
    ))
}

fn certify(
    key: &RsaPrivateKey,
    subject: &str,
    serial: &[u8],
    ca: Option<&(RsaPrivateKey, Name)>,
    server_names: bool,
    validity: Option<Validity>,
) -> Result<Certificate> {
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::SubjectAltName;
    let fail = failed("build a certificate");
    let spki_der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| fail(e.to_string()))?;
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes()).map_err(|e| fail(e.to_string()))?;
    let (signing_key, profile) = match ca {
        None => (key.clone(), Profile::Root),
        Some((ca_key, ca_name)) => (
            ca_key.clone(),
            Profile::Leaf {
                issuer: ca_name.clone(),
                enable_key_agreement: false,
                enable_key_encipherment: true,
            },
        ),
    };
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(signing_key);
    let mut builder = CertificateBuilder::new(
        profile,
        SerialNumber::new(serial).map_err(|e| fail(e.to_string()))?,
        match validity {
            Some(validity) => validity,
            None => Validity::from_now(Duration::from_secs(5 * 365 * 86_400)).map_err(|e| fail(e.to_string()))?,
        },
        Name::from_str(subject).map_err(|e| fail(e.to_string()))?,
        spki,
        &signer,
    )
    .map_err(|e| fail(e.to_string()))?;
    if server_names {
        let names = SubjectAltName(vec![
            GeneralName::IpAddress(der::asn1::OctetString::new(vec![127, 0, 0, 1]).map_err(|e| fail(e.to_string()))?),
            GeneralName::DnsName(der::asn1::Ia5String::new("localhost").map_err(|e| fail(e.to_string()))?),
        ]);
        builder.add_extension(&names).map_err(|e| fail(e.to_string()))?;
    }
    let certificate = builder
        .build::<rsa::pkcs1v15::Signature>()
        .map_err(|e| fail(e.to_string()))?;
    Certificate::from_bytes(certificate.to_der().map_err(|e| fail(e.to_string()))?)
}

/// A fresh platform key and self-signed certificate with a random positive 20-byte serial (for
/// a rotation).
pub(crate) fn generate_platform() -> Result<KeyMaterial> {
    let mut serial = [0u8; 20];
    crate::crypto::backend::fill_random(&mut serial)?;
    serial[0] = (serial[0] & 0x7f) | 0x01;
    Ok(generate(Issue::SelfSigned {
        subject: "CN=Emulated WeChat Pay Platform,O=wechatpay-sdk emulator,C=CN",
        serial: &serial,
    })?
    .0)
}

/// A platform certificate valid from `from_days` to `to_days` days from now (negative: ago), for
/// unit tests of expiry.
#[cfg(test)]
pub(crate) fn platform_certificate_for_days(serial: u8, from_days: i64, to_days: i64) -> Certificate {
    let day = |d: i64| {
        let offset = Duration::from_secs(d.unsigned_abs() * 86_400);
        if d < 0 {
            std::time::SystemTime::now() - offset
        } else {
            std::time::SystemTime::now() + offset
        }
    };
    let material = generate_platform_valid(serial, day(from_days), day(to_days)).expect("a test certificate");
    material.certificate().expect("generated with a certificate").clone()
}

/// A platform certificate valid from `not_before` to `not_after` (for expiry tests).
#[cfg(test)]
pub(crate) fn generate_platform_valid(
    serial: u8,
    not_before: std::time::SystemTime,
    not_after: std::time::SystemTime,
) -> Result<KeyMaterial> {
    let time = |t: std::time::SystemTime| {
        x509_cert::time::Time::try_from(t).map_err(|e| failed("set a validity")(e.to_string()))
    };
    let validity = Validity {
        not_before: time(not_before)?,
        not_after: time(not_after)?,
    };
    Ok(generate(Issue::SelfSignedValid {
        serial: &[serial],
        validity,
    })?
    .0)
}

/// Everything the emulator signs, verifies and encrypts with.
///
/// [`Identity::generate`] makes fresh keys (the first call in a process takes a fraction of a
/// second; later calls reuse them); [`Identity::new`] takes yours.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The merchant id.
    pub mchid: String,
    /// The merchant's API key and certificate (the client signs with this key).
    pub merchant: KeyMaterial,
    /// WeChat Pay's platform key and certificate (certificate mode).
    pub platform: KeyMaterial,
    /// WeChat Pay's public key (public-key mode).
    pub wechatpay: KeyMaterial,
    /// The `PUB_KEY_ID_…` of [`wechatpay`](Self::wechatpay).
    pub pub_key_id: String,
    /// The 32-byte APIv3 key.
    pub apiv3_key: Zeroizing<String>,
    /// The 32-character APIv2 key (`secret`).
    pub apiv2_key: Zeroizing<String>,
    /// The CA that issued the merchant certificate and the TLS server certificate (generated
    /// identities only): clients of a TLS emulator trust it.
    pub tls_ca: Option<Certificate>,
    /// The TLS server certificate and key (generated identities only).
    pub(crate) tls_server: Option<KeyMaterial>,
}

static GENERATED: OnceLock<std::result::Result<Identity, String>> = OnceLock::new();

impl Identity {
    /// Fresh keys and certificates for merchant `1900000109`, made once per process.
    pub fn generate() -> Result<Identity> {
        GENERATED
            .get_or_init(|| {
                let build = || -> Result<Identity> {
                    let mut serials = [0u8; 80];
                    crate::crypto::backend::fill_random(&mut serials)?;
                    // Positive serials of 20 bytes, as WeChat Pay's are.
                    for start in [0, 20, 40, 60] {
                        serials[start] &= 0x7f;
                    }
                    let mut apiv3_key = [0u8; 16];
                    crate::crypto::backend::fill_random(&mut apiv3_key)?;
                    let mut apiv2_key = [0u8; 16];
                    crate::crypto::backend::fill_random(&mut apiv2_key)?;
                    let ca_subject = "CN=wechatpay-sdk emulator TLS CA,O=wechatpay-sdk emulator,C=CN";
                    let (ca, ca_key) = generate(Issue::SelfSigned {
                        subject: ca_subject,
                        serial: &serials[40..60],
                    })?;
                    let ca_name = (
                        ca_key,
                        Name::from_str(ca_subject).map_err(|e| failed("name the CA")(e.to_string()))?,
                    );
                    let (merchant, _) = generate(Issue::ByCa {
                        subject: "CN=1900000109,OU=Emulated Merchant,O=wechatpay-sdk emulator,C=CN",
                        serial: &serials[..20],
                        ca: &ca_name,
                        server_names: false,
                    })?;
                    let (server, _) = generate(Issue::ByCa {
                        subject: "CN=localhost,O=wechatpay-sdk emulator,C=CN",
                        serial: &serials[60..],
                        ca: &ca_name,
                        server_names: true,
                    })?;
                    Ok(Identity {
                        mchid: "1900000109".into(),
                        merchant,
                        platform: generate(Issue::SelfSigned {
                            subject: "CN=Emulated WeChat Pay Platform,O=wechatpay-sdk emulator,C=CN",
                            serial: &serials[20..40],
                        })?
                        .0,
                        wechatpay: generate(Issue::None)?.0,
                        pub_key_id: "PUB_KEY_ID_0119000010920260101000000000000001".into(),
                        apiv3_key: Zeroizing::new(crate::crypto::hex::lower(&apiv3_key)),
                        apiv2_key: Zeroizing::new(crate::crypto::hex::lower(&apiv2_key)),
                        tls_ca: ca.certificate().cloned(),
                        tls_server: Some(server),
                    })
                };
                build().map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| ConfigError::new("emulator", e).into())
    }

    /// Your own material (e.g. the fixtures your tests already use).
    pub fn new(
        mchid: impl Into<String>,
        merchant: (PrivateKey, Certificate),
        platform: (PrivateKey, Certificate),
        wechatpay: (PrivateKey, impl Into<String>),
        apiv3_key: impl Into<String>,
    ) -> Result<Identity> {
        let apiv3_key = apiv3_key.into();
        if apiv3_key.len() != 32 {
            return Err(ConfigError::new("apiv3_key", format!("must be 32 bytes, got {}", apiv3_key.len())).into());
        }
        let material = |private: PrivateKey, certificate: Option<Certificate>| -> Result<KeyMaterial> {
            if let Some(cert) = &certificate {
                if !cert.matches(&private) {
                    return Err(ConfigError::new(
                        "emulator",
                        format!("certificate {} does not match its private key", cert.serial_no()),
                    )
                    .into());
                }
            }
            Ok(KeyMaterial {
                private,
                certificate,
                pkcs8_pem: None,
            })
        };
        Ok(Identity {
            mchid: mchid.into(),
            merchant: material(merchant.0, Some(merchant.1))?,
            platform: material(platform.0, Some(platform.1))?,
            wechatpay: material(wechatpay.0, None)?,
            pub_key_id: wechatpay.1.into(),
            apiv2_key: Zeroizing::new(crate::crypto::hex::lower(
                &crate::crypto::backend::sha256(apiv3_key.as_bytes())[..16],
            )),
            apiv3_key: Zeroizing::new(apiv3_key),
            tls_ca: None,
            tls_server: None,
        })
    }

    /// The merchant certificate's serial.
    pub fn merchant_serial(&self) -> &str {
        self.merchant.certificate().map_or("", Certificate::serial_no)
    }

    /// The platform certificate's serial.
    pub fn platform_serial(&self) -> &str {
        self.platform.certificate().map_or("", Certificate::serial_no)
    }
}
