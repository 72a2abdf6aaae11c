// Test-only OpenID Connect provider on loopback: the certified `oidc-provider` package with a
// small login page of its own (no devInteractions: those load web fonts from the internet and
// accept any password). It stands in for a municipality's DigiD / eHerkenning broker.
//
// Configuration: one JSON object in the environment variable OIDC_TEST_CONFIG:
//   {"client_id": "...", "client_secret": "...", "redirect_uris": ["http://127.0.0.1:P/..."],
//    "accounts": {"<login>": {"password": "...", "sub": "...", "name": "...", "email": "..."}}}
// It listens on a free 127.0.0.1 port and prints one line {"issuer": "http://127.0.0.1:PORT"}
// on stdout once it answers. Authorization code flow only, PKCE (S256) required.
import http from 'node:http';
import { URLSearchParams } from 'node:url';

import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG || '{}');
const accounts = config.accounts || {};
const bySub = Object.fromEntries(Object.values(accounts).map((a) => [a.sub, a]));

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, error) {
  const message = error ? `<p role="alert" id="error">${escape(error)}</p>` : '';
  return `<!doctype html><html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>Test-DigiD</title></head>
<body><main><h1>Inloggen bij Test-DigiD</h1>${message}
<form method="post" action="/interaction/${escape(uid)}">
<p><label for="login">Gebruikersnaam</label><br><input id="login" name="login" autocomplete="username" required></p>
<p><label for="password">Wachtwoord</label><br><input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Inloggen</button></p></form></main></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(provider, req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginPage(uid));
    return;
  }
  const form = await readForm(req);
  const account = accounts[form.get('login') || ''];
  if (!account || account.password !== form.get('password')) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginPage(uid, 'Gebruikersnaam of wachtwoord onjuist.'));
    return;
  }
  const grant = new provider.Grant({ accountId: account.sub, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: account.sub }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: config.redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, i) => `/interaction/${i.uid}` },
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    conformIdTokenClaims: false,
    cookies: { keys: ['test-only-cookie-key-0123456789'] },
    async findAccount(ctx, sub) {
      const account = bySub[sub];
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() { return { sub, name: account.name, email: account.email }; },
      };
    },
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    const match = /^\/interaction\/([\w-]+)$/.exec(req.url.split('?')[0]);
    if (!match) {
      callback(req, res);
      return;
    }
    interaction(provider, req, res, match[1]).catch((err) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${err.message}`);
    });
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
