// support.mjs — what the Chromium tests of the web client share: where the
// server, the browser and the screenshots are, REST calls for setting up
// (a test's own users, channels and messages), launching Chromium, and the
// usual steps in a page (sign in, open a channel, take a screenshot).
// Each *.test.mjs keeps what is its own. Run by scripts/check-client.sh.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BASE = process.env.PARLEY_URL || 'http://127.0.0.1:8080';
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHOTS = process.env.SCREENSHOT_DIR || path.join(ROOT, 'build/screenshots');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const WAIT = 20000;  // ms for any one condition (CI is a loaded 2-core machine)
export const PASSWORD = 'correct horse battery';

// A REST call: { status, body } (body parsed JSON or null). A body of
// undefined sends none (an empty one for non-GET methods).
export async function rest(method, p, body, token) {
	const headers = {};
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	if (token) headers.Authorization = 'Bearer ' + token;
	const res = await fetch(BASE + p, { method, headers, body: body === undefined ? (method === 'GET' ? undefined : '') : JSON.stringify(body) });
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : null };
}

// The same, asserting a 2xx; returns the body.
export async function ok(method, p, body, token) {
	const r = await rest(method, p, body, token);
	assert.ok(r.status >= 200 && r.status < 300, `${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
	return r.body;
}

// Debian's Chromium, headless, with the flags this machine needs
// (DEVELOPERS.md); makes the screenshot directory.
export async function launch() {
	mkdirSync(SHOTS, { recursive: true });
	return chromium.launch({
		executablePath: CHROMIUM, headless: true, timeout: 60000,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
	});
}

// Signs `u` ({ username }) in through the form and waits for the live
// connection; on failure says what the form said.
export async function signIn(page, u) {
	await page.goto(BASE + '/');
	await page.locator('#auth-screen').waitFor({ timeout: WAIT });
	await page.fill('#auth-username', u.username);
	await page.fill('#auth-password', PASSWORD);
	await page.click('#auth-submit');
	await page.locator('#chat-screen').waitFor({ timeout: WAIT }).catch(async (e) => {
		throw new Error(e.message + ' / ' + await page.locator('#auth-error').textContent());
	});
	await page.waitForFunction(() => document.getElementById('conn').dataset.state === 'online', null, { timeout: WAIT });
}

// Opens the channel named `name` from the channel list.
export async function openChannel(page, name) {
	await page.locator('#channel-list button', { hasText: name }).click();
	await page.locator('#room-name', { hasText: name }).waitFor({ timeout: WAIT });
}

export const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, name + '.png') });
