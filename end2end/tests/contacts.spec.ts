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

async function saveForm(page: Page) {
  await page.getByRole('button', { name: 'Save', exact: true }).click();
}

async function createContact(page: Page, ready: (page: Page) => Promise<void>, name: string, email: string) {
  await page.goto('/contacts/new');
  await ready(page);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
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

  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill('tess at example');
  await page.getByLabel('Tier').selectOption('2');
  await page.getByLabel('Tags').fill('e2e, founders');
  await page.getByLabel('Notes').fill('Line one\nLine two <b>not bold</b>');
  if (javaScriptEnabled) await page.evaluate(() => ((window as any).__sameDocument = true));
  await saveForm(page);

  // The error sits by its field; everything typed is still there.
  await expect(page.locator('#field-email-error')).toHaveText('Enter an email address like name@example.com.');
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Name')).toHaveValue(name);
  await expect(page.getByLabel('Tier')).toHaveValue('2');
  await expect(page.getByLabel('Tags')).toHaveValue('e2e, founders');
  await expect(page.getByLabel('Notes')).toHaveValue('Line one\nLine two <b>not bold</b>');
  if (javaScriptEnabled) {
    // Hydrated, the shared rules ran in the browser: no reload, nothing sent.
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  }

  await page.getByLabel('Email').fill(`${word}@example.com`);
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
  await page.getByLabel('Name').fill(`Other ${word}`);
  await page.getByLabel('Email').fill(`${word.toUpperCase()}@Example.com`);
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
  await ready(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Edit ${name}`);
  await page.getByLabel('Title').fill('Chief Tester');
  await page.getByLabel('Name').fill('');
  await saveForm(page);
  await expect(page.locator('#field-name-error')).toHaveText('Enter a name.');
  await expect(page.getByLabel('Title')).toHaveValue('Chief Tester');
  await page.getByLabel('Name').fill(name);
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
