import type { Browser } from '@playwright/test';
import { test, expect, type Page } from './fixtures';

// Keeping the directory right, with JavaScript off (plain form posts and redirects) and
// on (the same forms without a reload). Each test makes contacts with a name of its
// own, so the two projects can run side by side on one database.

/** A word no other contact has, to name and then find a test's contact. */
function uniqueWord(): string {
  const letters = 'bcdfghjklmnpqrstvwxz';
  let word = 'zz';
  for (let i = 0; i < 8; i++) word += letters[Math.floor(Math.random() * letters.length)];
  return word;
}

/** A JPEG drawn by the browser (in a context of its own, with JavaScript, whatever
 * the test's): a photo to choose on the form. */
async function drawnPhoto(browser: Browser): Promise<Buffer> {
  const context = await browser.newContext({ javaScriptEnabled: true });
  const page = await context.newPage();
  const data = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    const draw = canvas.getContext('2d')!;
    const gradient = draw.createLinearGradient(0, 0, 320, 240);
    gradient.addColorStop(0, '#2f6f9f');
    gradient.addColorStop(1, '#e0c080');
    draw.fillStyle = gradient;
    draw.fillRect(0, 0, 320, 240);
    draw.fillStyle = '#f0d2b4';
    draw.beginPath();
    draw.arc(160, 110, 60, 0, Math.PI * 2);
    draw.fill();
    return canvas.toDataURL('image/jpeg', 0.9).split(',')[1];
  });
  await context.close();
  return Buffer.from(data, 'base64');
}

async function saveForm(page: Page) {
  await page.getByRole('button', { name: 'Save', exact: true }).click();
}

async function createContact(page: Page, ready: (page: Page) => Promise<void>, name: string, email: string) {
  await page.goto('/contacts/new');
  await ready(page);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Email 1', { exact: true }).fill(email);
  await page.getByLabel('Company').fill('Playwright Testing Ltd');
  await saveForm(page);
  await expect(page).toHaveURL(/\/contacts\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
}

test('create a contact, correcting a validation error on the way', async ({ page, ready, javaScriptEnabled }) => {
  const word = uniqueWord();
  const name = `Tess ${word}`;
  await page.goto('/');
  await ready(page);
  await page.getByRole('link', { name: 'New contact' }).click();
  await expect(page).toHaveURL(/\/contacts\/new$/);
  await ready(page);

  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Email 1', { exact: true }).fill('tess at example');
  await page.getByLabel('Tier').selectOption('2');
  await page.getByLabel('Tags').fill('e2e, founders');
  await page.getByLabel('Notes').fill('Line one\nLine two <b>not bold</b>');
  if (javaScriptEnabled) await page.evaluate(() => ((window as any).__sameDocument = true));
  await saveForm(page);

  // The error sits by its field; everything typed is still there.
  await expect(page.locator('#emails-0-error')).toHaveText('Enter an email address like name@example.com.');
  await expect(page.getByLabel('Email 1', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue(name);
  await expect(page.getByLabel('Tier')).toHaveValue('2');
  await expect(page.getByLabel('Tags')).toHaveValue('e2e, founders');
  await expect(page.getByLabel('Notes')).toHaveValue('Line one\nLine two <b>not bold</b>');
  if (javaScriptEnabled) {
    // Hydrated, the shared rules ran in the browser: no reload, nothing sent.
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  }

  await page.getByLabel('Email 1', { exact: true }).fill(`${word}@example.com`);
  await saveForm(page);
  await expect(page).toHaveURL(/\/contacts\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  await expect(page.locator('.contact-fields')).toContainText('Line two <b>not bold</b>');
  await expect(page.locator('.contact-fields .tag')).toHaveText(['e2e', 'founders']);

  // It is in search straight away.
  await page.goto(`/?q=${word}`);
  await expect(page.locator('tbody tr .contact-link')).toHaveText([name]);
});

test('a second contact with the same email is refused with a link to the first', async ({ page, ready }) => {
  const word = uniqueWord();
  await createContact(page, ready, `Dee ${word}`, `${word}@example.com`);

  await page.goto('/contacts/new');
  await ready(page);
  await page.getByLabel('Name', { exact: true }).fill(`Other ${word}`);
  await page.getByLabel('Email 1', { exact: true }).fill(`${word.toUpperCase()}@Example.com`);
  await saveForm(page);
  const notice = page.locator('.form-outcome');
  await expect(notice).toContainText(`Dee ${word} already has this email address.`);
  await notice.getByRole('link', { name: `Open Dee ${word}` }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Dee ${word}`);
});

test('edit, delete and restore a contact, with its history', async ({ page, ready }) => {
  const word = uniqueWord();
  const name = `Eddie ${word}`;
  await createContact(page, ready, name, `${word}@example.com`);
  const contactUrl = page.url();

  // Edit: a required field left empty is refused, then corrected.
  await page.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Edit ${name}`);
  await ready(page);
  await page.getByLabel('Title').fill('Chief Tester');
  await page.getByLabel('Name', { exact: true }).fill('');
  await saveForm(page);
  await expect(page.locator('#field-name-error')).toHaveText('Enter a name, or a given or family name.');
  await expect(page.getByLabel('Title')).toHaveValue('Chief Tester');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await saveForm(page);
  await expect(page).toHaveURL(contactUrl);
  await expect(page.locator('.contact-role')).toHaveText('Chief Tester at Playwright Testing Ltd');

  // The history records the edit, field by field.
  await page.getByRole('link', { name: 'History' }).click();
  const edit = page.locator('.history-entry').first();
  await expect(edit).toContainText('Edited');
  await expect(edit.locator('tbody tr')).toHaveText([/Title\s*—\s*Chief Tester/]);
  await expect(page.locator('.history-entry').last()).toContainText('Created');

  // Delete asks first, then takes the contact out of the directory and search at once.
  await page.goto(contactUrl);
  await ready(page);
  await page.getByRole('link', { name: 'Delete' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Delete ${name}?`);
  await ready(page);
  await page.getByRole('button', { name: 'Delete contact' }).click();
  await expect(page).toHaveURL(contactUrl);
  await expect(page.locator('.deleted-banner')).toContainText('This contact was deleted');
  await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0);

  await page.goto(`/?q=${word}`);
  await expect(page.locator('.no-results')).toBeVisible();

  // Restore brings it back everywhere.
  await page.goto(contactUrl);
  await ready(page);
  await page.getByRole('button', { name: 'Restore' }).click();
  await expect(page.locator('.deleted-banner')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Edit' })).toBeVisible();
  await page.goto(`/?q=${word}`);
  await expect(page.locator('tbody tr .contact-link')).toHaveText([name]);
});

test('a rich contact: two emails, two phones, an address, a birthday, a photo, a company and a custom field, found by its second phone typed another way and on its company page', async ({ page, ready, browser }) => {
  const word = uniqueWord();
  // Numbers of its own (in fictional ranges the generated contacts do not use), so the
  // two projects' contacts are not possible duplicates of each other or of another.
  const digits = String(Math.floor(1000 + Math.random() * 8999));
  const mobile = `+44 113 496 0${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}`;
  await page.goto('/contacts/new');
  await ready(page);
  await page.getByLabel('Given name', { exact: true }).fill('Rita');
  await page.getByLabel('Family name', { exact: true }).fill(word);
  await page.getByLabel('Email 1', { exact: true }).fill(`${word}@work.example`);
  await page.getByLabel('Email 1 label').fill('work');

  // A second email and a second phone: each list's "Add" button gives a new row (a
  // round trip through the server without JavaScript, in place with it).
  await page.getByRole('button', { name: 'Add an email' }).click();
  await ready(page);
  await expect(page.getByLabel('Email 2', { exact: true })).toBeVisible();
  await page.getByLabel('Email 2', { exact: true }).fill(`${word}@home.example`);
  await page.getByLabel('Email 2 label').fill('home');
  await page.getByLabel('Phone 1', { exact: true }).fill(mobile);
  await page.getByLabel('Phone 1 label').fill('mobile');
  await page.getByRole('button', { name: 'Add a phone' }).click();
  await ready(page);
  await page.getByLabel('Phone 2', { exact: true }).fill(`+1 (201) 555-${digits}`);
  await page.getByLabel('Phone 2 label').fill('Lab bench');
  await page.getByRole('button', { name: 'Add an address' }).click();
  await ready(page);
  await page.getByLabel('Street').fill('12 Rua Augusta');
  await page.getByLabel('City').fill('Lisbon');
  await page.getByLabel('Country').fill('Portugal');
  await page.getByLabel('Birthday').fill('04-15');
  await page.getByLabel('Company').fill(`Firm ${word}`);
  await page.getByLabel('Department').fill('Research');
  // A custom field of the demo directory's (a single choice).
  await page.getByLabel('Shirt size').selectOption('M');
  // What was typed before each round trip is still there.
  await expect(page.getByLabel('Email 1', { exact: true })).toHaveValue(`${word}@work.example`);
  await expect(page.getByLabel('Given name', { exact: true })).toHaveValue('Rita');

  // The home email is the one to reach her by: make it the primary one.
  await page.getByRole('button', { name: 'Make primary Email 2' }).click();
  await ready(page);
  await expect(page.getByLabel('Email 1', { exact: true })).toHaveValue(`${word}@home.example`);
  await expect(page.getByLabel('Email 2', { exact: true })).toHaveValue(`${word}@work.example`);

  // A photo, chosen last: it goes with the form's own post.
  await page.getByLabel('Choose a photo').setInputFiles({
    name: 'rita.jpg',
    mimeType: 'image/jpeg',
    buffer: await drawnPhoto(browser),
  });
  await saveForm(page);
  await expect(page).toHaveURL(/\/contacts\/[0-9a-f-]{36}$/);
  const contactUrl = page.url();
  const photo = page.locator('.contact-header img.avatar-photo');
  await expect(photo).toHaveAttribute('src', /^\/photos\/[0-9a-f]{32}-384\.jpg$/);
  const served = await page.request.get((await photo.getAttribute('src'))!);
  expect(served.status()).toBe(200);
  expect(served.headers()['content-type']).toBe('image/jpeg');
  expect(served.headers()['cache-control']).toContain('immutable');
  await expect(page.locator('dd[data-custom="Shirt size"]')).toHaveText('M');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Rita ${word}`);
  const fields = page.locator('.contact-fields');
  await expect(fields).toContainText(`${word}@home.example`);
  await expect(fields).toContainText(`${word}@work.example`);
  await expect(fields).toContainText(mobile);
  await expect(fields).toContainText(`+1 (201) 555-${digits}`);
  await expect(fields).toContainText('Lab bench');
  await expect(fields).toContainText('12 Rua Augusta');
  await expect(fields).toContainText('Portugal');
  await expect(fields).toContainText('15 April');
  await expect(page.locator('.contact-role')).toHaveText(`Firm ${word}, Research`);

  // Her company's page lists her.
  await page.locator('a.company-link').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Firm ${word}`);
  await expect(page.locator('tbody tr .contact-link')).toHaveText([`Rita ${word}`]);

  // Found by the second phone, typed without the country code or punctuation.
  await page.goto(`/?q=${encodeURIComponent(`201555${digits}`)}`);
  await expect(page.locator('tbody tr .contact-link')).toHaveText([`Rita ${word}`]);
  // And by the city of her address and the second email.
  await page.goto(`/?q=${encodeURIComponent(`${word}@work.example`)}`);
  await expect(page.locator('tbody tr .contact-link')).toHaveText([`Rita ${word}`]);

  // Edit: remove the work email, and the history shows the list's change.
  await page.goto(contactUrl);
  await ready(page);
  await page.getByRole('link', { name: 'Edit' }).click();
  // The edit page's own islands, not the contact page's: wait for the new document.
  await expect(page).toHaveURL(`${contactUrl}/edit`);
  await ready(page);
  await page.getByRole('button', { name: 'Remove Email 2' }).click();
  await ready(page);
  await expect(page.getByLabel('Email 2', { exact: true })).toHaveCount(0);
  await page.getByLabel('Shirt size').selectOption('L');
  await saveForm(page);
  await expect(page).toHaveURL(contactUrl);
  await expect(page.locator('.contact-fields')).not.toContainText(`${word}@work.example`);
  // The photo stays through an edit that does not touch it.
  await expect(page.locator('.contact-header img.avatar-photo')).toHaveCount(1);
  await expect(page.locator('dd[data-custom="Shirt size"]')).toHaveText('L');
  await page.getByRole('link', { name: 'History' }).click();
  await expect(page.locator('.history-entry').first()).toContainText('Edited');
  await expect(page.locator('.history-entry').first().locator('tbody tr')).toHaveText([/Email/, /Shirt size/]);
});

test('an admin defines a custom field; the form offers it, checks its values, and the page shows it', async ({ page, ready }) => {
  const word = uniqueWord();
  const field = `Met at ${word}`;
  await page.goto('/admin/fields');
  await ready(page);
  await page.getByLabel('Name', { exact: true }).last().fill(field);
  await page.getByLabel('Holds').selectOption('number');
  await page.getByRole('button', { name: 'Add field' }).click();
  await expect(page).toHaveURL(/\/admin\/fields/);
  await expect(page.locator(`li[data-field="${field}"]`)).toBeVisible();

  await page.goto('/contacts/new');
  await ready(page);
  await page.getByLabel('Name', { exact: true }).fill(`Field Tester ${word}`);
  await page.getByLabel(field).fill('eleven');
  await saveForm(page);
  // Refused on the field, in words, with everything typed kept.
  await expect(page.locator('#custom-fields')).toContainText('Enter a number, like 42 or 3.5.');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue(`Field Tester ${word}`);
  await page.getByLabel(field).fill('11');
  await saveForm(page);
  await expect(page).toHaveURL(/\/contacts\/[0-9a-f-]{36}$/);
  await expect(page.locator(`dd[data-custom="${field}"]`)).toHaveText('11');

  // Retired, it leaves the form and the page; its value is kept for when it returns.
  await page.goto('/admin/fields');
  await ready(page);
  await page.getByRole('button', { name: `Retire ${field}` }).click();
  await expect(page.getByRole('button', { name: `Restore ${field}` })).toBeVisible();
});
