//! The rich contact's migration (0008) keeps every value of the old single-valued
//! contacts: 100,000 of them, written on the schema before it, with every shape of
//! value the old rules allowed (absent fields, the longest values, Unicode, quotes,
//! backslashes, deleted contacts), then migrated, then compared field by field.

use std::{borrow::Cow, time::Instant};

use roster::server::db::MIGRATOR;
use sqlx::{Connection, Executor, PgConnection};

use crate::helpers::{admin_connection, url_for};

/// The last migration before the rich contact.
const OLD_SCHEMA: i64 = 7;
const CONTACTS: i64 = 100_000;

#[tokio::test]
async fn migrating_100k_old_contacts_to_the_rich_model_loses_no_value() {
    let mut admin = admin_connection().await;
    let name = format!("roster_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .expect("create a database");
    let mut db = PgConnection::connect(&url_for(&name))
        .await
        .expect("connect");

    let mut old = sqlx::migrate::Migrator {
        migrations: Cow::Owned(
            MIGRATOR
                .iter()
                .filter(|migration| migration.version <= OLD_SCHEMA)
                .cloned()
                .collect(),
        ),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    old.set_ignore_missing(true);
    old.run(&mut db).await.expect("the old migrations run");

    // Old contacts, as the old rules allowed them: each optional field absent in some
    // rows (at different rates, so every combination occurs), the longest values
    // allowed, several scripts, quotes, backslashes and JSON's special characters.
    db.execute(
        format!(
            r#"INSERT INTO contacts (name, email, phone, company, title, location, tier, tags, notes, deleted_at)
               SELECT
                 CASE WHEN n % 1000 = 0 THEN repeat('Ñ', 200) ELSE 'Person ' || n || ' Ünïcödé 名前' END,
                 CASE WHEN n % 7 = 0 THEN NULL
                      WHEN n % 1000 = 1 THEN repeat('a', 64) || '@' || repeat('b', 63) || '.' || repeat('c', 63) || '.' || n || 'x.example'
                      ELSE 'Person.' || n || '@Example.COM' END,
                 CASE WHEN n % 5 = 0 THEN NULL
                      WHEN n % 3 = 0 THEN '+44 (20) 7946-' || lpad((n % 10000)::text, 4, '0') || ' ext. 12'
                      ELSE '555.010.' || lpad((n % 10000)::text, 4, '0') END,
                 CASE WHEN n % 11 = 0 THEN NULL
                      -- Spellings of one company that differ in case and spacing.
                      WHEN n % 5 = 1 THEN '  COMPANY   "' || (n % 97) || '" \ LTD '
                      ELSE 'Company "' || (n % 97) || '" \ Ltd' END,
                 CASE WHEN n % 13 = 0 THEN NULL ELSE 'Title ' || (n % 31) END,
                 CASE WHEN n % 4 = 0 THEN NULL
                      WHEN n % 999 = 0 THEN repeat('Ł', 200)
                      ELSE 'City "' || (n % 53) || E'" \\ {{}} [] \u2028 ' END,
                 1 + n % 4,
                 CASE WHEN n % 2 = 0 THEN '{{}}'::text[] ELSE ARRAY['tag' || (n % 17), 'ünï'] END,
                 CASE WHEN n % 3 = 0 THEN NULL ELSE E'Line one\nLine "two" \\ ' || n END,
                 CASE WHEN n % 50 = 0 THEN now() END
               FROM generate_series(1, {CONTACTS}) AS n"#
        )
        .as_str(),
    )
    .await
    .expect("old contacts are written");
    db.execute("CREATE TABLE old_contacts AS SELECT * FROM contacts")
        .await
        .expect("a copy of the old rows");

    let started = Instant::now();
    MIGRATOR.run(&mut db).await.expect("the migrations run");
    eprintln!(
        "migrated {CONTACTS} contacts in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let pool = sqlx::PgPool::connect(&url_for(&name))
        .await
        .expect("a pool");
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap_or_else(|error| panic!("{sql}: {error}"))
        }
    };
    assert_eq!(
        count("SELECT count(*) FROM contacts").await,
        CONTACTS,
        "no contact lost or added"
    );
    // Every old value is where the new model keeps it, byte for byte; every other
    // column is untouched.
    let lost = count(
        r#"SELECT count(*) FROM old_contacts o LEFT JOIN contacts c USING (id)
            WHERE c.id IS NULL
               OR c.name IS DISTINCT FROM o.name
               OR company_key(c.company) IS DISTINCT FROM company_key(o.company)
               OR (c.company IS NULL) <> (c.company_id IS NULL)
               OR c.title IS DISTINCT FROM o.title
               OR c.tier IS DISTINCT FROM o.tier
               OR c.tags IS DISTINCT FROM o.tags
               OR c.notes IS DISTINCT FROM o.notes
               OR c.created_at IS DISTINCT FROM o.created_at
               OR c.updated_at IS DISTINCT FROM o.updated_at
               OR c.version IS DISTINCT FROM o.version
               OR c.deleted_at IS DISTINCT FROM o.deleted_at
               OR c.change_seq IS DISTINCT FROM o.change_seq
               OR c.emails IS DISTINCT FROM CASE WHEN o.email IS NULL THEN '[]'::jsonb
                    ELSE jsonb_build_array(jsonb_build_object('value', o.email)) END
               OR c.phones IS DISTINCT FROM CASE WHEN o.phone IS NULL THEN '[]'::jsonb
                    ELSE jsonb_build_array(jsonb_build_object('value', o.phone)) END
               OR c.addresses IS DISTINCT FROM CASE WHEN o.location IS NULL THEN '[]'::jsonb
                    ELSE jsonb_build_array(jsonb_build_object('city', o.location)) END
               OR (c.emails->0->>'value') IS DISTINCT FROM o.email
               OR (c.phones->0->>'value') IS DISTINCT FROM o.phone
               OR (c.addresses->0->>'city') IS DISTINCT FROM o.location"#,
    )
    .await;
    assert_eq!(lost, 0, "contacts whose values changed in the migration");
    // Free-text companies became records, one per name whatever its case and spacing,
    // each named by its most common spelling, which its people now show.
    assert_eq!(count("SELECT count(*) FROM companies").await, 97);
    assert_eq!(
        count(
            "SELECT count(*) FROM contacts c JOIN companies k ON k.id = c.company_id
              WHERE c.company IS DISTINCT FROM k.name OR k.name NOT LIKE 'Company \"%'"
        )
        .await,
        0
    );
    // Nothing is made up: no labels, no other parts, no new name parts.
    assert_eq!(
        count(
            "SELECT count(*) FROM contacts
              WHERE links <> '[]' OR ims <> '[]' OR dates <> '[]' OR birthday IS NOT NULL
                 OR given_name IS NOT NULL OR family_name IS NOT NULL OR department IS NOT NULL
                 OR file_as <> 'given'"
        )
        .await,
        0
    );
    // The keys that find a contact by any email or phone are there for every live one.
    assert_eq!(
        count("SELECT count(*) FROM contact_keys WHERE kind = 'email'").await,
        count("SELECT count(*) FROM old_contacts WHERE email IS NOT NULL AND deleted_at IS NULL")
            .await
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM old_contacts o WHERE o.email IS NOT NULL AND o.deleted_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM contact_keys k
                                WHERE k.kind = 'email' AND k.key = lower(o.email) AND k.contact_id = o.id)"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            r"SELECT count(*) FROM old_contacts o WHERE o.phone IS NOT NULL AND o.deleted_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM contact_keys k
                                WHERE k.kind = 'phone' AND k.contact_id = o.id
                                  AND k.key = regexp_replace(split_part(lower(o.phone), 'x', 1), '\D', '', 'g'))"
        )
        .await,
        0
    );

    // The application reads every migrated contact back as a valid card.
    let contacts: Vec<roster::domain::Contact> = {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let batch = roster::server::db::contacts::live_batch(&mut db, after, 10_000)
                .await
                .expect("contacts read back");
            let Some(last) = batch.last() else { break };
            after = Some((last.created_at_micros, last.id));
            all.extend(batch);
        }
        all
    };
    let deleted = CONTACTS / 50;
    assert_eq!(contacts.len() as i64, CONTACTS - deleted);
    for contact in &contacts {
        let card = &contact.card;
        if let Err(errors) = roster::domain::Card::parse(&card.to_input()) {
            panic!("{} reads back as invalid: {errors}", contact.id);
        }
    }

    db.close().await.expect("close");
    pool.close().await;
    admin
        .execute(format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#).as_str())
        .await
        .expect("drop the database");
}
