//! `GET /v1/chat-token`: minting, `ui` texts, origin rules and CORS.

use sdk::ChatTokenResponse;
use serde_json::json;

use crate::support::{API_KEY, Gateway, Upstream, code, json_of};

const QUIZ: &str = "https://quiz.example.com";

async fn gateway(extra: &[(&str, &str)]) -> Gateway {
    let mut env = vec![("ALLOWED_CHAT_TOKEN_ORIGINS", QUIZ)];
    env.extend_from_slice(extra);
    Gateway::with(Upstream::Demo, &env).await
}

async fn token_request(gw: &Gateway, query: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = gw.get(&format!("/v1/chat-token?{query}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_minted_token_works_for_chat() {
    let gw = gateway(&[]).await;
    let resp = token_request(
        &gw,
        "system_id=drillquiz&user_id=alice",
        &[("X-API-Key", API_KEY)],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: ChatTokenResponse = resp.json().await.unwrap();
    assert!(body.ui.is_none());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (body.expires_at.unwrap() - now - 86_400).abs() < 60,
        "24 h by default"
    );

    let resp = gw
        .post("/v1/chat")
        .bearer_auth(&body.token)
        .json(&json!({"message": "hello from the widget"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(gw.conversations("drillquiz", "alice").await.len(), 1);
}

#[tokio::test]
async fn ui_texts_for_every_language() {
    let gw = gateway(&[]).await;
    // The widget's texts as the wire carries them (camelCase keys), written
    // out here rather than taken from the code that serves them.
    let en = json!({"title": "Chat", "close": "Close", "open": "Open chat",
        "tokenError": "Could not load chat token.", "loading": "Loading..."});
    let es = json!({"title": "Chat", "close": "Cerrar", "open": "Abrir chat",
        "tokenError": "No se pudo cargar el token del chat.", "loading": "Cargando..."});
    let ko = json!({"title": "채팅", "close": "닫기", "open": "채팅 열기",
        "tokenError": "채팅 토큰을 불러오지 못했습니다.", "loading": "로딩 중..."});
    let zh = json!({"title": "聊天", "close": "关闭", "open": "打开聊天",
        "tokenError": "无法加载聊天令牌。", "loading": "加载中..."});
    let ja = json!({"title": "チャット", "close": "閉じる", "open": "チャットを開く",
        "tokenError": "チャットトークンを読み込めませんでした。", "loading": "読み込み中..."});
    for (tag, want) in [
        ("en", &en),
        ("es", &es),
        ("ko", &ko),
        ("zh", &zh),
        ("ja", &ja),
        ("ko-KR", &ko),
        ("ZH_tw", &zh),
    ] {
        let resp = token_request(
            &gw,
            &format!("system_id=drillquiz&user_id=alice&lang={tag}"),
            &[("X-API-Key", API_KEY)],
        )
        .await;
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(&body["ui"], want, "{tag}");
    }
    assert_eq!(
        gateway(&[])
            .await
            .get("/v1/chat-token?system_id=d&user_id=a&lang=ko")
            .header("X-API-Key", API_KEY)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()["ui"]["tokenError"],
        "채팅 토큰을 불러오지 못했습니다."
    );
    let (status, err) = json_of(
        token_request(
            &gw,
            "system_id=drillquiz&user_id=a&lang=fr",
            &[("X-API-Key", API_KEY)],
        )
        .await,
    )
    .await;
    assert_eq!((status.as_u16(), code(&err)), (422, "validation_failed"));
}

#[tokio::test]
async fn minting_needs_a_server_key_and_a_user() {
    let gw = gateway(&[]).await;
    let (status, err) =
        json_of(token_request(&gw, "system_id=drillquiz&user_id=a", &[]).await).await;
    assert_eq!((status.as_u16(), code(&err)), (401, "missing_credentials"));
    let bearer = format!("Bearer {}", gw.token("drillquiz", "a"));
    let (status, _) = json_of(
        token_request(
            &gw,
            "system_id=drillquiz&user_id=b",
            &[("Authorization", &bearer)],
        )
        .await,
    )
    .await;
    assert_eq!(status, 401, "a chat token cannot mint tokens for others");
    let (status, err) =
        json_of(token_request(&gw, "system_id=drillquiz", &[("X-API-Key", API_KEY)]).await).await;
    assert_eq!(
        (status.as_u16(), code(&err)),
        (422, "validation_failed"),
        "no silent default user"
    );
}

#[tokio::test]
async fn browser_origins_are_checked_server_calls_pass() {
    let gw = gateway(&[
        ("CHAT_GATEWAY_ENV", "production"),
        ("ALLOWED_SYSTEM_IDS", "drillquiz"),
    ])
    .await;
    let q = "system_id=drillquiz&user_id=alice";
    let allowed = token_request(&gw, q, &[("X-API-Key", API_KEY), ("Origin", QUIZ)]).await;
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.headers()["access-control-allow-origin"], QUIZ);

    let via_referer = token_request(
        &gw,
        q,
        &[
            ("X-API-Key", API_KEY),
            ("Referer", "https://quiz.example.com/lessons/3?x=1"),
        ],
    )
    .await;
    assert_eq!(via_referer.status(), 200);

    for origin in [
        "https://evil.example.com",
        "http://localhost:8080",
        "null",
        "https://quiz.example.com.evil.io",
    ] {
        let resp = token_request(&gw, q, &[("X-API-Key", API_KEY), ("Origin", origin)]).await;
        assert!(
            !resp.headers().contains_key("access-control-allow-origin"),
            "{origin}"
        );
        let (status, err) = json_of(resp).await;
        assert_eq!(
            (status.as_u16(), code(&err)),
            (403, "origin_not_allowed"),
            "{origin}"
        );
    }
    let server = token_request(&gw, q, &[("X-API-Key", API_KEY)]).await;
    assert_eq!(server.status(), 200, "no Origin: a server-side call");

    let (status, err) = json_of(
        token_request(
            &gw,
            "system_id=cointutor&user_id=a",
            &[("X-API-Key", API_KEY)],
        )
        .await,
    )
    .await;
    assert_eq!((status.as_u16(), code(&err)), (403, "system_not_allowed"));
}

#[tokio::test]
async fn development_mode_allows_local_sites() {
    let gw = gateway(&[]).await;
    let resp = token_request(
        &gw,
        "system_id=drillquiz&user_id=a",
        &[("X-API-Key", API_KEY), ("Origin", "http://localhost:3000")],
    )
    .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn cors_preflight_for_allowed_origins_only() {
    let gw = gateway(&[("CHAT_GATEWAY_ENV", "production")]).await;
    let preflight = |origin: &'static str| {
        gw.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/chat-token", gw.url),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "x-api-key")
            .send()
    };
    let ok = preflight(QUIZ).await.unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], QUIZ);
    let allowed_headers = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed_headers.contains("x-api-key") && allowed_headers.contains("authorization"));
    let methods = ok.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(
        methods.contains("DELETE") && methods.contains("PATCH"),
        "{methods}"
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
}
