//! The built-in demo upstream: answers without any network or model.
//!
//! It exists so that a fresh checkout chats at once. Its answers are
//! deterministic (the same message gives the same answer) and useful: they
//! quote the message, say how to connect a real model, and offer two special
//! prompts to try the chat page:
//! - a message containing `markdown` gets a reply with a list, code, a table
//!   and a link;
//! - a message containing `long` gets a long reply, to try the Stop button.
//!
//! The quoted message is rendered as markdown like any answer, which makes the
//! demo a handy way to check that the chat page sanitises what a model says.
//! Replies follow `inputs.language` (en, es, ko, zh, ja). Streamed replies
//! arrive a word at a time, `word_delay` apart.

use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use sdk::{Lang, Usage};

use super::{
    Reply, ReplyEvent, ReplyStream, Upstream, UpstreamConversation, UpstreamError, UpstreamHistory,
    UpstreamMessage, UpstreamRequest,
};

/// The demo upstream. See the module docs.
#[derive(Debug, Clone)]
pub struct DemoUpstream {
    word_delay: Duration,
}

impl DemoUpstream {
    /// A demo upstream streaming one word every `word_delay`.
    pub fn new(word_delay: Duration) -> Self {
        Self { word_delay }
    }
}

#[async_trait]
impl Upstream for DemoUpstream {
    fn kind(&self) -> &'static str {
        "demo"
    }

    async fn reply(&self, req: &UpstreamRequest<'_>) -> Result<Reply, UpstreamError> {
        let answer = answer(req);
        Ok(Reply {
            usage: Some(usage(req.query, &answer)),
            answer,
            conversation_id: Some(conversation_id(req)),
            message_id: Some(format!("demo-{}", uuid::Uuid::new_v4())),
        })
    }

    async fn stream(&self, req: &UpstreamRequest<'_>) -> Result<ReplyStream, UpstreamError> {
        let answer = answer(req);
        let usage = usage(req.query, &answer);
        let mut events = vec![ReplyEvent::Ids {
            conversation_id: Some(conversation_id(req)),
            message_id: Some(format!("demo-{}", uuid::Uuid::new_v4())),
            task_id: None,
        }];
        events.extend(words(&answer).map(|w| ReplyEvent::Delta(w.to_owned())));
        events.push(ReplyEvent::End { usage: Some(usage) });
        let delay = self.word_delay;
        let stream = futures::stream::iter(events).then(move |ev| async move {
            if matches!(ev, ReplyEvent::Delta(_)) && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Ok(ev)
        });
        Ok(Box::pin(stream))
    }

    fn history(&self) -> Option<&dyn UpstreamHistory> {
        Some(self)
    }
}

/// The demo keeps no history of its own (the gateway's store has it all), so
/// it lists nothing and accepts every rename and delete.
#[async_trait]
impl UpstreamHistory for DemoUpstream {
    async fn list_conversations(
        &self,
        _user: &str,
    ) -> Result<Vec<UpstreamConversation>, UpstreamError> {
        Ok(Vec::new())
    }

    async fn list_messages(
        &self,
        _user: &str,
        _conversation_id: &str,
    ) -> Result<Vec<UpstreamMessage>, UpstreamError> {
        Ok(Vec::new())
    }

    async fn delete_conversation(
        &self,
        _user: &str,
        _conversation_id: &str,
    ) -> Result<(), UpstreamError> {
        Ok(())
    }

    async fn rename_conversation(
        &self,
        _user: &str,
        _conversation_id: &str,
        _name: &str,
    ) -> Result<(), UpstreamError> {
        Ok(())
    }
}

fn conversation_id(req: &UpstreamRequest<'_>) -> String {
    req.conversation_id
        .map(str::to_owned)
        .unwrap_or_else(|| format!("demo-{}", uuid::Uuid::new_v4()))
}

fn usage(query: &str, answer: &str) -> Usage {
    let prompt = words(query).count() as u64;
    let completion = words(answer).count() as u64;
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
    }
}

fn language(req: &UpstreamRequest<'_>) -> Lang {
    req.inputs
        .get("language")
        .and_then(|v| v.as_str())
        .and_then(Lang::from_tag)
        .unwrap_or_default()
}

/// The demo's answer to a request.
pub(crate) fn answer(req: &UpstreamRequest<'_>) -> String {
    let lang = language(req);
    let texts = Texts::for_lang(lang);
    let lower = req.query.to_lowercase();
    let mut out = String::new();
    out.push_str(texts.heading);
    out.push_str("\n\n");
    for line in req.query.trim().lines() {
        out.push_str("> ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    if lower.contains("markdown") {
        out.push_str(MARKDOWN_SAMPLE);
    } else if lower.contains("long") {
        for i in 1..=40 {
            out.push_str(&format!("{}. {}\n", i, texts.long_line));
        }
    } else {
        out.push_str(texts.body);
    }
    out
}

/// Split text into streaming pieces: a word with its trailing blanks, or a
/// few characters at a time for scripts written without spaces.
fn words(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = 0;
        let mut cjk = 0;
        let mut seen_space = false;
        for (i, c) in rest.char_indices() {
            if c.is_whitespace() {
                seen_space = true;
            } else if seen_space {
                break;
            } else if (c as u32) >= 0x2E80 {
                cjk += 1;
                if cjk > 3 {
                    break;
                }
            }
            end = i + c.len_utf8();
        }
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

struct Texts {
    heading: &'static str,
    body: &'static str,
    long_line: &'static str,
}

impl Texts {
    fn for_lang(lang: Lang) -> Texts {
        match lang {
            Lang::En => Texts {
                heading: "**Demo upstream** — you wrote:",
                body: "This answer comes from the gateway's built-in demo upstream, so no model is involved and nothing leaves this machine. To connect a real model, set `DIFY_BASE_URL` and `DIFY_API_KEY` and restart the gateway.\n\nTry a message with **markdown** in it to see formatting, or **long** for a long answer you can stop.\n",
                long_line: "This is a long demo answer, streamed a word at a time so that you can try the Stop button.",
            },
            Lang::Es => Texts {
                heading: "**Upstream de demostración** — escribiste:",
                body: "Esta respuesta viene del upstream de demostración integrado en el gateway: no interviene ningún modelo y nada sale de esta máquina. Para conectar un modelo real, define `DIFY_BASE_URL` y `DIFY_API_KEY` y reinicia el gateway.\n\nPrueba un mensaje con **markdown** para ver el formato, o **long** para una respuesta larga que puedes detener.\n",
                long_line: "Esta es una respuesta larga de demostración, enviada palabra a palabra para que puedas probar el botón Detener.",
            },
            Lang::Ko => Texts {
                heading: "**데모 업스트림** — 보낸 메시지:",
                body: "이 답변은 게이트웨이에 내장된 데모 업스트림에서 나왔습니다. 모델을 사용하지 않으며 어떤 데이터도 이 컴퓨터를 떠나지 않습니다. 실제 모델을 연결하려면 `DIFY_BASE_URL`과 `DIFY_API_KEY`를 설정하고 게이트웨이를 다시 시작하세요.\n\n서식을 보려면 **markdown**이 들어간 메시지를, 중지 버튼을 시험하려면 **long**을 보내 보세요.\n",
                long_line: "중지 버튼을 시험할 수 있도록 한 단어씩 전송되는 긴 데모 답변입니다.",
            },
            Lang::Zh => Texts {
                heading: "**演示上游** — 你写道：",
                body: "这个回答来自网关内置的演示上游，没有使用任何模型，数据也不会离开这台机器。要连接真实模型，请设置 `DIFY_BASE_URL` 和 `DIFY_API_KEY` 并重启网关。\n\n发送包含 **markdown** 的消息可查看格式效果，发送 **long** 可获得一个可以停止的长回答。\n",
                long_line: "这是一个很长的演示回答，逐字发送，方便你试用停止按钮。",
            },
            Lang::Ja => Texts {
                heading: "**デモ用アップストリーム** — あなたのメッセージ:",
                body: "この回答はゲートウェイ内蔵のデモ用アップストリームからのもので、モデルは使われず、データはこのマシンの外に出ません。実際のモデルにつなぐには `DIFY_BASE_URL` と `DIFY_API_KEY` を設定してゲートウェイを再起動してください。\n\n書式を見るには **markdown** を含むメッセージを、停止ボタンを試すには **long** を送ってみてください。\n",
                long_line: "停止ボタンを試せるように、一語ずつ送られる長いデモ回答です。",
            },
        }
    }
}

const MARKDOWN_SAMPLE: &str = "Here is some **markdown**:\n\n\
1. a numbered list\n\
2. with `inline code`\n\n\
- and a bullet list\n\
- with a [link](https://example.com)\n\n\
```rust\n\
fn main() {\n    println!(\"hello from the demo\");\n}\n\
```\n\n\
| upstream | network |\n\
|---|---|\n\
| demo | none |\n\
| Dify | yes |\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{SystemId, UserId};
    use crate::upstream::TurnContext;
    use serde_json::Map;

    fn req<'a>(query: &'a str, inputs: &'a Map<String, serde_json::Value>) -> UpstreamRequest<'a> {
        let system = Box::leak(Box::new(SystemId::parse("demo").unwrap()));
        let user = Box::leak(Box::new(UserId::parse("u").unwrap()));
        UpstreamRequest {
            user: "demo_u",
            query,
            conversation_id: None,
            inputs,
            history: &[],
            turn: TurnContext {
                system_id: system,
                user_id: user,
                conversation_id: "c",
                message_id: "m",
                agent: None,
                language: None,
            },
        }
    }

    #[test]
    fn words_rejoin_to_the_text() {
        for text in [
            "Hello  brave\nnew world ",
            "안녕하세요 세계",
            "这是一个很长的演示回答",
            "",
        ] {
            assert_eq!(words(text).collect::<String>(), text);
        }
        assert_eq!(words("a b").collect::<Vec<_>>(), ["a ", "b"]);
    }

    #[test]
    fn answer_is_deterministic_and_localised() {
        let inputs = Map::new();
        let a = answer(&req("hello", &inputs));
        assert_eq!(a, answer(&req("hello", &inputs)));
        assert!(a.contains("> hello"));
        assert!(a.contains("DIFY_BASE_URL"));
        let mut ko = Map::new();
        ko.insert("language".into(), "ko-KR".into());
        assert!(answer(&req("hello", &ko)).contains("데모 업스트림"));
        assert!(answer(&req("show me markdown", &inputs)).contains("```rust"));
    }

    #[tokio::test]
    async fn stream_concatenates_to_the_blocking_answer() {
        let demo = DemoUpstream::new(Duration::ZERO);
        let inputs = Map::new();
        let r = req("a long one please", &inputs);
        let blocking = demo.reply(&r).await.unwrap();
        let mut text = String::new();
        let mut stream = demo.stream(&r).await.unwrap();
        let mut ended = false;
        while let Some(ev) = stream.next().await {
            match ev.unwrap() {
                ReplyEvent::Delta(t) => text.push_str(&t),
                ReplyEvent::End { .. } => ended = true,
                _ => {}
            }
        }
        assert!(ended);
        assert_eq!(text, blocking.answer);
    }
}
