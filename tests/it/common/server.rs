//! A loopback WeChat Pay stand-in for the client tests: records every request exactly as it
//! arrived and answers with replies signed like WeChat Pay's (or deliberately not).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use wechatpay::{Formatter, PrivateKey, PublicKey, Rsa};

use super::text;

pub(crate) const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";
pub(crate) const MCHID: &str = "1900000109";

/// A request as the server received it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub version: http::Version,
    pub method: String,
    pub target: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Parses `Authorization` and checks its signature over what arrived, as WeChat Pay does.
    pub(crate) fn authorization_verifies(&self, key: &PublicKey) -> bool {
        let Some(auth) = self.header("authorization") else {
            return false;
        };
        let Some(fields) = auth.strip_prefix("WECHATPAY2-SHA256-RSA2048 ") else {
            return false;
        };
        let field = |name: &str| {
            fields.split(',').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                (k == name).then(|| v.trim_matches('"').to_owned())
            })
        };
        let (Some(ts), Some(nonce), Some(sig)) = (field("timestamp"), field("nonce_str"), field("signature")) else {
            return false;
        };
        let mut message = format!("{}\n{}\n{ts}\n{nonce}\n", self.method, self.target).into_bytes();
        message.extend_from_slice(&self.body);
        message.push(b'\n');
        field("mchid").as_deref() == Some(MCHID) && Rsa::verify(&message, &sig, key).unwrap_or(false)
    }

    /// The request without the parts that differ per call (Authorization's nonce, time, signature).
    pub(crate) fn stable_view(&self) -> (String, String, Vec<(String, String)>, Bytes) {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(k, _)| k.as_str() != "authorization")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        headers.sort();
        (self.method.clone(), self.target.clone(), headers, self.body.clone())
    }
}

/// Who signs a reply, and how.
#[derive(Clone)]
pub(crate) enum Signing {
    /// Signed over the body, now, by this key under this serial.
    Key(PrivateKey, String),
    /// Signed with a timestamp offset from now.
    Skewed(PrivateKey, String, i64),
    /// Signed over other bytes than the body sent.
    OverBody(PrivateKey, String, Vec<u8>),
    /// No Wechatpay-* headers at all.
    None,
}

#[derive(Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub signing: Signing,
    pub drop_header: Option<&'static str>,
    pub headers: Vec<(String, String)>,
    pub delay: Duration,
}

impl Reply {
    pub(crate) fn json(status: u16, body: &str, signing: Signing) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap(),
            body: body.as_bytes().to_vec(),
            signing,
            drop_header: None,
            headers: vec![("Request-ID".into(), "08F78BB5AF0610C7A7A2B6D0A0B8F2D1E3".into())],
            delay: Duration::ZERO,
        }
    }
}

pub(crate) fn platform_key() -> (PrivateKey, String) {
    let serial = text("keys/platform_cert.serial").trim().to_owned();
    (Rsa::from_private(text("keys/platform_key.pem")).unwrap(), serial)
}

pub(crate) fn pubkey_signer() -> (PrivateKey, String) {
    (
        Rsa::from_private(text("keys/pubkey_private.pem")).unwrap(),
        PUB_KEY_ID.to_owned(),
    )
}

pub(crate) fn signed_ok(body: &str) -> Reply {
    let (key, serial) = pubkey_signer();
    Reply::json(200, body, Signing::Key(key, serial))
}

type Responder = dyn Fn(&Recorded) -> Reply + Send + Sync;

pub(crate) struct TestServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl TestServer {
    /// Serves on 127.0.0.1, on its own thread and runtime (so blocking clients can call it).
    pub(crate) fn start(responder: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let responder: Arc<Responder> = Arc::new(responder);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (shutdown, mut shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let recorded = Arc::clone(&requests);
        let addr = super::loopback::spawn(move |listener| async move {
            loop {
                let (stream, _) = tokio::select! {
                    accepted = listener.accept() => accepted.unwrap(),
                    _ = &mut shutdown_rx => return,
                };
                let (responder, recorded) = (Arc::clone(&responder), Arc::clone(&recorded));
                tokio::spawn(async move {
                    let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                        let (responder, recorded) = (Arc::clone(&responder), Arc::clone(&recorded));
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(http_body_util::Collected::to_bytes)
                                .unwrap_or_default();
                            let request = Recorded {
                                version: parts.version,
                                method: parts.method.to_string(),
                                target: parts.uri.path_and_query().map(ToString::to_string).unwrap_or_default(),
                                headers: parts.headers,
                                body,
                            };
                            let reply = responder(&request);
                            recorded.lock().unwrap().push(request);
                            Ok::<_, Infallible>(render(reply).await)
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            requests,
            _shutdown: shutdown,
        }
    }

    pub(crate) fn base_uri(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub(crate) fn last(&self) -> Recorded {
        self.requests().pop().expect("no request arrived")
    }
}

async fn render(reply: Reply) -> http::Response<Full<Bytes>> {
    tokio::time::sleep(reply.delay).await;
    let mut response = http::Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        response = response.header(k, v);
    }
    let nonce = Formatter::nonce(32).unwrap();
    let now = Formatter::timestamp();
    let signed = match &reply.signing {
        Signing::Key(key, serial) => Some((key, serial, now, reply.body.clone())),
        Signing::Skewed(key, serial, skew) => Some((key, serial, now + skew, reply.body.clone())),
        Signing::OverBody(key, serial, other) => Some((key, serial, now, other.clone())),
        Signing::None => None,
    };
    if let Some((key, serial, ts, signed_body)) = signed {
        let mut message = format!("{ts}\n{nonce}\n").into_bytes();
        message.extend_from_slice(&signed_body);
        message.push(b'\n');
        let signature = Rsa::sign(&message, key).unwrap();
        for (name, value) in [
            ("Wechatpay-Timestamp", ts.to_string()),
            ("Wechatpay-Nonce", nonce.clone()),
            ("Wechatpay-Signature", signature),
            ("Wechatpay-Serial", serial.clone()),
        ] {
            if reply.drop_header != Some(name) {
                response = response.header(name, value);
            }
        }
    }
    response.body(Full::new(Bytes::from(reply.body))).unwrap()
}
