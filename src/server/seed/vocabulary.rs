//! The generator's vocabulary at the size of a real directory: each culture's listed
//! names (`data::CULTURES`) followed by the rarer names its naming parts make
//! (Yama + moto, Berg + mann, Xiao + ling…), and companies and cities beyond the
//! listed ones; each list drawn with Zipf-like frequencies (the r-th most common
//! name about 1/r as common as the first), as names are in a real population.
//!
//! A directory of a million contacts then holds thousands of given and family names,
//! most of them rare, rather than a few hundred each shared by thousands of people:
//! what search, duplicates and the import see in real data.

use std::sync::LazyLock;

use rand::{Rng, distr::Distribution, distr::weighted::WeightedIndex};
use rand_chacha::ChaCha8Rng;

use super::data::{COMPANIES, CULTURES, Culture, LOCATIONS, PORTUGUESE_FAMILY, SPANISH_FAMILY};

/// Parts that make names when joined: every head with every tail.
pub struct Parts {
    pub heads: &'static [&'static str],
    pub tails: &'static [&'static str],
    pub joiner: &'static str,
}

const NONE: Parts = Parts {
    heads: &[],
    tails: &[],
    joiner: "",
};

/// Given and family name parts of each culture, in the order of `data::CULTURES`.
const CULTURE_PARTS: [(Parts, Parts); 19] = [
    // English-speaking
    (
        Parts {
            heads: &[
                "Al", "Ber", "Car", "Ed", "El", "Har", "Jo", "Mad", "Mar", "Nat", "Ros",
            ],
            tails: &[
                "bert", "den", "ina", "ley", "lyn", "ton", "ella", "win", "issa", "ian",
            ],
            joiner: "",
        },
        Parts {
            heads: &[
                "Ash", "Black", "Brad", "Brook", "Cald", "Crane", "Dun", "Fair", "Gold", "Hart",
                "Kings", "Lang", "Mill", "North", "Ross", "Stan", "Thorn", "West", "Whit", "Wood",
            ],
            tails: &[
                "ford", "ley", "ton", "well", "field", "by", "worth", "ham", "more", "wick",
                "bridge", "cott", "er", "wood",
            ],
            joiner: "",
        },
    ),
    // Irish
    (
        NONE,
        Parts {
            heads: &["O'", "Mac", "Mc"],
            tails: &[
                "Donnell", "Connor", "Grady", "Hara", "Keeffe", "Mahony", "Rourke", "Leary",
                "Dwyer", "Shea", "Neill", "Gowan", "Kenna", "Loughlin", "Cormack", "Dermott",
                "Gill", "Govern", "Kiernan", "Sweeney",
            ],
            joiner: "",
        },
    ),
    // Spanish and Latin American: two given names, two family names.
    (
        Parts {
            heads: &["Juan", "José", "María", "Luis", "Miguel"],
            tails: &[
                "Carlos", "Luis", "Manuel", "José", "Antonio", "Ángel", "Pablo",
            ],
            joiner: " ",
        },
        Parts {
            heads: SPANISH_FAMILY,
            tails: SPANISH_FAMILY,
            joiner: " ",
        },
    ),
    // Portuguese and Brazilian: two given names, two family names.
    (
        Parts {
            heads: &["João", "Maria", "Ana", "Pedro"],
            tails: &[
                "Pedro", "Eduarda", "Clara", "Luísa", "Gabriel", "Vitória", "Miguel",
            ],
            joiner: " ",
        },
        Parts {
            heads: PORTUGUESE_FAMILY,
            tails: PORTUGUESE_FAMILY,
            joiner: " ",
        },
    ),
    // French
    (
        Parts {
            heads: &["Jean", "Marie", "Anne", "Pierre"],
            tails: &[
                "Pierre", "Claire", "Luc", "Marc", "Sophie", "Paul", "Baptiste", "Laure", "Louis",
            ],
            joiner: "-",
        },
        Parts {
            heads: &[
                "Beau", "Bel", "Bon", "Cham", "Clair", "Haut", "Mont", "Roche", "Val",
            ],
            tails: &[
                "champ", "mont", "lieu", "fort", "vert", "court", "val", "bois", "pré", "mare",
            ],
            joiner: "",
        },
    ),
    // German, Austrian, Swiss
    (
        Parts {
            heads: &[
                "Karl", "Wolf", "Fried", "Ger", "Bern", "Diet", "Sieg", "Adel", "Her",
            ],
            tails: &[
                "hard", "rich", "gang", "mar", "bert", "helm", "win", "mut", "lind",
            ],
            joiner: "",
        },
        Parts {
            heads: &[
                "Berg", "Brand", "Eisen", "Fisch", "Gold", "Hof", "Kirch", "Lang", "Linden", "Neu",
                "Rosen", "Schön", "Stein", "Wald", "Wolf", "Zimmer",
            ],
            tails: &[
                "mann", "berger", "feld", "hauer", "meier", "bach", "dorf", "hardt", "inger",
                "huber", "ner", "städter",
            ],
            joiner: "",
        },
    ),
    // Nordic
    (
        NONE,
        Parts {
            heads: &[
                "Berg", "Lind", "Sand", "Dahl", "Holm", "Lund", "Nord", "Sjö", "Ek", "Ask", "Fors",
                "Hag", "Strand", "Wik", "Öst", "Nils", "Olof", "Karl", "Lars", "Sven",
            ],
            tails: &[
                "ström", "qvist", "gren", "berg", "lund", "dahl", "sson", "sen",
            ],
            joiner: "",
        },
    ),
    // Polish, Czech, Hungarian
    (
        NONE,
        Parts {
            heads: &[
                "Kowal", "Wiśniew", "Kamiń", "Lewandow", "Zieliń", "Szymań", "Dąbrow", "Kozłow",
                "Jankow", "Piotrow", "Grabow", "Pawłow", "Sadow", "Baranow", "Wrób", "Michal",
            ],
            tails: &["ski", "ska"],
            joiner: "",
        },
    ),
    // Turkish
    (
        NONE,
        Parts {
            heads: &[
                "Ak", "Kara", "Öz", "Ay", "Gün", "Demir", "Kaya", "Er", "Tek", "Kurt", "Bal",
                "Çak", "Uç", "Yıldız",
            ],
            tails: &[
                "han", "can", "kaya", "dağ", "soy", "türk", "er", "demir", "taş", "oğlu",
            ],
            joiner: "",
        },
    ),
    // Greek
    (
        NONE,
        Parts {
            heads: &[
                "Papa", "Georg", "Nikol", "Kara", "Dimitr", "Ioann", "Kost", "Vasil", "Chrys",
                "Stavr", "Mich", "Panag", "Athan", "Kyr", "Spyr",
            ],
            tails: &["opoulos", "opoulou", "idis", "akis", "iou", "atos"],
            joiner: "",
        },
    ),
    // Russian and Ukrainian
    (
        NONE,
        Parts {
            heads: &[
                "Ivan", "Petr", "Sokol", "Volk", "Orl", "Smirn", "Lebed", "Koz", "Nov", "Mor",
                "Vasil", "Pavl", "Semen", "Golub", "Bogdan", "Fyodor", "Zhuk", "Moroz",
            ],
            tails: &["ov", "ova", "enko", "chuk"],
            joiner: "",
        },
    ),
    // Arabic
    (
        Parts {
            heads: &["Abd al-", "Nur al-"],
            tails: &[
                "Rahman", "Aziz", "Karim", "Latif", "Malik", "Hakim", "Majid", "Qadir", "Din",
            ],
            joiner: "",
        },
        Parts {
            heads: &["Al-", "El-", ""],
            tails: &[
                "Hashimi", "Amin", "Rashid", "Khatib", "Qasim", "Najjar", "Sabbagh", "Hakim",
                "Hamdan", "Shami", "Tamimi", "Zahra", "Jaber", "Fayed", "Saadi", "Bakri",
            ],
            joiner: "",
        },
    ),
    // Hebrew
    (
        NONE,
        Parts {
            heads: &[
                "Gold", "Rosen", "Silver", "Green", "Blum", "Wein", "Katz", "Eisen", "Fein",
            ],
            tails: &["berg", "man", "baum", "feld", "stein", "blatt", "thal"],
            joiner: "",
        },
    ),
    // West and East African
    (
        Parts {
            heads: &["Chi", "Nne", "Obi", "Ife", "Ada", "Olu", "Ayo"],
            tails: &["nedu", "ka", "oma", "dinma", "eze", "wale", "mide", "bami"],
            joiner: "",
        },
        Parts {
            heads: &["Ade", "Olu", "Ola", "Oke", "Aki", "Ogun", "Oye", "Ako"],
            tails: &[
                "yemi", "wale", "bayo", "kunle", "tunde", "sanya", "dele", "femi", "nuga", "laja",
            ],
            joiner: "",
        },
    ),
    // South Asian
    (
        Parts {
            heads: &[
                "Ra", "Pri", "Su", "Vi", "An", "Deep", "Har", "Ka", "Ma", "Ni", "Sa", "Shr",
            ],
            tails: &[
                "jesh", "ya", "nil", "kram", "ita", "ika", "esh", "ini", "ish", "eya",
            ],
            joiner: "",
        },
        NONE,
    ),
    // Vietnamese: a middle name and a given name.
    (
        Parts {
            heads: &[
                "Văn", "Thị", "Minh", "Ngọc", "Thanh", "Quốc", "Hoàng", "Thu", "Đức", "Hữu",
            ],
            tails: &[
                "Anh", "Bảo", "Châu", "Dũng", "Hà", "Hải", "Hùng", "Hương", "Khoa", "Lan", "Linh",
                "Long", "Mai", "Nam", "Phúc", "Quân", "Tâm", "Thảo", "Trang", "Tuấn", "Vy",
            ],
            joiner: " ",
        },
        NONE,
    ),
    // Chinese: given names of two syllables.
    (
        Parts {
            heads: &[
                "Xiao", "Jian", "Zhi", "Yi", "Hai", "Li", "Ming", "Wen", "Xin", "Yu", "Jia",
                "Hong", "Guo", "Chun", "Tian", "Zi", "Jun", "Hui", "Ya", "Shu",
            ],
            tails: &[
                "ling", "guo", "yuan", "wen", "hua", "ming", "jie", "lan", "yu", "qiang", "hui",
                "ting", "fei", "long", "xuan", "rui", "hao", "qing", "na", "feng",
            ],
            joiner: "",
        },
        NONE,
    ),
    // Japanese
    (
        Parts {
            heads: &[
                "Hiro", "Ken", "Yu", "Haru", "Aki", "Shō", "Dai", "Masa", "Kazu", "Nao", "Tomo",
                "Mi",
            ],
            tails: &[
                "to", "ki", "ya", "ko", "mi", "ta", "suke", "hiko", "na", "ka",
            ],
            joiner: "",
        },
        Parts {
            heads: &[
                "Yama", "Kawa", "Naka", "Mori", "Ishi", "Matsu", "Taka", "Fuji", "Hashi", "Kita",
                "Hara", "Sugi", "Miya", "Hoshi",
            ],
            tails: &[
                "moto", "da", "mura", "shita", "kawa", "saki", "uchi", "hara", "ta", "guchi", "no",
                "zaki", "oka", "yama",
            ],
            joiner: "",
        },
    ),
    // Korean: given names of two syllables.
    (
        Parts {
            heads: &[
                "Ji", "Min", "Seo", "Hyun", "Ha", "Jae", "Soo", "Dong", "Eun", "Yeon", "Joon",
                "Sung",
            ],
            tails: &[
                "woo", "jun", "yeon", "ah", "eun", "won", "hyun", "bin", "ho", "jin",
            ],
            joiner: "-",
        },
        NONE,
    ),
];

/// Companies beyond the listed ones: a made-up word and, for most, what kind of
/// company it is.
const COMPANY_HEADS: &[&str] = &[
    "Blue", "North", "Bright", "Iron", "Silver", "Red", "Green", "Oak", "Summit", "Harbor",
    "River", "Stone", "Cedar", "Pioneer", "Atlas", "Nova", "Apex", "Vertex", "Quantum", "Horizon",
    "Lumen", "Copper", "Falcon", "Maple", "Orbit",
];
const COMPANY_TAILS: &[&str] = &[
    "works", "field", "stone", "labs", "point", "bridge", "wave", "craft", "forge", "line", "path",
    "scale", "gate", "mark", "vale", "leaf",
];
const COMPANY_KINDS: &[&str] = &[
    "",
    "",
    " Labs",
    " Group",
    " Systems",
    " Partners",
    " Consulting",
    " Health",
    " Energy",
    " Logistics",
    " Analytics",
    " Studio",
    " Capital",
    " Media",
    " Foods",
    " Robotics",
];

/// Cities beyond the listed ones (real cities, with their country's ISO code).
const MORE_LOCATIONS: &[(&str, &str)] = &[
    ("Denver", "US"),
    ("Atlanta", "US"),
    ("Miami", "US"),
    ("Portland", "US"),
    ("Philadelphia", "US"),
    ("San Diego", "US"),
    ("Minneapolis", "US"),
    ("Pittsburgh", "US"),
    ("Raleigh", "US"),
    ("Salt Lake City", "US"),
    ("Vancouver", "CA"),
    ("Calgary", "CA"),
    ("Ottawa", "CA"),
    ("Guadalajara", "MX"),
    ("Monterrey", "MX"),
    ("Quito", "EC"),
    ("Montevideo", "UY"),
    ("Rio de Janeiro", "BR"),
    ("Belo Horizonte", "BR"),
    ("Curitiba", "BR"),
    ("Manchester", "GB"),
    ("Edinburgh", "GB"),
    ("Bristol", "GB"),
    ("Leeds", "GB"),
    ("Glasgow", "GB"),
    ("Cork", "IE"),
    ("Galway", "IE"),
    ("Lyon", "FR"),
    ("Marseille", "FR"),
    ("Toulouse", "FR"),
    ("Bordeaux", "FR"),
    ("Nantes", "FR"),
    ("Hamburg", "DE"),
    ("Köln", "DE"),
    ("Frankfurt am Main", "DE"),
    ("Stuttgart", "DE"),
    ("Düsseldorf", "DE"),
    ("Leipzig", "DE"),
    ("Graz", "AT"),
    ("Basel", "CH"),
    ("Genève", "CH"),
    ("Rotterdam", "NL"),
    ("Utrecht", "NL"),
    ("Eindhoven", "NL"),
    ("Antwerpen", "BE"),
    ("Gent", "BE"),
    ("Göteborg", "SE"),
    ("Malmö", "SE"),
    ("Bergen", "NO"),
    ("Aarhus", "DK"),
    ("Tampere", "FI"),
    ("Kraków", "PL"),
    ("Wrocław", "PL"),
    ("Gdańsk", "PL"),
    ("Brno", "CZ"),
    ("Debrecen", "HU"),
    ("Cluj-Napoca", "RO"),
    ("Zagreb", "HR"),
    ("Ljubljana", "SI"),
    ("Thessaloniki", "GR"),
    ("İzmir", "TR"),
    ("Ankara", "TR"),
    ("Porto", "PT"),
    ("Braga", "PT"),
    ("Valencia", "ES"),
    ("Sevilla", "ES"),
    ("Bilbao", "ES"),
    ("Málaga", "ES"),
    ("Torino", "IT"),
    ("Bologna", "IT"),
    ("Napoli", "IT"),
    ("Firenze", "IT"),
    ("Haifa", "IL"),
    ("Amman", "JO"),
    ("Doha", "QA"),
    ("Riyadh", "SA"),
    ("Abu Dhabi", "AE"),
    ("Casablanca", "MA"),
    ("Tunis", "TN"),
    ("Accra", "GH"),
    ("Abuja", "NG"),
    ("Kigali", "RW"),
    ("Addis Ababa", "ET"),
    ("Dar es Salaam", "TZ"),
    ("Durban", "ZA"),
    ("Pune", "IN"),
    ("Hyderabad", "IN"),
    ("Chennai", "IN"),
    ("Kolkata", "IN"),
    ("Dhaka", "BD"),
    ("Colombo", "LK"),
    ("Karachi", "PK"),
    ("Hanoi", "VN"),
    ("Bangkok", "TH"),
    ("Kuala Lumpur", "MY"),
    ("Manila", "PH"),
    ("Shenzhen", "CN"),
    ("Hangzhou", "CN"),
    ("Chengdu", "CN"),
    ("Taipei", "TW"),
    ("Osaka", "JP"),
    ("Fukuoka", "JP"),
    ("Busan", "KR"),
    ("Brisbane", "AU"),
    ("Perth", "AU"),
    ("Wellington", "NZ"),
];

/// A list drawn with Zipf-like frequencies: the item at rank r (from 1) about 1/r as
/// often as the first.
pub struct Ranked<T> {
    pub items: Vec<T>,
    weights: WeightedIndex<f64>,
}

impl<T> Ranked<T> {
    fn new(items: Vec<T>) -> Self {
        let weights = WeightedIndex::new((1..=items.len()).map(|rank| 1.0 / rank as f64))
            .expect("a list with items");
        Ranked { items, weights }
    }

    pub fn draw(&self, rng: &mut ChaCha8Rng) -> &T {
        &self.items[self.weights.sample(rng)]
    }
}

/// One culture and its names, most common first.
pub struct Names {
    pub culture: &'static Culture,
    pub given: Ranked<String>,
    pub family: Ranked<String>,
}

/// Every culture's names, in the order of `data::CULTURES`.
pub static NAMES: LazyLock<Vec<Names>> = LazyLock::new(|| {
    CULTURES
        .iter()
        .zip(&CULTURE_PARTS)
        .map(|(culture, (given, family))| Names {
            culture,
            given: Ranked::new(listed_then_made(culture.given, given)),
            family: Ranked::new(listed_then_made(culture.family, family)),
        })
        .collect()
});

/// Companies, most common first: the listed ones, then made-up ones.
pub static COMPANY_NAMES: LazyLock<Ranked<String>> = LazyLock::new(|| {
    let made = Parts {
        heads: COMPANY_HEADS,
        tails: COMPANY_TAILS,
        joiner: "",
    };
    let names = listed_then_made(COMPANIES, &made)
        .into_iter()
        .enumerate()
        .map(|(rank, name)| {
            if rank < COMPANIES.len() {
                name
            } else {
                let kind = COMPANY_KINDS[mix(&name) as usize % COMPANY_KINDS.len()];
                format!("{name}{kind}")
            }
        })
        .collect();
    Ranked::new(names)
});

/// Cities, most common first.
pub static CITIES: LazyLock<Ranked<(&'static str, &'static str)>> =
    LazyLock::new(|| Ranked::new(LOCATIONS.iter().chain(MORE_LOCATIONS).copied().collect()));

/// The listed names, then every name the parts make that is not listed, in an order
/// that does not follow the parts' (a fixed shuffle), so rarity is not alphabetical.
fn listed_then_made(listed: &[&str], parts: &Parts) -> Vec<String> {
    let mut made: Vec<String> = parts
        .heads
        .iter()
        .flat_map(|head| {
            parts
                .tails
                .iter()
                .filter(move |tail| **tail != *head)
                .map(move |tail| format!("{head}{}{tail}", parts.joiner))
        })
        .filter(|name| !listed.contains(&name.as_str()))
        .collect();
    made.sort_by_key(|name| mix(name));
    made.dedup();
    listed
        .iter()
        .map(|name| (*name).to_owned())
        .chain(made)
        .collect()
}

/// A fixed hash of a name (FNV-1a), for orders that must not change between builds.
fn mix(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A culture with its names, drawn evenly (the directory is of a professional network
/// spanning them).
pub fn culture(rng: &mut ChaCha8Rng) -> &'static Names {
    &NAMES[rng.random_range(0..NAMES.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_culture_has_its_parts() {
        assert_eq!(CULTURE_PARTS.len(), CULTURES.len());
        let given: usize = NAMES.iter().map(|names| names.given.items.len()).sum();
        let family: usize = NAMES.iter().map(|names| names.family.items.len()).sum();
        assert!(given >= 1_400, "{given} given names");
        assert!(family >= 2_000, "{family} family names");
        assert!(COMPANY_NAMES.items.len() >= 400);
        assert!(CITIES.items.len() >= 150);
        for names in NAMES.iter() {
            for list in [&names.given.items, &names.family.items] {
                let mut unique = list.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(unique.len(), list.len(), "no name twice in a list");
            }
        }
    }
}
