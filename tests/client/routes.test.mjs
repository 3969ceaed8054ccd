// docs/openapi.yaml against the routes the programs actually serve, both
// directions. Served routes are parsed from the route tables of
// fcgi-apps/*.c (lines like `{ "GET", "/api/channels/{id}", handler, flags }`),
// lib/app.h's PL_HEALTH_ROUTE (every program answers /api/health), and the
// ws-daemon's /ws. Run by scripts/check-client.sh.
//
// PARLEY_OPENAPI names another spec file (to see the check fail on a broken
// copy). PARLEY_ROUTES_DESCRIBED_ONLY_SERVED=1 relaxes "every described route is
// served" to a listing (for a tree where some endpoints are not built yet).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load as loadYaml } from 'js-yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];
const norm = (p) => p.replace(/\{[^}]*\}/g, '{}');

function servedRoutes() {
	const files = readdirSync(path.join(ROOT, 'fcgi-apps')).filter((f) => f.endsWith('.c'))
		.map((f) => path.join('fcgi-apps', f));
	files.push('lib/app.h');
	const routes = new Map(); // "GET /api/x/{}" -> "file"
	const re = /\{\s*"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)"\s*,\s*"(\/[^"]*)"/g;
	for (const f of files) {
		const src = readFileSync(path.join(ROOT, f), 'utf8');
		for (const m of src.matchAll(re)) routes.set(`${m[1]} ${norm(m[2])}`, f);
	}
	const wsd = readdirSync(path.join(ROOT, 'ws-daemon')).filter((f) => f.endsWith('.c'))
		.some((f) => readFileSync(path.join(ROOT, 'ws-daemon', f), 'utf8').includes('"/ws"'));
	if (wsd) routes.set('GET /ws', 'ws-daemon');
	return routes;
}

const SPEC = process.env.PARLEY_OPENAPI || path.join(ROOT, 'docs/openapi.yaml');
const spec = loadYaml(readFileSync(SPEC, 'utf8'));
const described = new Map(); // "GET /api/x/{}" -> operation
for (const [p, item] of Object.entries(spec.paths || {})) {
	for (const m of METHODS) if (item[m]) described.set(`${m.toUpperCase()} ${norm(p)}`, { op: item[m], item, path: p });
}
const served = servedRoutes();

test('the route tables were found and parsed', () => {
	assert.ok(served.size >= 12, `only ${served.size} routes parsed from fcgi-apps/*.c`);
	for (const core of ['POST /api/auth/register', 'POST /api/auth/login', 'GET /api/channels', 'POST /api/messages']) {
		assert.ok(served.has(core), core + ' not found in the route tables');
	}
});

test('every served route is described in docs/openapi.yaml', () => {
	const missing = [...served.keys()].filter((r) => !described.has(r)).sort();
	assert.deepEqual(missing, [], 'served but not described:\n  ' + missing.join('\n  '));
});

test('every described route is served', () => {
	const missing = [...described.keys()].filter((r) => !served.has(r)).sort();
	if (missing.length && process.env.PARLEY_ROUTES_DESCRIBED_ONLY_SERVED === '1') {
		console.log('# described but not served yet (allowed by PARLEY_ROUTES_DESCRIBED_ONLY_SERVED):\n#   ' + missing.join('\n#   '));
		return;
	}
	assert.deepEqual(missing, [], 'described but not served:\n  ' + missing.join('\n  '));
});

test('every operation requiring the bearer token documents 401, and every path parameter is declared', () => {
	const problems = [];
	for (const [route, { op, item, path: p }] of described) {
		const secured = (op.security ?? spec.security ?? []).length > 0;
		if (secured && !op.responses['401']) problems.push(route + ': no 401');
		const params = [...(item.parameters || []), ...(op.parameters || [])].map((x) =>
			x.$ref ? spec.components.parameters[x.$ref.split('/').pop()] : x);
		for (const m of p.matchAll(/\{([^}]+)\}/g)) {
			if (!params.some((x) => x.in === 'path' && x.name === m[1])) problems.push(`${route}: path parameter ${m[1]} not declared`);
		}
		if (!op.operationId) problems.push(route + ': no operationId');
	}
	assert.deepEqual(problems, []);
});

test('every error code of the contract is in the Error schema', () => {
	const codes = spec.components.schemas.Error.properties.error.properties.code.enum;
	for (const c of ['bad_request', 'unauthorized', 'forbidden', 'not_found', 'method_not_allowed', 'conflict',
		'payload_too_large', 'unsupported_media_type', 'rate_limited', 'internal']) {
		assert.ok(codes.includes(c), c);
	}
});
