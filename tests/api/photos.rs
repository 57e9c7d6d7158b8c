//! Contact photos through the server: the contact form posted with a photo (as a
//! browser does, multipart), re-encoded without its EXIF, served under its content's
//! name with a year's cache lifetime to signed-in people only; refused in words when
//! too large, not a picture or too many pixels, with nothing saved; removed from the
//! form; and gone with the contact's purge.

use reqwest::multipart::{Form, Part};
use roster::{
    domain::{Field, SaveOutcome},
    server::photos::{PHOTO_SIZES, sample_portrait},
};
use uuid::Uuid;

use crate::helpers::{TestApp, contact, spawn_app};

/// `jpeg` with an APP1 EXIF segment after its start marker: a little-endian TIFF
/// header and one IFD whose GPS pointer leads to a GPS IFD holding a position.
fn with_gps_exif(jpeg: &[u8]) -> Vec<u8> {
    let mut tiff: Vec<u8> = b"II*\0\x08\0\0\0".to_vec();
    // IFD0: one entry, GPSInfo (0x8825), a LONG offset to the GPS IFD (26).
    tiff.extend([1, 0, 0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0, 0, 0, 0]);
    // The GPS IFD: GPSLatitudeRef (1), ASCII "N"; then a marker to look for.
    tiff.extend([1, 0, 1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0, 0, 0, 0, 0]);
    tiff.extend(b"GPS-SECRET-PLACE");
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend(&jpeg[2..]);
    out
}

/// The contact form as a browser posts it with a file chosen: multipart, the photo
/// as `photo_file`. `accept` says who asks: the page's script (JSON) or a plain post.
async fn post(
    app: &TestApp,
    fields: &[(&str, &str)],
    photo: Option<Vec<u8>>,
    accept: &str,
) -> reqwest::Response {
    let mut form = Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    let part = Part::bytes(photo.unwrap_or_default())
        .file_name("me.jpg")
        .mime_str("image/jpeg")
        .unwrap();
    form = form.part("photo_file", part);
    app.client
        .post(app.url("/api/save-contact"))
        .header("accept", accept)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn saved(app: &TestApp, fields: &[(&str, &str)], photo: Option<Vec<u8>>) -> Uuid {
    let response = post(app, fields, photo, "application/json").await;
    assert_eq!(response.status(), 200);
    match response.json().await.unwrap() {
        SaveOutcome::Saved { id } => id,
        other => panic!("expected a save, got {other:?}"),
    }
}

async fn refused(app: &TestApp, photo: Vec<u8>) -> String {
    let response = post(
        app,
        &[("name", "Refused Person")],
        Some(photo),
        "application/json",
    )
    .await;
    assert_eq!(response.status(), 200);
    match response.json().await.unwrap() {
        SaveOutcome::Invalid { errors } => errors
            .get(Field::Photo)
            .expect("the error is on the photo")
            .to_owned(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn photos_stored(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM photos")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_photo_is_kept_re_encoded_without_its_exif_and_served_to_signed_in_people() {
    let app = spawn_app().await;
    let original = with_gps_exif(&sample_portrait(3, 800, 600));
    assert!(original.windows(10).any(|w| w == b"GPS-SECRET"));
    let id = saved(
        &app,
        &[
            ("name", "Hedy Lamarr"),
            ("emails[0][value]", "hedy@example.com"),
        ],
        Some(original.clone()),
    )
    .await;
    let hash = contact(&app, id)
        .await
        .card
        .photo
        .expect("the photo is kept");
    for size in PHOTO_SIZES {
        let response = app.get(&format!("/photos/{hash}-{size}.jpg")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "image/jpeg");
        assert_eq!(
            response.headers()["cache-control"],
            "private, max-age=31536000, immutable"
        );
        let bytes = response.bytes().await.unwrap();
        assert_ne!(bytes.as_ref(), original.as_slice());
        assert!(!bytes.windows(4).any(|w| w == b"Exif"), "no EXIF kept");
        assert!(
            !bytes.windows(10).any(|w| w == b"GPS-SECRET"),
            "no GPS kept"
        );
        let picture = image::load_from_memory(&bytes).unwrap();
        assert_eq!(
            (picture.width(), picture.height()),
            (u32::from(size), u32::from(size))
        );
    }
    // The contact's page shows it; strangers get none of it.
    let page = app
        .get(&format!("/contacts/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("/photos/{hash}-384.jpg")));
    let stranger = app
        .stranger()
        .get(app.url(&format!("/photos/{hash}-384.jpg")))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 401);
    for missing in ["nothing.jpg", &format!("{hash}-100.jpg"), "0000-96.jpg"] {
        assert_eq!(app.get(&format!("/photos/{missing}")).await.status(), 404);
    }

    // Saved again without choosing a file: the photo stays. Removed: it goes.
    let version = contact(&app, id).await.version.to_string();
    let (id_text, hash_text) = (id.to_string(), hash.clone());
    saved(
        &app,
        &[
            ("id", &id_text),
            ("version", &version),
            ("name", "Hedy Kiesler Lamarr"),
            ("photo", &hash_text),
        ],
        None,
    )
    .await;
    assert_eq!(
        contact(&app, id).await.card.photo.as_deref(),
        Some(hash.as_str())
    );
    let version = contact(&app, id).await.version.to_string();
    saved(
        &app,
        &[
            ("id", &id_text),
            ("version", &version),
            ("name", "Hedy Kiesler Lamarr"),
            ("photo", &hash_text),
            ("remove_photo", "yes"),
        ],
        None,
    )
    .await;
    assert_eq!(contact(&app, id).await.card.photo, None);

    // A photo that no contact shows any more goes with the hourly sweep once a day
    // old; one a contact shows goes with the contact's purge.
    sqlx::query("UPDATE photos SET created_at = now() - interval '2 days'")
        .execute(&app.db)
        .await
        .unwrap();
    let other = saved(
        &app,
        &[("name", "Ada Photo")],
        Some(sample_portrait(9, 300, 300)),
    )
    .await;
    let kept = contact(&app, other).await.card.photo.unwrap();
    assert_eq!(
        roster::server::photos::sweep_unused(&app.db).await.unwrap(),
        2
    );
    assert_eq!(photos_stored(&app).await, 2, "both sizes of the one shown");
    sqlx::query("UPDATE contacts SET deleted_at = now() - interval '40 days' WHERE id = $1")
        .bind(other)
        .execute(&app.db)
        .await
        .unwrap();
    roster::server::db::contacts::purge_deleted(&app.db)
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM photos WHERE hash = $1")
        .bind(&kept)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0, "purged with its contact");
}

#[tokio::test]
async fn bad_photos_are_refused_in_words_and_nothing_is_written() {
    let app = spawn_app().await;
    let contacts_before: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    // 20 MB: read, and refused on the field.
    let mut huge = sample_portrait(1, 64, 64);
    huge.resize(20 * 1024 * 1024, 0);
    assert!(refused(&app, huge).await.contains("10 MB or less"));
    // Not a picture at all.
    let reason = refused(&app, b"%PDF-1.7 not a photo".to_vec()).await;
    assert!(reason.contains("not a photo Roster can read"), "{reason}");
    // A small file claiming a huge picture: refused from its header.
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bomb.extend(60_000u32.to_be_bytes());
    bomb.extend(60_000u32.to_be_bytes());
    bomb.extend([8, 6, 0, 0, 0]);
    bomb.extend(crc32fast::hash(&bomb[12..]).to_be_bytes());
    bomb.extend(b"\0\0\0\0IDAT");
    bomb.extend(crc32fast::hash(b"IDAT").to_be_bytes());
    assert!(refused(&app, bomb).await.contains("megapixels"));
    // A name that is no photo kept.
    let response = post(
        &app,
        &[("name", "Forged"), ("photo", &"ab".repeat(16))],
        None,
        "application/json",
    )
    .await;
    assert!(matches!(
        response.json::<SaveOutcome>().await.unwrap(),
        SaveOutcome::Invalid { .. }
    ));
    let contacts_after: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(contacts_before, contacts_after);
    assert_eq!(photos_stored(&app).await, 0);

    // Without JavaScript: back to the form with the reason on the photo and the rest
    // of the input as typed.
    let response = post(
        &app,
        &[("name", "Plain Poster"), ("title", "Engineer")],
        Some(b"not an image".to_vec()),
        "text/html",
    )
    .await;
    assert_eq!(response.status(), 302);
    let back = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with("/contacts/new?draft="), "{back}");
    let form = app.get(&back).await.text().await.unwrap();
    assert!(form.contains("not a photo Roster can read"));
    assert!(form.contains("Plain Poster") && form.contains("Engineer"));

    // Beyond what the form may carry at all: refused whole, with a plain reason.
    let response = post(
        &app,
        &[("name", "Too Much")],
        Some(vec![0u8; 40 * 1024 * 1024]),
        "application/json",
    )
    .await;
    assert_eq!(response.status(), 413);
}
