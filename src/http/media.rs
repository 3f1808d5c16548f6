//! `POST /api/v1/uploads` (an image, as `multipart/form-data` with one field `file`) and
//! `GET /api/v1/media/{id}[/preview|/thumbnail]?exp=…&sig=…` (its renditions, by signed URL).
//!
//! The upload is read as it arrives: bytes are counted and hashed chunk by chunk, and the
//! request is answered 413 the moment the count passes `media.max_upload_bytes`, without
//! reading the rest (poem's `Multipart` has no cap of its own, and the route's body limit
//! only sees a `Content-Length`). What was read goes to a spool file, so an upload waiting
//! for a decoder holds no memory; the decode that follows is bounded by the image
//! pipeline's semaphore.

use std::sync::Arc;

use poem::{
    Request, RequestBody, Response, handler,
    http::{StatusCode, header},
    web::{Data, Multipart, Path, Query},
};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions, OpenApi, Tags,
    payload::{Json, ParsePayload, Payload},
    registry::{MetaMediaType, MetaRequest, MetaSchema, MetaSchemaRef, Registry},
};
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use super::{BearerAuth, problem::problem};
use crate::{
    error::Error,
    media::{Variant, spool::Spool},
    protocol::views::AttachmentView,
    services::Services,
};

#[derive(Tags)]
enum ApiTags {
    /// Images
    Media,
}

pub struct MediaApi {
    pub services: Arc<Services>,
}

#[derive(ApiResponse)]
enum UploadCreated {
    /// Stored; the URLs are signed and expire (`exp`).
    #[oai(status = 201)]
    Created(Json<AttachmentView>),
}

/// A `multipart/form-data` body, read field by field as it arrives.
pub struct UploadForm(Multipart);

impl Payload for UploadForm {
    const CONTENT_TYPE: &'static str = "multipart/form-data";

    fn check_content_type(content_type: &str) -> bool {
        content_type.starts_with("multipart/form-data")
    }

    fn schema_ref() -> MetaSchemaRef {
        let file = MetaSchema {
            description: Some("JPEG, PNG, WebP or GIF; the type is read from the bytes, not from the name"),
            ..MetaSchema::new_with_format("string", "binary")
        };
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            required: vec!["file"],
            properties: vec![("file", MetaSchemaRef::Inline(Box::new(file)))],
            ..MetaSchema::new("object")
        }))
    }
}

impl ParsePayload for UploadForm {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        Ok(UploadForm(<Multipart as poem::FromRequest>::from_request(request, body).await?))
    }
}

impl<'a> ApiExtractor<'a> for UploadForm {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType { content_type: Self::CONTENT_TYPE, schema: Self::schema_ref() }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(ct) if Self::check_content_type(ct) => <Self as ParsePayload>::from_request(request, body).await,
            _ => Err(Error::Unsupported {
                code: "unsupported_media_type",
                detail: "the body must be multipart/form-data with a field \"file\"".into(),
            }
            .into()),
        }
    }
}

#[OpenApi(tag = "ApiTags::Media")]
impl MediaApi {
    /// Upload an image (at most `media.max_upload_bytes`, 25 MiB by default). It is kept
    /// with its metadata (EXIF, GPS) removed, with a preview (fits 1600×1600) and a
    /// thumbnail (fits 400×400). Refused: another type (415 `unsupported_media_type`),
    /// too large a file (413 `payload_too_large`) or image (413 `image_too_large`), a
    /// broken image (400 `invalid_image`), past the owner's quota (413 `quota_exceeded`).
    #[oai(path = "/uploads", method = "post")]
    async fn upload(&self, auth: BearerAuth, form: UploadForm) -> Result<UploadCreated, Error> {
        let claims = auth.claims(&self.services)?;
        let media = &self.services.media;
        let spool = read_file(form.0, media).await?;
        Ok(UploadCreated::Created(Json(media.upload(claims.sub, spool).await?)))
    }
}

/// The field `file`, read chunk by chunk into a spool file, counted and hashed.
async fn read_file(mut form: Multipart, media: &crate::service::media::Media) -> Result<Spool, Error> {
    let malformed = |e: poem::error::ParseMultipartError| Error::invalid("invalid_request", format!("multipart: {e}"));
    let limit = media.max_upload_bytes();
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        if field.name() != Some("file") {
            continue;
        }
        let mut spool = media.spool().await?;
        let mut reader = Box::pin(field.into_async_read());
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = reader
                .read(&mut chunk)
                .await
                .map_err(|e| Error::invalid("invalid_request", format!("multipart: {e}")))?;
            if n == 0 {
                break;
            }
            if spool.len() + n as u64 > limit {
                return Err(media.too_large());
            }
            spool.write(&chunk[..n]).await.map_err(Error::internal)?;
        }
        return Ok(spool);
    }
    Err(Error::validation("file: a field named \"file\" is required"))
}

#[derive(Deserialize)]
pub struct Signed {
    exp: Option<i64>,
    sig: Option<String>,
}

/// `GET /api/v1/media/:id`: the original.
#[handler]
pub async fn original(
    req: &Request,
    Path(id): Path<String>,
    Query(signed): Query<Signed>,
    services: Data<&Arc<Services>>,
) -> Response {
    serve(req, &id, Some(Variant::Original), signed, &services).await
}

/// `GET /api/v1/media/:id/preview` and `/thumbnail`.
#[handler]
pub async fn rendition(
    req: &Request,
    Path((id, variant)): Path<(String, String)>,
    Query(signed): Query<Signed>,
    services: Data<&Arc<Services>>,
) -> Response {
    let variant = match variant.as_str() {
        "preview" => Some(Variant::Preview),
        "thumbnail" => Some(Variant::Thumbnail),
        _ => None,
    };
    serve(req, &id, variant, signed, &services).await
}

async fn serve(req: &Request, id: &str, variant: Option<Variant>, signed: Signed, services: &Services) -> Response {
    let (Ok(id), Some(variant)) = (id.parse::<Uuid>(), variant) else {
        return problem(&Error::NotFound("no such media".into())).into_response();
    };
    let (Some(exp), Some(sig)) = (signed.exp, signed.sig) else {
        return problem(&Error::Forbidden("a signed link (exp, sig) is required".into())).into_response();
    };
    match services.media.download(id, variant, exp, &sig, chrono::Utc::now()).await {
        Ok(d) => {
            if req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(d.etag.as_str()) {
                return Response::builder().status(StatusCode::NOT_MODIFIED).header(header::ETAG, d.etag).finish();
            }
            Response::builder()
                .content_type(d.file.mime)
                .header(header::ETAG, d.etag)
                .header(header::CACHE_CONTROL, "private, max-age=31536000, immutable")
                .header(header::CONTENT_DISPOSITION, "inline")
                .body(d.file.bytes)
        }
        Err(e) => {
            if let Error::Internal(cause) = &e {
                tracing::error!(error = ?cause, "internal error");
            }
            problem(&e).into_response()
        }
    }
}
