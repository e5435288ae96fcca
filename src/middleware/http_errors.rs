//! `http_errors`: a non-2xx answer becomes an [`ApiError`] with WeChat Pay's code, message,
//! detail and Request-ID.

use futures_util::future::BoxFuture;

use super::{Middleware, Next};
use crate::error::{ApiError, Result};
use crate::request::Request;
use crate::response::Response;

pub(super) struct HttpErrors;

impl Middleware for HttpErrors {
    fn handle<'a>(&'a self, request: Request, next: Next<'a>) -> BoxFuture<'a, Result<Response>> {
        Box::pin(async move {
            let response = next.run(request).await?;
            if response.status().is_success() {
                Ok(response)
            } else {
                Err(ApiError::from_response(response).into())
            }
        })
    }
}
