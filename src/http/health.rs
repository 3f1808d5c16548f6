//! `GET /healthz`: the process is alive. `GET /readyz`: the database and the bus answer.

use std::{sync::Arc, time::Duration};

use poem::{IntoResponse, Response, handler, http::StatusCode, web::Data, web::Json};
use serde_json::json;

use crate::{app::Services, error::Problem};

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[handler]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

#[handler]
pub async fn readyz(services: Data<&Arc<Services>>) -> Response {
    let db = tokio::time::timeout(PROBE_TIMEOUT, services.store.ping()).await;
    let bus = tokio::time::timeout(PROBE_TIMEOUT, services.bus.ping()).await;
    let db_ok = matches!(db, Ok(Ok(())));
    let bus_ok = matches!(bus, Ok(Ok(())));
    if db_ok && bus_ok {
        return Json(json!({
            "status": "ready",
            "database": services.store.backend(),
            "bus": services.bus.backend(),
        }))
        .into_response();
    }
    let mut down = Vec::new();
    if !db_ok {
        down.push(format!("database ({})", services.store.backend()));
    }
    if !bus_ok {
        down.push(format!("bus ({})", services.bus.backend()));
    }
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", format!("not reachable: {}", down.join(", ")), None)
        .into_response()
}
