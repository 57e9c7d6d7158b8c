import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect, type Page } from './fixtures';

// Lossless interchange through the browser (issue 26): each fixture of
// tests/fixtures/interchange uploaded, its columns shown, checked and committed; one
// contact opened and its fields found on its page; then the search's vCard export
// imported again, which changes nothing, and imported into an empty directory (a
// server of its own, scripts/e2e.sh), where it makes the same contacts: their page
// shows the same fields, and that directory's export changes nothing here. Every name and email gets a word of this run's
// own, so both projects (JavaScript off and on) can import the same fixture at once.

function uniqueWord(): string {
  const letters = 'bcdfghjklmnpqrstvwxz';
  let word = 'zz';
  for (let i = 0; i < 8; i++) word += letters[Math.floor(Math.random() * letters.length)];
  return word;
}

type Fixture = {
  file: string;
  /** Names made unique with the word (plain ASCII or Latin-1 text of the file). */
  names: string[];
  contacts: number;
  /** The contact to open, before the word is added to it. */
  open: string;
  /** What its page shows, before the word is added to emails and names. */
  shows: string[];
  /** A column and what it is read as (CSV only). */
  column?: [string, string];
};

const fixtures: Fixture[] = [
  {
    file: 'google.csv',
    names: ['Lovelace', 'Babbage'],
    contacts: 2,
    open: 'Countess Ada King Lovelace',
    shows: [
      'ada@analytical.example', 'countess@home.example', 'ada.l@old.example', '+44 20 7946 0001',
      '+44 20 7946 0002', "12 St James's Square", 'Greater Manchester', 'https://ada.example/blog',
      'William King', 'ada.lovelace', 'Analytical Engines', 'Analyst', 'Research', 'Friends',
      'Mathematicians', 'First programmer.', 'Favourite engine',
    ],
    column: ['E-mail 2 - Label', 'Email 2: label'],
  },
  {
    file: 'google-legacy.csv',
    names: ['Hopper'],
    contacts: 1,
    open: 'Grace Hopper',
    shows: ['grace@navy.example', 'grace@home.example', '+1 202 555 0147', 'The Pentagon', 'US Navy', 'Computer scientist', 'Navy', 'Rear admiral'],
    column: ['Gender', 'Keep as other data'],
  },
  {
    file: 'outlook-windows-1252.csv',
    names: ['Johnson', 'Ångström'],
    contacts: 2,
    open: 'Dr. Katherine Coleman Johnson',
    shows: [
      'katherine@nasa.example', 'kj@home.example', '+1 757 555 0100', '+1 757 555 0102', 'Hampton',
      'Newport News', 'Dorothy Vaughan', 'James Johnson', 'katherine@im.example', 'NASA',
      'Flight Research', 'Mathematician', 'Building 1244', 'Bridge',
    ],
    column: ['Business Fax', 'Phone (work fax)'],
  },
  {
    file: 'linkedin-connections.csv',
    names: ['Hamilton', 'Kay'],
    contacts: 2,
    open: 'Margaret Hamilton',
    shows: ['margaret@hamilton.example', 'Hamilton Technologies', 'Founder', 'connected on LinkedIn', 'www.linkedin.com/in/margaret-hamilton-example'],
    column: ['Connected On', 'Date (connected on LinkedIn)'],
  },
  {
    file: 'iphone-3.0.vcf',
    names: ['Lovelace', 'Babbage'],
    contacts: 2,
    open: 'Countess of Ada Augusta Lovelace',
    shows: ['ada@analytical.example', 'Laboratory', '+44 20 7946 0958', 'Observatory', 'Leicestershire', 'Lord Byron', 'Analytical Engines Ltd', 'mathematics'],
  },
  {
    file: 'outlook-2.1-windows-1252.vcf',
    names: ['Karl'],
    contacts: 2,
    open: 'Dr. Jürgen Karl Müller',
    shows: ['juergen@baeckerei-mueller.example', '+49 170 7654321', 'Hauptstraße 5', 'Potsdam', 'Bäckerei Müller GmbH', 'Geschäftsführer', 'Mag Brötchen mit Mohn'],
  },
  {
    file: 'rfc6350-4.0.vcf',
    names: ['Hopper'],
    contacts: 1,
    open: 'Grace Brewster Murray Hopper',
    shows: ['grace@example.org', 'grace@navy.example', 'she/her', 'Washington', 'Vincent Foster Hopper', 'Rear Admiral', 'COBOL', 'GENDER:F'],
  },
];

/** The fixture's bytes with the word added to its names and before its email domains (read and
 * written as Latin-1, so every byte is kept whatever the file's character set). */
function personalised(fixture: Fixture, word: string): Buffer {
  let text = readFileSync(join(__dirname, '../../tests/fixtures/interchange', fixture.file)).toString('latin1');
  for (const name of fixture.names) {
    // As written in a Latin-1 file, and as the bytes of UTF-8 read as Latin-1.
    text = text.split(name).join(`${name}-${word}`);
    const utf8 = Buffer.from(name, 'utf8').toString('latin1');
    if (utf8 !== name) text = text.split(utf8).join(`${utf8}-${word}`);
  }
  text = text.split('@').join(`@${word}.`);
  return Buffer.from(text, 'latin1');
}

function withWord(text: string, fixture: Fixture, word: string): string {
  let out = text.split('@').join(`@${word}.`);
  for (const name of fixture.names) out = out.split(name).join(`${name}-${word}`);
  return out;
}

async function upload(page: Page, ready: (page: Page) => Promise<void>, name: string, buffer: Buffer) {
  await page.goto('/import');
  await ready(page);
  await page.getByLabel('File').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
  await page.getByRole('button', { name: 'Check file' }).click();
  await expect(page).toHaveURL(/\/import\/[0-9a-f-]{36}$/);
  await ready(page);
}

/** One count of an import's page ("To create", "Created"…). */
function importCount(page: Page, label: string) {
  return page.locator('.import-counts div', { hasText: label }).locator('dd');
}

/** The checked file changes nothing: every contact unchanged, none to create or update. */
async function expectUnchanged(page: Page, contacts: number) {
  const count = (label: string) => importCount(page, label);
  await expect(count('Unchanged')).toHaveText(String(contacts));
  await expect(count('To create')).toHaveText('0');
  await expect(count('To update')).toHaveText('0');
}

/** The checked file's contacts are all new and valid: commits them. */
async function createAll(page: Page, contacts: number) {
  const count = (label: string) => importCount(page, label);
  await expect(count('To create')).toHaveText(String(contacts));
  await expect(count('Invalid')).toHaveText('0');
  await page.getByRole('button', { name: `Import: create ${contacts}, update 0` }).click();
  await expect(count('Created')).toHaveText(String(contacts));
}

/** Every contact of the file is found by the run's word; the one opened shows its fields. */
async function expectShown(page: Page, ready: (page: Page) => Promise<void>, fixture: Fixture, word: string) {
  await page.goto(`/?q=${word}`);
  await ready(page);
  await expect(page.locator('tbody tr .contact-link')).toHaveCount(fixture.contacts);
  // The results list a name as it files ("Lovelace, Ada"): found by its unique part.
  const unique = withWord(fixture.names.find((name) => fixture.open.includes(name)) ?? fixture.open, fixture, word);
  await page.locator('tbody tr .contact-link', { hasText: unique }).first().click();
  await ready(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(withWord(fixture.open, fixture, word));
  for (const shown of fixture.shows) {
    await expect(page.locator('main'), shown).toContainText(withWord(shown, fixture, word));
  }
}

/** The search for the run's word, downloaded as vCard. */
async function exportSearch(page: Page, ready: (page: Page) => Promise<void>, word: string): Promise<Buffer> {
  await page.goto(`/?q=${word}`);
  await ready(page);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'vCard', exact: true }).click(),
  ]);
  return readFileSync(await download.path());
}

for (const fixture of fixtures) {
  test(`import ${fixture.file} through the browser, every field kept, and its export back unchanged`, async ({ page, ready, browser, javaScriptEnabled }) => {
    test.setTimeout(150_000);
    const word = uniqueWord();
    await upload(page, ready, fixture.file, personalised(fixture, word));
    if (fixture.column) {
      const [header, shown] = fixture.column;
      await expect(page.getByLabel(header, { exact: true }).locator('option:checked')).toHaveText(shown);
    }
    await createAll(page, fixture.contacts);
    await expectShown(page, ready, fixture, word);

    // The search exported as vCard and imported again: nothing to create or change.
    const exported = await exportSearch(page, ready, word);
    await upload(page, ready, `export-${word}.vcf`, exported);
    await expectUnchanged(page, fixture.contacts);

    // The export into an empty directory: every contact made again, the same.
    const emptyDirectory = await browser.newContext({
      baseURL: `http://127.0.0.1:${process.env.ROSTER_E2E_EMPTY_PORT ?? 3103}`,
      storageState: '.auth/admin-empty.json',
      javaScriptEnabled,
    });
    const there = await emptyDirectory.newPage();
    await upload(there, ready, `export-${word}.vcf`, exported);
    await createAll(there, fixture.contacts);
    await expectShown(there, ready, fixture, word);
    // Field by field, as Roster compares them: that directory's export changes nothing here.
    const exportedThere = await exportSearch(there, ready, word);
    await emptyDirectory.close();
    await upload(page, ready, `export-there-${word}.vcf`, exportedThere);
    await expectUnchanged(page, fixture.contacts);
  });
}
