//! Contact photos: read from the contact form's multipart post, decoded and re-encoded
//! (never kept as received: that drops EXIF and its GPS position, comments and any
//! trailing bytes), turned upright, cut square and written as JPEGs of fixed sizes,
//! named by a hash of their content; and served under that name with a cache lifetime
//! of a year (see `migrations/0011_photos.sql`).
//!
//! The contact form posts as `multipart/form-data` when a photo is chosen (with or
//! without JavaScript). [`read_form_with_photo`] runs before the server function: it
//! reads the form within bounds of its own, stores the photo, and hands the server
//! function the ordinary url-encoded form with the photo's name in it (`photo`), or
//! the reason it could not be read (`photo_error`, which the form shows on the photo
//! field, nothing saved).

use std::io::Cursor;

use axum::{
    body::Body,
    extract::{Path, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use blake2::{Blake2s256, Digest};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, imageops::FilterType};
use sqlx::PgPool;

use super::{error::Result, state::AppState};

/// The largest photo file taken.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// The most pixels a photo may have (a 40-megapixel camera's), checked from its header
/// before anything is decoded: a small file can claim a huge picture.
pub const MAX_PHOTO_PIXELS: u64 = 40_000_000;
/// The square sizes kept, in pixels: the avatar and the contact page's picture.
pub const PHOTO_SIZES: [u16; 2] = [96, 384];
/// The largest of them: what names a photo (its hash) and what a vCard carries.
const LARGEST_SIZE: u16 = PHOTO_SIZES[PHOTO_SIZES.len() - 1];
/// A photo part larger than this ends the read (the form is refused whole); up to it,
/// a photo over [`MAX_PHOTO_BYTES`] is read and refused on its field.
const MAX_PART_BYTES: u64 = 32 * 1024 * 1024;
/// The text fields of the form, together.
const MAX_FIELDS_BYTES: u64 = 1024 * 1024;
/// The server function the form posts to.
const SAVE_CONTACT: &str = "/api/save-contact";
/// The form's file input.
const FILE_FIELD: &str = "photo_file";

/// A photo as kept: the hash that names it and its JPEG in each of [`PHOTO_SIZES`].
#[derive(Debug)]
pub struct Photo {
    pub hash: String,
    pub sizes: Vec<(u16, Vec<u8>)>,
}

/// Reads an image file and makes the kept photo of it, or says in words why not.
/// Blocking (decoding a large photo takes a moment).
pub fn process(bytes: &[u8]) -> std::result::Result<Photo, String> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(format!(
            "The photo is {:.1} MB; choose one of {} MB or less.",
            bytes.len() as f64 / (1024.0 * 1024.0),
            MAX_PHOTO_BYTES / (1024 * 1024)
        ));
    }
    let not_an_image = || {
        "This file is not a photo Roster can read: choose a JPEG, PNG, WebP or GIF image."
            .to_owned()
    };
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| not_an_image())?;
    // The size is checked below, in words; the decoder's own limits come after it.
    reader.no_limits();
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif) => {}
        _ => return Err(not_an_image()),
    }
    // The decoder reads the header only: the size is checked before any pixel is.
    let mut decoder = reader.into_decoder().map_err(|_| not_an_image())?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PHOTO_PIXELS {
        return Err(format!(
            "The photo is {width} × {height} pixels; choose one of at most {} megapixels.",
            MAX_PHOTO_PIXELS / 1_000_000
        ));
    }
    // Enough for the largest picture allowed at 16 bits a channel, with alpha.
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PHOTO_PIXELS * 8 + (64 << 20));
    decoder
        .set_limits(limits)
        .map_err(|_| "The photo is too large to read.".to_owned())?;
    let orientation = decoder.orientation().ok();
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|_| not_an_image())?;
    if let Some(orientation) = orientation {
        picture.apply_orientation(orientation);
    }
    // The middle square, as avatars show a face.
    let side = picture.width().min(picture.height());
    if side == 0 {
        return Err(not_an_image());
    }
    let square = picture.crop_imm(
        (picture.width() - side) / 2,
        (picture.height() - side) / 2,
        side,
        side,
    );
    let mut sizes = Vec::with_capacity(PHOTO_SIZES.len());
    for size in PHOTO_SIZES {
        // Roster's own largest size coming back (a vCard export imported again) is
        // kept byte for byte: it keeps its name, and loses nothing to a second encoding.
        if size == LARGEST_SIZE
            && (width, height) == (u32::from(size), u32::from(size))
            && is_plain_jpeg(bytes)
        {
            sizes.push((size, bytes.to_vec()));
            continue;
        }
        let scaled = square
            .resize_exact(u32::from(size), u32::from(size), FilterType::CatmullRom)
            .into_rgb8();
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
            .encode_image(&scaled)
            .map_err(|error| format!("The photo could not be written ({error})."))?;
        sizes.push((size, jpeg));
    }
    let largest = &sizes.last().expect("sizes are listed").1;
    let digest = Blake2s256::digest(largest);
    let hash: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    Ok(Photo { hash, sizes })
}

/// Whether `bytes` is a baseline JPEG with nothing in it but the picture, as Roster's
/// encoder writes one: a JFIF header, quantization and Huffman tables, one frame, one
/// scan and the end, with no metadata segment (EXIF, XMP, ICC, comments) anywhere and
/// nothing after the end.
fn is_plain_jpeg(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8]) || !bytes.ends_with(&[0xFF, 0xD9]) {
        return false;
    }
    let mut at = 2;
    // The segments before the scan.
    loop {
        let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        let Some(length) = bytes
            .get(at + 2..at + 4)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            return false;
        };
        if length < 2 {
            return false;
        }
        match marker {
            // JFIF, tables, a baseline frame, restart interval.
            0xE0 | 0xDB | 0xC4 | 0xC0 | 0xDD => at += 2 + length,
            // The scan: its header, then entropy-coded data to the end.
            0xDA => {
                at += 2 + length;
                break;
            }
            _ => return false,
        }
    }
    // In the data, 0xFF is only ever followed by a stuffed zero or a restart marker,
    // until the final end marker.
    let Some(data) = bytes.get(at..bytes.len() - 2) else {
        return false;
    };
    let mut i = 0;
    while i < data.len() {
        if data[i] == 0xFF {
            match data.get(i + 1) {
                Some(0x00 | 0xD0..=0xD7) => i += 2,
                _ => return false,
            }
        } else {
            i += 1;
        }
    }
    true
}

/// Keeps a photo (a photo already kept is kept once).
pub async fn store(conn: &mut sqlx::PgConnection, photo: &Photo) -> Result<()> {
    for (size, bytes) in &photo.sizes {
        sqlx::query(
            "INSERT INTO photos (hash, size, bytes) VALUES ($1, $2, $3)
             ON CONFLICT (hash, size) DO UPDATE SET created_at = now()",
        )
        .bind(&photo.hash)
        .bind(*size as i16)
        .bind(bytes)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn stored(db: &PgPool, photo: &Photo) -> Result<()> {
    store(&mut *db.acquire().await?, photo).await
}

/// The largest size of each of these photos (what a vCard export carries), by hash.
pub async fn largest(
    db: &PgPool,
    hashes: &[String],
) -> Result<std::collections::HashMap<String, Vec<u8>>> {
    if hashes.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT hash, bytes FROM photos WHERE size = $2 AND hash = ANY($1)")
            .bind(hashes)
            .bind(LARGEST_SIZE as i16)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Whether a photo of this name is kept.
pub async fn exists(db: &PgPool, hash: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM photos WHERE hash = $1)")
            .bind(hash)
            .fetch_one(db)
            .await?,
    )
}

/// Removes photos no contact shows that were stored more than a day ago (chosen on a
/// form that was never saved, or replaced since).
pub async fn sweep_unused(db: &PgPool) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM photos p
          WHERE created_at < now() - interval '1 day'
            AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.photo = p.hash)",
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// `/photos/{hash}-{size}.jpg`: a photo, for anyone signed in. Its name is its content,
/// so the browser may keep it for a year without asking again (privately: it is a
/// person's picture).
pub async fn serve(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "No such photo.").into_response();
    let Some((hash, size)) = name
        .strip_suffix(".jpg")
        .and_then(|stem| stem.split_once('-'))
    else {
        return not_found();
    };
    let Ok(size) = size.parse::<u16>() else {
        return not_found();
    };
    if !crate::domain::draft::is_photo_hash(hash) || !PHOTO_SIZES.contains(&size) {
        return not_found();
    }
    let bytes: Option<Vec<u8>> =
        match sqlx::query_scalar("SELECT bytes FROM photos WHERE hash = $1 AND size = $2")
            .bind(hash)
            .bind(size as i16)
            .fetch_optional(&state.db)
            .await
        {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::error!(%error, "reading a photo failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The photo could not be read.",
                )
                    .into_response();
            }
        };
    let Some(bytes) = bytes else {
        return not_found();
    };
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    response
}

/// Turns the contact form's multipart post into the url-encoded form the server
/// function reads, keeping the photo it carries (see the module's documentation).
/// Other requests pass through untouched.
pub async fn read_form_with_photo(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let boundary = (request.uri().path() == SAVE_CONTACT)
        .then(|| request.headers().get(header::CONTENT_TYPE))
        .flatten()
        .and_then(|value| value.to_str().ok())
        .and_then(|value| multer::parse_boundary(value).ok());
    let Some(boundary) = boundary else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(MAX_PART_BYTES + MAX_FIELDS_BYTES)
            .per_field(MAX_PART_BYTES),
    );
    let mut form =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut text_bytes = 0u64;
    let mut file: Option<Vec<u8>> = None;
    // A part or the whole beyond its bound refuses the form whole; anything else
    // unreadable is a bad request.
    let refused = |error: multer::Error| match error {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The form is too large: a photo may be at most {} MB.",
                MAX_PHOTO_BYTES / (1024 * 1024)
            ),
        )
            .into_response(),
        _ => (StatusCode::BAD_REQUEST, "The form could not be read.").into_response(),
    };
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return refused(error),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = name == FILE_FIELD;
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(error) => return refused(error),
        };
        if is_file {
            // An empty file input posts an empty part: no photo chosen.
            if !bytes.is_empty() {
                file = Some(bytes.to_vec());
            }
            continue;
        }
        text_bytes += bytes.len() as u64;
        if text_bytes > MAX_FIELDS_BYTES {
            return refused(multer::Error::StreamSizeExceeded {
                limit: MAX_FIELDS_BYTES,
            });
        }
        fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
    }
    if let Some(bytes) = file {
        let processed = tokio::task::spawn_blocking(move || process(&bytes)).await;
        let outcome = match processed {
            Ok(Ok(photo)) => match stored(&state.db, &photo).await {
                Ok(()) => Ok(photo.hash),
                Err(error) => {
                    tracing::error!(%error, "storing a photo failed");
                    Err("The photo could not be kept just now. Please try again.".to_owned())
                }
            },
            Ok(Err(reason)) => Err(reason),
            Err(error) => {
                tracing::error!(%error, "reading a photo failed");
                Err("The photo could not be read. Please try another.".to_owned())
            }
        };
        fields
            .retain(|(name, _)| name != "photo" && name != "photo_error" && name != "remove_photo");
        match outcome {
            Ok(hash) => fields.push(("photo".into(), hash)),
            Err(reason) => fields.push(("photo_error".into(), reason)),
        }
    }
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(encoded.len()));
    next.run(Request::from_parts(parts, Body::from(encoded)))
        .await
}

/// A made-up portrait: a soft two-colour gradient with a round face shape, as a JPEG
/// (the demo data's photos, and the tests'). `seed` picks the colours.
pub fn sample_portrait(seed: u64, width: u32, height: u32) -> Vec<u8> {
    let hue = |shift: u64| ((seed.wrapping_mul(2654435761) >> shift) % 200 + 40) as u8;
    let (r, g, b) = (hue(3), hue(11), hue(19));
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        let (cx, cy) = (width as f32 / 2.0, height as f32 * 0.45);
        let radius = width.min(height) as f32 * 0.28;
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        if dx * dx + dy * dy < radius * radius {
            image::Rgb([240, 210, 180])
        } else {
            let t = y as f32 / height.max(1) as f32;
            let mix = |a: u8| (f32::from(a) * (1.0 - t * 0.5)) as u8;
            image::Rgb([mix(r), mix(g), mix(b)])
        }
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&picture)
        .expect("a picture in memory encodes");
    jpeg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_photo_is_kept_square_in_each_size_and_named_by_its_content() {
        let photo = process(&sample_portrait(7, 640, 480)).unwrap();
        assert_eq!(photo.hash.len(), 32);
        for (size, bytes) in &photo.sizes {
            let back = image::load_from_memory(bytes).unwrap();
            assert_eq!(
                (back.width(), back.height()),
                (u32::from(*size), u32::from(*size))
            );
        }
        assert_eq!(
            process(&sample_portrait(7, 640, 480)).unwrap().hash,
            photo.hash
        );
        assert_ne!(
            process(&sample_portrait(8, 640, 480)).unwrap().hash,
            photo.hash
        );
    }

    #[test]
    fn what_is_not_a_photo_or_too_large_is_refused_in_words() {
        assert!(
            process(b"hello, this is text")
                .unwrap_err()
                .contains("not a photo")
        );
        let too_big = vec![0u8; MAX_PHOTO_BYTES + 1];
        assert!(process(&too_big).unwrap_err().contains("10 MB or less"));
        // A PNG header claiming 100,000 × 100,000 pixels, and nothing after it.
        let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        bomb.extend(100_000u32.to_be_bytes());
        bomb.extend(100_000u32.to_be_bytes());
        bomb.extend([8, 2, 0, 0, 0]);
        bomb.extend(crc32fast::hash(&bomb[12..]).to_be_bytes());
        // An empty data chunk: the header is read up to it.
        bomb.extend(b"\0\0\0\0IDAT");
        bomb.extend(crc32fast::hash(b"IDAT").to_be_bytes());
        let reason = process(&bomb).unwrap_err();
        assert!(reason.contains("100000 × 100000 pixels"), "{reason}");
    }

    #[test]
    fn roster_s_own_largest_size_comes_back_unchanged_and_anything_else_is_encoded_anew() {
        let first = process(&sample_portrait(9, 500, 700)).unwrap();
        let (_, largest) = first.sizes.last().unwrap();
        assert!(
            is_plain_jpeg(largest),
            "Roster's encoder writes plain JPEGs"
        );
        let again = process(largest).unwrap();
        assert_eq!(again.hash, first.hash, "the same name");
        assert_eq!(&again.sizes.last().unwrap().1, largest, "the same bytes");
        // The same picture with a comment, or bytes after its end, is not kept as is.
        let mut commented = largest[..2].to_vec();
        commented.extend([0xFF, 0xFE, 0x00, 0x06, b'h', b'i', b'!', b'!']);
        commented.extend(&largest[2..]);
        assert!(!is_plain_jpeg(&commented));
        assert_ne!(
            process(&commented).unwrap().sizes.last().unwrap().1,
            commented
        );
        let mut trailing = largest.clone();
        trailing.extend(b"hidden");
        assert!(!is_plain_jpeg(&trailing));
        let mut early_end = largest[..largest.len() - 2].to_vec();
        early_end.extend([0xFF, 0xD9, 0x01, 0xFF, 0xD9]);
        assert!(!is_plain_jpeg(&early_end));
        assert!(!is_plain_jpeg(b"\xFF\xD8\xFF\xD9"));
    }
}
