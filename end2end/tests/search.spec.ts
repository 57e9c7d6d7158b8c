import { test, expect } from './fixtures';

// Runs with JavaScript off (plain GET forms and links) and on (the hydrated app).
// Known contacts come from end2end/fixtures.sql.

test('submitting the search form shows ranked, highlighted results and filters', async ({
  page,
  ready,
  javaScriptEnabled,
}) => {
  await page.goto('/');
  await ready(page);
  const box = page.getByRole('searchbox', { name: 'Search contacts' });
  await box.fill('anthony may');
  await box.press('Enter');

  await expect(page).toHaveURL(/\?q=anthony(\+|%20)may/);
  const first = page.locator('tbody tr').first();
  await expect(first.locator('.contact-link')).toHaveText('Anthony May');
  await expect(first.locator('.contact-link mark')).toHaveText(['Anthony', 'May']);
  await expect(page.locator('.summary-count')).toContainText('match');
  await expect(page.getByRole('group', { name: 'Tier' })).toBeVisible();
  await expect(page.getByRole('group', { name: 'Location' })).toBeVisible();

  await page.getByRole('checkbox', { name: /T2 · Close/ }).check();
  if (!javaScriptEnabled) {
    await page.getByRole('button', { name: 'Apply filters' }).click();
  }
  await expect(page).toHaveURL(/tier=2/);
  // Anthony May is tier 1; the best tier-2 match is Anthony Mayer (other generated
  // contacts may match too, through their notes).
  await expect(page.locator('tbody tr .contact-link').first()).toHaveText('Anthony Mayer');
  const tiers = await page.locator('tbody tr .tier').allTextContents();
  expect(new Set(tiers)).toEqual(new Set(['T2']));
  await expect(page.getByRole('checkbox', { name: /T2 · Close/ })).toBeChecked();
});

test('a result opens the contact page with every field', async ({ page, ready }) => {
  await page.goto('/?q=quigley');
  await ready(page);
  await page.getByRole('link', { name: 'Bartholomew Quigley' }).click();

  await expect(page).toHaveURL(/\/contacts\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Bartholomew Quigley');
  await expect(page.getByText('Founder at Initech')).toBeVisible();
  await expect(page.getByRole('link', { name: 'bart@initech.example' })).toBeVisible();
  await expect(page.getByText('Prefers email over calls.')).toBeVisible();
  await expect(page).toHaveTitle('Bartholomew Quigley · Roster');
});

test('a search that finds nothing offers a respelling and a way out of filters', async ({
  page,
  ready,
}) => {
  // Two edits from "quigley": beyond what a six-letter word tolerates.
  await page.goto('/?q=quigli&tier=4');
  await ready(page);
  await expect(page.getByText('No contacts match “quigli” with these filters.')).toBeVisible();
  await page.getByRole('link', { name: 'Search without filters' }).click();
  await expect(page).toHaveURL(/\?q=quigli$/);
  // Hydrated, the filtered page stays on screen until the new results arrive: wait
  // for them, so the suggestion clicked is the unfiltered one.
  await expect(page.getByText('with these filters')).toHaveCount(0);
  await expect(page.getByText('Did you mean')).toBeVisible();
  const suggestion = page.getByRole('link', { name: 'quigley' });
  await expect(suggestion).toHaveAttribute('href', '/?q=quigley');
  await suggestion.click();
  await expect(page.locator('tbody tr .contact-link')).toHaveText(['Bartholomew Quigley']);
});
