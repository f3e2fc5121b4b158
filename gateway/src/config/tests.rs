use super::*;

fn dev_vars(extra: &[(&str, &str)]) -> EnvVars {
    let mut vars = EnvVars::from_pairs([
        (
            "CHAT_GATEWAY_JWT_SECRET",
            "0123456789abcdef0123456789abcdef",
        ),
        (
            "CHAT_GATEWAY_API_KEY",
            "key-one-0123456789, key-two-0123456789",
        ),
    ]);
    for (k, v) in extra {
        vars.set(*k, *v);
    }
    vars
}

#[test]
fn defaults() {
    let c = Config::from_env(&dev_vars(&[])).unwrap();
    assert_eq!(c.mode, Mode::Development);
    assert_eq!(c.listen.to_string(), "127.0.0.1:8088");
    assert_eq!(c.public_url, "http://127.0.0.1:8088");
    assert_eq!(c.database_url, "sqlite://chat_gateway.db");
    assert_eq!(c.api_keys, ["key-one-0123456789", "key-two-0123456789"]);
    assert!(c.allowed_system_ids.is_none());
    assert!(
        c.upstreams.demo.is_some(),
        "demo upstream on in development"
    );
    assert!(c.upstreams.shared.is_none());
    assert_eq!(c.upstreams.http2, UpstreamHttp2::Auto);
    assert!(c.dev.generated.is_empty());
}

#[test]
fn upstream_http2_can_be_forced() {
    let c = Config::from_env(&dev_vars(&[("CHAT_GATEWAY_UPSTREAM_HTTP2", "always")])).unwrap();
    assert_eq!(c.upstreams.http2, UpstreamHttp2::Always);
}

#[test]
fn explicitly_empty_api_key_turns_key_auth_off_in_development() {
    let c = Config::from_env(&dev_vars(&[("CHAT_GATEWAY_API_KEY", "")])).unwrap();
    assert!(c.api_keys.is_empty());
    assert!(c.dev.generated.is_empty(), "an empty value is not 'unset'");
}

#[test]
fn production_refuses_weak_setups() {
    let base = [("CHAT_GATEWAY_ENV", "production")];
    let err = Config::from_env(&EnvVars::from_pairs(base)).unwrap_err();
    assert!(err.to_string().contains("CHAT_GATEWAY_JWT_SECRET"), "{err}");

    let short = Config::from_env(&dev_vars(&[
        ("CHAT_GATEWAY_ENV", "production"),
        ("CHAT_GATEWAY_JWT_SECRET", "short"),
    ]))
    .unwrap_err();
    assert!(short.to_string().contains("at least 32"), "{short}");

    let no_keys = Config::from_env(&dev_vars(&[
        ("CHAT_GATEWAY_ENV", "production"),
        ("CHAT_GATEWAY_API_KEY", " , "),
    ]))
    .unwrap_err();
    assert!(
        no_keys.to_string().contains("CHAT_GATEWAY_API_KEY"),
        "{no_keys}"
    );

    let ok = Config::from_env(&dev_vars(&[("CHAT_GATEWAY_ENV", "production")])).unwrap();
    assert!(
        ok.upstreams.demo.is_none(),
        "no demo upstream in production by default"
    );
}

#[test]
fn development_generates_and_keeps_secrets() {
    let dir = std::env::temp_dir().join(format!("tzc-dev-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dev.env");
    let vars = EnvVars::from_pairs([("CHAT_GATEWAY_DEV_SECRETS_FILE", file.to_str().unwrap())]);
    let first = Config::from_env(&vars).unwrap();
    assert_eq!(
        first.dev.generated,
        ["CHAT_GATEWAY_JWT_SECRET", "CHAT_GATEWAY_API_KEY"]
    );
    let second = Config::from_env(&vars).unwrap();
    assert_eq!(first.api_keys, second.api_keys, "kept across restarts");
    assert!(first.jwt.secret.len() >= MIN_SECRET_BYTES);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&first.api_keys[0]));
    std::fs::remove_dir_all(dir).unwrap();
}

fn dify(configured: &ConfiguredTarget) -> &DifyTarget {
    match &configured.target {
        UpstreamTarget::Dify(target) => target,
        other => panic!("not Dify: {other:?}"),
    }
}

fn n8n(configured: &ConfiguredTarget) -> &N8nTarget {
    match &configured.target {
        UpstreamTarget::N8n(target) => target,
        other => panic!("not n8n: {other:?}"),
    }
}

fn openai(configured: &ConfiguredTarget) -> &OpenAiTarget {
    match &configured.target {
        UpstreamTarget::OpenAi(target) => target,
        other => panic!("not OpenAI: {other:?}"),
    }
}

#[test]
fn n8n_shared_and_per_system_with_token_fallback() {
    let c = Config::from_env(&dev_vars(&[
        ("N8N_WEBHOOK_URL", "https://n8n.example.com/webhook/abc"),
        ("N8N_WEBHOOK_TOKEN", "shared-token"),
        (
            "N8N_TEAM_CHAT_WEBHOOK_URL",
            "https://n8n.example.com/webhook/team",
        ),
        ("N8N_SUPPORT_WEBHOOK_TOKEN", "support-token"),
    ]))
    .unwrap();
    let shared = n8n(c.upstreams.shared.as_ref().unwrap());
    assert_eq!(shared.webhook_url, "https://n8n.example.com/webhook/abc");
    assert_eq!(shared.token.as_deref(), Some("shared-token"));
    let team = n8n(&c.upstreams.per_system["TEAM_CHAT"]);
    assert_eq!(
        (team.webhook_url.as_str(), team.token.as_deref()),
        ("https://n8n.example.com/webhook/team", Some("shared-token"))
    );
    let support = n8n(&c.upstreams.per_system["SUPPORT"]);
    assert_eq!(
        (support.webhook_url.as_str(), support.token.as_deref()),
        ("https://n8n.example.com/webhook/abc", Some("support-token"))
    );
    assert!(!format!("{support:?}").contains("support-token"));
    assert_eq!(c.upstreams.per_system["SUPPORT"].source, "N8N_SUPPORT_*");
}

#[test]
fn openai_needs_a_model_and_a_key_shared_or_own() {
    let none = Config::from_env(&dev_vars(&[("OPENAI_API_KEY", "sk-x")])).unwrap();
    assert!(none.upstreams.shared.is_none(), "a key without a model");
    let c = Config::from_env(&dev_vars(&[
        ("OPENAI_API_KEY", "sk-shared"),
        ("OPENAI_MODEL", "gpt-4o-mini"),
        ("OPENAI_SYSTEM_PROMPT", "Be brief."),
        ("OPENAI_LOCAL_BASE_URL", "http://127.0.0.1:11434/v1/"),
        ("OPENAI_LOCAL_MODEL", "llama3.1"),
        ("OPENAI_BOT_SYSTEM_PROMPT", "You are the ChatBot."),
        ("OPENAI_HISTORY_TURNS", "4"),
    ]))
    .unwrap();
    let shared = openai(c.upstreams.shared.as_ref().unwrap());
    assert_eq!(shared.base_url, "https://api.openai.com/v1");
    assert_eq!(shared.model, "gpt-4o-mini");
    assert_eq!(shared.system_prompt.as_deref(), Some("Be brief."));
    assert_eq!(shared.history.max_turns, 4);
    let local = openai(&c.upstreams.per_system["LOCAL"]);
    assert_eq!(
        (
            local.base_url.as_str(),
            local.model.as_str(),
            local.api_key.as_str()
        ),
        ("http://127.0.0.1:11434/v1", "llama3.1", "sk-shared")
    );
    let bot = openai(&c.upstreams.per_system["BOT"]);
    assert_eq!(bot.system_prompt.as_deref(), Some("You are the ChatBot."));
    assert_eq!(bot.model, "gpt-4o-mini");
    assert!(!format!("{bot:?}").contains("sk-shared"));

    let err = Config::from_env(&dev_vars(&[("OPENAI_X_MODEL", "m")])).unwrap_err();
    assert!(err.to_string().contains("OPENAI_X_API_KEY"), "{err}");
}

#[test]
fn two_kinds_for_one_system_name_both() {
    let err = Config::from_env(&dev_vars(&[
        ("DIFY_TEAM_BASE_URL", "https://dify.example.com"),
        ("DIFY_TEAM_API_KEY", "app-x"),
        ("N8N_TEAM_WEBHOOK_URL", "https://n8n.example.com/webhook/t"),
    ]))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("DIFY_TEAM_*") && err.contains("N8N_TEAM_*"),
        "{err}"
    );
    let err = Config::from_env(&dev_vars(&[
        ("N8N_WEBHOOK_URL", "https://n8n.example.com/webhook/t"),
        ("OPENAI_API_KEY", "sk-x"),
        ("OPENAI_MODEL", "m"),
    ]))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("N8N_WEBHOOK_URL") && err.contains("OPENAI_API_KEY + OPENAI_MODEL"),
        "{err}"
    );
    // A system of its own over another kind's shared target is fine.
    let c = Config::from_env(&dev_vars(&[
        ("N8N_WEBHOOK_URL", "https://n8n.example.com/webhook/t"),
        ("OPENAI_BOT_API_KEY", "sk-x"),
        ("OPENAI_BOT_MODEL", "m"),
    ]))
    .unwrap();
    assert_eq!(c.upstreams.per_system["BOT"].target.kind(), "openai");
    assert_eq!(c.upstreams.shared.unwrap().target.kind(), "n8n");
}

#[test]
fn env_keys() {
    assert_eq!(system_env_key("my-app.v2"), "MY_APP_V2");
    assert_eq!(system_env_key("drillquiz"), "DRILLQUIZ");
}

#[test]
fn dify_per_system_for_any_system_with_shared_fallback() {
    let c = Config::from_env(&dev_vars(&[
        ("DIFY_BASE_URL", "https://dify.example.com/v1/"),
        ("DIFY_API_KEY", "app-shared"),
        ("DIFY_DRILLQUIZ_BASE_URL", "https://dq.example.com"),
        ("DIFY_MY_APP_API_KEY", "app-my"),
        ("DIFY_EMPTY_BASE_URL", ""),
    ]))
    .unwrap();
    let shared = dify(c.upstreams.shared.as_ref().unwrap());
    assert_eq!(
        shared.base_url, "https://dify.example.com",
        "trailing /v1 dropped"
    );
    let dq = dify(&c.upstreams.per_system["DRILLQUIZ"]);
    assert_eq!(
        (dq.base_url.as_str(), dq.api_key.as_str()),
        ("https://dq.example.com", "app-shared")
    );
    let my = dify(&c.upstreams.per_system["MY_APP"]);
    assert_eq!(
        (my.base_url.as_str(), my.api_key.as_str()),
        ("https://dify.example.com", "app-my")
    );
    assert!(!c.upstreams.per_system.contains_key("EMPTY"));
    assert!(
        !format!("{my:?}").contains("app-my"),
        "keys are redacted in Debug"
    );
}

#[test]
fn half_configured_system_is_an_error() {
    let err =
        Config::from_env(&dev_vars(&[("DIFY_X_BASE_URL", "https://x.example.com")])).unwrap_err();
    assert!(err.to_string().contains("DIFY_X_API_KEY"), "{err}");
}

#[test]
fn bad_values_name_the_variable() {
    for (var, value) in [
        ("CHAT_GATEWAY_LISTEN", "nope"),
        ("DATABASE_URL", "mysql://x"),
        ("ALLOWED_CHAT_TOKEN_ORIGINS", "example.com"),
        ("ALLOWED_SYSTEM_IDS", "good,bad id"),
        ("DIFY_BASE_URL", "ftp://x"),
        ("N8N_WEBHOOK_URL", "n8n.example.com/webhook/x"),
        ("OPENAI_HISTORY_TURNS", "many"),
        ("CHAT_GATEWAY_TOKEN_TTL_SECS", "soon"),
        ("CHAT_GATEWAY_ENV", "staging"),
        ("CHAT_GATEWAY_UPSTREAM_HTTP2", "sometimes"),
    ] {
        let mut extra = vec![(var, value)];
        if var == "DIFY_BASE_URL" {
            extra.push(("DIFY_API_KEY", "k"));
        }
        let err = Config::from_env(&dev_vars(&extra)).unwrap_err();
        assert!(err.to_string().contains(var), "{var}: {err}");
    }
}

#[test]
fn lists_and_origins_are_normalised() {
    let c = Config::from_env(&dev_vars(&[
        ("ALLOWED_SYSTEM_IDS", "DrillQuiz, cointutor,,"),
        (
            "ALLOWED_CHAT_TOKEN_ORIGINS",
            "https://Quiz.Example.com/, http://localhost:3000/app",
        ),
        ("CHAT_GATEWAY_LISTEN", "0.0.0.0:9000"),
        // Beyond loopback, development must be chosen explicitly.
        ("CHAT_GATEWAY_ENV", "development"),
    ]))
    .unwrap();
    let allowed = c.allowed_system_ids.unwrap();
    assert!(allowed.contains("drillquiz") && allowed.contains("cointutor"));
    assert_eq!(
        c.allowed_origins,
        ["https://quiz.example.com", "http://localhost:3000"]
    );
    assert_eq!(c.public_url, "http://127.0.0.1:9000");
}

#[test]
fn database_passwords_are_redacted() {
    use super::redact_database_url as redact;
    assert_eq!(
        redact("postgres://app:s3cret@db:5432/chat"),
        "postgres://app:***@db:5432/chat"
    );
    assert_eq!(
        redact("postgresql://app:p@ss:w0rd@db/chat?sslmode=require"),
        "postgresql://app:***@db/chat?sslmode=require"
    );
    assert_eq!(
        redact("postgres://db/chat?user=app&password=s3cret&sslmode=require"),
        "postgres://db/chat?user=app&password=***&sslmode=require"
    );
    assert_eq!(redact("postgres://app@db/chat"), "postgres://app@db/chat");
    assert_eq!(
        redact("sqlite://chat_gateway.db"),
        "sqlite://chat_gateway.db"
    );
}

#[test]
fn development_by_default_stays_on_loopback() {
    let exposed = [("CHAT_GATEWAY_LISTEN", "0.0.0.0:8088")];
    let err = Config::from_env(&dev_vars(&exposed)).unwrap_err();
    assert!(err.to_string().contains("CHAT_GATEWAY_ENV"), "{err}");
    let err =
        Config::from_env(&dev_vars(&[("CHAT_GATEWAY_LISTEN", "192.0.2.7:8088")])).unwrap_err();
    assert!(err.to_string().contains("CHAT_GATEWAY_LISTEN"), "{err}");
    // Chosen on purpose, either mode may listen anywhere.
    for mode in ["development", "production"] {
        let config = Config::from_env(&dev_vars(&[
            ("CHAT_GATEWAY_LISTEN", "0.0.0.0:8088"),
            ("CHAT_GATEWAY_ENV", mode),
        ]))
        .unwrap();
        assert!(config.listen.ip().is_unspecified());
    }
    let local = Config::from_env(&dev_vars(&[("CHAT_GATEWAY_LISTEN", "[::1]:8088")])).unwrap();
    assert_eq!(local.mode, Mode::Development);
}

#[test]
fn a_short_secret_set_by_hand_is_refused_in_development_too() {
    let err = Config::from_env(&dev_vars(&[("CHAT_GATEWAY_JWT_SECRET", "abc")])).unwrap_err();
    assert!(err.to_string().contains("at least 32"), "{err}");
}

fn example_vars() -> EnvVars {
    dev_vars(&[
        ("DRILLQUIZ_DIFY_KEY", "app-drillquiz"),
        ("TEAM_SUPPORT_WEBHOOK_TOKEN", "support-token"),
        ("OPENAI_API_KEY", "sk-chatbot"),
        ("AZURE_OPENAI_KEY", "azure-key"),
    ])
}

const EXAMPLE: &str = include_str!("../../../docs/config-example.toml");

#[test]
fn the_documented_example_parses_into_every_kind_and_agent() {
    let limits = HistoryLimits {
        max_turns: 10,
        max_chars: 24_000,
    };
    let systems = file::parse(EXAMPLE, "config-example.toml", &example_vars(), limits).unwrap();
    let dq = systems["DRILLQUIZ"].upstream.as_ref().unwrap();
    assert_eq!(dify(dq).api_key, "app-drillquiz");
    let team = &systems["TEAM_CHAT"];
    let names: Vec<&str> = team.agents.keys().map(String::as_str).collect();
    assert_eq!(names, ["sales", "support"]);
    assert_eq!(
        n8n(team.upstream.as_ref().unwrap()).token.as_deref(),
        Some("support-token"),
        "default_agent answers messages without an agent"
    );
    assert_eq!(team.agents["sales"].title, "Sales");
    assert_eq!(
        n8n(&team.agents["sales"].target).token.as_deref(),
        Some("sales-webhook-token")
    );
    let bot = openai(systems["CHATBOT"].upstream.as_ref().unwrap());
    assert_eq!(bot.api_key, "sk-chatbot");
    assert_eq!(bot.temperature, Some(0.3));
    assert_eq!(bot.max_tokens, Some(800));
    let azure = openai(&systems["CHATBOT"].agents["azure"].target);
    assert_eq!(azure.azure_api_version.as_deref(), Some("2024-10-21"));
    let local = openai(&systems["CHATBOT"].agents["local"].target);
    assert_eq!(local.base_url, "http://127.0.0.1:11434/v1");
}

#[test]
fn file_mistakes_name_the_file_line_and_key() {
    let limits = HistoryLimits {
        max_turns: 1,
        max_chars: 1,
    };
    let cases = [
        (
            "[systems.a]\nkind = \"n8n\"\nurl = \"https://x/webhook/1\"\ncolour = \"red\"\n",
            "line 4",
            "colour",
        ),
        (
            "[systems.a]\nkind = \"openai\"\ncredential = \"k\"\n",
            "line 1",
            "systems.a.model",
        ),
        (
            "\n[systems.a.agents.x]\nkind = \"mystery\"\n",
            "line 2",
            "systems.a.agents.x.kind",
        ),
        (
            "[systems.a]\nkind = \"dify\"\nurl = \"https://d\"\ncredential_env = \"NOT_SET_ANYWHERE\"\n",
            "line 1",
            "NOT_SET_ANYWHERE",
        ),
        (
            "[systems.a.agents.x]\nkind = \"n8n\"\nurl = \"https://n/webhook/x\"\n[systems.a.agents.y]\nkind = \"n8n\"\nurl = \"https://n/webhook/y\"\n",
            "line",
            "default_agent",
        ),
    ];
    for (text, line, key) in cases {
        let err = file::parse(text, "gw.toml", &dev_vars(&[]), limits)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("gw.toml") && err.contains(line) && err.contains(key),
            "{text}: {err}"
        );
    }
}

#[test]
fn a_file_system_also_set_by_env_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gw.toml");
    std::fs::write(&path, EXAMPLE).unwrap();
    let mut vars = example_vars();
    vars.set("CHAT_GATEWAY_CONFIG", path.to_str().unwrap());
    let c = Config::from_env(&vars).unwrap();
    assert_eq!(c.upstreams.agents["CHATBOT"].len(), 2);
    vars.set(
        "N8N_CHATBOT_WEBHOOK_URL",
        "https://n8n.example.com/webhook/c",
    );
    let err = Config::from_env(&vars).unwrap_err().to_string();
    assert!(
        err.contains("N8N_CHATBOT_*") && err.contains("[systems.chatbot]"),
        "{err}"
    );
}
