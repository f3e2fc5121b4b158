//! The OpenAI-compatible door, driven by a third-party OpenAI client
//! (async-openai) pointed at the gateway's `/v1`.

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::traits::RequestOptionsBuilder;
use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage, ChatCompletionStreamOptions, CreateChatCompletionRequest,
    FinishReason, Role as OpenAiRole,
};
use futures::StreamExt;
use sdk::{MessageStatus, Role};
use serde_json::{Value, json};

use crate::support::{API_KEY, Gateway, Upstream, code, json_of};

fn client(gw: &Gateway, key: &str) -> Client<OpenAIConfig> {
    Client::with_config(
        OpenAIConfig::new()
            .with_api_base(format!("{}/v1", gw.url))
            .with_api_key(key),
    )
}

fn user_message(text: &str) -> ChatCompletionRequestMessage {
    ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage::from(text))
}

/// A request as an OpenAI user writes it: a system prompt, an earlier
/// exchange the gateway ignores, and the new question last.
#[expect(
    deprecated,
    reason = "`user` is the field this door reads the end user from"
)]
fn request(model: &str, user: Option<&str>, question: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest {
        model: model.to_owned(),
        messages: vec![
            ChatCompletionRequestMessage::System(ChatCompletionRequestSystemMessage::from(
                "You are terse.",
            )),
            user_message("an earlier question the gateway does not resend"),
            user_message(question),
        ],
        user: user.map(str::to_owned),
        ..CreateChatCompletionRequest::default()
    }
}

#[tokio::test]
async fn a_blocking_completion_is_answered_and_stored() {
    let gw = Gateway::start().await;
    let openai = client(&gw, API_KEY);
    let reply = openai
        .chat()
        .create(request("drillquiz", Some("alice"), "What is Rust?"))
        .await
        .unwrap();
    assert_eq!(reply.object, "chat.completion");
    assert_eq!(reply.model, "drillquiz");
    let choice = &reply.choices[0];
    assert_eq!(choice.message.role, OpenAiRole::Assistant);
    assert_eq!(
        choice.message.content.as_deref(),
        Some("Echo: What is Rust?")
    );
    assert_eq!(choice.finish_reason, Some(FinishReason::Stop));
    let usage = reply.usage.unwrap();
    assert!(
        usage.total_tokens > 0
            && usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    );

    let conversations = gw.conversations("drillquiz", "alice").await;
    assert_eq!(conversations.len(), 1);
    let stored = gw
        .messages("drillquiz", "alice", &conversations[0].id)
        .await;
    assert_eq!(stored.len(), 2, "only the last user message is the turn");
    assert_eq!(stored[0].content, "What is Rust?");
    assert_eq!(
        reply.id, stored[1].id,
        "the completion id is the stored message's"
    );
    assert_eq!(
        (stored[1].role, stored[1].status),
        (Role::Assistant, MessageStatus::Complete)
    );
    assert_eq!(gw.fake.chats()[0].user, "drillquiz_alice");
}

#[tokio::test]
async fn a_streamed_completion_sends_chunks_usage_and_done() {
    let gw = Gateway::start().await;
    let openai = client(&gw, API_KEY);
    let mut req = request("drillquiz", Some("bob"), "Stream this please");
    req.stream_options = Some(ChatCompletionStreamOptions {
        include_usage: Some(true),
        include_obfuscation: None,
    });
    let mut stream = openai.chat().create_stream(req).await.unwrap();
    let mut text = String::new();
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk.unwrap());
    }
    for chunk in &chunks {
        assert_eq!(chunk.object, "chat.completion.chunk");
        for choice in &chunk.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
        }
    }
    assert_eq!(text, "Echo: Stream this please");
    assert_eq!(chunks[0].choices[0].delta.role, Some(OpenAiRole::Assistant));
    let finished: Vec<_> = chunks
        .iter()
        .filter(|c| c.choices.first().is_some_and(|c| c.finish_reason.is_some()))
        .collect();
    assert_eq!(finished.len(), 1);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty(), "the usage chunk comes last");
    assert!(last.usage.as_ref().unwrap().total_tokens > 0);

    let conversations = gw.conversations("drillquiz", "bob").await;
    let stored = gw.messages("drillquiz", "bob", &conversations[0].id).await;
    assert_eq!(stored[1].content, text);
    assert_eq!(stored[1].status, MessageStatus::Complete);
    assert!(chunks.iter().all(|c| c.id == stored[1].id));

    // Without include_usage, no usage chunk; the stream still ends with [DONE].
    let mut stream = openai
        .chat()
        .create_stream(request("drillquiz", Some("bob"), "again"))
        .await
        .unwrap();
    let mut last = None;
    while let Some(chunk) = stream.next().await {
        last = Some(chunk.unwrap());
    }
    let last = last.unwrap();
    assert!(last.usage.is_none());
    assert_eq!(last.choices[0].finish_reason, Some(FinishReason::Stop));
}

#[tokio::test]
async fn a_conversation_continues_by_header_or_metadata() {
    let gw = Gateway::start().await;
    let resp = gw
        .post("/v1/chat/completions")
        .bearer_auth(API_KEY)
        .json(&json!({"model": "drillquiz", "user": "carol",
                      "messages": [{"role": "user", "content": [{"type": "text", "text": "first"}]}]}))
        .send()
        .await
        .unwrap();
    let conversation = resp.headers()["x-conversation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "Echo: first");

    let openai = client(&gw, API_KEY);
    openai
        .chat()
        .header("x-conversation-id", conversation.as_str())
        .unwrap()
        .create(request("drillquiz", Some("carol"), "second"))
        .await
        .unwrap();
    let mut by_metadata = request("drillquiz", Some("carol"), "third");
    by_metadata.metadata = Some(json!({"conversation_id": conversation}).into());
    let mut stream = openai.chat().create_stream(by_metadata).await.unwrap();
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
    }

    let conversations = gw.conversations("drillquiz", "carol").await;
    assert_eq!(conversations.len(), 1);
    let texts: Vec<_> = gw
        .messages("drillquiz", "carol", &conversation)
        .await
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(
        texts,
        [
            "first",
            "Echo: first",
            "second",
            "Echo: second",
            "third",
            "Echo: third"
        ]
    );
    let upstream = gw.fake.chats();
    assert!(
        upstream[1].conversation_id.is_some()
            && upstream[1].conversation_id == upstream[2].conversation_id
    );
}

/// The status and OpenAI error body of a refused call.
fn refusal(e: OpenAIError) -> (u16, async_openai::error::ApiError) {
    match e {
        OpenAIError::ApiError(e) => (e.status_code.as_u16(), e.api_error),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn errors_surface_as_the_clients_typed_errors() {
    let gw = Gateway::start().await;

    let (status, e) = refusal(
        client(&gw, "wrong-key")
            .chat()
            .create(request("drillquiz", Some("u"), "hi"))
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 401);
    assert_eq!(e.r#type.as_deref(), Some("authentication_error"));
    assert_eq!(e.code.as_deref(), Some("invalid_api_key"));

    let openai = client(&gw, API_KEY);
    let (status, e) = refusal(
        openai
            .chat()
            .create(request("drillquiz", None, "hi"))
            .await
            .unwrap_err(),
    );
    assert_eq!((status, e.param.as_deref()), (422, Some("user")));
    assert_eq!(e.r#type.as_deref(), Some("invalid_request_error"));

    let (status, e) = refusal(
        openai
            .chat()
            .create(request("no such system!", Some("u"), "hi"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (status, e.code.as_deref()),
        (422, Some("validation_failed"))
    );

    let (status, e) = refusal(
        openai
            .chat()
            .header("x-conversation-id", "0190c9b2-0000-7000-8000-000000000000")
            .unwrap()
            .create(request("drillquiz", Some("u"), "hi"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (status, e.code.as_deref()),
        (404, Some("conversation_not_found"))
    );

    // A chat token names its own user and system only.
    let token = gw.token("drillquiz", "dave");
    let as_dave = client(&gw, &token);
    let (status, e) = refusal(
        as_dave
            .chat()
            .create(request("drillquiz", Some("eve"), "hi"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (
            status,
            e.code.as_deref(),
            e.r#type.as_deref(),
            e.param.as_deref()
        ),
        (
            403,
            Some("identity_mismatch"),
            Some("permission_error"),
            Some("user")
        )
    );
    let (status, e) = refusal(
        as_dave
            .chat()
            .create(request("cointutor", None, "hi"))
            .await
            .unwrap_err(),
    );
    assert_eq!((status, e.param.as_deref()), (403, Some("model")));
    let reply = as_dave
        .chat()
        .create(request("drillquiz", None, "as dave"))
        .await
        .unwrap();
    assert_eq!(
        reply.choices[0].message.content.as_deref(),
        Some("Echo: as dave")
    );
    assert_eq!(gw.conversations("drillquiz", "dave").await.len(), 1);

    // Malformed bodies answer in OpenAI's shape too.
    for (body, status, want) in [
        (
            json!({"model": "drillquiz", "user": "u", "messages": []}),
            422,
            "messages",
        ),
        (
            json!({"model": "drillquiz", "user": "u", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}),
            422,
            "messages",
        ),
        (
            json!({"model": "", "user": "u", "messages": [{"role": "user", "content": "x"}]}),
            422,
            "model",
        ),
    ] {
        let resp = gw
            .post("/v1/chat/completions")
            .bearer_auth(API_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        let (got, err) = json_of(resp).await;
        assert_eq!(
            (got.as_u16(), err["error"]["param"].as_str()),
            (status, Some(want)),
            "{body}: {err}"
        );
        assert!(err["error"]["message"].is_string() && err["error"]["type"].is_string());
    }
    let resp = gw
        .post("/v1/chat/completions")
        .bearer_auth(API_KEY)
        .body("{oops")
        .send()
        .await
        .unwrap();
    let (status, err) = json_of(resp).await;
    assert_eq!(
        (status.as_u16(), &err["error"]["code"]),
        (400, &json!("invalid_json"))
    );
    assert_eq!(
        code(&json!({"error": {"code": err["error"]["code"]}})),
        "invalid_json"
    );
}

#[tokio::test]
async fn an_upstream_failure_is_a_server_error_and_every_question_is_kept() {
    let gw = Gateway::start().await;
    // The client retries a 5xx three times, as OpenAI's own SDKs do.
    for _ in 0..4 {
        gw.fake.push_fault(testkit::fake_dify::Fault::Html502);
    }
    let (status, e) = refusal(
        client(&gw, API_KEY)
            .chat()
            .create(request("drillquiz", Some("u"), "will fail"))
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 502);
    // async-openai keeps a 5xx body as the message, unparsed.
    let body: Value = serde_json::from_str(&e.message).unwrap();
    assert_eq!(body["error"]["code"], "upstream_error");
    assert_eq!(body["error"]["type"], "server_error");
    let conversations = gw.conversations("drillquiz", "u").await;
    assert_eq!(
        conversations.len(),
        gw.fake.chats().len(),
        "one per attempt"
    );
    for conversation in conversations {
        let stored = gw.messages("drillquiz", "u", &conversation.id).await;
        assert_eq!((stored.len(), stored[0].status), (1, MessageStatus::Failed));
    }
}

#[tokio::test]
async fn models_lists_what_the_caller_may_use() {
    let gw = Gateway::with(
        Upstream::Dify(testkit::fake_dify::FakeOptions::default()),
        &[("ALLOWED_SYSTEM_IDS", "drillquiz,cointutor")],
    )
    .await;
    let ids = |list: async_openai::types::models::ListModelResponse| {
        list.data.into_iter().map(|m| m.id).collect::<Vec<_>>()
    };
    let listed = client(&gw, API_KEY).models().list().await.unwrap();
    assert_eq!(ids(listed), ["cointutor", "drillquiz"]);
    let token = gw.token("drillquiz", "dave");
    let listed = client(&gw, &token).models().list().await.unwrap();
    assert_eq!(ids(listed), ["drillquiz"]);

    let gw = Gateway::with(
        Upstream::Dify(testkit::fake_dify::FakeOptions::default()),
        &[
            ("DIFY_COINTUTOR_BASE_URL", testkit::DIFY_URL),
            ("DIFY_COINTUTOR_API_KEY", "app-fake"),
        ],
    )
    .await;
    let listed = client(&gw, API_KEY).models().list().await.unwrap();
    assert_eq!(
        ids(listed),
        ["cointutor"],
        "systems with a route of their own"
    );
    let resp = gw.get("/v1/models").send().await.unwrap();
    let (status, err) = json_of(resp).await;
    assert_eq!(
        (status.as_u16(), &err["error"]["type"]),
        (401, &json!("authentication_error"))
    );
}
