//! Custom fields: fields an admin defines for every contact (`/admin/fields`), and
//! the typed values contacts hold for them.
//!
//! A field is named by a number that never changes ([`CustomField::id`]); a contact's
//! values are kept under it, so a rename or a new order touches no contact, and a
//! retired field's values stay where they are. A field's kind is fixed when it is
//! made, so a stored value always has its field's kind.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    card::{PartialDate, parse_url},
    draft::{one_line, too_long},
};

pub const MAX_FIELD_NAME_CHARS: usize = 60;
pub const MAX_OPTIONS: usize = 100;
pub const MAX_OPTION_CHARS: usize = 100;
pub const MAX_TEXT_CHARS: usize = 1_000;
/// Live fields at once: each is a column of the form, the page and a CSV export.
pub const MAX_FIELDS: usize = 100;

/// What a custom field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomKind {
    Text,
    Number,
    Date,
    /// One of the field's options.
    Choice,
    /// Any of the field's options.
    Choices,
    Checkbox,
    Url,
}

impl CustomKind {
    pub const ALL: [CustomKind; 7] = [
        CustomKind::Text,
        CustomKind::Number,
        CustomKind::Date,
        CustomKind::Choice,
        CustomKind::Choices,
        CustomKind::Checkbox,
        CustomKind::Url,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CustomKind::Text => "text",
            CustomKind::Number => "number",
            CustomKind::Date => "date",
            CustomKind::Choice => "choice",
            CustomKind::Choices => "choices",
            CustomKind::Checkbox => "checkbox",
            CustomKind::Url => "url",
        }
    }

    pub fn parse(text: &str) -> Option<CustomKind> {
        CustomKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text.trim())
    }

    /// The label people see.
    pub fn label(self) -> &'static str {
        match self {
            CustomKind::Text => "Text",
            CustomKind::Number => "Number",
            CustomKind::Date => "Date",
            CustomKind::Choice => "Single choice",
            CustomKind::Choices => "Multiple choice",
            CustomKind::Checkbox => "Checkbox",
            CustomKind::Url => "Web address",
        }
    }

    /// Whether the field offers options (and can be a facet of search).
    pub fn has_options(self) -> bool {
        matches!(self, CustomKind::Choice | CustomKind::Choices)
    }
}

/// A custom field as an admin defined it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    pub id: i32,
    pub name: String,
    pub kind: CustomKind,
    /// A choice field's options, in the order offered.
    pub options: Vec<String>,
    pub position: i32,
    pub retired: bool,
}

/// The definition form of `/admin/fields`, as typed: options one per line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomFieldInput {
    pub name: String,
    pub kind: String,
    pub options: String,
}

/// A valid definition: a name, a kind and (for choices) the options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomFieldSpec {
    pub name: String,
    pub kind: CustomKind,
    pub options: Vec<String>,
}

impl CustomFieldInput {
    /// Checks a definition; `kind` is ignored for an existing field (`fixed_kind`),
    /// whose kind never changes.
    pub fn parse(&self, fixed_kind: Option<CustomKind>) -> Result<CustomFieldSpec, String> {
        let name = one_line(&self.name);
        if name.is_empty() {
            return Err("Give the field a name.".into());
        }
        if name.chars().count() > MAX_FIELD_NAME_CHARS {
            return Err(format!(
                "Keep a field's name to {MAX_FIELD_NAME_CHARS} characters or fewer."
            ));
        }
        let kind = match fixed_kind {
            Some(kind) => kind,
            None => CustomKind::parse(&self.kind).ok_or("Choose what the field holds.")?,
        };
        let mut options: Vec<String> = Vec::new();
        if kind.has_options() {
            for line in self.options.lines() {
                let option = one_line(line);
                if option.is_empty() {
                    continue;
                }
                if option.chars().count() > MAX_OPTION_CHARS {
                    return Err(format!(
                        "Keep each option to {MAX_OPTION_CHARS} characters or fewer."
                    ));
                }
                if options
                    .iter()
                    .any(|o| o.to_lowercase() == option.to_lowercase())
                {
                    return Err(format!("“{option}” is listed twice."));
                }
                options.push(option);
            }
            if options.is_empty() {
                return Err("List the options, one per line.".into());
            }
            if options.len() > MAX_OPTIONS {
                return Err(format!("Offer {MAX_OPTIONS} options or fewer."));
            }
        }
        Ok(CustomFieldSpec {
            name,
            kind,
            options,
        })
    }
}

/// One contact's value for one custom field, of the field's kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomValue {
    Text(String),
    /// A finite decimal number, written as Rust writes an `f64` (`12.5`, `-3`, `1e21`).
    Number(String),
    Date(PartialDate),
    Choice(String),
    Choices(Vec<String>),
    /// Only a ticked checkbox is stored: unticked is no value.
    Checkbox(bool),
    Url(String),
}

/// A contact's custom values, by field id.
pub type CustomValues = BTreeMap<i32, CustomValue>;

impl CustomValue {
    /// The value checked against its field, from what a form, a CSV cell or a vCard
    /// property holds: `None` for an empty value. Several choices are one per line
    /// (or each in its own part of `parts`, as the form's checkboxes post them).
    pub fn parse(field: &CustomField, text: &str) -> Result<Option<CustomValue>, String> {
        let trimmed = text.trim();
        if field.kind != CustomKind::Choices && trimmed.is_empty() {
            return Ok(None);
        }
        let option = |typed: &str| {
            let typed = one_line(typed);
            field
                .options
                .iter()
                .find(|option| option.to_lowercase() == typed.to_lowercase())
                .cloned()
                .ok_or_else(|| format!("Choose one of: {}.", field.options.join(", ")))
        };
        Ok(match field.kind {
            CustomKind::Text => {
                let text = one_line(text);
                if text.chars().count() > MAX_TEXT_CHARS {
                    return Err(too_long(MAX_TEXT_CHARS));
                }
                Some(CustomValue::Text(text))
            }
            CustomKind::Number => {
                let typed = trimmed.replace([',', '_', ' '], "");
                match typed.parse::<f64>() {
                    Ok(number) if number.is_finite() => {
                        // -0 and 0 are the same number.
                        let number = if number == 0.0 { 0.0 } else { number };
                        Some(CustomValue::Number(number.to_string()))
                    }
                    _ => return Err("Enter a number, like 42 or 3.5.".into()),
                }
            }
            CustomKind::Date => PartialDate::parse(trimmed)?.map(CustomValue::Date),
            CustomKind::Choice => Some(CustomValue::Choice(option(trimmed)?)),
            CustomKind::Choices => {
                let mut chosen: Vec<String> = Vec::new();
                for line in text.lines().filter(|line| !line.trim().is_empty()) {
                    let picked = option(line)?;
                    if !chosen.contains(&picked) {
                        chosen.push(picked);
                    }
                }
                // Kept in the field's order, so the same choices are the same value.
                chosen.sort_by_key(|picked| field.options.iter().position(|o| o == picked));
                (!chosen.is_empty()).then_some(CustomValue::Choices(chosen))
            }
            CustomKind::Checkbox => match trimmed.to_lowercase().as_str() {
                "on" | "true" | "yes" | "1" | "x" | "✓" => Some(CustomValue::Checkbox(true)),
                "off" | "false" | "no" | "0" => None,
                _ => return Err("Tick the box, or leave it empty.".into()),
            },
            CustomKind::Url => parse_url(trimmed)?.map(CustomValue::Url),
        })
    }

    /// The value as a person reads it ("Yes" for a ticked box, "15 April 1990").
    pub fn display(&self) -> String {
        match self {
            CustomValue::Text(text)
            | CustomValue::Number(text)
            | CustomValue::Choice(text)
            | CustomValue::Url(text) => text.clone(),
            CustomValue::Date(date) => date.display(),
            CustomValue::Choices(chosen) => chosen.join(", "),
            CustomValue::Checkbox(ticked) => if *ticked { "Yes" } else { "No" }.to_owned(),
        }
    }

    /// The value as a form, a CSV cell or a vCard holds it, read back by [`Self::parse`]
    /// (several choices one per line).
    pub fn to_text(&self) -> String {
        match self {
            CustomValue::Text(text)
            | CustomValue::Number(text)
            | CustomValue::Choice(text)
            | CustomValue::Url(text) => text.clone(),
            CustomValue::Date(date) => date.to_iso(),
            CustomValue::Choices(chosen) => chosen.join("\n"),
            CustomValue::Checkbox(ticked) => if *ticked { "yes" } else { "no" }.to_owned(),
        }
    }

    /// The options this value picks (for facets): one, several or none.
    pub fn choices(&self) -> &[String] {
        match self {
            CustomValue::Choice(one) => std::slice::from_ref(one),
            CustomValue::Choices(several) => several,
            _ => &[],
        }
    }

    /// Whether the value is of `kind` (a stored value read against its definition).
    pub fn is_kind(&self, kind: CustomKind) -> bool {
        matches!(
            (self, kind),
            (CustomValue::Text(_), CustomKind::Text)
                | (CustomValue::Number(_), CustomKind::Number)
                | (CustomValue::Date(_), CustomKind::Date)
                | (CustomValue::Choice(_), CustomKind::Choice)
                | (CustomValue::Choices(_), CustomKind::Choices)
                | (CustomValue::Checkbox(_), CustomKind::Checkbox)
                | (CustomValue::Url(_), CustomKind::Url)
        )
    }
}

/// The key of field 7's value in a form's `custom` map: `f7`, so the form posts
/// `custom[f7]` (a bare number would read as a list index); a multiple choice posts
/// one `custom[f7.N]` per ticked option N.
pub fn input_key(id: i32) -> String {
    format!("f{id}")
}

/// The text a contact's form holds for each field, from its values.
pub fn to_inputs(values: &CustomValues) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|(id, value)| (input_key(*id), value.to_text()))
        .collect()
}

/// The typed text for field `id` in a form's `custom` map: `f7`, and for a multiple
/// choice also each ticked `f7.N` (one per line).
pub fn input_text(inputs: &BTreeMap<String, String>, id: i32) -> String {
    let key = input_key(id);
    let prefix = format!("{key}.");
    let mut lines: Vec<&str> = Vec::new();
    if let Some(text) = inputs.get(&key) {
        lines.push(text);
    }
    for (name, value) in inputs.range(prefix.clone()..) {
        if !name.starts_with(&prefix) {
            break;
        }
        lines.push(value);
    }
    lines.join("\n")
}

/// Marks a `custom` key that names its field (`@Shirt size`) rather than numbering it,
/// as a vCard does: [`by_name`] numbers it.
pub const BY_NAME: &str = "@";

/// Numbers the keys that name their field (any case) when a live field has that name.
/// A retired field's value is dropped (the contact keeps what it holds; nothing may
/// fill a retired field); the others, named by no field of `fields` (every field,
/// retired ones too), are returned, name and value, to be kept as other data.
pub fn by_name(
    inputs: &mut BTreeMap<String, String>,
    fields: &[CustomField],
) -> Vec<(String, String)> {
    let named: Vec<String> = inputs
        .keys()
        .filter(|key| key.starts_with(BY_NAME))
        .cloned()
        .collect();
    let mut unknown = Vec::new();
    for key in named {
        let value = inputs.remove(&key).unwrap_or_default();
        let name = key[BY_NAME.len()..].trim();
        let lower = name.to_lowercase();
        let same = |field: &&CustomField| field.name.to_lowercase() == lower;
        if let Some(field) = fields.iter().filter(|f| !f.retired).find(same) {
            inputs.entry(input_key(field.id)).or_insert(value);
        } else if !fields.iter().any(|f| same(&f)) && !value.trim().is_empty() {
            unknown.push((name.to_owned(), value));
        }
    }
    unknown
}

/// The field id a form key names (`f7` or `f7.2`), if it is one.
pub fn key_field(key: &str) -> Option<i32> {
    key.strip_prefix('f')?.split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: CustomKind, options: &[&str]) -> CustomField {
        CustomField {
            id: 3,
            name: "Field".into(),
            kind,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            position: 1,
            retired: false,
        }
    }

    #[test]
    fn numbers_are_checked_and_written_one_way() {
        let number = field(CustomKind::Number, &[]);
        let parse = |text| CustomValue::parse(&number, text);
        assert_eq!(parse("12.50"), Ok(Some(CustomValue::Number("12.5".into()))));
        assert_eq!(
            parse(" 1,000 "),
            Ok(Some(CustomValue::Number("1000".into())))
        );
        assert_eq!(parse("-0"), Ok(Some(CustomValue::Number("0".into()))));
        assert_eq!(parse(""), Ok(None));
        for bad in ["twelve", "NaN", "inf", "1e999", "12.5.1"] {
            assert!(parse(bad).is_err(), "{bad} is not a number");
        }
    }

    #[test]
    fn choices_are_the_fields_options_whatever_their_case() {
        let size = field(CustomKind::Choice, &["S", "M", "L"]);
        assert_eq!(
            CustomValue::parse(&size, " m "),
            Ok(Some(CustomValue::Choice("M".into())))
        );
        assert_eq!(
            CustomValue::parse(&size, "XL"),
            Err("Choose one of: S, M, L.".into())
        );
        let topics = field(CustomKind::Choices, &["Rust", "Go", "Zig"]);
        assert_eq!(
            CustomValue::parse(&topics, "zig\nrust\nRust\n"),
            Ok(Some(CustomValue::Choices(vec![
                "Rust".into(),
                "Zig".into()
            ]))),
            "in the field's order, once each"
        );
        assert_eq!(CustomValue::parse(&topics, "\n"), Ok(None));
        assert!(CustomValue::parse(&topics, "Rust\nCobol").is_err());
    }

    #[test]
    fn dates_checkboxes_and_links_are_checked() {
        let date = field(CustomKind::Date, &[]);
        assert!(CustomValue::parse(&date, "2023-02-31").is_err());
        assert_eq!(
            CustomValue::parse(&date, "--04-15").map(|v| v.map(|v| v.to_text())),
            Ok(Some("--04-15".into()))
        );
        let tick = field(CustomKind::Checkbox, &[]);
        assert_eq!(
            CustomValue::parse(&tick, "on"),
            Ok(Some(CustomValue::Checkbox(true)))
        );
        assert_eq!(CustomValue::parse(&tick, "no"), Ok(None));
        assert!(CustomValue::parse(&tick, "maybe").is_err());
        let url = field(CustomKind::Url, &[]);
        assert!(CustomValue::parse(&url, "javascript:alert(1)").is_err());
        let text = field(CustomKind::Text, &[]);
        assert!(CustomValue::parse(&text, &"x".repeat(MAX_TEXT_CHARS + 1)).is_err());
    }

    #[test]
    fn every_value_reads_back_from_its_text() {
        let cases = [
            (field(CustomKind::Text, &[]), "Met at RustConf"),
            (field(CustomKind::Number, &[]), "-3.25"),
            (field(CustomKind::Date, &[]), "1990-04-15"),
            (field(CustomKind::Choice, &["A", "B"]), "B"),
            (field(CustomKind::Choices, &["A", "B", "C"]), "A\nC"),
            (field(CustomKind::Checkbox, &[]), "yes"),
            (field(CustomKind::Url, &[]), "https://example.com/x"),
        ];
        for (field, text) in cases {
            let value = CustomValue::parse(&field, text).unwrap().unwrap();
            assert!(value.is_kind(field.kind));
            assert_eq!(
                CustomValue::parse(&field, &value.to_text()),
                Ok(Some(value))
            );
        }
    }

    #[test]
    fn definitions_need_a_name_a_kind_and_options_for_choices() {
        let input = |name: &str, kind: &str, options: &str| CustomFieldInput {
            name: name.into(),
            kind: kind.into(),
            options: options.into(),
        };
        assert!(input("", "text", "").parse(None).is_err());
        assert!(input("Size", "colour", "").parse(None).is_err());
        assert!(input("Size", "choice", "\n").parse(None).is_err());
        assert!(input("Size", "choice", "S\ns").parse(None).is_err());
        let spec = input(" Shirt  size ", "choice", "S\n\n M \nL")
            .parse(None)
            .unwrap();
        assert_eq!(spec.name, "Shirt size");
        assert_eq!(spec.options, ["S", "M", "L"]);
        // An existing field keeps its kind whatever is posted.
        let spec = input("Size", "url", "S")
            .parse(Some(CustomKind::Choice))
            .unwrap();
        assert_eq!(spec.kind, CustomKind::Choice);
    }

    #[test]
    fn a_multiple_choice_reads_each_ticked_box() {
        let mut inputs = BTreeMap::new();
        inputs.insert("f7.0".to_owned(), "Rust".to_owned());
        inputs.insert("f7.2".to_owned(), "Zig".to_owned());
        inputs.insert("f70".to_owned(), "other field".to_owned());
        assert_eq!(input_text(&inputs, 7), "Rust\nZig");
        assert_eq!(key_field("f7.2"), Some(7));
        assert_eq!(key_field("7"), None);
        assert_eq!(key_field("x"), None);
    }
}
