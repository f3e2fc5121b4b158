//! Systems and agents managed at runtime: create, update, delete, and the
//! version that tells replicas something changed.

use super::*;
use crate::store::catalog::{AgentRecord, CatalogWrite, PutMode, SealedCredential, SystemRecord};

fn system(id: &str) -> SystemRecord {
    SystemRecord {
        id: id.to_owned(),
        display_name: format!("The {id} system"),
        allowed_origins: vec![
            "https://a.example".to_owned(),
            "http://b.example:8080".to_owned(),
        ],
        enabled: true,
        default_agent: None,
        created_at: t0(),
        updated_at: t0(),
    }
}

fn agent(system: &str, id: &str) -> AgentRecord {
    AgentRecord {
        system_id: system.to_owned(),
        id: id.to_owned(),
        kind: "openai".to_owned(),
        url: "http://127.0.0.1:9/v1".to_owned(),
        credential: Some(SealedCredential {
            sealed: "v1.sealed-bytes".to_owned(),
            hint: "…wxyz".to_owned(),
        }),
        model: Some("gpt-test".to_owned()),
        system_prompt: Some("Be brief.".to_owned()),
        options: r#"{"temperature":0.5}"#.to_owned(),
        title: "Sales".to_owned(),
        description: "Talks prices".to_owned(),
        enabled: true,
        created_at: t0(),
        updated_at: t0(),
    }
}

pub(super) async fn systems_and_agents_round_trip(store: &dyn Store) {
    let empty = store.load_catalog().await.unwrap();
    assert!(empty.systems.is_empty() && empty.agents.is_empty());
    let v0 = store.catalog_version().await.unwrap();
    assert_eq!(empty.version, v0);

    let quiz = system("quiz");
    assert_eq!(
        store.put_system(&quiz, PutMode::Create).await.unwrap(),
        CatalogWrite::Done
    );
    let v1 = store.catalog_version().await.unwrap();
    assert_ne!(v1, v0, "a create moves the version");
    // Creating it again changes nothing, not even the version.
    let mut again = system("quiz");
    again.display_name = "Another".to_owned();
    assert_eq!(
        store.put_system(&again, PutMode::Create).await.unwrap(),
        CatalogWrite::Exists
    );
    assert_eq!(store.catalog_version().await.unwrap(), v1);
    assert_eq!(
        store
            .put_system(&system("nobody"), PutMode::Update)
            .await
            .unwrap(),
        CatalogWrite::NotFound
    );

    let sales = agent("quiz", "sales");
    let mut plain = agent("quiz", "plain");
    plain.kind = "n8n".to_owned();
    plain.credential = None;
    plain.model = None;
    plain.system_prompt = None;
    plain.options = "{}".to_owned();
    for a in [&sales, &plain] {
        assert_eq!(
            store.put_agent(a, PutMode::Create).await.unwrap(),
            CatalogWrite::Done
        );
    }
    assert_eq!(
        store.put_agent(&sales, PutMode::Create).await.unwrap(),
        CatalogWrite::Exists
    );
    let loaded = store.load_catalog().await.unwrap();
    assert_eq!(loaded.systems, vec![quiz.clone()]);
    assert_eq!(loaded.agents, vec![plain.clone(), sales.clone()], "by id");
    assert_eq!(loaded.version, store.catalog_version().await.unwrap());

    // An update replaces every field but the creation time.
    let mut edited = system("quiz");
    edited.display_name = "Quiz".to_owned();
    edited.allowed_origins = vec![];
    edited.enabled = false;
    edited.default_agent = Some("sales".to_owned());
    edited.created_at = t0() + Duration::days(3);
    edited.updated_at = t0() + Duration::minutes(5);
    let before = store.catalog_version().await.unwrap();
    assert_eq!(
        store.put_system(&edited, PutMode::Update).await.unwrap(),
        CatalogWrite::Done
    );
    assert_ne!(store.catalog_version().await.unwrap(), before);
    let mut sales_edit = agent("quiz", "sales");
    sales_edit.credential = None;
    sales_edit.enabled = false;
    sales_edit.model = Some("gpt-other".to_owned());
    sales_edit.created_at = t0() + Duration::days(3);
    sales_edit.updated_at = t0() + Duration::minutes(6);
    assert_eq!(
        store.put_agent(&sales_edit, PutMode::Update).await.unwrap(),
        CatalogWrite::Done
    );
    let loaded = store.load_catalog().await.unwrap();
    let mut expected = edited.clone();
    expected.created_at = t0();
    assert_eq!(loaded.systems, vec![expected]);
    let mut expected = sales_edit.clone();
    expected.created_at = t0();
    assert_eq!(loaded.agents, vec![plain.clone(), expected]);

    // Deleting an agent, then the system with the rest of its agents.
    assert_eq!(
        store.delete_agent("quiz", "plain").await.unwrap(),
        CatalogWrite::Done
    );
    assert_eq!(
        store.delete_agent("quiz", "plain").await.unwrap(),
        CatalogWrite::NotFound
    );
    store
        .put_system(&system("other"), PutMode::Create)
        .await
        .unwrap();
    store
        .put_agent(&agent("other", "kept"), PutMode::Create)
        .await
        .unwrap();
    assert_eq!(
        store.delete_system("quiz").await.unwrap(),
        CatalogWrite::Done
    );
    assert_eq!(
        store.delete_system("quiz").await.unwrap(),
        CatalogWrite::NotFound
    );
    let loaded = store.load_catalog().await.unwrap();
    assert_eq!(loaded.systems, vec![system("other")]);
    assert_eq!(
        loaded.agents,
        vec![agent("other", "kept")],
        "quiz's agents went with it"
    );
    store.delete_system("other").await.unwrap();
}
