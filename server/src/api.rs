//! The REST API: routes, extractors and handlers. Handlers only translate between
//! HTTP and the service.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, State};
use axum::http::request::Parts;
use axum::http::{Request, StatusCode, header};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use natter_proto::ErrorCode;
use natter_proto::model::{
    ConversationId, Friend, FriendRequest, Group, Profile, UserId, UserSummary,
};
use natter_proto::rest::*;
use serde::Deserialize;
use tower_http::trace::TraceLayer;

use crate::error::{Error, Result};
use crate::service::{Authed, Service};

type Svc = State<Arc<Service>>;

/// JSON body whose rejections are our error bodies.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct Body<T>(pub T);

/// Path parameters whose rejections are our error bodies.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct Path<T>(pub T);

/// Query string whose rejections are our error bodies.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct Query<T>(pub T);

impl From<JsonRejection> for Error {
    fn from(r: JsonRejection) -> Error {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Error::client(ErrorCode::TooLarge, "request body too large");
        }
        Error::bad_request(r.body_text())
    }
}

impl From<PathRejection> for Error {
    fn from(r: PathRejection) -> Error {
        Error::bad_request(r.body_text())
    }
}

impl From<QueryRejection> for Error {
    fn from(r: QueryRejection) -> Error {
        Error::bad_request(r.body_text())
    }
}

impl FromRequestParts<Arc<Service>> for Authed {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, svc: &Arc<Service>) -> Result<Authed> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| Error::client(ErrorCode::Unauthorized, "missing bearer token"))?;
        svc.authenticate(token.trim()).await
    }
}

/// Where a request comes from, for the throttles: the connection's address, or
/// the client a trusted proxy names in `X-Forwarded-For`. `None` when the
/// router runs without connection info (in-process tests).
pub struct Source(pub Option<std::net::IpAddr>);

impl FromRequestParts<Arc<Service>> for Source {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, svc: &Arc<Service>) -> Result<Source> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<crate::Peer>>()
            .map(|c| c.0.0.ip());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        Ok(Source(crate::throttle::client_address(
            svc.throttle.config(),
            peer,
            forwarded,
        )))
    }
}

/// Largest REST request body.
const MAX_BODY: usize = 64 * 1024;

/// Every route of the relay.
pub fn router(svc: Arc<Service>) -> Router {
    let router = Router::new()
        .route("/healthz", get(health))
        .route("/v1/auth/register", post(register))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/me", get(me).patch(update_me))
        .route("/v1/users/search", get(search))
        .route("/v1/users/{id}", get(user))
        .route("/v1/friends", get(friends))
        .route("/v1/friends/{user}", delete(remove_friend))
        .route("/v1/friends/requests", get(requests).post(send_request))
        .route("/v1/friends/requests/{id}/accept", post(accept))
        .route("/v1/friends/requests/{id}/reject", post(reject))
        .route("/v1/groups", get(groups).post(create_group))
        .route(
            "/v1/groups/{id}",
            get(group).patch(update_group).delete(disband),
        )
        .route("/v1/groups/{id}/members", post(invite))
        .route("/v1/groups/{id}/members/{user}", delete(remove_member))
        .route("/v1/groups/{id}/members/{user}/role", put(set_role))
        .route("/v1/groups/{id}/leave", post(leave))
        .route("/v1/calls/ice-servers", get(ice_servers))
        .route("/v1/conversations", get(conversations))
        .route("/v1/conversations/{id}/messages", get(messages))
        .route("/v1/conversations/{id}/reads", get(reads))
        // Uploads stream their body with their own limit, `limits.max_file_bytes`
        // (see `files::upload`), instead of the router-wide JSON body limit.
        .route(
            "/v1/files",
            post(crate::files::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/v1/files/{id}", get(crate::files::download))
        .route("/v1/uploads", post(crate::uploads::start))
        .route(
            "/v1/uploads/{id}",
            get(crate::uploads::state)
                .patch(crate::uploads::append)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(natter_proto::WS_PATH, get(crate::ws::upgrade))
        .fallback(|| async { Error::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            let body = natter_proto::ErrorBody::new(
                ErrorCode::BadRequest,
                "method not allowed on this endpoint",
            );
            (StatusCode::METHOD_NOT_ALLOWED, Json(body))
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response_with_state(
            svc.clone(),
            finish_response,
        ))
        .layer(
            // Spans name the route pattern, never the concrete path or query, which
            // may carry e-mail addresses or phone numbers.
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let path = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default();
                tracing::debug_span!("http", method = %req.method(), path)
            }),
        );
    match cors(&svc.config.cors_origins) {
        Some(cors) => router.layer(cors).with_state(svc),
        None => router.with_state(svc),
    }
}

/// CORS for the configured origins: preflights answered, the REST API
/// callable from their pages with a bearer token. No origin configured: no
/// CORS layer at all (preflights get 405, browsers refuse cross-origin calls).
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if list.is_empty() {
        return None;
    }
    let layer = CorsLayer::new()
        .allow_origin(AllowOrigin::list(list))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::CONTENT_DISPOSITION, header::CONTENT_RANGE])
        .max_age(std::time::Duration::from_secs(3600));
    Some(layer)
}

/// Counts error answers by code for `/metrics`; in a cluster, names the node
/// that answered (`Natter-Node`), for operators and tests behind a load
/// balancer.
async fn finish_response(
    State(svc): Svc,
    mut response: axum::response::Response,
) -> axum::response::Response {
    if let Some(code) = response.extensions().get::<ErrorCode>() {
        svc.metrics.error(*code);
    }
    if let Some(node) = &svc.node {
        response
            .headers_mut()
            .insert("natter-node", axum::http::HeaderValue::from(node.id));
    }
    response
}

/// `200 ok`, or `503 unavailable` with what is wrong (load balancers take
/// such a node out of rotation).
async fn health(State(svc): Svc) -> (StatusCode, Json<Health>) {
    let mut problems = Vec::new();
    if let Err(e) = svc.storage.health().await {
        tracing::warn!(error = %e, "health check: storage");
        problems.push(match e {
            Error::Unavailable(detail) => format!("storage unavailable: {detail}"),
            _ => "storage failing (see the relay's log)".to_string(),
        });
    }
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = Health {
        status: if problems.is_empty() {
            "ok"
        } else {
            "unavailable"
        }
        .into(),
        version: env!("CARGO_PKG_VERSION").into(),
        sessions: svc.hub.len(),
        problems,
    };
    (status, Json(health))
}

async fn register(
    State(svc): Svc,
    Source(from): Source,
    Body(req): Body<RegisterRequest>,
) -> Result<(StatusCode, Json<Profile>)> {
    Ok((StatusCode::CREATED, Json(svc.register(req, from).await?)))
}

async fn login(
    State(svc): Svc,
    Source(from): Source,
    Body(req): Body<LoginRequest>,
) -> Result<Json<Session>> {
    Ok(Json(svc.login(req, from).await?))
}

async fn refresh(State(svc): Svc, Body(req): Body<RefreshRequest>) -> Result<Json<Session>> {
    Ok(Json(svc.refresh(req).await?))
}

async fn logout(State(svc): Svc, authed: Authed) -> Result<StatusCode> {
    svc.logout(&authed).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(svc): Svc, authed: Authed) -> Json<Profile> {
    Json(svc.profile(&authed))
}

async fn update_me(
    State(svc): Svc,
    authed: Authed,
    Body(req): Body<UpdateProfile>,
) -> Result<Json<Profile>> {
    Ok(Json(svc.update_profile(&authed, req).await?))
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
}

async fn search(
    State(svc): Svc,
    _authed: Authed,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchResult>> {
    Ok(Json(SearchResult {
        users: svc.search(&q.q).await?,
    }))
}

async fn user(State(svc): Svc, _authed: Authed, Path(id): Path<u64>) -> Result<Json<UserSummary>> {
    Ok(Json(svc.user_summary(UserId(id)).await?))
}

async fn ice_servers(State(svc): Svc, authed: Authed) -> Json<IceServers> {
    Json(match &svc.turn {
        Some(turn) => turn.ice_servers(authed.id(), crate::util::now_ms()),
        None => IceServers {
            ice_servers: Vec::new(),
            expires_at: 0,
        },
    })
}

async fn friends(State(svc): Svc, authed: Authed) -> Result<Json<Friends>> {
    let friends: Vec<Friend> = svc.friends(&authed).await?;
    Ok(Json(Friends { friends }))
}

async fn remove_friend(
    State(svc): Svc,
    authed: Authed,
    Path(user): Path<u64>,
) -> Result<StatusCode> {
    svc.remove_friend(&authed, UserId(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn requests(State(svc): Svc, authed: Authed) -> Result<Json<FriendRequests>> {
    Ok(Json(svc.friend_requests(&authed).await?))
}

async fn send_request(
    State(svc): Svc,
    authed: Authed,
    Body(req): Body<SendFriendRequest>,
) -> Result<(StatusCode, Json<FriendRequest>)> {
    let r = svc
        .send_friend_request(&authed, req.to, &req.message)
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

async fn accept(
    State(svc): Svc,
    authed: Authed,
    Path(id): Path<u64>,
) -> Result<Json<FriendRequest>> {
    Ok(Json(svc.answer_friend_request(&authed, id, true).await?))
}

async fn reject(
    State(svc): Svc,
    authed: Authed,
    Path(id): Path<u64>,
) -> Result<Json<FriendRequest>> {
    Ok(Json(svc.answer_friend_request(&authed, id, false).await?))
}

async fn groups(State(svc): Svc, authed: Authed) -> Result<Json<Groups>> {
    Ok(Json(Groups {
        groups: svc.groups(&authed).await?,
    }))
}

async fn create_group(
    State(svc): Svc,
    authed: Authed,
    Body(req): Body<CreateGroup>,
) -> Result<(StatusCode, Json<Group>)> {
    Ok((
        StatusCode::CREATED,
        Json(svc.create_group(&authed, req).await?),
    ))
}

async fn group(State(svc): Svc, authed: Authed, Path(id): Path<u64>) -> Result<Json<Group>> {
    Ok(Json(svc.group(&authed, ConversationId(id)).await?))
}

async fn update_group(
    State(svc): Svc,
    authed: Authed,
    Path(id): Path<u64>,
    Body(req): Body<UpdateGroup>,
) -> Result<Json<Group>> {
    Ok(Json(
        svc.update_group(&authed, ConversationId(id), req).await?,
    ))
}

async fn disband(State(svc): Svc, authed: Authed, Path(id): Path<u64>) -> Result<StatusCode> {
    svc.disband(&authed, ConversationId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn invite(
    State(svc): Svc,
    authed: Authed,
    Path(id): Path<u64>,
    Body(req): Body<InviteMembers>,
) -> Result<Json<Group>> {
    Ok(Json(
        svc.invite(&authed, ConversationId(id), req.users).await?,
    ))
}

async fn remove_member(
    State(svc): Svc,
    authed: Authed,
    Path((id, user)): Path<(u64, u64)>,
) -> Result<StatusCode> {
    svc.remove_member(&authed, ConversationId(id), UserId(user))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_role(
    State(svc): Svc,
    authed: Authed,
    Path((id, user)): Path<(u64, u64)>,
    Body(req): Body<SetRole>,
) -> Result<Json<Group>> {
    Ok(Json(
        svc.set_role(&authed, ConversationId(id), UserId(user), req.role)
            .await?,
    ))
}

async fn leave(State(svc): Svc, authed: Authed, Path(id): Path<u64>) -> Result<StatusCode> {
    svc.leave_group(&authed, ConversationId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn conversations(State(svc): Svc, authed: Authed) -> Result<Json<Conversations>> {
    Ok(Json(Conversations {
        conversations: svc.conversations(authed.id()).await?,
    }))
}

#[derive(Deserialize)]
struct PageQuery {
    after: Option<u64>,
    before: Option<u64>,
    limit: Option<u32>,
}

async fn reads(State(svc): Svc, authed: Authed, Path(id): Path<u64>) -> Result<Json<Reads>> {
    let conversation = ConversationId(id);
    Ok(Json(Reads {
        conversation,
        reads: svc.reads(authed.id(), conversation).await?,
    }))
}

async fn messages(
    State(svc): Svc,
    authed: Authed,
    Path(id): Path<u64>,
    Query(q): Query<PageQuery>,
) -> Result<Json<MessagePage>> {
    let conversation = ConversationId(id);
    let (messages, more) = svc
        .history(authed.id(), conversation, q.after, q.before, q.limit)
        .await?;
    Ok(Json(MessagePage {
        conversation,
        messages,
        more,
    }))
}
