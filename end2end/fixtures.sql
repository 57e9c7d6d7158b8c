-- Contacts the browser tests look for by name, added after the generated ones (so
-- they are the newest). Loaded by scripts/e2e.sh into the e2e database.
INSERT INTO contacts (name, given_name, family_name, emails, phones, addresses, company, title,
                      tier, tags, notes) VALUES
  ('Anthony May', 'Anthony', 'May',
   '[{"label": "work", "value": "anthony.may@northwind.example"}]',
   '[{"label": "work", "value": "+1 (555) 010-2000"}]',
   '[{"label": "work", "city": "Lisbon", "country": "PT"}]',
   'Northwind Traders', 'Partner', 1, '{investor,ai}',
   'Met at Web Summit; interested in Series A fundraising.'),
  ('Anthony Mayer', 'Anthony', 'Mayer', '[{"value": "a.mayer@contoso.example"}]', '[]',
   '[{"city": "Porto", "country": "PT"}]', 'Contoso', 'CTO', 2, '{ai}', NULL),
  ('Zoë Lefèvre', 'Zoë', 'Lefèvre', '[{"value": "zoe@fabrikam.example"}]', '[]',
   '[{"city": "Paris", "country": "FR"}]', 'Fabrikam', 'Designer', 3, '{design}', NULL),
  ('Bartholomew Quigley', 'Bartholomew', 'Quigley', '[{"value": "bart@initech.example"}]', '[]',
   '[{"city": "Dublin", "country": "IE"}]', 'Initech', 'Founder', 2,
   '{founder}', 'Prefers email over calls.');
