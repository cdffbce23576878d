// A real OpenID provider (npm oidc-provider 9) laid out like a Keycloak realm, for press_selfhost's tests.
//
// It is not Keycloak: it is a certified OpenID Connect implementation mounted at /realms/<realm> with
// Keycloak's route paths, so our relying-party code runs the same requests it runs against Keycloak.
// Login is scripted: the interaction logs in the account named by `login_hint` (else the first one)
// without a form, and consent is implicit (first-party clients, as in Keycloak by default).
// RP-initiated logout shows oidc-provider's confirmation form (a test posts it) and then sends
// back-channel logout tokens to every client of the session that registered a backchannel_logout_uri.
//
// Usage: node provider.mjs <config.json>   (or the JSON itself in OIDC_PROVIDER_CONFIG)
// config: {"port": <a free port>, "realm": "cloud", "jwks": {"keys": [<private JWK>]},
//          "clients": [<oidc-provider client metadata>],
//          "accounts": [{"sub": "...", "email": "...", "email_verified": true, "name": "...",
//                        "resource_access": {"<client_id>": {"roles": ["..."]}}}],
//          "ttl": {"IdToken": 300, "AccessToken": 300}}
// Prints one line {"issuer": ..., "port": ...} on stdout once it listens.

import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(
  process.argv[2] ? readFileSync(process.argv[2], 'utf8') : process.env.OIDC_PROVIDER_CONFIG,
);
const realm = config.realm || 'cloud';
const mountPath = `/realms/${realm}`;
const accounts = new Map(config.accounts.map((account) => [account.sub, account]));
const firstAccount = config.accounts[0]?.sub;

function keycloakRoutes() {
  const base = '/protocol/openid-connect';
  return {
    authorization: `${base}/auth`,
    token: `${base}/token`,
    userinfo: `${base}/userinfo`,
    jwks: `${base}/certs`,
    end_session: `${base}/logout`,
    introspection: `${base}/token/introspect`,
    revocation: `${base}/revoke`,
  };
}

// Client roles as press_selfhost's site clients map them (a client-role mapper limited to the client):
// a token carries the roles of the client it is issued to, never those of another client.
function clientRoles(account, clientId) {
  const roles = account.resource_access?.[clientId];
  return roles ? { resource_access: { [clientId]: roles } } : {};
}

async function findAccount(ctx, sub) {
  const account = accounts.get(sub);
  if (!account) return undefined;
  return {
    accountId: sub,
    async claims() {
      const { resource_access: _all, ...claims } = account;
      return {
        ...claims,
        ...clientRoles(account, ctx.oidc?.client?.clientId),
        preferred_username: account.preferred_username || account.email,
      };
    },
  };
}

// Keycloak grants first-party clients without a consent screen: do the same, for exactly the requested scopes.
async function loadExistingGrant(ctx) {
  const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
  if (grantId) return ctx.oidc.provider.Grant.find(grantId);
  const grant = new ctx.oidc.provider.Grant({
    clientId: ctx.oidc.client.clientId,
    accountId: ctx.oidc.session.accountId,
  });
  grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
  await grant.save();
  return grant;
}

function logoutSource(ctx, form) {
  ctx.body = `<!DOCTYPE html><html><head><title>Logout</title></head><body>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button></body></html>`;
}

const provider = new Provider(`http://127.0.0.1:${config.port}${mountPath}`, {
  clients: config.clients,
  jwks: config.jwks,
  findAccount,
  loadExistingGrant,
  routes: keycloakRoutes(),
  claims: {
    openid: ['sub', 'resource_access'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  },
  // Keycloak puts the scope claims into the ID token as well as userinfo.
  conformIdTokenClaims: false,
  // Keycloak issues a refresh token with every code exchange.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Back-channel logout tokens go to our endpoint on 127.0.0.1, which oidc-provider's SSRF guard refuses.
  fetch: (url, { dispatcher: _ssrfGuard, ...options }) => globalThis.fetch(url, options),
  interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true, logoutSource },
  },
  ttl: { AccessToken: 300, IdToken: 300, RefreshToken: 3600, ...(config.ttl || {}) },
});

// Refusals are part of the tests; their causes go to stderr so a failing test shows why.
for (const event of ['end_session.error', 'backchannel.error', 'grant.error', 'authorization.error', 'server_error']) {
  provider.on(event, (_ctx, error) => console.error(`${event}: ${error.message}`, error.cause?.message || ''));
}

const callback = provider.callback();

async function finishLogin(req, res) {
  const details = await provider.interactionDetails(req, res);
  const hinted = details.params.login_hint;
  const accountId = accounts.has(hinted) ? hinted : firstAccount;
  await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
}

const server = http.createServer((req, res) => {
  if (!req.url.startsWith(`${mountPath}/`)) {
    res.writeHead(404).end();
    return;
  }
  if (req.url.startsWith(`${mountPath}/interaction/`)) {
    finishLogin(req, res).catch((error) => {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
    });
    return;
  }
  // Mounted like express does: the provider reads the mount path from originalUrl minus url.
  req.originalUrl = req.url;
  req.url = req.url.slice(mountPath.length);
  callback(req, res);
});

server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ issuer: provider.issuer, port: server.address().port })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
