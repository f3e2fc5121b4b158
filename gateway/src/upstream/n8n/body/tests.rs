use super::*;

fn body_of(chunks: Vec<&'static [u8]>) -> BoxStream<'static, Result<Bytes, reqwest::Error>> {
    futures::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c)))).boxed()
}

async fn events(sse: bool, chunks: Vec<&'static [u8]>) -> Vec<Result<ReplyEvent, UpstreamError>> {
    reply_stream(body_of(chunks), sse, Duration::from_secs(5))
        .collect()
        .await
}

/// The answer text and how the stream ended.
async fn answer(sse: bool, chunks: Vec<&'static [u8]>) -> (String, Result<(), UpstreamError>) {
    let mut text = String::new();
    for event in events(sse, chunks).await {
        match event {
            Ok(ReplyEvent::Delta(d)) => text.push_str(&d),
            Ok(ReplyEvent::End { .. }) => return (text, Ok(())),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(e) => return (text, Err(e)),
        }
    }
    panic!("no end")
}

#[tokio::test]
async fn json_answers_under_every_known_key() {
    for (body, want) in [
        (&b"{\"output\":\"From the agent\"}"[..], "From the agent"),
        (b"{\"text\":\"t\"}", "t"),
        (b"{\"answer\":\"a\",\"output\":null}", "a"),
        (b"{\"message\":\"m\"}", "m"),
        (b"{\"response\":\"r\"}", "r"),
        (
            b"[{\"other\":1},{\"output\":\"second item\"}]",
            "second item",
        ),
        (b"[{\"json\":{\"output\":\"wrapped\"}}]", "wrapped"),
        (b"\"a bare JSON string\"", "a bare JSON string"),
        (
            b"Plain text\nover two lines\n",
            "Plain text\nover two lines",
        ),
        (b"{\n  \"output\": \"pretty\"\n}", "pretty"),
    ] {
        let (text, end) = answer(false, vec![body]).await;
        assert_eq!(end, Ok(()), "{}", String::from_utf8_lossy(body));
        assert_eq!(text, want);
    }
}

#[tokio::test]
async fn whole_answers_may_arrive_in_pieces() {
    let (text, end) = answer(false, vec![b"{\"out", b"put\":\"sp", b"lit\"}"]).await;
    assert_eq!((text.as_str(), end), ("split", Ok(())));
}

#[tokio::test]
async fn bodies_that_are_not_answers_are_protocol_errors() {
    for body in [
        &b""[..],
        b"  \n",
        b"<!DOCTYPE html><html><body>Bad Gateway</body></html>",
        b"{\"data\":[1,2]}",
    ] {
        let (_, end) = answer(false, vec![body]).await;
        assert!(
            matches!(end, Err(UpstreamError::Protocol(_))),
            "{}: {end:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[tokio::test]
async fn n8n_streaming_with_several_runs_and_split_lines() {
    let (text, end) = answer(
        false,
        vec![
            b"{\"type\":\"begin\",\"metadata\":{\"nodeId\":\"a\",\"nodeName\":\"Agent\"}}\n{\"type\":\"item\",\"content\":\"Hel",
            b"lo\",\"metadata\":{\"nodeId\":\"a\"}}\n",
            b"{\"type\":\"end\",\"metadata\":{\"nodeId\":\"a\"}}\n",
            b"{\"type\":\"begin\",\"metadata\":{\"nodeId\":\"b\"}}\n",
            b"{\"type\":\"item\",\"content\":{\"text_chunk\":\" world\"},\"metadata\":{}}\n",
            b"not json is text\n\n",
            b"{\"type\":\"end\",\"metadata\":{\"nodeId\":\"b\"}}\n",
        ],
    )
    .await;
    assert_eq!(end, Ok(()));
    assert_eq!(text, "Hello worldnot json is text");
}

#[tokio::test]
async fn n8n_streaming_byte_at_a_time() {
    let body: &'static [u8] = b"{\"type\":\"begin\"}\n{\"type\":\"item\",\"content\":\"\xea\xb0\x80 x\"}\n{\"type\":\"end\"}\n";
    let chunks: Vec<&'static [u8]> = (0..body.len()).map(|i| &body[i..=i]).collect();
    let (text, end) = answer(false, chunks).await;
    assert_eq!((text.as_str(), end), ("가 x", Ok(())));
}

#[tokio::test]
async fn n8n_error_chunk_fails_and_keeps_the_part_before() {
    let (text, end) = answer(
        false,
        vec![
            b"{\"type\":\"begin\"}\n{\"type\":\"item\",\"content\":\"part\"}\n",
            b"{\"type\":\"error\",\"content\":\"Model quota exceeded\"}\n",
            b"{\"type\":\"item\",\"content\":\"ignored\"}\n",
        ],
    )
    .await;
    assert_eq!(text, "part");
    assert_eq!(
        end,
        Err(UpstreamError::StreamError {
            status: 500,
            code: "workflow_error".into(),
            message: "Model quota exceeded".into()
        })
    );
}

#[tokio::test]
async fn n8n_stream_ending_inside_a_run_is_cut() {
    let (text, end) = answer(
        false,
        vec![b"{\"type\":\"begin\"}\n{\"type\":\"item\",\"content\":\"par\"}\n"],
    )
    .await;
    assert_eq!((text.as_str(), end), ("par", Err(UpstreamError::StreamCut)));
    let (_, end) = answer(
        false,
        vec![b"{\"type\":\"begin\"}\n{\"type\":\"item\",\"content\":\"pa"],
    )
    .await;
    assert_eq!(end, Err(UpstreamError::StreamCut));
}

#[tokio::test]
async fn seed_sse_skips_status_and_ends_at_done() {
    let (text, end) = answer(
        true,
        vec![
            b"data: {\"type\":\"status\",\"data\":{\"description\":\"Sending request to n8n webhook...\",\"level\":\"info\",\"done\":false}}\n\n",
            b"data: {\"type\":\"message\",\"data\":{\"content\":\"Hi\"}}\n\ndata: {\"type\":\"mess",
            b"age\",\"data\":{\"content\":\" there!\"}}\n\n",
            b"data: {\"type\":\"done\",\"data\":{\"message\":\"Stream completed\"}}\n\n",
        ],
    )
    .await;
    assert_eq!((text.as_str(), end), ("Hi there!", Ok(())));
}

#[tokio::test]
async fn seed_sse_is_recognised_without_its_content_type() {
    let (text, end) = answer(
        false,
        vec![b"data: {\"type\":\"message\",\"data\":{\"content\":\"x\"}}\n\ndata: {\"type\":\"done\",\"data\":{}}\n\n"],
    )
    .await;
    assert_eq!((text.as_str(), end), ("x", Ok(())));
}

#[tokio::test]
async fn seed_sse_error_and_cut() {
    let (text, end) = answer(
        true,
        vec![b"data: {\"type\":\"message\",\"data\":{\"content\":\"a\"}}\n\ndata: {\"type\":\"error\",\"data\":{\"message\":\"n8n webhook failed\"}}\n\n"],
    )
    .await;
    assert_eq!(text, "a");
    assert!(
        matches!(&end, Err(UpstreamError::StreamError { message, .. }) if message == "n8n webhook failed"),
        "{end:?}"
    );
    let (_, end) = answer(
        true,
        vec![b"data: {\"type\":\"message\",\"data\":{\"content\":\"a\"}}\n\n"],
    )
    .await;
    assert_eq!(end, Err(UpstreamError::StreamCut));
}

#[tokio::test]
async fn silence_longer_than_idle_is_a_timeout() {
    let body = futures::stream::pending::<Result<Bytes, reqwest::Error>>().boxed();
    let got: Vec<_> = reply_stream(body, false, Duration::from_millis(20))
        .collect()
        .await;
    assert_eq!(
        got,
        vec![Err(UpstreamError::Timeout(Duration::from_millis(20)))]
    );
}
