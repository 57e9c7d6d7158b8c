import { readFileSync } from 'node:fs';
import { test, expect } from './fixtures';

// Importing a small CSV: the dry run, the commit with its progress bar, the contacts in
// search afterwards. Names are unique per test so both projects can run at once.

function uniqueWord(): string {
  const letters = 'bcdfghjklmnpqrstvwxz';
  let word = 'zz';
  for (let i = 0; i < 8; i++) word += letters[Math.floor(Math.random() * letters.length)];
  return word;
}

test('import a small CSV, check it, commit it and watch it finish', async ({ page, ready }) => {
  const word = uniqueWord();
  const csv = [
    'Full Name,E-mail,Organization,Labels',
    `Ines ${word},ines.${word}@example.com,Importers Ltd,imported`,
    `Omar ${word},omar.${word}@example.com,Importers Ltd,imported`,
    `Bad ${word},not-an-email,Importers Ltd,`,
    `Uma ${word},uma.${word}@example.com,,imported`,
  ].join('\n');

  await page.goto('/');
  await ready(page);
  await page.getByRole('link', { name: 'Import' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Import contacts');
  await page.getByLabel('File').setInputFiles({
    name: `people-${word}.csv`,
    mimeType: 'text/csv',
    buffer: Buffer.from(csv),
  });
  await page.getByRole('button', { name: 'Check file' }).click();

  // The dry run: what will happen, and which row is skipped and why.
  await expect(page).toHaveURL(/\/import\/[0-9a-f-]{36}$/);
  await ready(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Import of people-${word}.csv`);
  const counts = page.locator('.import-counts');
  await expect(counts.locator('div', { hasText: 'To create' }).locator('dd')).toHaveText('3');
  await expect(counts.locator('div', { hasText: 'Invalid' }).locator('dd')).toHaveText('1');
  await expect(page.locator('.skipped tbody tr')).toHaveText([/^4\s*Email 1: Enter an email address/]);
  await expect(page.getByLabel('Full Name')).toHaveValue('name');
  await expect(page.getByLabel('Organization')).toHaveValue('company');

  // Commit, and watch the bar reach 100%.
  await page.getByRole('button', { name: 'Import: create 3, update 0' }).click();
  await expect(page.locator('#import-progress')).toHaveAttribute('value', '100');
  await expect(page.locator('.import-progress label')).toHaveText('100%');
  await expect(page.locator('.import-counts div', { hasText: 'Created' }).locator('dd')).toHaveText('3');

  await page.goto(`/?q=${word}`);
  await ready(page);
  const links = page.locator('tbody tr .contact-link');
  await expect(links).toHaveCount(3);

  // Export the search and compare with what the page shows: the same three contacts,
  // with the imported emails and tags.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export CSV' }).click(),
  ]);
  const exported = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '');
  const [header, ...records] = exported.trim().split(/\r?\n/);
  // The card's columns, then one per custom field (the demo directory's, and any a
  // test running beside this one has added).
  expect(header.startsWith(
    'Name,Prefix,Given name,Middle name,Family name,Suffix,Nickname,Phonetic given name,Phonetic family name,' +
      'Pronouns,File as,Emails,Phones,Addresses,Links,Messaging,Related,Birthday,Dates,Company,Department,Title,Tier,' +
      'Tags,Notes,Other vCard data,Added,Shirt size,Interests,Board member,Member since',
  ), header).toBe(true);
  const shown = (await links.allTextContents()).sort();
  expect(records.map((line) => line.split(',')[0]).sort()).toEqual(shown);
  expect(records.find((line) => line.startsWith(`Omar ${word},`))).toContain(`omar.${word}@example.com`);
  expect(records.every((line) => line.includes('imported'))).toBe(true);
});
