//! Contacts as the directory lists them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How close a contact is to the network: 1 is the inner circle, 4 an acquaintance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i16", into = "i16")]
pub struct Tier(u8);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Tier must be a whole number from 1 to 4.")]
pub struct TierError;

impl Tier {
    pub const ALL: [Tier; 4] = [Tier(1), Tier(2), Tier(3), Tier(4)];

    pub fn parse(value: i64) -> Result<Self, TierError> {
        match value {
            1..=4 => Ok(Tier(value as u8)),
            _ => Err(TierError),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// A short human label, shown beside the number.
    pub fn label(self) -> &'static str {
        match self.0 {
            1 => "Inner circle",
            2 => "Close",
            3 => "Network",
            _ => "Acquaintance",
        }
    }
}

impl TryFrom<i16> for Tier {
    type Error = TierError;

    fn try_from(value: i16) -> Result<Self, Self::Error> {
        Tier::parse(i64::from(value))
    }
}

impl From<Tier> for i16 {
    fn from(tier: Tier) -> Self {
        i16::from(tier.0)
    }
}

/// One row of the directory: what a person scanning the list needs to recognise a
/// contact (the primary email, the first address's place).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSummary {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub location: Option<String>,
    pub tier: Tier,
    pub tags: Vec<String>,
}

/// Everything Roster holds about a contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: Uuid,
    pub card: super::Card,
    /// The company record the card's company names (see `companies`).
    #[serde(default)]
    pub company_id: Option<Uuid>,
    /// That company's web domain, when it has one and it was read with the contact
    /// (the search index finds people by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_domain: Option<String>,
    /// Microseconds since the Unix epoch, UTC.
    pub created_at_micros: i64,
    pub updated_at_micros: i64,
    /// Increases with every change; edits carry the version they were made against.
    pub version: i32,
    /// Set while the contact is deleted (restorable for [`RESTORE_DAYS`] days).
    pub deleted_at_micros: Option<i64>,
}

impl Contact {
    pub fn name(&self) -> &str {
        &self.card.name
    }

    /// The row the directory lists for this contact.
    pub fn summary(&self) -> ContactSummary {
        self.card.summary(self.id)
    }
}

/// Someone whose contact names this one among their related people, as this one's
/// page lists them: "Ada Lovelace — report".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedPerson {
    pub id: Uuid,
    pub name: String,
    /// The relationship from this contact's side (see `card::inverse_label`).
    pub label: String,
}

/// A birthday in the days ahead, for the directory's "Upcoming birthdays" panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpcomingBirthday {
    pub id: Uuid,
    pub name: String,
    pub birthday: super::card::PartialDate,
    /// 0 is today.
    pub in_days: u16,
    /// The age they turn, when the year of birth is known.
    pub turns: Option<u16>,
}

impl UpcomingBirthday {
    /// "Today", "Tomorrow", "In 5 days".
    pub fn when(&self) -> String {
        match self.in_days {
            0 => "Today".to_owned(),
            1 => "Tomorrow".to_owned(),
            n => format!("In {n} days"),
        }
    }
}

/// How far ahead the panel looks, and how many it shows.
pub const UPCOMING_BIRTHDAY_DAYS: u16 = 30;
pub const UPCOMING_BIRTHDAYS_SHOWN: usize = 8;

/// How long a deleted contact can be restored before it is purged.
pub const RESTORE_DAYS: i64 = 30;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_accepts_one_to_four_only() {
        for n in 1..=4 {
            assert_eq!(Tier::parse(n).map(Tier::get), Ok(n as u8));
        }
        for n in [-1, 0, 5, 255, i64::MAX] {
            assert_eq!(Tier::parse(n), Err(TierError));
        }
    }

    #[test]
    fn tier_deserialization_validates() {
        let ok: Tier = serde_json_like::from_num(3).unwrap();
        assert_eq!(ok.get(), 3);
        assert!(serde_json_like::from_num(9).is_err());
    }

    /// A tiny deserializer from an integer, so the test needs no JSON crate in the browser build.
    mod serde_json_like {
        use serde::de::{IntoDeserializer, value::Error};

        pub fn from_num(n: i16) -> Result<super::Tier, Error> {
            serde::Deserialize::deserialize(n.into_deserializer())
        }
    }
}
