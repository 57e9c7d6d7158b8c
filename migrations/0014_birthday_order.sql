-- The "Upcoming birthdays" panel asks, day by day, for the first few people by name
-- whose birthday falls on that day. With the name in the index the answer is its first
-- entries for the day; without it, every birthday of the day (some 2,700 at a million
-- contacts) was read from the table and sorted, 15 ms a day.
DROP INDEX contacts_birthday_idx;
CREATE INDEX contacts_birthday_idx ON contacts (contact_month_day(birthday), name)
    WHERE birthday IS NOT NULL AND deleted_at IS NULL;
