//! Operators, sessions, failed logins, API keys and the audit log.

use time::Duration;

use super::*;
use crate::store::operators::{ApiKeyRecord, AuditRecord, OperatorRecord, SessionRecord};

fn operator(email: &str, role: &str, systems: Option<&[&str]>) -> OperatorRecord {
    OperatorRecord {
        id: id(),
        email: email.into(),
        password_hash: "$argon2id$placeholder".into(),
        role: role.into(),
        systems: systems.map(|s| s.iter().map(|x| (*x).to_owned()).collect()),
        created_at: t0(),
    }
}

fn session(id_hash: &str, operator_id: &str) -> SessionRecord {
    SessionRecord {
        id_hash: id_hash.into(),
        operator_id: operator_id.into(),
        csrf_token: format!("csrf-{id_hash}"),
        created_at: t0(),
        last_seen_at: t0(),
    }
}

pub(super) async fn operators_and_sessions(store: &dyn Store) {
    let ana = operator(
        "ana@example.com",
        "analyst",
        Some(&["cointutor", "drillquiz"]),
    );
    assert!(store.add_operator(&ana).await.unwrap());
    let twin = operator("ana@example.com", "admin", None);
    assert!(
        !store.add_operator(&twin).await.unwrap(),
        "emails are unique"
    );
    let bo = operator("bo@example.com", "admin", None);
    assert!(store.add_operator(&bo).await.unwrap());

    let found = store
        .find_operator("ana@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, ana, "read back as written");
    assert_eq!(
        store.find_operator("nobody@example.com").await.unwrap(),
        None
    );
    let emails: Vec<String> = store
        .list_operators()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.email)
        .collect();
    assert_eq!(emails, ["ana@example.com", "bo@example.com"]);

    store.create_session(&session("s1", &ana.id)).await.unwrap();
    store.create_session(&session("s2", &bo.id)).await.unwrap();
    let (s, o) = store.find_session("s1").await.unwrap().unwrap();
    assert_eq!(
        (s.csrf_token.as_str(), o.email.as_str()),
        ("csrf-s1", "ana@example.com")
    );
    assert_eq!(s.created_at, t0());

    // Touching only moves forward.
    store
        .touch_session("s1", t0() + Duration::minutes(5))
        .await
        .unwrap();
    store
        .touch_session("s1", t0() + Duration::minutes(1))
        .await
        .unwrap();
    let (s, _) = store.find_session("s1").await.unwrap().unwrap();
    assert_eq!(s.last_seen_at, t0() + Duration::minutes(5));

    assert!(store.end_session("s1").await.unwrap());
    assert!(!store.end_session("s1").await.unwrap());
    assert_eq!(store.find_session("s1").await.unwrap(), None);

    // A new password ends the operator's sessions; removal ends them too.
    store.create_session(&session("s3", &ana.id)).await.unwrap();
    assert!(
        store
            .set_operator_password("ana@example.com", "$argon2id$new")
            .await
            .unwrap()
    );
    assert_eq!(store.find_session("s3").await.unwrap(), None);
    assert!(
        store.find_session("s2").await.unwrap().is_some(),
        "others' sessions stay"
    );
    assert_eq!(
        store
            .find_operator("ana@example.com")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$new"
    );
    assert!(
        !store
            .set_operator_password("nobody@example.com", "x")
            .await
            .unwrap()
    );
    assert!(store.remove_operator("bo@example.com").await.unwrap());
    assert!(!store.remove_operator("bo@example.com").await.unwrap());
    assert_eq!(store.find_session("s2").await.unwrap(), None);
}

pub(super) async fn failed_logins_are_counted_per_account_and_address(store: &dyn Store) {
    let at = |m: i64| t0() + Duration::minutes(m);
    store
        .record_login_failure("a@x.io", "10.0.0.1", at(0))
        .await
        .unwrap();
    store
        .record_login_failure("a@x.io", "10.0.0.2", at(5))
        .await
        .unwrap();
    store
        .record_login_failure("b@x.io", "10.0.0.1", at(10))
        .await
        .unwrap();
    let f = store
        .login_failures("a@x.io", "10.0.0.1", at(0))
        .await
        .unwrap();
    assert_eq!((f.account, f.address), (2, 2));
    assert_eq!(
        (f.account_oldest, f.address_oldest),
        (Some(at(0)), Some(at(0)))
    );
    // Only failures at or after `since` count.
    let f = store
        .login_failures("a@x.io", "10.0.0.1", at(1))
        .await
        .unwrap();
    assert_eq!((f.account, f.address), (1, 1));
    assert_eq!(
        (f.account_oldest, f.address_oldest),
        (Some(at(5)), Some(at(10)))
    );
    store.clear_login_failures("a@x.io").await.unwrap();
    let f = store
        .login_failures("a@x.io", "10.0.0.9", at(0))
        .await
        .unwrap();
    assert_eq!((f.account, f.address, f.account_oldest), (0, 0, None));
    let f = store
        .login_failures("c@x.io", "10.0.0.1", at(0))
        .await
        .unwrap();
    assert_eq!(
        f.address, 1,
        "the other account's failure from that address stays"
    );
}

pub(super) async fn keys_and_audit(store: &dyn Store) {
    let key = |name: &str, systems: Option<Vec<String>>| ApiKeyRecord {
        id: id(),
        digest: format!("digest-{name}"),
        name: name.into(),
        systems,
        permissions: vec!["chat".into(), "tokens".into()],
        expires_at: Some(t0() + Duration::days(30)),
        created_by: "operator:ana@example.com".into(),
        created_at: t0(),
        last_used_at: None,
        revoked_at: None,
    };
    let coin = key("coin", Some(vec!["cointutor".into()]));
    let all = key("all", None);
    store.add_api_key(&coin).await.unwrap();
    store.add_api_key(&all).await.unwrap();
    let listed = store.list_api_keys().await.unwrap();
    assert_eq!(
        listed,
        [coin.clone(), all.clone()],
        "read back as written, oldest first"
    );

    assert!(
        store
            .revoke_api_key(&coin.id, t0() + Duration::hours(1))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_api_key(&coin.id, t0() + Duration::hours(2))
            .await
            .unwrap()
    );
    assert!(!store.revoke_api_key("no-such-key", t0()).await.unwrap());
    store
        .mark_api_keys_used(&[
            (all.id.clone(), t0() + Duration::minutes(3)),
            (coin.id.clone(), t0() + Duration::minutes(2)),
        ])
        .await
        .unwrap();
    // An older use does not move last_used_at back.
    store
        .mark_api_keys_used(&[(all.id.clone(), t0() + Duration::minutes(1))])
        .await
        .unwrap();
    store.mark_api_keys_used(&[]).await.unwrap();
    let listed = store.list_api_keys().await.unwrap();
    assert_eq!(listed[0].revoked_at, Some(t0() + Duration::hours(1)));
    assert_eq!(listed[1].revoked_at, None);
    assert_eq!(listed[1].last_used_at, Some(t0() + Duration::minutes(3)));

    for (i, action) in ["operator.login", "key.create", "key.revoke"]
        .iter()
        .enumerate()
    {
        store
            .append_audit(&AuditRecord {
                id: None,
                at: t0() + Duration::seconds(i64::try_from(i).unwrap()),
                actor: "operator:ana@example.com".into(),
                action: (*action).into(),
                target: coin.id.clone(),
                address: "10.0.0.1".into(),
            })
            .await
            .unwrap();
    }
    let lines = store.list_audit(2, None).await.unwrap();
    let actions: Vec<&str> = lines.iter().map(|l| l.action.as_str()).collect();
    assert_eq!(actions, ["key.revoke", "key.create"], "newest first");
    assert_eq!(lines[0].at, t0() + Duration::seconds(2));
    let older = store.list_audit(10, lines[1].id).await.unwrap();
    let actions: Vec<&str> = older.iter().map(|l| l.action.as_str()).collect();
    assert_eq!(actions, ["operator.login"]);
}
