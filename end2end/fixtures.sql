-- Contacts the browser tests look for by name, added after the generated ones (so
-- they are the newest). Loaded by scripts/e2e.sh into the e2e database.
INSERT INTO contacts (name, email, phone, company, title, location, tier, tags, notes) VALUES
  ('Anthony May', 'anthony.may@northwind.example', '+1 (555) 010-2000', 'Northwind Traders',
   'Partner', 'Lisbon', 1, '{investor,ai}', 'Met at Web Summit; interested in Series A fundraising.'),
  ('Anthony Mayer', 'a.mayer@contoso.example', NULL, 'Contoso', 'CTO', 'Porto', 2, '{ai}', NULL),
  ('Zoë Lefèvre', 'zoe@fabrikam.example', NULL, 'Fabrikam', 'Designer', 'Paris', 3, '{design}', NULL),
  ('Bartholomew Quigley', 'bart@initech.example', NULL, 'Initech', 'Founder', 'Dublin', 2,
   '{founder}', 'Prefers email over calls.');
