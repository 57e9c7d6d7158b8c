//! Word lists for generated contacts: names from many cultures (written as people from
//! those cultures write them in Latin script, accents included), fictional companies,
//! and the cities, titles, tags and phrases of a professional network.

/// A naming culture: given names and family names that belong together, and whether the
/// family name comes first when written.
pub struct Culture {
    pub given: &'static [&'static str],
    pub family: &'static [&'static str],
    pub family_first: bool,
}

pub const CULTURES: &[Culture] = &[
    // English-speaking
    Culture {
        given: &["James", "Olivia", "Anthony", "Emily", "Michael", "Grace", "Daniel", "Hannah", "Ethan", "Chloe", "Liam", "Sophie", "Noah", "Charlotte", "Ryan", "Megan"],
        family: &["Smith", "May", "Johnson", "Brown", "Taylor", "Walker", "Wright", "Thompson", "Hughes", "Clarke", "Bennett", "Foster", "Reid", "Palmer", "Hayes", "Carter"],
        family_first: false,
    },
    // Irish
    Culture {
        given: &["Siobhán", "Seán", "Aoife", "Niamh", "Pádraig", "Caoimhe", "Eoin", "Róisín", "Cillian", "Saoirse"],
        family: &["O'Brien", "Murphy", "Ó Súilleabháin", "Kelly", "Byrne", "McCarthy", "Ní Bhriain", "Doyle", "Gallagher", "Walsh"],
        family_first: false,
    },
    // Spanish and Latin American
    Culture {
        given: &["José", "María", "Lucía", "Andrés", "Sofía", "Javier", "Inés", "Álvaro", "Camila", "Martín", "Valentina", "Ramón", "Mónica", "Íñigo"],
        family: &["García", "Peña", "Fernández", "Martínez", "López", "Núñez", "Sánchez", "Rodríguez", "Muñoz", "Gutiérrez", "Jiménez", "Ibáñez", "Castillo", "Ordóñez"],
        family_first: false,
    },
    // Portuguese and Brazilian
    Culture {
        given: &["João", "Ana", "Gonçalo", "Beatriz", "Tomás", "Leonor", "Thiago", "Mariana", "Luís", "Conceição"],
        family: &["Gonçalves", "Silva", "Conceição", "Araújo", "Magalhães", "Sousa", "Pereira", "Simões", "Assunção", "Ferreira"],
        family_first: false,
    },
    // French
    Culture {
        given: &["Hélène", "François", "Chloé", "Théo", "Amélie", "Jérôme", "Zoé", "Benoît", "Élodie", "Raphaël", "Cécile", "Loïc"],
        family: &["Lefèvre", "Dubois", "Moreau", "Girard", "Bérenger", "Rousseau", "Mercier", "Lemaître", "Fontaine", "Chevalier", "Lambert", "Faure"],
        family_first: false,
    },
    // German, Austrian, Swiss
    Culture {
        given: &["Jürgen", "Anna", "Lukas", "Jörg", "Lena", "Maximilian", "Käthe", "Felix", "Sönke", "Greta"],
        family: &["Müller", "Schröder", "Weiß", "Groß", "Becker", "Köhler", "Schäfer", "Hoffmann", "Brückner", "Krämer"],
        family_first: false,
    },
    // Nordic
    Culture {
        given: &["Søren", "Björn", "Åsa", "Ingrid", "Mikkel", "Sigríður", "Øystein", "Linnéa", "Jónas", "Freja"],
        family: &["Jørgensen", "Lindqvist", "Åberg", "Nyström", "Halvorsen", "Guðmundsdóttir", "Sørensen", "Bergström", "Østergaard", "Ekström"],
        family_first: false,
    },
    // Polish, Czech, Hungarian
    Culture {
        given: &["Łukasz", "Zofia", "Tomáš", "Agnieszka", "Zoltán", "Kateřina", "Wojciech", "Réka", "Jiří", "Małgorzata"],
        family: &["Wójcik", "Dvořák", "Kowalczyk", "Szőke", "Nowak", "Horváth", "Lewandowska", "Procházka", "Kovács", "Zieliński"],
        family_first: false,
    },
    // Turkish
    Culture {
        given: &["Çağlar", "Ayşe", "Emre", "Gül", "Oğuz", "Şebnem", "İlker", "Zeynep", "Barış", "Özlem"],
        family: &["Öztürk", "Yılmaz", "Demir", "Şahin", "Çelik", "Aydın", "Kılıç", "Doğan", "Arslan", "Güneş"],
        family_first: false,
    },
    // Greek
    Culture {
        given: &["Eleni", "Nikos", "Dimitra", "Giorgos", "Katerina", "Yannis", "Sofia", "Kostas"],
        family: &["Papadopoulou", "Georgiou", "Nikolaidis", "Karagiannis", "Vlachou", "Alexiou", "Christodoulou", "Pappas"],
        family_first: false,
    },
    // Russian and Ukrainian
    Culture {
        given: &["Dmitri", "Olga", "Sergei", "Anastasia", "Oleksandr", "Natalia", "Mikhail", "Yulia"],
        family: &["Ivanov", "Petrova", "Shevchenko", "Kuznetsova", "Bondarenko", "Volkov", "Sokolova", "Kovalenko"],
        family_first: false,
    },
    // Arabic
    Culture {
        given: &["Layla", "Omar", "Yasmin", "Karim", "Nour", "Tariq", "Rania", "Samir", "Hana", "Youssef"],
        family: &["Haddad", "Al-Masri", "Khalil", "Mansour", "El-Sayed", "Nasser", "Farouk", "Saleh", "Aziz", "Hariri"],
        family_first: false,
    },
    // Hebrew
    Culture {
        given: &["Noa", "Itai", "Maya", "Yonatan", "Tamar", "Eitan", "Shira", "Amit"],
        family: &["Cohen", "Levi", "Mizrahi", "Peretz", "Biton", "Friedman", "Avraham", "Shapiro"],
        family_first: false,
    },
    // West and East African
    Culture {
        given: &["Chinedu", "Amara", "Kwame", "Ngozi", "Oluwaseun", "Abena", "Tendai", "Wanjiru", "Kofi", "Zainab", "Babajide", "Nkechi"],
        family: &["Okafor", "Mensah", "Adeyemi", "Otieno", "Nwosu", "Boateng", "Mutasa", "Kamau", "Abubakar", "Eze", "Asante", "Ndlovu"],
        family_first: false,
    },
    // South Asian
    Culture {
        given: &["Priya", "Arjun", "Ananya", "Rohan", "Kavya", "Vikram", "Aditi", "Sanjay", "Meera", "Rahul", "Lakshmi", "Farhan"],
        family: &["Sharma", "Patel", "Iyer", "Reddy", "Chatterjee", "Nair", "Gupta", "Banerjee", "Kapoor", "Menon", "Rahman", "Siddiqui"],
        family_first: false,
    },
    // Vietnamese (family name first)
    Culture {
        given: &["Thị Mai", "Văn Đức", "Thu Hà", "Minh Tuấn", "Ngọc Anh", "Quốc Bảo", "Thanh Hương", "Hoàng Long"],
        family: &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi"],
        family_first: true,
    },
    // Chinese (family name first, pinyin)
    Culture {
        given: &["Fang", "Wei", "Xiaoling", "Jianguo", "Yiwen", "Hao", "Mei", "Zhiyuan", "Lǚ", "Jing"],
        family: &["Wang", "Zhang", "Liu", "Chen", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun"],
        family_first: true,
    },
    // Japanese
    Culture {
        given: &["Yūki", "Haruto", "Sakura", "Kenta", "Aiko", "Shōta", "Yui", "Ryō", "Emi", "Takumi"],
        family: &["Satō", "Suzuki", "Takahashi", "Tanaka", "Itō", "Watanabe", "Yamamoto", "Nakamura", "Kobayashi", "Katō"],
        family_first: false,
    },
    // Korean
    Culture {
        given: &["Ji-woo", "Min-jun", "Seo-yeon", "Hyun-woo", "Ha-eun", "Jae-won", "Soo-ah", "Dong-hyun"],
        family: &["Park", "Kim", "Lee", "Choi", "Jung", "Kang", "Yoon", "Han"],
        family_first: false,
    },
];

/// Fictional companies; the email domain is derived from the name.
pub const COMPANIES: &[&str] = &[
    "Northwind Traders", "Contoso", "Fabrikam", "Tailspin Toys", "Wide World Importers",
    "Adventure Works", "Litware", "Proseware", "Lucerne Publishing", "Margie's Travel",
    "Blue Yonder Airlines", "Coho Winery", "Fourth Coffee", "Graphic Design Institute",
    "Humongous Insurance", "Alpine Ski House", "Trey Research", "Wingtip Toys", "Woodgrove Bank",
    "Relecloud", "Lamna Healthcare", "Bellows College", "Southridge Video", "Datum Corporation",
    "Initech", "Hooli", "Pied Piper", "Stark Industries", "Wayne Enterprises", "Umbrella Labs",
    "Globex", "Soylent", "Cyberdyne Systems", "Tyrell Corporation", "Massive Dynamic",
    "Oscorp", "Vandelay Industries", "Bluth Company", "Dunder Mifflin", "Sterling Cooper",
    "Prestige Worldwide", "Gringotts", "Acme Robotics", "Aperture Science", "Black Mesa",
    "Nakatomi Trading", "Zorg Industries", "Monarch Solutions", "Brightline Capital",
    "Helios Ventures", "Kestrel Partners", "Lumen Analytics", "Meridian Health", "Nimbus Cloud",
    "Orchard Labs", "Polaris Media", "Quanta Bio", "Riverstone Foods", "Solstice Energy",
    "Terraform Studio", "Umbra Security", "Vertex Logistics", "Willow & Finch", "Xenon Motors",
    "Yellowtail Design", "Zenith Legal", "Café Lumière", "Müller & Söhne", "Société Générale Démo",
    "São Bento Têxtil", "Ångström Optics", "Łódź Software House", "Øresund Shipping",
];

pub const TITLES: &[&str] = &[
    "Founder", "Co-founder & CEO", "CTO", "Chief Operating Officer", "VP of Engineering",
    "VP of Sales", "Head of Marketing", "Head of Design", "Product Manager", "Senior Product Manager",
    "Engineering Manager", "Staff Engineer", "Software Engineer", "Data Scientist",
    "Machine Learning Engineer", "Designer", "UX Researcher", "Account Executive",
    "Partner", "General Partner", "Principal", "Associate", "Investor", "Angel Investor",
    "Journalist", "Editor", "Podcast Host", "Community Manager", "Recruiter",
    "Talent Partner", "Chief Financial Officer", "Controller", "General Counsel", "Consultant",
    "Advisor", "Professor", "Researcher", "Director of Partnerships", "Business Development Lead",
    "Customer Success Manager", "Developer Advocate", "Creative Director", "Brand Strategist",
];

pub const LOCATIONS: &[&str] = &[
    "New York", "San Francisco", "Los Angeles", "Austin", "Chicago", "Seattle", "Boston",
    "Toronto", "Montréal", "Mexico City", "Bogotá", "Medellín", "São Paulo", "Buenos Aires",
    "Santiago", "Lima", "London", "Dublin", "Paris", "Lyon", "Berlin", "München", "Düsseldorf",
    "Zürich", "Wien", "Amsterdam", "Brussels", "København", "Malmö", "Stockholm", "Oslo",
    "Reykjavík", "Helsinki", "Kraków", "Warszawa", "Praha", "Budapest", "İstanbul", "Athens",
    "Lisbon", "Porto", "Madrid", "Barcelona", "Milan", "Rome", "Tel Aviv", "Dubai", "Cairo",
    "Lagos", "Accra", "Nairobi", "Cape Town", "Johannesburg", "Mumbai", "Bengaluru", "Delhi",
    "Singapore", "Ho Chi Minh City", "Hà Nội", "Shanghai", "Shenzhen", "Hong Kong", "Seoul",
    "Tokyo", "Ōsaka", "Sydney", "Melbourne", "Auckland",
];

pub const TAGS: &[&str] = &[
    "investor", "founder", "mentor", "speaker", "press", "advisor", "hiring", "design",
    "engineering", "marketing", "sales", "podcast", "vc", "angel", "ai", "fintech",
    "healthcare", "climate", "crypto", "saas", "ecommerce", "media", "nonprofit",
    "government", "education", "gaming", "music", "sports", "fashion", "food", "real-estate",
    "legal", "recruiting", "partner", "customer", "alumni", "conference-2025", "conference-2026",
    "intro-pending", "follow-up", "vip", "board", "open-source", "web3", "robotics",
];

pub const EVENTS: &[&str] = &[
    "Web Summit", "SXSW", "a founders' dinner", "the climate meetup", "a demo day",
    "VivaTech", "Slush", "a podcast recording", "the product conference", "a charity gala",
    "an investor breakfast", "the design week", "a hackathon", "CES", "a book launch",
];

pub const TOPICS: &[&str] = &[
    "Series A fundraising", "hiring senior engineers", "expanding to Europe", "a podcast guest slot",
    "a speaking invitation", "the partnership proposal", "their new product launch",
    "mentoring first-time founders", "pricing strategy", "a board seat", "open-source tooling",
    "go-to-market in Latin America", "brand collaboration", "the sustainability report",
    "an intro to their portfolio", "content collaboration", "the advisory agreement",
];

pub const MONTHS: &[&str] = &[
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
];
