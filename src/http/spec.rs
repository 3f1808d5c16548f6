//! The OpenAPI document served at `/api/openapi.json`: poem-openapi's, plus what its
//! derive does not write down. Request bodies refuse unknown fields (`deny_unknown_fields`)
//! except those of [`OPEN_BODIES`], so their objects say `additionalProperties: false`.

use serde_json::Value;

/// Operations whose JSON body may carry fields the server does not know: a new
/// conversation (room for new kinds) and a browser's `PushSubscription.toJSON()`.
const OPEN_BODIES: [(&str, &str); 2] = [("post", "/conversations"), ("post", "/push/subscriptions")];

/// The served document, from the one poem-openapi generated.
pub fn document(generated: &str) -> String {
    let Ok(mut spec) = serde_json::from_str::<Value>(generated) else {
        return generated.to_string();
    };
    let mut closed = Vec::new();
    for (path, ops) in spec["paths"].as_object().into_iter().flatten() {
        for (method, op) in ops.as_object().into_iter().flatten() {
            if OPEN_BODIES.contains(&(method.as_str(), path.as_str())) {
                continue;
            }
            for media in op["requestBody"]["content"].as_object().into_iter().flatten() {
                if media.0.starts_with("application/json") {
                    refs(&media.1["schema"], &mut closed);
                }
            }
        }
    }
    let mut i = 0;
    while i < closed.len() {
        let name = closed[i].clone();
        if let Some(schema) = spec["components"]["schemas"].get(&name).cloned() {
            for prop in schema["properties"].as_object().into_iter().flatten() {
                refs(prop.1, &mut closed);
            }
        }
        if let Some(schema) = spec["components"]["schemas"].get_mut(&name).and_then(Value::as_object_mut)
            && schema.get("type").and_then(Value::as_str) == Some("object")
        {
            schema.insert("additionalProperties".into(), Value::Bool(false));
        }
        i += 1;
    }
    spec.to_string()
}

/// The component names `schema` refers to (directly, through `allOf` or array items).
fn refs(schema: &Value, out: &mut Vec<String>) {
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    for s in schema["allOf"].as_array().into_iter().flatten() {
        refs(s, out);
    }
    if let Some(items) = schema.get("items") {
        refs(items, out);
    }
}
